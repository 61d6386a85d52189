//! Any common audio file as watsonx would send it: 8 kHz mono G.711 μ-law.
//! Used when a replay swaps in the user's own audio. WAV files (PCM 16-bit,
//! μ-law, A-law; any rate, any channels) are decoded, mixed down to mono and
//! resampled (rubato's FFT resampler, made for fixed-ratio offline work);
//! anything that is not RIFF/WAVE is taken to be raw μ-law already.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use crate::info::{AudioError, decode_pcm16, describe};
use crate::{Encoding, mulaw, wav};

/// watsonx's telephone rate.
pub const TELEPHONE_RATE: u32 = 8000;

/// `file` as raw 8 kHz mono μ-law codes.
pub fn to_telephone_mulaw(file: &[u8]) -> Result<Vec<u8>, AudioError> {
    if !wav::looks_like_riff(file) {
        if file.is_empty() {
            return Err(AudioError::Empty);
        }
        return Ok(file.to_vec());
    }
    let info = describe(file, None)?;
    if info.encoding == Encoding::Mulaw && info.sample_rate == TELEPHONE_RATE && info.channels == 1 {
        return Ok(crate::sample_bytes(file, &info).to_vec());
    }
    let samples = decode_pcm16(file, &info);
    let channels = usize::from(info.channels.max(1));
    let mono: Vec<f32> = samples
        .chunks_exact(channels)
        .map(|frame| frame.iter().map(|&s| f32::from(s)).sum::<f32>() / channels as f32 / 32768.0)
        .collect();
    if mono.is_empty() {
        return Err(AudioError::Empty);
    }
    let resampled = if info.sample_rate == TELEPHONE_RATE { mono } else { resample(&mono, info.sample_rate)? };
    Ok(resampled.into_iter().map(|s| mulaw::encode((s * 32767.0).round().clamp(-32768.0, 32767.0) as i16)).collect())
}

fn resample(mono: &[f32], rate: u32) -> Result<Vec<f32>, AudioError> {
    let failed = |e: &dyn std::fmt::Display| AudioError::BadParameter(format!("cannot resample from {rate} Hz: {e}"));
    let mut resampler =
        Fft::<f32>::new(rate as usize, TELEPHONE_RATE as usize, 1024, 1, FixedSync::Input).map_err(|e| failed(&e))?;
    let input = InterleavedSlice::new(mono, 1, mono.len()).map_err(|e| failed(&e))?;
    let output = resampler.process_all(&input, mono.len(), None).map_err(|e| failed(&e))?;
    Ok(output.take_data())
}

#[cfg(test)]
mod tests {
    use super::to_telephone_mulaw;
    use crate::{mulaw, wav};

    #[test]
    fn a_16_khz_stereo_wav_becomes_8_khz_mono_mulaw_of_the_same_length() {
        let frames = 16_000;
        let samples: Vec<i16> = (0..frames)
            .flat_map(|i| {
                let s = ((i as f64 * 440.0 * std::f64::consts::TAU / 16_000.0).sin() * 8000.0) as i16;
                [s, s]
            })
            .collect();
        let file = wav::pcm16_wav(&samples, 16_000, 2);
        let codes = to_telephone_mulaw(&file).unwrap();
        assert!((codes.len() as i64 - 8000).abs() <= 2, "{} codes for 1 s", codes.len());
        let peak = codes.iter().map(|&c| i32::from(mulaw::decode(c)).abs()).max().unwrap();
        assert!((7000..9000).contains(&peak), "level kept: peak {peak}");
    }

    #[test]
    fn raw_and_8_khz_mulaw_files_pass_through() {
        assert_eq!(to_telephone_mulaw(&[1, 2, 3]).unwrap(), vec![1, 2, 3]);
        let file = wav::mulaw_wav(&[5; 9], 8000, 1);
        assert_eq!(to_telephone_mulaw(&file).unwrap(), vec![5; 9]);
        assert!(to_telephone_mulaw(&[]).is_err());
    }
}
