//! Min/max peaks of decoded samples for drawing a waveform `width` pixels wide.
//!
//! Pure arithmetic on samples; drawing, caching and the playhead belong to the caller.

/// The lowest and highest sample in one pixel column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    /// Lowest sample, in `[-1, 1]`.
    pub min: f32,
    /// Highest sample, in `[-1, 1]`.
    pub max: f32,
}

/// One [`Peak`] per pixel column; column `x` covers samples
/// `x·len/width .. (x+1)·len/width`, so every sample lands in exactly one column.
///
/// With fewer samples than pixels a column may cover no sample and repeats
/// the sample at its position instead, so the drawing has no gaps. Empty
/// input or zero width gives an empty vector.
pub fn peaks(samples: &[f32], width: usize) -> Vec<Peak> {
    if samples.is_empty() || width == 0 {
        return Vec::new();
    }
    let len = samples.len();
    (0..width)
        .map(|x| {
            let start = x * len / width;
            let end = ((x + 1) * len / width).max(start + 1).min(len);
            let column = &samples[start.min(len - 1)..end.max(start.min(len - 1) + 1)];
            let (min, max) =
                column.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &s| (lo.min(s), hi.max(s)));
            Peak { min, max }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Peak, peaks};

    #[test]
    fn every_sample_lands_in_one_column() {
        let samples = [0.1, -0.5, 0.9, 0.2, -0.1, 0.0, 0.3, -0.8];
        let got = peaks(&samples, 4);
        assert_eq!(
            got,
            vec![
                Peak { min: -0.5, max: 0.1 },
                Peak { min: 0.2, max: 0.9 },
                Peak { min: -0.1, max: 0.0 },
                Peak { min: -0.8, max: 0.3 },
            ]
        );
    }

    #[test]
    fn uneven_and_sparse_widths() {
        let samples: Vec<f32> = (0..10).map(|i| i as f32 / 10.0).collect();
        let got = peaks(&samples, 3);
        assert_eq!(got.len(), 3);
        assert_eq!((got[0].min, got[2].max), (0.0, 0.9));
        let sparse = peaks(&[0.5, -0.5], 5);
        assert_eq!(sparse.len(), 5);
        assert!(sparse.iter().all(|p| p.min == p.max));
        assert!(peaks(&[], 10).is_empty() && peaks(&[1.0], 0).is_empty());
    }
}
