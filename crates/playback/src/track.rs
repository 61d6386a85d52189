//! A recording made ready to play: decoded once with the core's G.711 tables
//! (`earshot_audio::decode_pcm16`), mixed down to mono `f32`, with its
//! peak measured for the "normalise" gain.
//!
//! It does not resample; the pipeline does, to whatever rate the device asks for.

use std::sync::Arc;

use earshot_audio::{self as audio, AudioInfo};

use crate::PlaybackError;

/// Decoded audio, cheap to clone (the samples are shared).
#[derive(Debug, Clone)]
pub struct Track {
    samples: Arc<[f32]>,
    rate: u32,
    peak: f32,
}

impl Track {
    /// Decodes a stored recording's original bytes (μ-law, A-law or PCM16, raw or WAV).
    pub fn from_recording(original: &[u8], info: &AudioInfo) -> Result<Track, PlaybackError> {
        let pcm = audio::decode_pcm16(original, info);
        Track::from_pcm16(&pcm, info.sample_rate, info.channels)
    }

    /// Builds a track from interleaved 16-bit samples; several channels are averaged to mono.
    pub fn from_pcm16(interleaved: &[i16], rate: u32, channels: u16) -> Result<Track, PlaybackError> {
        if channels == 0 {
            return Err(PlaybackError::BadTrack("zero channels".into()));
        }
        let channels = channels as usize;
        let samples: Vec<f32> = interleaved
            .chunks_exact(channels)
            .map(|frame| frame.iter().map(|&s| s as f32).sum::<f32>() / (channels as f32 * 32768.0))
            .collect();
        Track::from_f32(samples, rate)
    }

    /// Builds a track from mono samples in `[-1, 1]`.
    pub fn from_f32(samples: Vec<f32>, rate: u32) -> Result<Track, PlaybackError> {
        if rate == 0 {
            return Err(PlaybackError::BadTrack("a sample rate of 0 Hz".into()));
        }
        if samples.is_empty() {
            return Err(PlaybackError::BadTrack("no samples".into()));
        }
        let peak = samples.iter().fold(0f32, |m, s| m.max(s.abs()));
        Ok(Track { samples: samples.into(), rate, peak })
    }

    /// Mono samples in `[-1, 1]`.
    pub fn samples(&self) -> &[f32] {
        &self.samples
    }

    /// Frames per second of the recording.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Number of frames.
    pub fn frames(&self) -> usize {
        self.samples.len()
    }

    /// Length in seconds.
    pub fn duration_secs(&self) -> f64 {
        self.samples.len() as f64 / self.rate as f64
    }

    /// Largest absolute sample value.
    pub fn peak(&self) -> f32 {
        self.peak
    }
}

#[cfg(test)]
mod tests {
    use super::Track;
    use earshot_audio::describe;

    #[test]
    fn mulaw_decodes_through_the_core_table() {
        let bytes = [0x80u8, 0x00, 0xFF, 0x7E];
        let info = describe(&bytes, Some("audio/mulaw;rate=8000")).unwrap();
        let track = Track::from_recording(&bytes, &info).unwrap();
        let expected = [32124.0, -32124.0, 0.0, -8.0].map(|v: f32| v / 32768.0);
        assert_eq!(track.samples(), &expected);
        assert_eq!((track.rate(), track.frames()), (8000, 4));
        assert_eq!(track.peak(), 32124.0 / 32768.0);
    }

    #[test]
    fn stereo_is_averaged_and_bad_input_is_named() {
        let track = Track::from_pcm16(&[1000, 3000, -2000, 0], 16000, 2).unwrap();
        assert_eq!(track.samples(), &[2000.0 / 32768.0, -1000.0 / 32768.0]);
        assert!(Track::from_pcm16(&[], 8000, 1).unwrap_err().to_string().contains("no samples"));
        assert!(Track::from_f32(vec![0.0], 0).unwrap_err().to_string().contains("0 Hz"));
    }
}
