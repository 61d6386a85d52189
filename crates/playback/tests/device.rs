//! Real cpal streams: 2 s through each host's output in real time, on cpal's
//! ALSA host (`alsa:default`, through the `pulse` plugin) and on its native
//! PulseAudio host (the default when the server answers).
//!
//! `make test` runs every test under `scripts/with-audio.sh`, which starts a
//! PulseAudio null sink (paced like a sound card) and sets
//! `EARSHOT_AUDIO_TEST=1`; then a device that cannot be opened FAILS these
//! tests. Without the variable they skip (`SKIPPED: …`, a failure under
//! `EARSHOT_STRICT`), since a developer's machine may have no sound server.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{in_child, is_child, skip, tone, wait_for};
use earshot_playback::{Control, PlayState, Player, PlayerEvent};

/// Longer than the null sink's start-up hold (below).
const WARM_UP: Duration = Duration::from_secs(3);

fn audio_required() -> bool {
    let required = std::env::var_os("EARSHOT_AUDIO_TEST").is_some();
    if !required {
        skip("no sound server to play on: scripts/with-audio.sh starts one and sets EARSHOT_AUDIO_TEST=1");
    }
    required
}

/// Plays 2 s on `device`; the output's id and the wall clock from Play to Ended, in seconds.
fn play_two_seconds(device: Option<&str>) -> (String, f64) {
    let player = Player::start(device.map(str::to_string));
    let events = player.subscribe();
    player.send(Control::Load(tone(440.0, 2.0))).unwrap();
    let opened =
        wait_for(&events, Duration::from_secs(10), "the device to open", |e| matches!(e, PlayerEvent::Output { .. }));
    eprintln!("opened {opened:?}");
    let PlayerEvent::Output { device: id, .. } = opened else { unreachable!("waited for Output") };
    // An idle PulseAudio null sink renders 2 s blocks and cannot rewind into the one it is in
    // when a low-latency stream arrives, so a new stream starts consuming only when that block
    // ends (0–2 s; the playback bench measures it on both hosts). The engine opens the device at
    // Load so that Play does not pay for it; wait it out the same way.
    std::thread::sleep(WARM_UP);
    let start = Instant::now();
    player.send(Control::Play).unwrap();
    wait_for(&events, Duration::from_secs(5), "the first audible callback", |e| {
        matches!(e, PlayerEvent::AudioStarted { .. })
    });
    wait_for(&events, Duration::from_secs(10), "Ended", |e| *e == PlayerEvent::State(PlayState::Ended));
    let elapsed = start.elapsed().as_secs_f64();
    player.shutdown();
    eprintln!("2 s clip took {elapsed:.3} s of wall clock on {id}");
    (id, elapsed)
}

#[test]
fn two_seconds_play_in_two_seconds_on_the_alsa_host() {
    if !audio_required() {
        return;
    }
    let (id, elapsed) = play_two_seconds(Some("alsa:default"));
    assert_eq!(id, "alsa:default");
    assert!((1.6..=2.4).contains(&elapsed), "2 s clip took {elapsed:.3} s");
}

/// In a child process, so that cpal's PulseAudio client finds the private server's cookie: it
/// reads only `$PULSE_COOKIE` or `~/.config/pulse/cookie`, and the server writes it under
/// `$XDG_CONFIG_HOME`.
#[test]
fn two_seconds_play_in_two_seconds_on_the_pulseaudio_host_by_default() {
    if !audio_required() {
        return;
    }
    if !is_child() {
        let cookie = std::env::var_os("XDG_CONFIG_HOME").map(|c| Path::new(&c).join("pulse/cookie"));
        let cookie = std::env::var_os("PULSE_COOKIE").map(Into::into).or(cookie).unwrap_or_default();
        let cookie = cookie.to_string_lossy().into_owned();
        in_child("two_seconds_play_in_two_seconds_on_the_pulseaudio_host_by_default", &[("PULSE_COOKIE", &cookie)]);
        return;
    }
    let (id, elapsed) = play_two_seconds(None);
    assert!(id.starts_with("pulseaudio:"), "the default output is cpal's PulseAudio host: {id}");
    assert!((1.6..=2.4).contains(&elapsed), "2 s clip took {elapsed:.3} s");
}
