//! What a received `audio_recording` part contains: container, encoding,
//! rate, channels and length, found by sniffing the bytes first and the part's
//! `Content-Type` second. Also decoding those bytes to linear PCM.
//!
//! The original bytes are never altered here; callers store them as received.

use serde::{Deserialize, Serialize};

use crate::encoding::{Container, Encoding};
use crate::{alaw, mulaw, wav};

/// Sample rate assumed for headerless audio without a `rate=` parameter (the watsonx default).
pub const DEFAULT_RATE: u32 = 8000;

/// Everything Earshot learned about a recording's audio bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AudioInfo {
    /// Raw samples or a WAV file.
    pub container: Container,
    /// Sample encoding.
    pub encoding: Encoding,
    /// Frames per second.
    pub sample_rate: u32,
    /// Interleaved channels.
    pub channels: u16,
    /// Frames (samples per channel).
    pub sample_count: u64,
    /// Length in milliseconds, rounded down.
    pub duration_ms: u64,
    /// Where the samples start within the original bytes.
    pub data_offset: usize,
    /// How many bytes of samples follow `data_offset`.
    pub data_len: usize,
}

/// Why the audio part could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AudioError {
    /// Zero bytes of audio.
    #[error("the audio_recording part is empty")]
    Empty,
    /// Starts with RIFF but is not a usable WAV.
    #[error("the audio_recording part starts with RIFF but is not a readable WAV: {0}")]
    Wav(#[from] wav::WavError),
    /// The `rate=` or `channels=` parameter is not a usable number.
    #[error("the audio_recording Content-Type has {0}")]
    BadParameter(String),
}

/// Works out what the audio bytes are.
///
/// A RIFF header wins over everything (IBM's test client labels WAV files
/// `audio/wav` but a proxy could relabel them). Headerless bytes are decoded
/// as the part's `Content-Type` says; anything not naming A-law or L16 is
/// taken as μ-law, the documented format, at `rate=` or 8000 Hz.
pub fn describe(bytes: &[u8], content_type: Option<&str>) -> Result<AudioInfo, AudioError> {
    if bytes.is_empty() {
        return Err(AudioError::Empty);
    }
    if wav::looks_like_riff(bytes) {
        let info = wav::parse(bytes)?;
        return Ok(summarise(
            Container::Wav,
            info.encoding,
            info.sample_rate,
            info.channels,
            info.data.start,
            info.data.len(),
        ));
    }
    let (mime, params) = split_content_type(content_type.unwrap_or(""));
    if matches!(mime.as_str(), "audio/wav" | "audio/x-wav" | "audio/wave" | "audio/vnd.wave") {
        return Err(AudioError::Wav(wav::WavError::NotRiff(mime)));
    }
    let encoding = match mime.as_str() {
        "audio/alaw" | "audio/x-alaw" | "audio/x-alaw-basic" | "audio/pcma" | "audio/a-law" => Encoding::Alaw,
        // RFC 2586: L16 is big-endian. The informal `audio/pcm` names carry
        // what WAV and most tools write, little-endian.
        "audio/l16" => Encoding::Pcm16Be,
        "audio/pcm" | "audio/x-pcm" => Encoding::Pcm16,
        _ => Encoding::Mulaw,
    };
    let rate = match params.iter().find(|(k, _)| k == "rate") {
        None => DEFAULT_RATE,
        Some((_, v)) => match v.parse::<u32>() {
            Ok(r) if (1..=wav::MAX_SAMPLE_RATE).contains(&r) => r,
            _ => return Err(AudioError::BadParameter(format!("rate={v}, not a sample rate in Hz"))),
        },
    };
    let channels = match params.iter().find(|(k, _)| k == "channels") {
        None => 1,
        Some((_, v)) => match v.parse::<u16>() {
            Ok(c) if (1..=wav::MAX_CHANNELS).contains(&c) => c,
            _ => return Err(AudioError::BadParameter(format!("channels={v}, not a channel count"))),
        },
    };
    Ok(summarise(Container::Raw, encoding, rate, channels, 0, bytes.len()))
}

fn summarise(
    container: Container,
    encoding: Encoding,
    sample_rate: u32,
    channels: u16,
    data_offset: usize,
    data_len: usize,
) -> AudioInfo {
    let frame = encoding.bytes_per_sample() * channels as usize;
    let sample_count = (data_len / frame) as u64;
    AudioInfo {
        container,
        encoding,
        sample_rate,
        channels,
        sample_count,
        duration_ms: sample_count * 1000 / sample_rate as u64,
        data_offset,
        data_len,
    }
}

/// Splits `audio/mulaw; rate=8000` into a lowercase type and lowercase-keyed parameters.
pub fn split_content_type(value: &str) -> (String, Vec<(String, String)>) {
    let mut pieces = value.split(';');
    let mime = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
    let params = pieces
        .filter_map(|p| {
            let (k, v) = p.split_once('=')?;
            Some((k.trim().to_ascii_lowercase(), v.trim().trim_matches('"').to_string()))
        })
        .collect();
    (mime, params)
}

/// The sample bytes within the original recording.
pub fn sample_bytes<'a>(original: &'a [u8], info: &AudioInfo) -> &'a [u8] {
    let end = (info.data_offset + info.data_len).min(original.len());
    &original[info.data_offset.min(end)..end]
}

/// Decodes the recording's samples to interleaved linear 16-bit PCM.
///
/// A trailing partial frame (an odd byte of PCM16) is dropped.
pub fn decode_pcm16(original: &[u8], info: &AudioInfo) -> Vec<i16> {
    let data = sample_bytes(original, info);
    match info.encoding {
        Encoding::Mulaw => mulaw::decode_all(data),
        Encoding::Alaw => data.iter().map(|&c| alaw::decode(c)).collect(),
        Encoding::Pcm16 => data.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect(),
        Encoding::Pcm16Be => data.chunks_exact(2).map(|b| i16::from_be_bytes([b[0], b[1]])).collect(),
    }
}

/// The recording's samples as μ-law codes: the stored bytes when already μ-law, re-encoded otherwise.
pub fn to_mulaw(original: &[u8], info: &AudioInfo) -> Vec<u8> {
    match info.encoding {
        Encoding::Mulaw => sample_bytes(original, info).to_vec(),
        _ => decode_pcm16(original, info).into_iter().map(mulaw::encode).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::{AudioError, Container, Encoding, decode_pcm16, describe};
    use crate::wav;

    #[test]
    fn raw_mulaw_with_and_without_a_type() {
        for ct in [None, Some("audio/mulaw;rate=8000"), Some("application/octet-stream")] {
            let info = describe(&[0xFF; 16000], ct).unwrap();
            assert_eq!(info.container, Container::Raw);
            assert_eq!(info.encoding, Encoding::Mulaw);
            assert_eq!((info.sample_rate, info.sample_count, info.duration_ms), (8000, 16000, 2000));
        }
    }

    #[test]
    fn rate_parameter_is_honoured_and_checked() {
        let info = describe(&[0; 16000], Some("audio/mulaw; rate=16000")).unwrap();
        assert_eq!((info.sample_rate, info.duration_ms), (16000, 1000));
        assert!(matches!(describe(&[0; 10], Some("audio/mulaw;rate=fast")), Err(AudioError::BadParameter(_))));
    }

    #[test]
    fn riff_wins_over_the_declared_type() {
        let file = wav::mulaw_wav(&[0x80; 801], 8000, 1);
        let info = describe(&file, Some("audio/mulaw;rate=16000")).unwrap();
        assert_eq!(info.container, Container::Wav);
        assert_eq!((info.data_offset, info.data_len, info.sample_count), (58, 801, 801));
        assert_eq!(decode_pcm16(&file, &info), vec![32124; 801]);
    }

    #[test]
    fn empty_and_broken_audio_are_refused() {
        assert_eq!(describe(&[], None), Err(AudioError::Empty));
        assert!(matches!(describe(b"RIFFxxxxJUNKjunk", None), Err(AudioError::Wav(_))));
    }

    #[test]
    fn headerless_l16_is_big_endian_as_rfc_2586_says() {
        // 1000 and -2 in network byte order.
        let bytes = [0x03, 0xE8, 0xFF, 0xFE];
        let info = describe(&bytes, Some("audio/L16; rate=8000")).unwrap();
        assert_eq!(info.encoding, Encoding::Pcm16Be);
        assert_eq!(decode_pcm16(&bytes, &info), vec![1000, -2]);
        let little = describe(&bytes, Some("audio/x-pcm")).unwrap();
        assert_eq!(decode_pcm16(&bytes, &little), vec![-6141, -257]);
    }

    #[test]
    fn headerless_alaw_is_decoded_as_alaw() {
        // 0xD5 is A-law's smallest positive step (8), 0x55 its negative.
        for content_type in ["audio/alaw", "audio/x-alaw-basic;rate=8000", "audio/PCMA"] {
            let info = describe(&[0xD5, 0x55], Some(content_type)).unwrap();
            assert_eq!((info.container, info.encoding, info.sample_count), (Container::Raw, Encoding::Alaw, 2));
            assert_eq!(decode_pcm16(&[0xD5, 0x55], &info), vec![8, -8], "{content_type}");
        }
    }
}
