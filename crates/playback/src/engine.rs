//! The player: one engine thread owns the output (a cpal stream or the
//! headless sink) and the shared [`Pipeline`]; everyone else holds a cheap
//! [`Player`] handle that sends [`Control`]s and subscribes to
//! [`PlayerEvent`]s.
//!
//! The engine ticks every [`TICK`] (25 times a second): it reports the
//! position while playing, notices the end, stream errors and a device that
//! stopped asking for audio ([`STALL`]), and turns each into events. It never
//! panics on a device problem: the stream is dropped, the state becomes
//! [`PlayState::Error`], and the next `Play` tries the device again.
//!
//! Every [`PlayerEvent::Error`] is followed by a [`PlayerEvent::State`] saying
//! where playback stands, so a listener that shows the last state is never
//! left showing `Playing` next to an output that did not open.

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::PlaybackError;
use crate::device::{self, OpenStream};
use crate::pipeline::{Pipeline, PlayState};
use crate::track::Track;

/// How often the engine reports the position while playing (40 ms: 25 reports a second).
pub const TICK: Duration = Duration::from_millis(40);
/// A playing device that has not asked for samples this long is declared failed.
pub const STALL: Duration = Duration::from_secs(2);
/// Rate of the pipeline before any device is opened; replaced by the device's own.
const PROVISIONAL_RATE: u32 = 48_000;

/// What the engine can be told to do.
#[derive(Debug, Clone)]
pub enum Control {
    /// Replace the track (position 0, stopped) and open the output if it is not open yet.
    Load(Track),
    /// Start or resume (from the start after the end).
    Play,
    /// Hold the position.
    Pause,
    /// Stop and rewind.
    Stop,
    /// Move to a time in seconds.
    Seek(f64),
    /// Speed factor, 0.5–2. The pitch is kept unless tape mode is on ([`Control::SetTape`]).
    SetSpeed(f64),
    /// Tape mode: `true` lets the pitch follow the speed (as a tape played faster, Earshot's
    /// behaviour before pitch-keeping); `false`, the default, keeps the pitch (WSOLA). Kept
    /// across loads; switching while playing continues from the same position.
    SetTape(bool),
    /// Loop between two times in seconds, or `None` to stop looping.
    SetLoop(Option<(f64, f64)>),
    /// Volume, 0–1.
    SetVolume(f32),
    /// Peak-normalised gain on or off.
    SetNormalise(bool),
    /// Switch output by id or name (`None`: the default), keeping position and state.
    ChooseDevice(Option<String>),
    /// End the engine thread and close the device.
    Shutdown,
}

/// What the engine reports.
#[derive(Debug, Clone, PartialEq)]
pub enum PlayerEvent {
    /// A track was loaded.
    Loaded {
        /// Length in seconds.
        duration: f64,
        /// The recording's rate.
        rate: u32,
    },
    /// An output was opened.
    Output {
        /// Device id (`headless` for the headless sink).
        device: String,
        /// Device rate.
        rate: u32,
        /// Device channels.
        channels: u16,
        /// Device sample format, e.g. `f32`.
        format: String,
    },
    /// The state changed.
    State(PlayState),
    /// Where playback is, at least every [`TICK`] while playing and after every control.
    Position {
        /// Seconds from the start.
        position: f64,
        /// Track length in seconds.
        duration: f64,
    },
    /// The first output callback after `Play` that carried audio happened at this instant.
    AudioStarted {
        /// When the callback ran.
        at: Instant,
    },
    /// A refused control, or an output failure. A `State` event always follows: the unchanged
    /// state after a refusal, `Error` after an output failure (never `Playing`).
    Error(PlaybackError),
}

/// Where the engine sends audio.
enum Sink {
    /// A cpal device, opened on the first `Load`/`Play`.
    Device { wanted: Option<String>, open: Option<OpenStream> },
    /// No hardware: the test pulls samples through [`HeadlessSink`].
    Headless,
}

/// A cheap, cloneable handle to the engine thread.
#[derive(Clone)]
pub struct Player {
    controls: Sender<Control>,
    subscribers: Arc<Mutex<Vec<Sender<PlayerEvent>>>>,
    thread: Arc<Mutex<Option<JoinHandle<()>>>>,
}

/// The headless output: pulls samples through the exact pipeline a device callback runs.
#[derive(Clone)]
pub struct HeadlessSink {
    pipeline: Arc<Mutex<Pipeline>>,
}

impl HeadlessSink {
    /// Asks for `frames` interleaved frames, as a device callback would.
    pub fn pull(&self, frames: usize) -> Vec<f32> {
        let mut pipeline = lock(&self.pipeline);
        let mut out = vec![0.0; frames * pipeline.channels() as usize];
        pipeline.fill(&mut out);
        out
    }

    /// Output frames of track audio produced so far.
    pub fn emitted(&self) -> u64 {
        lock(&self.pipeline).emitted()
    }

    /// The position the next pulled frame plays, in seconds.
    pub fn position(&self) -> f64 {
        lock(&self.pipeline).position_secs()
    }
}

impl Player {
    /// Starts an engine for the output device `device` (id or name; `None`: the default).
    /// The device is opened at the first `Load` or `Play`, and failures arrive as events.
    pub fn start(device: Option<String>) -> Player {
        let pipeline = Arc::new(Mutex::new(Pipeline::new(PROVISIONAL_RATE, 2)));
        Player::spawn(Sink::Device { wanted: device, open: None }, pipeline)
    }

    /// Starts an engine whose output is a [`HeadlessSink`] at `rate` Hz and `channels` channels.
    pub fn headless(rate: u32, channels: u16) -> (Player, HeadlessSink) {
        let pipeline = Arc::new(Mutex::new(Pipeline::new(rate, channels)));
        let sink = HeadlessSink { pipeline: Arc::clone(&pipeline) };
        (Player::spawn(Sink::Headless, pipeline), sink)
    }

    fn spawn(sink: Sink, pipeline: Arc<Mutex<Pipeline>>) -> Player {
        let (controls, rx) = mpsc::channel();
        let subscribers = Arc::new(Mutex::new(Vec::new()));
        let (errors_tx, errors) = mpsc::channel();
        let engine = Engine {
            sink,
            pipeline,
            subscribers: Arc::clone(&subscribers),
            errors,
            errors_tx,
            last_state: PlayState::Stopped,
            reported_start: None,
            playing_since: None,
        };
        let thread = std::thread::Builder::new()
            .name("earshot-playback".into())
            .spawn(move || engine.run(rx))
            .expect("spawn the playback thread");
        Player { controls, subscribers, thread: Arc::new(Mutex::new(Some(thread))) }
    }

    /// Sends a control; fails only when the engine has shut down.
    pub fn send(&self, control: Control) -> Result<(), PlaybackError> {
        self.controls.send(control).map_err(|_| PlaybackError::EngineGone)
    }

    /// A new receiver of every event from now on.
    pub fn subscribe(&self) -> Receiver<PlayerEvent> {
        let (tx, rx) = mpsc::channel();
        lock(&self.subscribers).push(tx);
        rx
    }

    /// Stops the engine, closes the device and waits for the thread.
    pub fn shutdown(&self) {
        let _ = self.controls.send(Control::Shutdown);
        if let Some(thread) = lock(&self.thread).take() {
            let _ = thread.join();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

struct Engine {
    sink: Sink,
    pipeline: Arc<Mutex<Pipeline>>,
    subscribers: Arc<Mutex<Vec<Sender<PlayerEvent>>>>,
    errors: Receiver<PlaybackError>,
    errors_tx: Sender<PlaybackError>,
    last_state: PlayState,
    reported_start: Option<Instant>,
    playing_since: Option<Instant>,
}

impl Engine {
    fn run(mut self, controls: Receiver<Control>) {
        let mut next_tick = Instant::now() + TICK;
        loop {
            match controls.recv_timeout(next_tick.saturating_duration_since(Instant::now())) {
                Ok(Control::Shutdown) | Err(RecvTimeoutError::Disconnected) => break,
                Ok(control) => self.apply(control),
                Err(RecvTimeoutError::Timeout) => {}
            }
            if Instant::now() >= next_tick {
                self.tick();
                next_tick = Instant::now() + TICK;
            }
        }
        if let Sink::Device { open, .. } = &mut self.sink {
            *open = None;
        }
    }

    fn emit(&self, event: PlayerEvent) {
        lock(&self.subscribers).retain(|tx| tx.send(event.clone()).is_ok());
    }

    fn apply(&mut self, control: Control) {
        let result = match control {
            Control::Load(track) => self.load(track),
            Control::Play => self.play(),
            Control::Pause => {
                lock(&self.pipeline).pause();
                Ok(())
            }
            Control::Stop => {
                lock(&self.pipeline).stop();
                Ok(())
            }
            Control::Seek(seconds) => lock(&self.pipeline).seek(seconds),
            Control::SetSpeed(speed) => lock(&self.pipeline).set_speed(speed),
            Control::SetTape(on) => lock(&self.pipeline).set_tape(on),
            Control::SetLoop(region) => lock(&self.pipeline).set_loop(region),
            Control::SetVolume(volume) => lock(&self.pipeline).set_volume(volume),
            Control::SetNormalise(on) => {
                lock(&self.pipeline).set_normalise(on);
                Ok(())
            }
            Control::ChooseDevice(wanted) => self.choose(wanted),
            Control::Shutdown => Ok(()),
        };
        let failed = result.is_err();
        if let Err(error) = result {
            self.emit(PlayerEvent::Error(error));
        }
        self.report(true, failed);
    }

    fn load(&mut self, track: Track) -> Result<(), PlaybackError> {
        let (duration, rate) = (track.duration_secs(), track.rate());
        lock(&self.pipeline).load(track)?;
        self.emit(PlayerEvent::Loaded { duration, rate });
        self.ensure_open()
    }

    fn play(&mut self) -> Result<(), PlaybackError> {
        lock(&self.pipeline).track().ok_or(PlaybackError::NothingLoaded)?;
        self.ensure_open()?;
        lock(&self.pipeline).play()?;
        self.reported_start = None;
        self.playing_since = Some(Instant::now());
        Ok(())
    }

    fn choose(&mut self, device: Option<String>) -> Result<(), PlaybackError> {
        match &mut self.sink {
            Sink::Headless => Err(PlaybackError::BadControl("the headless player has no devices to choose".into())),
            Sink::Device { wanted, open } => {
                *wanted = device;
                *open = None;
                self.ensure_open()
            }
        }
    }

    /// Opens the device if it is not open, moving the pipeline to the device's rate.
    /// On failure nothing is open and the state is [`PlayState::Error`]; the caller reports it.
    fn ensure_open(&mut self) -> Result<(), PlaybackError> {
        let Sink::Device { wanted, open } = &mut self.sink else {
            return Ok(());
        };
        if open.is_some() {
            return Ok(());
        }
        let previous = Arc::clone(&self.pipeline);
        let mut rebuild_error = None;
        let opened = device::open(
            wanted.as_deref(),
            |rate, channels| {
                let rebuilt = lock(&previous).rebuilt(rate, channels);
                Arc::new(Mutex::new(rebuilt.unwrap_or_else(|e| {
                    rebuild_error = Some(e);
                    Pipeline::new(rate, channels)
                })))
            },
            self.errors_tx.clone(),
        );
        match opened {
            Ok((stream, pipeline)) => {
                if let Some(error) = rebuild_error {
                    return Err(self.close(error));
                }
                self.pipeline = pipeline;
                let event = PlayerEvent::Output {
                    device: stream.device.clone(),
                    rate: stream.rate,
                    channels: stream.channels,
                    format: stream.format.to_string(),
                };
                *open = Some(stream);
                self.emit(event);
                Ok(())
            }
            Err(error) => Err(self.close(error)),
        }
    }

    /// Drops the stream and puts the pipeline in [`PlayState::Error`]; returns `error` to report.
    fn close(&mut self, error: PlaybackError) -> PlaybackError {
        if let Sink::Device { open, .. } = &mut self.sink {
            *open = None;
        }
        lock(&self.pipeline).set_state(PlayState::Error);
        error
    }

    /// An output failure noticed between controls: close, then report the error and the state.
    fn fail(&mut self, error: PlaybackError) {
        let error = self.close(error);
        self.emit(PlayerEvent::Error(error));
        self.report(false, true);
    }

    fn tick(&mut self) {
        while let Ok(error) = self.errors.try_recv() {
            self.fail(error);
        }
        let fault = lock(&self.pipeline).take_fault();
        if let Some(error) = fault {
            self.fail(error);
        }
        if let Some(error) = self.stalled() {
            self.fail(error);
        }
        self.report(false, false);
    }

    /// A device stream that stopped calling back while playing.
    fn stalled(&self) -> Option<PlaybackError> {
        let Sink::Device { open: Some(_), .. } = &self.sink else {
            return None;
        };
        let pipeline = lock(&self.pipeline);
        if pipeline.state() != PlayState::Playing {
            return None;
        }
        let last = pipeline.last_callback().max(self.playing_since)?;
        (last.elapsed() > STALL)
            .then(|| PlaybackError::Device(format!("the output device stopped asking for audio for {STALL:?}")))
    }

    /// Emits the first audible callback, the position, and the state when it changed (or
    /// always, with `restate`: after an error).
    fn report(&mut self, after_control: bool, restate: bool) {
        let (state, position, duration, first_audio) = {
            let pipeline = lock(&self.pipeline);
            let duration = pipeline.track().map_or(0.0, Track::duration_secs);
            (pipeline.state(), pipeline.position_secs(), duration, pipeline.first_audio())
        };
        let changed = state != self.last_state;
        if let Some(at) = first_audio
            && self.reported_start != Some(at)
        {
            self.reported_start = Some(at);
            self.emit(PlayerEvent::AudioStarted { at });
        }
        // The position first, so a listener that stops at `Ended` has already seen the end.
        if after_control || changed || state == PlayState::Playing {
            self.emit(PlayerEvent::Position { position, duration });
        }
        if changed || restate {
            self.last_state = state;
            self.emit(PlayerEvent::State(state));
        }
    }
}
