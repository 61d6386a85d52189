//! The engine's state machine on the headless sink: the same pipeline a device
//! callback runs, pulled by the test instead of a sound card.

mod common;

use std::time::Duration;

use common::{tone, wait_for};
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
