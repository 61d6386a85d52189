//! The detail view's player: native playback through the `earshot-playback`
//! engine (cpal), never an HTML audio element. Position and state stream to
//! the UI over a `tauri::ipc::Channel`.

use earshot_playback::{Control, PlayState, PlayerEvent, Track};
use serde::{Deserialize, Serialize};
use tauri::State;
use tauri::ipc::Channel;

use super::blocking;
use crate::error::{IpcError, IpcResult};
use crate::state::Desktop;

/// What the player controls ask for.
#[derive(Debug, Clone, Deserialize, ts_rs::TS)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum PlayerAction {
    /// Start or resume.
    Play,
    /// Hold the position.
    Pause,
    /// Stop and rewind.
    Stop,
    /// Jump to a time.
    Seek {
        /// Seconds from the start.
        seconds: f64,
    },
    /// Playback speed, 0.5–2 (the pitch is kept unless tape mode is on).
    Speed {
        /// The factor.
        factor: f64,
    },
    /// Tape mode: the pitch follows the speed instead of being kept.
    Tape {
        /// On or off.
        on: bool,
    },
    /// Loop between two times, or stop looping.
    Loop {
        /// `[from, to]` in seconds, or null.
        range: Option<(f64, f64)>,
    },
    /// Output volume, 0–1.
    Volume {
        /// The level.
        level: f32,
    },
    /// Peak-normalised gain.
    Normalise {
        /// On or off.
        on: bool,
    },
}

/// What the player reports to the UI.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PlayerUpdate {
    /// A recording was loaded.
    Loaded {
        /// Its length in seconds.
        duration: f64,
    },
    /// Where playback stands; one follows every error.
    State {
        /// `stopped`, `playing`, `paused`, `ended` or `error`.
        state: PlayState,
    },
    /// Where playback is.
    Position {
        /// Seconds from the start.
        position: f64,
        /// Track length in seconds.
        duration: f64,
    },
    /// A refused control or an output failure (no sound device, device lost).
    Error {
        /// What went wrong.
        message: String,
    },
}

fn update(event: PlayerEvent) -> Option<PlayerUpdate> {
    Some(match event {
        PlayerEvent::Loaded { duration, .. } => PlayerUpdate::Loaded { duration },
        PlayerEvent::State(state) => PlayerUpdate::State { state },
        PlayerEvent::Position { position, duration } => PlayerUpdate::Position { position, duration },
        PlayerEvent::Error(e) => PlayerUpdate::Error { message: e.to_string() },
        PlayerEvent::Output { .. } | PlayerEvent::AudioStarted { .. } => return None,
    })
}

/// Streams the player's events to `on_event` until the window goes away.
#[tauri::command]
pub async fn player_subscribe(state: State<'_, Desktop>, on_event: Channel<PlayerUpdate>) -> IpcResult<()> {
    let events = state.player().subscribe();
    std::thread::Builder::new()
        .name("earshot-player-events".into())
        .spawn(move || {
            while let Ok(event) = events.recv() {
                if let Some(update) = update(event)
                    && on_event.send(update).is_err()
                {
                    break;
                }
            }
        })
        .map_err(|e| IpcError::new("internal", format!("cannot start the player bridge: {e}")))?;
    Ok(())
}

/// Loads a recording into the player (stopping whatever played), optionally starting it.
#[tauri::command]
pub async fn player_load(state: State<'_, Desktop>, row: i64, autoplay: bool) -> IpcResult<()> {
    let track = blocking(state.store(), move |store| {
        let recording = store.recording_row(row)?;
        Track::from_recording(&store.audio(row)?, &recording.audio)
            .map_err(|e| IpcError::new("playback", e.to_string()))
    })
    .await?;
    let player = state.player();
    let send = |control| player.send(control).map_err(|e| IpcError::new("playback", e.to_string()));
    send(Control::Load(track))?;
    if autoplay {
        send(Control::Play)?;
    }
    Ok(())
}

/// Play, pause, seek, speed, loop, volume, normalise.
#[tauri::command]
pub async fn player_control(state: State<'_, Desktop>, action: PlayerAction) -> IpcResult<()> {
    let control = match action {
        PlayerAction::Play => Control::Play,
        PlayerAction::Pause => Control::Pause,
        PlayerAction::Stop => Control::Stop,
        PlayerAction::Seek { seconds } => Control::Seek(seconds),
        PlayerAction::Speed { factor } => Control::SetSpeed(factor),
        PlayerAction::Tape { on } => Control::SetTape(on),
        PlayerAction::Loop { range } => Control::SetLoop(range),
        PlayerAction::Volume { level } => Control::SetVolume(level),
        PlayerAction::Normalise { on } => Control::SetNormalise(on),
    };
    state.player().send(control).map_err(|e| IpcError::new("playback", e.to_string()))
}

#[cfg(test)]
mod tests {
    use earshot_playback::{PlayState, PlayerEvent};
    use serde_json::json;

    use super::update;

    /// Regression: the state was sent as `format!("{state:?}").to_lowercase()`; it is the
    /// engine's own serialized enum, the union the UI branches on.
    #[test]
    fn player_state_reaches_the_ui_as_the_engines_enum_not_debug_text() {
        let sent: Vec<_> =
            [PlayState::Stopped, PlayState::Playing, PlayState::Paused, PlayState::Ended, PlayState::Error]
                .into_iter()
                .map(|state| serde_json::to_value(update(PlayerEvent::State(state))).unwrap())
                .collect();
        let expected: Vec<_> = ["stopped", "playing", "paused", "ended", "error"]
            .into_iter()
            .map(|name| json!({"kind": "state", "state": name}))
            .collect();
        assert_eq!(sent, expected);
    }
}
