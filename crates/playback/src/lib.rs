//! Earshot's native playback: recordings decoded with the core's G.711
//! tables, resampled with rubato to whatever the output device runs at, and
//! played through cpal. This is the only crate that depends on cpal.
//!
//! - [`track`]: a recording decoded to mono `f32` once.
//! - [`pipeline`]: loop wrap → time-stretcher (speed, pitch kept) or not (tape
//!   mode) → resampler (rate, and speed on tape) → gain → channels; run by the
//!   device callback and the headless sink alike.
//! - [`engine`]: the [`Player`] handle and the thread that owns the output.
//! - [`device`]: cpal — listing outputs (PulseAudio's own sinks when its server
//!   answers, ALSA's otherwise) and opening a stream in any sample format.
//!
//! ```no_run
//! use earshot_playback::{Control, Player, PlayerEvent, PlayState, Track};
//! let track = Track::from_pcm16(&vec![0i16; 8000], 8000, 1)?;
//! let player = Player::start(None);
//! let events = player.subscribe();
//! player.send(Control::Load(track))?;
//! player.send(Control::Play)?;
//! for event in events {
//!     if event == PlayerEvent::State(PlayState::Ended) { break; }
//! }
//! # Ok::<(), earshot_playback::PlaybackError>(())
//! ```
//!
//! It does not draw anything or know about recordings in the store; the CLI
//! and the desktop app fetch the bytes and hand over a [`Track`].

pub mod device;
pub mod engine;
pub mod pipeline;
pub mod track;

pub use device::{DeviceInfo, list_devices};
pub use engine::{Control, HeadlessSink, Player, PlayerEvent};
pub use pipeline::PlayState;
pub use track::Track;

/// Everything that can go wrong in playback.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaybackError {
    /// No output device exists or the sound server is not reachable.
    #[error("no audio output device is available (is a sound server running?)")]
    NoDevice,
    /// `--device` / `ChooseDevice` named nothing that exists.
    #[error("no output device matches {0:?}; `earshot devices` lists them")]
    UnknownDevice(String),
    /// The device refused to open or failed while playing.
    #[error("audio output failed: {0}")]
    Device(String),
    /// The audio cannot be played.
    #[error("the recording cannot be played: {0}")]
    BadTrack(String),
    /// A control with a value out of range.
    #[error("{0}")]
    BadControl(String),
    /// A control that needs a track before `Load`.
    #[error("nothing is loaded")]
    NothingLoaded,
    /// The resampler refused its settings (a bug or an absurd rate).
    #[error("resampler: {0}")]
    Resampler(String),
    /// The engine thread has shut down.
    #[error("the playback engine has shut down")]
    EngineGone,
}
