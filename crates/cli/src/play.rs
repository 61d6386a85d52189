//! `earshot play`: one recording through the audio output in real time, with
//! a progress line on stderr; returns when playback ends.

use std::io::Write;
use std::time::Duration;

use earshot_core::Store;
use earshot_playback::{Control, PlayState, Player, PlayerEvent, Track};

use crate::CliError;

/// Options of `earshot play`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Recording id or a unique prefix; `ID@N` picks version N of a conflicting resend.
    recording: String,
    /// Output device id or name (see `earshot devices`; default: the system default).
    #[arg(long, value_name = "NAME")]
    device: Option<String>,
    /// Playback speed, 0.5–2.
    #[arg(long, default_value_t = 1.0, value_name = "X")]
    speed: f64,
}

/// Longer than any event gap while playing (the engine reports 25 times a second).
const SILENCE_LIMIT: Duration = Duration::from_secs(5);

pub fn run(store: &Store, args: Args) -> Result<(), CliError> {
    let (id, version) = split_version(&args.recording)?;
    let recording = store.find_recording(&id, version)?;
    let bytes = store.audio(recording.row)?;
    let track = Track::from_recording(&bytes, &recording.audio).map_err(|e| CliError::Message(e.to_string()))?;
    let player = Player::start(args.device);
    let events = player.subscribe();
    let result = play(&player, &events, track, args.speed, &recording.recording_id);
    player.shutdown();
    eprintln!();
    result
}

/// `ID@N` → (`ID`, Some(N)), as `earshot export` reads it; a plain id → (id, None).
fn split_version(given: &str) -> Result<(String, Option<u32>), CliError> {
    match given.rsplit_once('@') {
        Some((id, v)) => {
            let v = v
                .parse::<u32>()
                .map_err(|_| CliError::Message(format!("{given:?}: the part after @ must be a version number")))?;
            Ok((id.to_string(), Some(v)))
        }
        None => Ok((given.to_string(), None)),
    }
}

fn play(
    player: &Player,
    events: &std::sync::mpsc::Receiver<PlayerEvent>,
    track: Track,
    speed: f64,
    name: &str,
) -> Result<(), CliError> {
    let gone = |e: earshot_playback::PlaybackError| CliError::Message(e.to_string());
    player.send(Control::SetSpeed(speed)).map_err(gone)?;
    player.send(Control::Load(track)).map_err(gone)?;
    player.send(Control::Play).map_err(gone)?;
    loop {
        let event = events
            .recv_timeout(SILENCE_LIMIT)
            .map_err(|_| CliError::Message("the playback engine stopped reporting".into()))?;
        match event {
            PlayerEvent::Error(error) => return Err(CliError::Message(error.to_string())),
            PlayerEvent::Output { device, rate, channels, format } => {
                eprintln!("playing {name} on {device} ({rate} Hz, {channels} ch, {format}) at {speed}×");
            }
            PlayerEvent::Position { position, duration } => {
                eprint!("\r{position:6.2} / {duration:.2} s");
                let _ = std::io::stderr().flush();
            }
            PlayerEvent::State(PlayState::Ended) => return Ok(()),
            _ => {}
        }
    }
}
