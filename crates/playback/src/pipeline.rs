//! The sample path every output shares: source frames (with loop wrap) →
//! the pitch-keeping time-stretcher (WSOLA, [`earshot_audio::Stretcher`], at
//! the recording's rate; skipped in tape mode) → rubato's `Async` sinc
//! resampler (recording rate → device rate; in tape mode also divided by the
//! speed, so the pitch follows it) → gain (volume × normalise) → every device
//! channel.
//!
//! The cpal callback and the headless sink both call [`Pipeline::fill`], so
//! tests run exactly what a device hears. It knows nothing about threads or
//! devices; the engine owns it behind a mutex.
//!
//! **Sample-count rule.** After a load or seek the resampler's filter delay
//! (`output_delay()` frames) is dropped, so output frame `k` is the source at
//! `start + k / ratio` (`ratio = device_rate / recording_rate / speed`).
//! Playback ends at the first output frame whose source position reaches the
//! track's end: from frame 0 at 1× that is exactly `ceil(frames × ratio)`
//! frames of audio, then [`PlayState::Ended`] and silence for the rest of the
//! callback's buffer.
//!
//! **Pitch kept (the default).** The stretcher sits before the resampler and is
//! fed the same looped source stream, so the rule above holds as it does on
//! tape: the reported position follows the source, within WSOLA's ±12 ms
//! search. A seek, a load and a tape/pitch switch reset it (primed with the
//! audio before the new position, so there is no fade-in); an A–B loop wrap
//! and a speed change do not: the stretcher joins the wrap as it joins any
//! two frames, so a loop plays on without a gap.

use std::time::Instant;

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Adjustable, Async, FixedAsync, Resampler};

use earshot_audio::Stretcher;

use crate::PlaybackError;
use crate::track::Track;

/// Output frames per resampler call: 5.3 ms at 48 kHz, small against any device buffer.
pub const CHUNK: usize = 256;
/// Slowest and fastest speed (the resampler is built to cover this range).
pub const SPEED_RANGE: (f64, f64) = (0.5, 2.0);
/// "Normalise" brings the peak here, leaving a little headroom below full scale.
const NORMALISE_TARGET: f32 = 0.98;
/// Gain ceiling for normalise (+40 dB), so a near-silent recording is not raised to pure noise.
const NORMALISE_MAX_GAIN: f32 = 100.0;
/// Tolerance for float rounding in `count × step` when comparing with a frame index.
const EPSILON: f64 = 1e-6;

/// Where playback stands. Serialized as its lowercase name (`"playing"`), which is what the
/// desktop UI's union type lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum PlayState {
    /// Nothing playing, position at the start (also before anything is loaded).
    Stopped,
    /// Audio is flowing to the output.
    Playing,
    /// Held at a position.
    Paused,
    /// Reached the end of the track (never while an A–B loop covers it).
    Ended,
    /// The output failed; see the accompanying error event. `Play` retries.
    Error,
}

/// A track being resampled for one output rate and channel count.
pub struct Pipeline {
    out_rate: u32,
    channels: usize,
    track: Option<Track>,
    resampler: Option<Async<f32>>,
    stretcher: Option<Stretcher>,
    tape: bool,
    input: Vec<f32>,
    chunk: Vec<f32>,
    chunk_len: usize,
    chunk_read: usize,
    feed: usize,
    skip: usize,
    base: f64,
    count: u64,
    state: PlayState,
    speed: f64,
    volume: f32,
    normalise: bool,
    loop_region: Option<(usize, usize)>,
    first_audio: Option<Instant>,
    last_callback: Option<Instant>,
    emitted: u64,
    fault: Option<PlaybackError>,
}

impl Pipeline {
    /// A pipeline for an output of `out_rate` Hz with `channels` interleaved channels.
    pub fn new(out_rate: u32, channels: u16) -> Pipeline {
        Pipeline {
            out_rate,
            channels: channels.max(1) as usize,
            track: None,
            resampler: None,
            stretcher: None,
            tape: false,
            input: Vec::new(),
            chunk: vec![0.0; CHUNK],
            chunk_len: 0,
            chunk_read: 0,
            feed: 0,
            skip: 0,
            base: 0.0,
            count: 0,
            state: PlayState::Stopped,
            speed: 1.0,
            volume: 1.0,
            normalise: false,
            loop_region: None,
            first_audio: None,
            last_callback: None,
            emitted: 0,
            fault: None,
        }
    }

    /// Output rate in Hz.
    pub fn out_rate(&self) -> u32 {
        self.out_rate
    }

    /// Output channels.
    pub fn channels(&self) -> u16 {
        self.channels as u16
    }

    /// Replaces the track, keeping speed, tape mode, volume and normalise; position goes to 0,
    /// state to Stopped.
    pub fn load(&mut self, track: Track) -> Result<(), PlaybackError> {
        let base = self.out_rate as f64 / track.rate() as f64;
        // The same sinc settings as `earshot_audio::tape`, so an exported tape clip is what plays.
        let mut resampler = Async::<f32>::new_sinc(
            base,
            1.0 / SPEED_RANGE.0,
            &earshot_audio::sinc_parameters(),
            CHUNK,
            1,
            FixedAsync::Output,
        )
        .map_err(|e| PlaybackError::Resampler(e.to_string()))?;
        self.input = vec![0.0; resampler.input_frames_max()];
        let mut stretcher = Stretcher::new(track.rate());
        stretcher.set_speed(self.speed);
        self.stretcher = Some(stretcher);
        self.track = Some(track);
        self.apply_ratio(&mut resampler)?;
        self.resampler = Some(resampler);
        self.loop_region = None;
        self.state = PlayState::Stopped;
        self.seek_frame(0);
        Ok(())
    }

    /// The loaded track.
    pub fn track(&self) -> Option<&Track> {
        self.track.as_ref()
    }

    /// Current state.
    pub fn state(&self) -> PlayState {
        self.state
    }

    /// Sets the state without touching the position (used by the engine for errors).
    pub fn set_state(&mut self, state: PlayState) {
        self.state = state;
    }

    /// Starts or resumes; after the end (or a stop) it starts again from the loop start or 0.
    pub fn play(&mut self) -> Result<(), PlaybackError> {
        let track = self.track.as_ref().ok_or(PlaybackError::NothingLoaded)?;
        if self.state == PlayState::Ended || self.position() >= track.frames() as f64 - EPSILON {
            let start = self.loop_region.map_or(0, |(a, _)| a);
            self.seek_frame(start);
        }
        self.state = PlayState::Playing;
        self.first_audio = None;
        Ok(())
    }

    /// Holds the position.
    pub fn pause(&mut self) {
        if self.state == PlayState::Playing {
            self.state = PlayState::Paused;
        }
    }

    /// Stops and rewinds to the start.
    pub fn stop(&mut self) {
        self.seek_frame(0);
        self.state = PlayState::Stopped;
    }

    /// Moves to `seconds` (clamped to the track); an ended track becomes paused there.
    pub fn seek(&mut self, seconds: f64) -> Result<(), PlaybackError> {
        let track = self.track.as_ref().ok_or(PlaybackError::NothingLoaded)?;
        if !seconds.is_finite() {
            return Err(PlaybackError::BadControl(format!("seek to {seconds} s is not a time")));
        }
        let frame = (seconds.max(0.0) * track.rate() as f64).round() as usize;
        let frame = frame.min(track.frames());
        self.seek_frame(frame);
        if self.state == PlayState::Ended {
            self.state = PlayState::Paused;
        }
        Ok(())
    }

    fn seek_frame(&mut self, frame: usize) {
        self.feed = frame;
        self.base = frame as f64;
        self.count = 0;
        self.chunk_len = 0;
        self.chunk_read = 0;
        let ratio = self.ratio();
        if let Some(resampler) = self.resampler.as_mut() {
            resampler.reset();
            // Regression: `reset` also restores the ratio the resampler was built with (1×), so
            // after a load or seek a tape-mode speed was reported but no longer heard.
            if let Some(ratio) = ratio {
                // The speed was range-checked when set, so the ratio is within the built range.
                let _ = resampler.set_resample_ratio(ratio, false);
            }
            self.skip = resampler.output_delay();
        }
        if let (Some(stretcher), Some(track)) = (self.stretcher.as_mut(), self.track.as_ref()) {
            let history = stretcher.history_len();
            let samples = track.samples();
            let frame = frame.min(samples.len());
            stretcher.reset(&samples[frame.saturating_sub(history)..frame]);
        }
    }

    /// Sets the speed, 0.5–2×: the pitch is kept, or follows the speed in tape mode.
    pub fn set_speed(&mut self, speed: f64) -> Result<(), PlaybackError> {
        if !(SPEED_RANGE.0..=SPEED_RANGE.1).contains(&speed) {
            return Err(PlaybackError::BadControl(format!("speed {speed} is outside 0.5–2")));
        }
        self.base = self.position();
        self.count = 0;
        self.speed = speed;
        if let Some(stretcher) = self.stretcher.as_mut() {
            stretcher.set_speed(speed);
        }
        if let Some(mut resampler) = self.resampler.take() {
            let applied = self.apply_ratio(&mut resampler);
            self.resampler = Some(resampler);
            applied?;
        }
        Ok(())
    }

    /// Current speed.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Tape mode on (the pitch follows the speed, as a tape played faster) or off (the default:
    /// the pitch is kept). Switching while playing restarts both stages at the current position.
    pub fn set_tape(&mut self, on: bool) -> Result<(), PlaybackError> {
        if on == self.tape {
            return Ok(());
        }
        self.tape = on;
        let Some(mut resampler) = self.resampler.take() else {
            return Ok(());
        };
        let applied = self.apply_ratio(&mut resampler);
        self.resampler = Some(resampler);
        applied?;
        let position = self.position().round() as usize;
        self.seek_frame(position);
        Ok(())
    }

    /// Whether tape mode is on.
    pub fn tape(&self) -> bool {
        self.tape
    }

    /// Device rate / recording rate, divided by the speed in tape mode (the stretcher has
    /// already changed the tempo otherwise).
    fn apply_ratio(&self, resampler: &mut Async<f32>) -> Result<(), PlaybackError> {
        let Some(ratio) = self.ratio() else {
            return Ok(());
        };
        resampler.set_resample_ratio(ratio, false).map_err(|e| PlaybackError::Resampler(e.to_string()))
    }

    /// The resampler's ratio for the loaded track, speed and mode.
    fn ratio(&self) -> Option<f64> {
        let base = self.out_rate as f64 / self.track.as_ref()?.rate() as f64;
        Some(if self.tape { base / self.speed } else { base })
    }

    /// Loops between `start` and `end` seconds, or stops looping with `None`.
    /// A position outside the region jumps to its start.
    pub fn set_loop(&mut self, region: Option<(f64, f64)>) -> Result<(), PlaybackError> {
        let track = self.track.as_ref().ok_or(PlaybackError::NothingLoaded)?;
        let Some((a, b)) = region else {
            self.loop_region = None;
            return Ok(());
        };
        let rate = track.rate() as f64;
        let (fa, fb) = ((a * rate).round(), (b * rate).round());
        if !(a.is_finite() && b.is_finite() && fa >= 0.0 && fb <= track.frames() as f64 && fb - fa >= 1.0) {
            return Err(PlaybackError::BadControl(format!(
                "loop {a}–{b} s must lie within 0–{:.3} s with the end after the start",
                track.duration_secs()
            )));
        }
        let (fa, fb) = (fa as usize, fb as usize);
        self.loop_region = Some((fa, fb));
        let position = self.position();
        if position < fa as f64 || position >= fb as f64 {
            self.seek_frame(fa);
        }
        Ok(())
    }

    /// The A–B loop in seconds, if any.
    pub fn loop_secs(&self) -> Option<(f64, f64)> {
        let rate = self.track.as_ref()?.rate() as f64;
        self.loop_region.map(|(a, b)| (a as f64 / rate, b as f64 / rate))
    }

    /// The same track, settings, position and state, resampled for another output.
    pub fn rebuilt(&self, out_rate: u32, channels: u16) -> Result<Pipeline, PlaybackError> {
        let mut next = Pipeline::new(out_rate, channels);
        next.speed = self.speed;
        next.tape = self.tape;
        next.volume = self.volume;
        next.normalise = self.normalise;
        if let Some(track) = &self.track {
            next.load(track.clone())?;
            next.set_loop(self.loop_secs())?;
            next.seek(self.position_secs())?;
        }
        next.state = match self.state {
            PlayState::Error => PlayState::Paused,
            other => other,
        };
        Ok(next)
    }

    /// Volume, 0–1 linear.
    pub fn set_volume(&mut self, volume: f32) -> Result<(), PlaybackError> {
        if !(0.0..=1.0).contains(&volume) {
            return Err(PlaybackError::BadControl(format!("volume {volume} is outside 0–1")));
        }
        self.volume = volume;
        Ok(())
    }

    /// Peak normalisation on or off.
    pub fn set_normalise(&mut self, on: bool) {
        self.normalise = on;
    }

    /// The gain applied to every sample: volume × (normalise ? target / peak : 1).
    pub fn gain(&self) -> f32 {
        let peak = self.track.as_ref().map_or(0.0, Track::peak);
        let boost = if self.normalise && peak > 0.0 { (NORMALISE_TARGET / peak).min(NORMALISE_MAX_GAIN) } else { 1.0 };
        self.volume * boost
    }

    /// Position in seconds of the next frame the output will hear.
    pub fn position_secs(&self) -> f64 {
        self.track.as_ref().map_or(0.0, |t| self.position() / t.rate() as f64)
    }

    /// When the first callback after the last `play` carried audio.
    pub fn first_audio(&self) -> Option<Instant> {
        self.first_audio
    }

    /// When the output last asked for samples.
    pub fn last_callback(&self) -> Option<Instant> {
        self.last_callback
    }

    /// Output frames of track audio produced since creation (for tests and benchmarks).
    pub fn emitted(&self) -> u64 {
        self.emitted
    }

    /// The error that put the pipeline in [`PlayState::Error`], once.
    pub fn take_fault(&mut self) -> Option<PlaybackError> {
        self.fault.take()
    }

    /// Fills an interleaved output buffer: track audio while playing, silence otherwise.
    pub fn fill(&mut self, out: &mut [f32]) {
        let now = Instant::now();
        self.last_callback = Some(now);
        let playing_before = self.state == PlayState::Playing;
        let gain = self.gain();
        let channels = self.channels;
        for frame in out.chunks_mut(channels) {
            let value = if self.state == PlayState::Playing { self.next_sample() * gain } else { 0.0 };
            frame.fill(value.clamp(-1.0, 1.0));
        }
        if playing_before && self.first_audio.is_none() {
            self.first_audio = Some(now);
        }
    }

    fn next_sample(&mut self) -> f32 {
        let Some(frames) = self.track.as_ref().map(Track::frames) else {
            return 0.0;
        };
        loop {
            if self.chunk_read < self.chunk_len {
                let sample = self.chunk[self.chunk_read];
                self.chunk_read += 1;
                if self.skip > 0 {
                    self.skip -= 1;
                    continue;
                }
                if self.position() >= frames as f64 - EPSILON {
                    self.state = PlayState::Ended;
                    return 0.0;
                }
                self.emitted += 1;
                self.count += 1;
                if let Some((a, b)) = self.loop_region
                    && self.position() >= b as f64 - EPSILON
                {
                    self.base -= (b - a) as f64;
                }
                return sample;
            }
            if let Err(e) = self.refill() {
                self.state = PlayState::Error;
                self.fault = Some(e);
                return 0.0;
            }
        }
    }

    /// Source position (in frames) of the next output frame: computed from the frames emitted
    /// since the last seek or speed change, not accumulated, so it does not drift.
    fn position(&self) -> f64 {
        self.base + self.count as f64 * self.step()
    }

    /// Source frames advanced per output frame.
    fn step(&self) -> f64 {
        let rate = self.track.as_ref().map_or(1, Track::rate) as f64;
        rate * self.speed / self.out_rate as f64
    }

    fn refill(&mut self) -> Result<(), PlaybackError> {
        let resampler = self.resampler.as_mut().ok_or(PlaybackError::NothingLoaded)?;
        let track = self.track.as_ref().ok_or(PlaybackError::NothingLoaded)?;
        let samples = track.samples();
        let need = resampler.input_frames_next();
        let (feed, loop_region) = (&mut self.feed, self.loop_region);
        match self.stretcher.as_mut() {
            Some(stretcher) if !self.tape => {
                stretcher.fill(&mut self.input[..need], |buffer| read_source(samples, feed, loop_region, buffer));
            }
            _ => read_source(samples, feed, loop_region, &mut self.input[..need]),
        }
        let input =
            InterleavedSlice::new(&self.input[..], 1, need).map_err(|e| PlaybackError::Resampler(e.to_string()))?;
        let mut output = InterleavedSlice::new_mut(&mut self.chunk[..], 1, CHUNK)
            .map_err(|e| PlaybackError::Resampler(e.to_string()))?;
        let (_, produced) = resampler
            .process_into_buffer(&input, &mut output, None)
            .map_err(|e| PlaybackError::Resampler(e.to_string()))?;
        self.chunk_len = produced;
        self.chunk_read = 0;
        Ok(())
    }
}

/// The next source frames from `feed` on, wrapping at the loop's end; silence past the track.
fn read_source(samples: &[f32], feed: &mut usize, loop_region: Option<(usize, usize)>, out: &mut [f32]) {
    for slot in out {
        if let Some((a, b)) = loop_region
            && *feed >= b
        {
            *feed = a;
        }
        *slot = samples.get(*feed).copied().unwrap_or(0.0);
        *feed += 1;
    }
}
