//! Slowing a recording down (or speeding it up) for listening, 0.5–2×, two
//! ways: [`stretch`] keeps the pitch (WSOLA, made for speech: it repeats or
//! drops whole pitch periods, matched by waveform similarity, so a voice
//! stays the same voice), [`tape`] lets the pitch follow the speed (a sinc
//! resampler, as a tape played faster).
//!
//! [`Stretcher`] is the streaming form of [`stretch`]: the playback pipeline
//! pulls from it block by block, and [`stretch`] runs the very same loop over
//! a whole buffer, so an exported slowed clip is what playback plays. Mono
//! `f32` only; it does not decode or resample to a device.

use std::num::{NonZeroU16, NonZeroU32};

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Async, FixedAsync, Resampler, SincInterpolationParameters, SincInterpolationType, WindowFunction};

/// Slowest and fastest speed.
pub const SPEED_RANGE: (f64, f64) = (0.5, 2.0);
/// Source samples handed to the stretcher per request, in stretcher hops (15 ms each): enough
/// for its look-ahead (a 30 ms frame and a ±12 ms search) in one or two requests.
const FEED_HOPS: usize = 4;

/// A pitch-preserving time-stretcher that pulls its input on demand.
///
/// Output sample `k` after a [`Stretcher::reset`] is the source near `k × speed` from the new
/// start: the mapping has no latency to compensate, only WSOLA's ±12 ms search around it. WSOLA's
/// first frame fades in over 15 ms; a reset primes it with the audio just before the start (its
/// history) and drops that first frame, so a seek starts at full level, and at 1× the output is
/// the source itself.
pub struct Stretcher {
    inner: wsola::TimeStretch,
    block: Vec<f32>,
    block_len: usize,
    block_read: usize,
    discard: usize,
    feed: Vec<f32>,
}

impl Stretcher {
    /// A stretcher for mono audio at `rate` Hz, at speed 1, starting after silence.
    pub fn new(rate: u32) -> Stretcher {
        let rate = NonZeroU32::new(rate.max(1)).unwrap_or(NonZeroU32::MIN);
        // `new` never fails in wsola 0.3 (the Result is for future checks).
        let inner = wsola::TimeStretch::new(rate, NonZeroU16::MIN).expect("a mono stretcher");
        let hop = inner.min_output_buff_size();
        let mut stretcher = Stretcher {
            inner,
            block: vec![0.0; hop],
            block_len: 0,
            block_read: 0,
            discard: 0,
            feed: vec![0.0; hop * FEED_HOPS],
        };
        stretcher.reset(&[]);
        stretcher
    }

    /// Sets the speed (clamped to 0.5–2), from the next block on; seamless mid-stream.
    pub fn set_speed(&mut self, speed: f64) {
        self.inner.set_tempo(speed.clamp(SPEED_RANGE.0, SPEED_RANGE.1) as f32);
    }

    /// The speed in force.
    pub fn speed(&self) -> f64 {
        f64::from(self.inner.tempo())
    }

    /// How many source samples before a new start [`Stretcher::reset`] uses: one 15 ms hop at
    /// the current speed.
    pub fn history_len(&self) -> usize {
        (self.block.len() as f64 * self.speed()).round() as usize
    }

    /// Forgets everything buffered, for a seek where the source jumps: the next output starts
    /// at the next source sample. `history` is the source just before that start (its last
    /// [`Stretcher::history_len`] samples are used; silence stands in for any missing).
    pub fn reset(&mut self, history: &[f32]) {
        self.inner.reset();
        let want = self.history_len();
        let given = &history[history.len().saturating_sub(want)..];
        self.inner.push(&vec![0.0; want - given.len()]);
        self.inner.push(given);
        self.discard = self.block.len();
        self.block_len = 0;
        self.block_read = 0;
    }

    /// Fills `out` with stretched audio; `source` is asked to fill buffers with the next source
    /// samples whenever the stretcher needs more (past the end it should give zeros).
    pub fn fill(&mut self, out: &mut [f32], mut source: impl FnMut(&mut [f32])) {
        let mut written = 0;
        while written < out.len() {
            if self.block_read == self.block_len {
                self.next_block(&mut source);
            }
            let n = (self.block_len - self.block_read).min(out.len() - written);
            out[written..written + n].copy_from_slice(&self.block[self.block_read..self.block_read + n]);
            self.block_read += n;
            written += n;
        }
    }

    /// Pulls the next block, feeding the stretcher until it has one; drops what `discard` says.
    fn next_block(&mut self, source: &mut impl FnMut(&mut [f32])) {
        loop {
            match self.inner.pull(&mut self.block) {
                Ok(n) if n > self.discard => {
                    self.block_len = n;
                    self.block_read = self.discard;
                    self.discard = 0;
                    return;
                }
                Ok(n) => self.discard -= n,
                Err(_) => {
                    source(&mut self.feed);
                    self.inner.push(&self.feed);
                }
            }
        }
    }
}

/// `samples` (mono, `rate` Hz) played at `speed` with the pitch kept: `round(len / speed)`
/// samples, so 0.5 lasts exactly twice as long. `speed` is clamped to 0.5–2.
pub fn stretch(samples: &[f32], rate: u32, speed: f64) -> Vec<f32> {
    let speed = speed.clamp(SPEED_RANGE.0, SPEED_RANGE.1);
    let mut stretcher = Stretcher::new(rate);
    stretcher.set_speed(speed);
    let mut out = vec![0.0; (samples.len() as f64 / speed).round() as usize];
    let mut next = 0;
    stretcher.fill(&mut out, |buffer| {
        for slot in buffer {
            *slot = samples.get(next).copied().unwrap_or(0.0);
            next += 1;
        }
    });
    out
}

/// `samples` (mono, `rate` Hz) played at `speed` with the pitch following it, as on tape:
/// `ceil(len / speed)` samples at the same rate. `speed` is clamped to 0.5–2. The playback
/// pipeline's resampler and its settings.
pub fn tape(samples: &[f32], rate: u32, speed: f64) -> Vec<f32> {
    let _ = rate; // the ratio alone decides; kept for symmetry with `stretch`
    let speed = speed.clamp(SPEED_RANGE.0, SPEED_RANGE.1);
    if samples.is_empty() {
        return Vec::new();
    }
    let ratio = 1.0 / speed;
    // Only absurd settings fail, and these are fixed: fall back to nearest-sample picking.
    resample(samples, ratio).unwrap_or_else(|| {
        let len = (samples.len() as f64 * ratio).ceil() as usize;
        (0..len).map(|k| samples[((k as f64 * speed) as usize).min(samples.len() - 1)]).collect()
    })
}

fn resample(samples: &[f32], ratio: f64) -> Option<Vec<f32>> {
    let mut resampler = Async::<f32>::new_sinc(ratio, 1.0, &sinc_parameters(), 1024, 1, FixedAsync::Input).ok()?;
    let input = InterleavedSlice::new(samples, 1, samples.len()).ok()?;
    Some(resampler.process_all(&input, samples.len(), None).ok()?.take_data())
}

/// The sinc interpolation the playback pipeline uses too: 64 taps, 64× oversampled.
pub fn sinc_parameters() -> SincInterpolationParameters {
    SincInterpolationParameters {
        sinc_len: 64,
        f_cutoff: None,
        oversampling_factor: 64,
        interpolation: SincInterpolationType::Linear,
        window: WindowFunction::BlackmanHarris2,
    }
}

#[cfg(test)]
mod tests {
    use super::{Stretcher, stretch, tape};

    fn tone(freq: f64, seconds: f64) -> Vec<f32> {
        (0..(seconds * 8000.0) as usize)
            .map(|i| 0.5 * (i as f64 * freq * std::f64::consts::TAU / 8000.0).sin() as f32)
            .collect()
    }

    /// Zero crossings per second upwards, a pitch estimate good to a few Hz on a pure tone.
    fn pitch(samples: &[f32]) -> f64 {
        let middle = &samples[samples.len() / 4..samples.len() * 3 / 4];
        let ups = middle.windows(2).filter(|w| w[0] < 0.0 && w[1] >= 0.0).count();
        ups as f64 * 8000.0 / middle.len() as f64
    }

    #[test]
    fn stretch_keeps_the_pitch_and_scales_the_length_exactly() {
        let input = tone(440.0, 2.0);
        for speed in [0.5, 0.75, 2.0] {
            let out = stretch(&input, 8000, speed);
            assert_eq!(out.len(), (16_000.0 / speed).round() as usize, "{speed}×");
            assert!((pitch(&out) - 440.0).abs() < 5.0, "{speed}×: {} Hz", pitch(&out));
        }
    }

    #[test]
    fn tape_moves_the_pitch_with_the_speed() {
        let out = tape(&tone(440.0, 2.0), 8000, 0.5);
        assert!(out.len().abs_diff(32_000) <= 1, "{}", out.len());
        assert!((pitch(&out) - 220.0).abs() < 3.0, "{} Hz", pitch(&out));
    }

    #[test]
    fn at_1x_the_output_is_the_source_from_the_first_sample() {
        let input: Vec<f32> = tone(300.0, 0.5).iter().zip(tone(1234.0, 0.5)).map(|(a, b)| a * 0.7 + b * 0.3).collect();
        let out = stretch(&input, 8000, 1.0);
        let worst = out.iter().zip(&input).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst < 1e-4, "differs by {worst}");
    }

    #[test]
    fn a_reset_with_history_starts_at_full_level() {
        let input = tone(440.0, 1.0);
        let mut stretcher = Stretcher::new(8000);
        stretcher.set_speed(0.5);
        let start = 4000;
        stretcher.reset(&input[..start]);
        let mut next = start;
        let mut out = vec![0.0; 400];
        stretcher.fill(&mut out, |buffer| {
            for slot in buffer {
                *slot = input.get(next).copied().unwrap_or(0.0);
                next += 1;
            }
        });
        let first_peak = out[..20].iter().fold(0f32, |m, s| m.max(s.abs()));
        assert!(first_peak > 0.4, "the first 2.5 ms reach {first_peak}, not the tone's 0.5");
    }

    #[test]
    fn streaming_in_odd_blocks_gives_the_whole_buffer_result() {
        let input = tone(300.0, 1.0);
        let whole = stretch(&input, 8000, 0.75);
        let mut stretcher = Stretcher::new(8000);
        stretcher.set_speed(0.75);
        let mut next = 0;
        let mut streamed = Vec::new();
        for size in [1usize, 7, 500, 33].iter().cycle() {
            if streamed.len() >= whole.len() {
                break;
            }
            let mut block = vec![0.0; (*size).min(whole.len() - streamed.len())];
            stretcher.fill(&mut block, |buffer| {
                for slot in buffer {
                    *slot = input.get(next).copied().unwrap_or(0.0);
                    next += 1;
                }
            });
            streamed.extend(block);
        }
        assert_eq!(streamed, whole);
    }
}
