//! Min/max peaks of decoded audio for drawing a waveform `width` pixels wide.
//!
//! One pair per pixel column, computed over all channels, so the UI draws a
//! few hundred numbers instead of receiving every sample over IPC.

use serde::Serialize;

/// The lowest and highest sample in one pixel column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Peak {
    /// Lowest sample, −32768..=32767.
    pub min: i16,
    /// Highest sample.
    pub max: i16,
}

/// Peaks of interleaved samples for `width` columns (at least 1). A recording
/// shorter than `width` frames gets one column per frame.
pub fn peaks(samples: &[i16], channels: u16, width: usize) -> Vec<Peak> {
    let channels = channels.max(1) as usize;
    let frames = samples.len() / channels;
    let columns = width.max(1).min(frames.max(1));
    if frames == 0 {
        return vec![Peak { min: 0, max: 0 }];
    }
    (0..columns)
        .map(|column| {
            let start = column * frames / columns;
            let end = ((column + 1) * frames / columns).max(start + 1);
            let slice = &samples[start * channels..end * channels];
            let min = slice.iter().copied().min().unwrap_or(0);
            let max = slice.iter().copied().max().unwrap_or(0);
            Peak { min, max }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Peak, peaks};

    #[test]
    fn each_column_holds_its_extremes() {
        let samples = [0, 5, -3, 2, 100, -100, 7, 8];
        assert_eq!(peaks(&samples, 1, 2), vec![Peak { min: -3, max: 5 }, Peak { min: -100, max: 100 }]);
    }

    #[test]
    fn short_or_empty_audio_does_not_invent_columns() {
        assert_eq!(peaks(&[1, 2, 3], 1, 800).len(), 3);
        assert_eq!(peaks(&[], 1, 800), vec![Peak { min: 0, max: 0 }]);
        assert_eq!(peaks(&[1, -1, 2, -2], 2, 1), vec![Peak { min: -2, max: 2 }]);
    }
}
