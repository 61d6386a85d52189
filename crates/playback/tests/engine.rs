//! The engine's state machine on the headless sink (the same pipeline a device
//! callback runs, pulled by the test instead of a sound card), and what it
//! reports when the output cannot open.

mod common;

use std::time::Duration;

use common::{collect_for, in_child, is_child, skip, tone, wait_for};
use earshot_playback::{Control, PlayState, PlaybackError, Player, PlayerEvent};

const RATE: u32 = 48_000;
const WAIT: Duration = Duration::from_secs(3);

fn state(want: PlayState) -> impl Fn(&PlayerEvent) -> bool {
    move |e| *e == PlayerEvent::State(want)
}

fn near(actual: f64, expected: f64, what: &str) {
    // One resampler chunk (256 frames at 48 kHz) of slack, in source seconds at up to 2×.
    assert!((actual - expected).abs() < 0.012, "{what}: position {actual:.4} s, expected {expected:.4} s");
}

#[test]
fn play_pause_seek_loop_end() {
    let (player, sink) = Player::headless(RATE, 2);
    let events = player.subscribe();
    player.send(Control::Load(tone(1000.0, 2.0))).unwrap();
    wait_for(&events, WAIT, "Loaded", |e| matches!(e, PlayerEvent::Loaded { rate: 8000, .. }));
    player.send(Control::Play).unwrap();
    wait_for(&events, WAIT, "Playing", state(PlayState::Playing));

    let out = sink.pull(RATE as usize / 2);
    assert!(out.chunks(2).all(|f| f[0] == f[1]), "mono copied to both channels");
    assert!(out.iter().any(|s| s.abs() > 0.4), "audio while playing");
    near(sink.position(), 0.5, "after 0.5 s");

    player.send(Control::Pause).unwrap();
    wait_for(&events, WAIT, "Paused", state(PlayState::Paused));
    assert!(sink.pull(4800).iter().all(|&s| s == 0.0), "silence while paused");
    near(sink.position(), 0.5, "paused");

    player.send(Control::Seek(1.5)).unwrap();
    wait_for(
        &events,
        WAIT,
        "position 1.5",
        |e| matches!(e, PlayerEvent::Position { position, .. } if (position - 1.5).abs() < 1e-9),
    );
    player.send(Control::Play).unwrap();
    wait_for(&events, WAIT, "Playing again", state(PlayState::Playing));

    // A–B loop 1.0–1.2 s: the position (1.5 s) is outside, so playback jumps to A and wraps.
    player.send(Control::SetLoop(Some((1.0, 1.2)))).unwrap();
    wait_for(
        &events,
        WAIT,
        "position 1.0",
        |e| matches!(e, PlayerEvent::Position { position, .. } if (position - 1.0).abs() < 1e-9),
    );
    let before = sink.emitted();
    sink.pull(RATE as usize / 2);
    assert_eq!(sink.emitted() - before, RATE as u64 / 2, "the loop never runs out");
    // 0.5 s played in a 0.2 s loop: 2.5 laps, so 0.1 s past A.
    near(sink.position(), 1.1, "after wrapping");

    player.send(Control::SetLoop(None)).unwrap();
    player.send(Control::Seek(1.9)).unwrap();
    wait_for(
        &events,
        WAIT,
        "position 1.9",
        |e| matches!(e, PlayerEvent::Position { position, .. } if (position - 1.9).abs() < 1e-9),
    );
    let before = sink.emitted();
    sink.pull(RATE as usize / 5);
    let played = sink.emitted() - before;
    assert!(played.abs_diff(RATE as u64 / 10) <= 1, "0.1 s to the end, played {played} frames");
    wait_for(&events, WAIT, "Ended", state(PlayState::Ended));

    // Play after the end starts again from the top.
    player.send(Control::Play).unwrap();
    wait_for(&events, WAIT, "Playing from the start", state(PlayState::Playing));
    near(sink.position(), 0.0, "restart");
    player.shutdown();
}

#[test]
fn speed_changes_the_rate_source_samples_are_consumed() {
    let (player, sink) = Player::headless(RATE, 1);
    let events = player.subscribe();
    player.send(Control::Load(tone(440.0, 2.0))).unwrap();
    player.send(Control::SetSpeed(2.0)).unwrap();
    player.send(Control::Play).unwrap();
    wait_for(&events, WAIT, "Playing", state(PlayState::Playing));
    sink.pull(RATE as usize / 4);
    near(sink.position(), 0.5, "0.25 s of output at 2×");

    // Controls apply in order, so once Playing comes back the new speed is in force.
    player.send(Control::Pause).unwrap();
    wait_for(&events, WAIT, "Paused", state(PlayState::Paused));
    player.send(Control::SetSpeed(0.5)).unwrap();
    player.send(Control::Play).unwrap();
    wait_for(&events, WAIT, "Playing at 0.5×", state(PlayState::Playing));
    sink.pull(RATE as usize / 2);
    near(sink.position(), 0.75, "then 0.5 s of output at 0.5×");

    player.send(Control::SetSpeed(3.0)).unwrap();
    let refused = wait_for(&events, WAIT, "refusal", |e| matches!(e, PlayerEvent::Error(_)));
    assert!(matches!(refused, PlayerEvent::Error(PlaybackError::BadControl(m)) if m.contains("speed 3")));
    player.shutdown();
}

#[test]
fn volume_and_normalise_scale_the_output() {
    let (player, sink) = Player::headless(RATE, 1);
    let events = player.subscribe();
    player.send(Control::Load(tone(1000.0, 1.0))).unwrap();
    player.send(Control::SetVolume(0.5)).unwrap();
    player.send(Control::Play).unwrap();
    wait_for(&events, WAIT, "Playing", state(PlayState::Playing));
    let peak = |out: Vec<f32>| out.iter().fold(0f32, |m, s| m.max(s.abs()));
    let quiet = peak(sink.pull(4800));
    assert!((0.22..0.28).contains(&quiet), "half volume of a 0.5 tone: {quiet}");
    player.send(Control::Pause).unwrap();
    wait_for(&events, WAIT, "Paused", state(PlayState::Paused));
    player.send(Control::SetVolume(1.0)).unwrap();
    player.send(Control::SetNormalise(true)).unwrap();
    player.send(Control::Play).unwrap();
    wait_for(&events, WAIT, "Playing normalised", state(PlayState::Playing));
    let loud = peak(sink.pull(4800));
    assert!((0.95..=0.99).contains(&loud), "normalised peak: {loud}");
    player.shutdown();
}

#[test]
fn an_unknown_device_is_a_clear_error_not_a_panic() {
    let player = Player::start(Some("no-such-output-device".into()));
    let events = player.subscribe();
    player.send(Control::Load(tone(1000.0, 0.2))).unwrap();
    let error = wait_for(&events, WAIT, "error", |e| matches!(e, PlayerEvent::Error(_)));
    assert!(
        matches!(error, PlayerEvent::Error(PlaybackError::UnknownDevice(_) | PlaybackError::NoDevice)),
        "{error:?}"
    );
    wait_for(&events, WAIT, "Error state", state(PlayState::Error));
    player.shutdown();
}

/// The states reported after `Play` on an output that cannot open.
fn play_on_a_missing_output(player: &Player) -> (Vec<PlayerEvent>, Vec<PlayerEvent>) {
    let events = player.subscribe();
    player.send(Control::Load(tone(1000.0, 0.5))).unwrap();
    let after_load = collect_for(&events, Duration::from_millis(500));
    player.send(Control::Play).unwrap();
    let after_play = collect_for(&events, Duration::from_millis(500));
    (after_load, after_play)
}

fn states(events: &[PlayerEvent]) -> Vec<PlayState> {
    events.iter().filter_map(|e| if let PlayerEvent::State(s) = e { Some(*s) } else { None }).collect()
}

/// Regression: with no sound server, Play reported `Playing` right after the output error,
/// so the app showed "❚❚ Pause / playing 0:00.0" next to the message.
#[test]
fn play_with_no_output_reports_error_not_playing() {
    let player = Player::start(Some("no-such-output-device".into()));
    let (after_load, after_play) = play_on_a_missing_output(&player);
    player.shutdown();
    for (what, events) in [("Load", &after_load), ("Play", &after_play)] {
        assert!(
            events.iter().any(|e| matches!(e, PlayerEvent::Error(PlaybackError::UnknownDevice(_)))),
            "{what}: {events:?}"
        );
        let states = states(events);
        assert!(!states.contains(&PlayState::Playing), "{what} reported Playing: {events:?}");
        assert_eq!(states.last(), Some(&PlayState::Error), "{what}: {events:?}");
    }
}

/// Regression, the same with the system default and no sound server at all (a child process
/// whose PulseAudio address leads nowhere): the no-device error, then `Error`, never `Playing`.
/// Only under `scripts/with-audio.sh` (`EARSHOT_AUDIO_TEST`), whose setup makes ALSA's `default`
/// the PulseAudio plugin; elsewhere ALSA's default may be a sound card that plays.
#[test]
fn play_with_no_sound_server_reports_error_not_playing() {
    if std::env::var_os("EARSHOT_AUDIO_TEST").is_none() {
        skip("ALSA's default may be a sound card here: scripts/with-audio.sh routes it to PulseAudio");
        return;
    }
    if !is_child() {
        let nowhere = "/nonexistent/earshot-no-sound-server";
        in_child(
            "play_with_no_sound_server_reports_error_not_playing",
            &[
                ("PULSE_SERVER", &format!("unix:{nowhere}/native")),
                ("PULSE_RUNTIME_PATH", nowhere),
                ("XDG_RUNTIME_DIR", nowhere),
            ],
        );
        return;
    }
    let player = Player::start(None);
    let (_, after_play) = play_on_a_missing_output(&player);
    player.shutdown();
    assert!(after_play.contains(&PlayerEvent::Error(PlaybackError::NoDevice)), "{after_play:?}");
    let states = states(&after_play);
    assert!(!states.contains(&PlayState::Playing), "Play reported Playing: {after_play:?}");
    assert_eq!(states.last(), Some(&PlayState::Error), "{after_play:?}");
}

/// A refused control is followed by the unchanged state, so a listener that marks itself
/// "not playing" on any error learns at once that playback goes on.
#[test]
fn a_refused_control_is_followed_by_the_unchanged_state() {
    let (player, _sink) = Player::headless(RATE, 1);
    let events = player.subscribe();
    player.send(Control::Load(tone(440.0, 1.0))).unwrap();
    player.send(Control::Play).unwrap();
    wait_for(&events, WAIT, "Playing", state(PlayState::Playing));
    player.send(Control::SetVolume(7.0)).unwrap();
    let after = collect_for(&events, Duration::from_millis(200));
    player.shutdown();
    let error = after.iter().position(|e| matches!(e, PlayerEvent::Error(PlaybackError::BadControl(_))));
    let restated = after.iter().position(|e| *e == PlayerEvent::State(PlayState::Playing));
    assert!(matches!((error, restated), (Some(e), Some(s)) if s > e), "{after:?}");
}
