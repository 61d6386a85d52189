//! What a QA reviewer wants to know about a recording before listening to it:
//! levels (peak, RMS, EBU R128 integrated loudness), clipping, silence before
//! and after the speech, how much of it is speech, and the flags those numbers
//! raise ([`flags`]).
//!
//! One decode pass ([`decode_pcm16`]), then one walk over 30 ms frames: the
//! frame's energy and WebRTC's voice activity detector (libfvad, bundled C,
//! made for 8 kHz telephone audio) decide whether it is speech. Loudness is
//! ITU-R BS.1770 / EBU R128 integrated loudness, computed here ([`loudness`]):
//! the `ebur128` crate took 2.2 ms for 30 s of 8 kHz audio, nearly half the
//! 5 ms budget; this gives the same numbers to 0.01 LU, and the tests hold
//! it to pyloudnorm. It runs on a second thread beside the detector. It does not
//! store anything or know about metadata; the caller passes the duration the
//! metadata promises to [`flags`].

use serde::{Deserialize, Serialize};
use webrtc_vad::{SampleRate, Vad, VadMode};

use crate::encoding::Encoding;
use crate::info::{AudioInfo, decode_pcm16};

/// Voice activity is decided per 30 ms frame, the longest frame libfvad takes (fewest calls).
const FRAME_MS: u64 = 30;
/// Speech edges are placed to 10 ms inside the first and last speech frames.
const EDGE_MS: u64 = 10;
/// A frame quieter than this (RMS, dBFS) is silence whatever the detector says: libfvad keeps
/// reporting speech for up to three 30 ms frames after it ends (its "hangover"), and on
/// low-level hiss; -50 dBFS is below any speech and above μ-law's idle-channel noise.
const SILENCE_FLOOR_DBFS: f64 = -50.0;
/// Sox, Audacity and pyloudnorm all scale 16-bit samples by 2^15.
const FULL_SCALE: f64 = 32768.0;
/// Audacity's Find Clipping counts runs of at least this many full-scale samples.
const CLIP_RUN: usize = 3;
/// `truncated`: shorter than promised by more than this…
const TRUNCATED_MS: u64 = 250;
/// …and by more than this share of the promised length.
const TRUNCATED_SHARE: f64 = 0.10;
/// `late_start`: the caller's speech starts after more than this.
const LATE_START_MS: u64 = 2000;

/// A recording's levels, clipping, silences and speech, computed once and stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Analysis {
    /// Highest absolute sample in dB relative to full scale; `None` for digital silence (−∞).
    pub peak_dbfs: Option<f64>,
    /// RMS level over every sample of every channel, dBFS; `None` for digital silence.
    pub rms_dbfs: Option<f64>,
    /// Integrated loudness (EBU R128 / ITU-R BS.1770), LUFS; `None` when everything is gated
    /// out (silence, or shorter than one 400 ms block).
    pub lufs: Option<f64>,
    /// Samples in runs of at least 3 consecutive full-scale samples of one channel (Audacity's
    /// Find Clipping). Full scale is the encoding's: ±32124 for μ-law, ±32256 for A-law,
    /// 32767 / −32768 for PCM16.
    pub clipped_samples: u64,
    /// From the start to the first speech (the whole length when there is none).
    pub leading_silence_ms: u64,
    /// From the end of the last speech to the end (the whole length when there is none).
    pub trailing_silence_ms: u64,
    /// Share of 30 ms frames that hold speech, 0–1.
    pub speech_ratio: f64,
    /// Length of the audio.
    pub duration_ms: u64,
}

/// What a reviewer should look at. Serialized as its snake_case name (`"late_start"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// No speech at all.
    Silent,
    /// At least one clipped run.
    Clipped,
    /// Shorter than the metadata promises by more than 250 ms and 10 %.
    Truncated,
    /// The speech starts more than 2 s in.
    LateStart,
}

/// Analyses a recording's original bytes as `info` describes them.
pub fn analyze(original: &[u8], info: &AudioInfo) -> Analysis {
    let samples = decode_pcm16(original, info);
    let channels = usize::from(info.channels.max(1));
    let rate = info.sample_rate.max(1);
    let frames = samples.len() / channels;
    let duration_ms = frames as u64 * 1000 / u64::from(rate);
    let samples = &samples[..frames * channels];

    let (peak, square_sum) = samples.iter().fold((0u32, 0f64), |(peak, sum), &s| {
        let v = f64::from(s);
        (peak.max(s.unsigned_abs().into()), sum + v * v)
    });
    let peak_dbfs = (peak > 0).then(|| 20.0 * (f64::from(peak) / FULL_SCALE).log10());
    let rms_dbfs = (square_sum > 0.0).then(|| 10.0 * (square_sum / samples.len() as f64 / FULL_SCALE.powi(2)).log10());

    // The meter runs beside the detector: they are the two costly passes (~1.5 and ~1.9 ms
    // for 30 s at 8 kHz), and in turn they come close to the 5 ms goal.
    let (lufs, speech) = std::thread::scope(|scope| {
        let lufs = scope.spawn(|| loudness(samples, channels, rate));
        let speech = speech(&mono(samples, channels), rate);
        // The meter cannot panic on any input; were it to, the loudness is simply unknown.
        (lufs.join().ok().flatten(), speech)
    });
    let (leading_silence_ms, trailing_silence_ms) = match speech.span {
        Some((start, end)) => (start as u64 * 1000 / u64::from(rate), (frames - end) as u64 * 1000 / u64::from(rate)),
        None => (duration_ms, duration_ms),
    };
    Analysis {
        peak_dbfs,
        rms_dbfs,
        lufs,
        clipped_samples: clipped(samples, channels, info.encoding),
        leading_silence_ms,
        trailing_silence_ms,
        speech_ratio: speech.ratio,
        duration_ms,
    }
}

/// The flags an analysis raises, against the length the metadata promises
/// (`stop_timestamp − start_timestamp`, when known). `late_start` is not raised on a silent
/// recording, where there is no start to be late.
pub fn flags(analysis: &Analysis, expected_duration_ms: Option<u64>) -> Vec<Flag> {
    let silent = analysis.speech_ratio == 0.0;
    let short_by = expected_duration_ms.map_or(0, |expected| expected.saturating_sub(analysis.duration_ms));
    let truncated = expected_duration_ms
        .is_some_and(|expected| short_by > TRUNCATED_MS && short_by as f64 > expected as f64 * TRUNCATED_SHARE);
    [
        (silent, Flag::Silent),
        (analysis.clipped_samples > 0, Flag::Clipped),
        (truncated, Flag::Truncated),
        (!silent && analysis.leading_silence_ms > LATE_START_MS, Flag::LateStart),
    ]
    .into_iter()
    .filter_map(|(raised, flag)| raised.then_some(flag))
    .collect()
}

/// Interleaved samples averaged to one channel (the samples themselves when mono).
fn mono(samples: &[i16], channels: usize) -> std::borrow::Cow<'_, [i16]> {
    if channels == 1 {
        return samples.into();
    }
    samples
        .chunks_exact(channels)
        .map(|frame| (frame.iter().map(|&s| i32::from(s)).sum::<i32>() / channels as i32) as i16)
        .collect::<Vec<_>>()
        .into()
}

/// Integrated loudness (BS.1770-4): K-weighting (a high shelf and a high-pass, designed for
/// the recording's rate as libebur128 does), mean square per channel over 400 ms blocks every
/// 100 ms, an absolute gate at −70 LUFS and a relative one 10 LU below the gated mean. Every
/// channel weighs 1 (mono and stereo are what arrives). `None` when every block is gated out
/// or the audio is shorter than one block.
fn loudness(samples: &[i16], channels: usize, rate: u32) -> Option<f64> {
    let step = (rate / 10) as usize; // 100 ms
    if step == 0 {
        return None;
    }
    let frames = samples.len() / channels;
    // Sum of the K-weighted squares of every channel, per 100 ms step.
    let mut steps = vec![0f64; frames / step];
    for channel in 0..channels {
        let mut filter = KWeighting::new(f64::from(rate));
        for (sum, chunk) in steps.iter_mut().zip(samples.chunks_exact(step * channels)) {
            *sum = chunk.iter().skip(channel).step_by(channels).fold(*sum, |sum, &s| {
                let y = filter.next(f64::from(s) / FULL_SCALE);
                sum + y * y
            });
        }
    }
    let block = 4 * step;
    let energies: Vec<f64> = steps.windows(4).map(|w| w.iter().sum::<f64>() / block as f64).collect();
    let lufs = |energy: f64| -0.691 + 10.0 * energy.log10();
    let mean_above = |gate: f64| {
        let kept: Vec<f64> = energies.iter().copied().filter(|&e| e > 0.0 && lufs(e) > gate).collect();
        (!kept.is_empty()).then(|| kept.iter().sum::<f64>() / kept.len() as f64)
    };
    let relative_gate = lufs(mean_above(-70.0)?) - 10.0;
    mean_above(relative_gate.max(-70.0)).map(lufs)
}

/// BS.1770's K-weighting filter: the "head" high shelf (+4 dB above ~1.7 kHz) then the RLB
/// high-pass (~38 Hz), with libebur128's analogue prototypes so any rate is exact.
struct KWeighting {
    shelf: Biquad,
    high_pass: Biquad,
}

impl KWeighting {
    fn new(rate: f64) -> KWeighting {
        let (f0, gain_db, q) = (1681.974450955533, 3.999843853973347, 0.7071752369554196);
        let k = (std::f64::consts::PI * f0 / rate).tan();
        let vh = 10f64.powf(gain_db / 20.0);
        let vb = vh.powf(0.4996667741545416);
        let a0 = 1.0 + k / q + k * k;
        let shelf = Biquad::new(
            [(vh + vb * k / q + k * k) / a0, 2.0 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0],
            [2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0],
        );
        let (f0, q) = (38.13547087602444, 0.5003270373238773);
        let k = (std::f64::consts::PI * f0 / rate).tan();
        let a0 = 1.0 + k / q + k * k;
        let high_pass = Biquad::new([1.0, -2.0, 1.0], [2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0]);
        KWeighting { shelf, high_pass }
    }

    fn next(&mut self, x: f64) -> f64 {
        self.high_pass.next(self.shelf.next(x))
    }
}

/// A direct-form II transposed biquad (`a0` = 1).
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
    z: [f64; 2],
}

impl Biquad {
    fn new(b: [f64; 3], a: [f64; 2]) -> Biquad {
        Biquad { b, a, z: [0.0; 2] }
    }

    fn next(&mut self, x: f64) -> f64 {
        let y = self.b[0] * x + self.z[0];
        self.z[0] = self.b[1] * x - self.a[0] * y + self.z[1];
        self.z[1] = self.b[2] * x - self.a[1] * y;
        y
    }
}

/// Samples in runs of [`CLIP_RUN`] or more at the encoding's full scale, per channel.
fn clipped(samples: &[i16], channels: usize, encoding: Encoding) -> u64 {
    let (high, low) = match encoding {
        Encoding::Mulaw => (32124, -32124),
        Encoding::Alaw => (32256, -32256),
        Encoding::Pcm16 | Encoding::Pcm16Be => (i16::MAX, i16::MIN),
    };
    let mut total = 0u64;
    for channel in 0..channels {
        let mut run = 0usize;
        for &s in samples[channel..].iter().step_by(channels) {
            if s >= high || s <= low {
                run += 1;
                continue;
            }
            if run >= CLIP_RUN {
                total += run as u64;
            }
            run = 0;
        }
        if run >= CLIP_RUN {
            total += run as u64;
        }
    }
    total
}

/// Where the speech is.
struct Speech {
    /// First and one-past-last sample of speech, when there is any.
    span: Option<(usize, usize)>,
    /// Share of frames that are speech.
    ratio: f64,
}

/// Runs the voice activity detector over 30 ms frames, at the recording's rate when libfvad
/// takes it, otherwise on the samples resampled to 8 kHz (positions are mapped back).
fn speech(mono: &[i16], rate: u32) -> Speech {
    let (detector_rate, converted) = match SampleRate::try_from(rate as i32) {
        Ok(supported) => (supported, None),
        Err(_) => (SampleRate::Rate8kHz, Some(to_8khz(mono, rate))),
    };
    let vad_rate = if converted.is_some() { 8000 } else { rate };
    let audio: &[i16] = converted.as_deref().unwrap_or(mono);
    let frame_len = (u64::from(vad_rate) * FRAME_MS / 1000) as usize;
    let floor = frame_len as f64 * (FULL_SCALE * 10f64.powf(SILENCE_FLOOR_DBFS / 20.0)).powi(2);

    let mut vad = Vad::new_with_rate_and_mode(detector_rate, VadMode::Aggressive);
    let (mut voiced, mut total) = (0usize, 0usize);
    let (mut first, mut last) = (None, None);
    for (index, frame) in audio.chunks_exact(frame_len).enumerate() {
        total += 1;
        let energy: f64 = frame.iter().map(|&s| f64::from(s).powi(2)).sum();
        // The energy test first: a silent frame never reaches the detector's C code.
        if energy <= floor || !vad.is_voice_segment(frame).unwrap_or(false) {
            continue;
        }
        voiced += 1;
        first.get_or_insert(index);
        last = Some(index);
    }
    let ratio = if total == 0 { 0.0 } else { voiced as f64 / total as f64 };
    let span = first.zip(last).map(|(first, last)| {
        let start = edge(audio, first * frame_len, frame_len, floor, true);
        let end = edge(audio, last * frame_len, frame_len, floor, false);
        let back = |position: usize| (position as u64 * u64::from(rate) / u64::from(vad_rate)) as usize;
        (back(start), back(end).min(mono.len()))
    });
    Speech { span, ratio }
}

/// The speech edge inside the frame at `start`: the start of its first 10 ms block above the
/// floor (`leading`), or the end of its last one.
fn edge(audio: &[i16], start: usize, frame_len: usize, floor: f64, leading: bool) -> usize {
    let block = frame_len * EDGE_MS as usize / FRAME_MS as usize;
    let block_floor = floor * block as f64 / frame_len as f64;
    let loud = |b: &usize| {
        let from = start + b * block;
        audio[from..from + block].iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() > block_floor
    };
    let blocks = frame_len / block;
    if leading {
        (0..blocks).find(loud).map_or(start, |b| start + b * block)
    } else {
        (0..blocks).rev().find(loud).map_or(start + frame_len, |b| start + (b + 1) * block)
    }
}

/// Linear interpolation to 8 kHz for the detector, which only needs the speech band.
fn to_8khz(mono: &[i16], rate: u32) -> Vec<i16> {
    let step = f64::from(rate) / 8000.0;
    let len = (mono.len() as f64 / step) as usize;
    (0..len)
        .map(|i| {
            let at = i as f64 * step;
            let j = at as usize;
            let frac = at - j as f64;
            let a = f64::from(mono[j]);
            let b = f64::from(*mono.get(j + 1).unwrap_or(&mono[j]));
            (a + (b - a) * frac) as i16
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Analysis, Flag, analyze, clipped, flags};
    use crate::{Encoding, describe, mulaw, wav};

    fn tone_pcm(seconds: f64, rate: u32, amplitude: f64) -> Vec<i16> {
        (0..(seconds * rate as f64) as usize)
            .map(|i| (amplitude * 32767.0 * (i as f64 * 440.0 * std::f64::consts::TAU / rate as f64).sin()) as i16)
            .collect()
    }

    fn base() -> Analysis {
        Analysis {
            peak_dbfs: Some(-3.0),
            rms_dbfs: Some(-20.0),
            lufs: Some(-20.0),
            clipped_samples: 0,
            leading_silence_ms: 100,
            trailing_silence_ms: 100,
            speech_ratio: 0.8,
            duration_ms: 3000,
        }
    }

    #[test]
    fn digital_silence_has_no_levels_and_no_speech() {
        let codes = vec![0xFFu8; 16_000];
        let info = describe(&codes, None).unwrap();
        let analysis = analyze(&codes, &info);
        assert_eq!((analysis.peak_dbfs, analysis.rms_dbfs, analysis.lufs), (None, None, None));
        assert_eq!(analysis.speech_ratio, 0.0);
        assert_eq!(
            (analysis.leading_silence_ms, analysis.trailing_silence_ms, analysis.duration_ms),
            (2000, 2000, 2000)
        );
        assert_eq!(flags(&analysis, None), vec![Flag::Silent]);
    }

    #[test]
    fn a_half_scale_tone_measures_minus_6_dbfs_peak_and_minus_9_rms() {
        let file = wav::pcm16_wav(&tone_pcm(2.0, 16_000, 0.5), 16_000, 1);
        let info = describe(&file, None).unwrap();
        let analysis = analyze(&file, &info);
        assert!((analysis.peak_dbfs.unwrap() + 6.02).abs() < 0.05, "{analysis:?}");
        assert!((analysis.rms_dbfs.unwrap() + 9.03).abs() < 0.05, "{analysis:?}");
        assert_eq!(analysis.duration_ms, 2000);
    }

    #[test]
    fn a_1khz_sine_at_minus_20_dbfs_peak_reads_minus_23_lufs() {
        // BS.1770-4: a 0 dBFS 997 Hz sine reads −3.01 LKFS, whatever the rate.
        for rate in [8000, 48_000] {
            let pcm: Vec<i16> = (0..3 * rate)
                .map(|i| (0.1 * 32768.0 * (i as f64 * 997.0 * std::f64::consts::TAU / rate as f64).sin()) as i16)
                .collect();
            let lufs = super::loudness(&pcm, 1, rate).unwrap();
            assert!((lufs + 23.01).abs() < 0.1, "{rate} Hz: {lufs}");
            let stereo: Vec<i16> = pcm.iter().flat_map(|&s| [s, s]).collect();
            let both = super::loudness(&stereo, 2, rate).unwrap();
            assert!((both - (lufs + 3.01)).abs() < 0.01, "two equal channels add 3 dB: {both}");
        }
        assert_eq!(super::loudness(&[1000; 3000], 1, 8000), None, "shorter than one 400 ms block");
    }

    #[test]
    fn clipping_counts_runs_of_three_at_the_encodings_full_scale() {
        let mut pcm = vec![0i16; 20];
        pcm[2..4].fill(i16::MAX); // a run of 2: not clipping
        pcm[8..13].fill(i16::MIN); // a run of 5
        assert_eq!(clipped(&pcm, 1, Encoding::Pcm16), 5);
        // μ-law's loudest code decodes to 32124, which is its full scale.
        let codes = [0x80u8, 0x80, 0x80, 0x00, 0x00, 0x00, 0x00, 0x7F];
        let info = describe(&codes, None).unwrap();
        assert_eq!(analyze(&codes, &info).clipped_samples, 7);
        // Two channels: a run counts within one channel only.
        let stereo = [32767, 0, 32767, 0, 32767, 0, 0, 32767];
        assert_eq!(clipped(&stereo, 2, Encoding::Pcm16), 3);
        assert_eq!(mulaw::decode(0x80), 32124);
    }

    #[test]
    fn flags_follow_their_thresholds() {
        assert!(flags(&base(), Some(3000)).is_empty());
        // 10 s promised, 3 s delivered.
        assert_eq!(flags(&base(), Some(10_000)), vec![Flag::Truncated]);
        // 300 ms short of 30 s is over 250 ms but only 1 %.
        let long = Analysis { duration_ms: 29_700, ..base() };
        assert!(flags(&long, Some(30_000)).is_empty());
        let late = Analysis { leading_silence_ms: 2500, clipped_samples: 4, ..base() };
        assert_eq!(flags(&late, None), vec![Flag::Clipped, Flag::LateStart]);
        let json = serde_json::to_string(&Flag::LateStart).unwrap();
        assert_eq!(json, "\"late_start\"");
    }
}
