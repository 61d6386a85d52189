//! A spectrogram for drawing under the waveform, computed for the drawn size:
//! one column per pixel, `height` rows from 0 Hz to Nyquist, levels 0–255 on a
//! log (dB) scale. Tuned for 8 kHz telephone speech: a 256-point FFT (32 ms,
//! 31.25 Hz per bin; other rates keep the 32 ms window), Hann window, 80 dB of
//! range below the loudest bin. [`Spectrogram::to_rgba`] colours it for a
//! picture (the HTML report) with a perceptual map, light or dark.
//!
//! It does not draw axes or cache anything; the caller keeps the result.

use realfft::RealFftPlanner;
use serde::{Deserialize, Serialize};

use crate::info::{AudioInfo, decode_pcm16};

/// The FFT length at 8 kHz: 32 ms, long enough to resolve a voice's harmonics (31.25 Hz bins).
const FFT_AT_8KHZ: usize = 256;
/// Levels span this many dB below the loudest bin; quieter is level 0.
const RANGE_DB: f32 = 80.0;
/// Magma's colours at 0, 1/8, … 1 (matplotlib's perceptually uniform map; lightness rises
/// steadily, so louder is always brighter and it survives greyscale printing).
const MAGMA: [[u8; 3]; 9] = [
    [0x00, 0x00, 0x04],
    [0x1c, 0x10, 0x44],
    [0x4f, 0x12, 0x7b],
    [0x81, 0x25, 0x81],
    [0xb5, 0x36, 0x7a],
    [0xe5, 0x50, 0x64],
    [0xfb, 0x87, 0x61],
    [0xfe, 0xc2, 0x87],
    [0xfc, 0xfd, 0xbf],
];

/// Spectrogram levels for a `width` × `height` picture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Spectrogram {
    /// Columns (time, left to right).
    pub width: u32,
    /// Rows (frequency).
    pub height: u32,
    /// The frequency at the top edge (the recording's Nyquist frequency, 4000 for 8 kHz).
    pub max_hz: u32,
    /// dB between level 0 and level 255.
    pub range_db: f32,
    /// `height` rows of `width` levels, row-major; row 0 is the highest frequency (drawn
    /// top-down). 255 is the loudest bin, 0 is `range_db` or more below it.
    pub levels: Vec<u8>,
}

/// The spectrogram of a recording (channels averaged) for a `width` × `height` picture (each at
/// least 1). Column `c` is the FFT of the window centred on the sample at `(c + 0.5) / width`
/// of the length, so windows overlap when the audio is shorter than `width` × the FFT length.
pub fn spectrogram(original: &[u8], info: &AudioInfo, width: usize, height: usize) -> Spectrogram {
    let (width, height) = (width.max(1), height.max(1));
    let samples = decode_pcm16(original, info);
    let channels = usize::from(info.channels.max(1));
    let mono: Vec<f32> = samples
        .chunks_exact(channels)
        .map(|frame| frame.iter().map(|&s| f32::from(s)).sum::<f32>() / (channels as f32 * 32768.0))
        .collect();
    let rate = info.sample_rate.max(1);
    let n = fft_len(rate);
    let power = column_power(&mono, n, width);
    let bands = bands(n / 2, height);

    // Rows first in power, then one pass to levels against the loudest bin.
    let mut rows = vec![0f32; width * height];
    for (column, spectrum) in power.chunks_exact(n / 2 + 1).enumerate() {
        for (row, &(lo, hi)) in bands.iter().enumerate() {
            let loudest = spectrum[lo..hi].iter().copied().fold(0f32, f32::max);
            rows[(height - 1 - row) * width + column] = loudest;
        }
    }
    let top = rows.iter().copied().fold(0f32, f32::max);
    let levels = if top <= 0.0 {
        vec![0; rows.len()]
    } else {
        // Compare in power (10·log10) against a floor computed once.
        let top_db = 10.0 * top.log10();
        rows.iter()
            .map(|&p| {
                if p <= 0.0 {
                    return 0;
                }
                let above_floor = 10.0 * p.log10() - (top_db - RANGE_DB);
                (above_floor / RANGE_DB * 255.0).round().clamp(0.0, 255.0) as u8
            })
            .collect()
    };
    Spectrogram { width: width as u32, height: height as u32, max_hz: rate / 2, range_db: RANGE_DB, levels }
}

/// 256 at 8 kHz; the power of two nearest the same 32 ms at other rates.
fn fft_len(rate: u32) -> usize {
    let target = FFT_AT_8KHZ as f64 * f64::from(rate) / 8000.0;
    let up = (target as usize).max(16).next_power_of_two();
    if up as f64 / target > target / (up / 2) as f64 { up / 2 } else { up }
}

/// `|X[k]|²` for k = 0..=n/2 of each column's Hann-windowed frame, columns after each other.
fn column_power(mono: &[f32], n: usize, width: usize) -> Vec<f32> {
    let bins = n / 2 + 1;
    let mut power = vec![0f32; width * bins];
    if mono.is_empty() {
        return power;
    }
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n);
    let window: Vec<f32> = (0..n).map(|i| 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / n as f32).cos()).collect();
    let mut input = fft.make_input_vec();
    let mut output = fft.make_output_vec();
    let mut scratch = fft.make_scratch_vec();
    for (column, out) in power.chunks_exact_mut(bins).enumerate() {
        let centre = ((column as f64 + 0.5) * mono.len() as f64 / width as f64) as isize;
        let start = centre - (n / 2) as isize;
        for (i, slot) in input.iter_mut().enumerate() {
            let at = start + i as isize;
            let sample = if at >= 0 { mono.get(at as usize).copied().unwrap_or(0.0) } else { 0.0 };
            *slot = sample * window[i];
        }
        // The lengths come from the plan, so this cannot fail.
        if fft.process_with_scratch(&mut input, &mut output, &mut scratch).is_ok() {
            for (slot, x) in out.iter_mut().zip(&output) {
                *slot = x.norm_sqr();
            }
        }
    }
    power
}

/// For each row from the bottom, the bins `lo..hi` it covers: equal slices of 0..Nyquist, each
/// at least one bin (rows repeat a bin when there are more rows than bins). The top row takes
/// the Nyquist bin too.
fn bands(half: usize, height: usize) -> Vec<(usize, usize)> {
    (0..height)
        .map(|row| {
            let lo = row * half / height;
            let hi = ((row + 1) * half / height).max(lo + 1);
            let hi = if row + 1 == height { half + 1 } else { hi };
            (lo.min(half), hi)
        })
        .collect()
}

impl Spectrogram {
    /// RGBA pixels (`width` × `height` × 4 bytes, rows top-down) in the magma colour map. Dark:
    /// quiet is near-black and loud is pale yellow, for a dark page. Light: the map reversed, so
    /// quiet is the page's near-white and loud is near-black.
    pub fn to_rgba(&self, dark: bool) -> Vec<u8> {
        let palette: Vec<[u8; 3]> = (0..=255u8)
            .map(|level| {
                let level = if dark { level } else { 255 - level };
                magma(f32::from(level) / 255.0)
            })
            .collect();
        let mut rgba = Vec::with_capacity(self.levels.len() * 4);
        for &level in &self.levels {
            let [r, g, b] = palette[usize::from(level)];
            rgba.extend_from_slice(&[r, g, b, 255]);
        }
        rgba
    }
}

/// Magma at `t` in 0..=1, linear between its nine stops.
fn magma(t: f32) -> [u8; 3] {
    let scaled = t.clamp(0.0, 1.0) * (MAGMA.len() - 1) as f32;
    let i = (scaled as usize).min(MAGMA.len() - 2);
    let frac = scaled - i as f32;
    let (a, b) = (MAGMA[i], MAGMA[i + 1]);
    [0, 1, 2].map(|c| (f32::from(a[c]) + (f32::from(b[c]) - f32::from(a[c])) * frac).round() as u8)
}

#[cfg(test)]
mod tests {
    use super::{bands, fft_len, spectrogram};
    use crate::{describe, wav};

    fn tone(freq: f64, rate: u32, seconds: f64) -> Vec<u8> {
        let pcm: Vec<i16> = (0..(seconds * rate as f64) as usize)
            .map(|i| (16000.0 * (i as f64 * freq * std::f64::consts::TAU / rate as f64).sin()) as i16)
            .collect();
        wav::pcm16_wav(&pcm, rate, 1)
    }

    #[test]
    fn a_1khz_tone_lights_the_row_a_quarter_of_the_way_up() {
        let file = tone(1000.0, 8000, 1.0);
        let info = describe(&file, None).unwrap();
        let spec = spectrogram(&file, &info, 50, 128);
        assert_eq!((spec.width, spec.height, spec.max_hz, spec.levels.len()), (50, 128, 4000, 50 * 128));
        for column in 0..50 {
            let brightest = (0..128).max_by_key(|&row| spec.levels[row * 50 + column]).unwrap();
            // Row 0 is 4 kHz; 1 kHz is 3/4 of the way down: row 95 (bins 32 of 0..128).
            assert_eq!(brightest, 95, "column {column}");
        }
        assert_eq!(*spec.levels.iter().max().unwrap(), 255);
        assert_eq!(*spec.levels.iter().min().unwrap(), 0);
    }

    #[test]
    fn silence_and_tiny_sizes_do_not_panic() {
        let codes = vec![0xFFu8; 100];
        let info = describe(&codes, None).unwrap();
        let spec = spectrogram(&codes, &info, 0, 0);
        assert_eq!((spec.width, spec.height, &spec.levels[..]), (1, 1, &[0u8][..]));
        let rgba = spec.to_rgba(false);
        assert_eq!(rgba.len(), 4);
        assert!(rgba[0] > 240, "quiet is near-white on the light map: {rgba:?}");
        assert!(spec.to_rgba(true)[0] < 10, "quiet is near-black on the dark map");
    }

    #[test]
    fn louder_is_brighter_on_dark_and_darker_on_light() {
        let luminance = |p: &[u8]| 0.2126 * p[0] as f32 + 0.7152 * p[1] as f32 + 0.0722 * p[2] as f32;
        let spec =
            super::Spectrogram { width: 256, height: 1, max_hz: 4000, range_db: 80.0, levels: (0..=255).collect() };
        for (dark, rising) in [(true, true), (false, false)] {
            let rgba = spec.to_rgba(dark);
            let l: Vec<f32> = rgba.chunks(4).map(luminance).collect();
            assert!(l.windows(2).all(|w| if rising { w[1] >= w[0] - 0.5 } else { w[1] <= w[0] + 0.5 }), "dark={dark}");
        }
    }

    #[test]
    fn rows_cover_every_bin_once_when_fewer_rows_than_bins() {
        let b = bands(128, 64);
        assert_eq!(b.first(), Some(&(0, 2)));
        assert_eq!(b.last(), Some(&(126, 129)));
        assert!(b.windows(2).all(|w| w[0].1 == w[1].0));
        assert_eq!((fft_len(8000), fft_len(16_000), fft_len(44_100), fft_len(48_000)), (256, 512, 1024, 2048));
    }
}
