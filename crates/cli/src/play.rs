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
    /// Playback speed, 0.5–2, with the pitch kept (unless --tape).
    #[arg(long, default_value_t = 1.0, value_name = "X", value_parser = speed)]
    speed: f64,
    /// Let the pitch follow the speed, as on tape.
    #[arg(long)]
    tape: bool,
}

/// Parses `--speed`: a number within 0.5–2, or a message saying why not.
pub(crate) fn speed(given: &str) -> Result<f64, String> {
    let (slowest, fastest) = earshot_audio::SPEED_RANGE;
    let factor: f64 = given.parse().map_err(|_| format!("{given:?} is not a number"))?;
    if !(slowest..=fastest).contains(&factor) {
        return Err(format!("speed {factor} is outside {slowest}–{fastest}"));
    }
    Ok(factor)
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
    let mode = Mode { speed: args.speed, tape: args.tape };
    let result = play(&player, &events, track, mode, &recording.recording_id);
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

/// The speed and whether the pitch follows it.
#[derive(Clone, Copy)]
struct Mode {
    speed: f64,
    tape: bool,
}

fn play(
    player: &Player,
    events: &std::sync::mpsc::Receiver<PlayerEvent>,
    track: Track,
    mode: Mode,
    name: &str,
) -> Result<(), CliError> {
    let gone = |e: earshot_playback::PlaybackError| CliError::Message(e.to_string());
    let Mode { speed, tape } = mode;
    player.send(Control::SetTape(tape)).map_err(gone)?;
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
                let pitch = match (speed == 1.0, tape) {
                    (true, _) => "",
                    (false, false) => ", pitch kept",
                    (false, true) => ", tape",
                };
                eprintln!("playing {name} on {device} ({rate} Hz, {channels} ch, {format}) at {speed}×{pitch}");
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
