//! Shared by the playback tests: tones as stored recordings, and waiting for events.

// Each test binary includes this module and uses only part of it.
#![allow(dead_code)]
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use earshot_audio::{self as audio, mulaw};
use earshot_playback::{PlayerEvent, Track};

/// A `freq` Hz tone at 8 kHz, `seconds` long, as headerless μ-law decoded through the core.
pub fn tone(freq: f64, seconds: f64) -> Track {
    let frames = (seconds * 8000.0).round() as usize;
    let codes: Vec<u8> = (0..frames)
        .map(|i| {
            let value = 0.5 * (2.0 * std::f64::consts::PI * freq * i as f64 / 8000.0).sin();
            mulaw::encode((value * 32767.0) as i16)
        })
        .collect();
    let info = audio::describe(&codes, Some("audio/mulaw;rate=8000")).unwrap();
    Track::from_recording(&codes, &info).unwrap()
}

/// The first event matching `want` within `limit`; panics naming what was awaited.
pub fn wait_for(
    events: &Receiver<PlayerEvent>,
    limit: Duration,
    what: &str,
    want: impl Fn(&PlayerEvent) -> bool,
) -> PlayerEvent {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match events.recv_timeout(left) {
            Ok(event) if want(&event) => return event,
            Ok(PlayerEvent::Error(error)) => panic!("error event while waiting for {what}: {error}"),
            Ok(_) => {}
            Err(_) => panic!("no {what} within {limit:?}"),
        }
    }
}

/// Every event that arrives within `window`.
pub fn collect_for(events: &Receiver<PlayerEvent>, window: Duration) -> Vec<PlayerEvent> {
    let deadline = Instant::now() + window;
    std::iter::from_fn(|| events.recv_timeout(deadline.saturating_duration_since(Instant::now())).ok()).collect()
}

/// Runs the test `name` of this test binary again in a child process with `env` set (and
/// `EARSHOT_TEST_CHILD=1`, which the test checks to know it is the child); panics with the
/// child's output unless it passed. For settings a test cannot change in its own process,
/// such as where the sound server is.
pub fn in_child(name: &str, env: &[(&str, &str)]) {
    let exe = std::env::current_exe().expect("test binary path");
    let output = std::process::Command::new(exe)
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env("EARSHOT_TEST_CHILD", "1")
        .envs(env.iter().copied())
        .output()
        .expect("run the test binary");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success() && text.contains("1 passed"), "child run of {name} failed:\n{text}");
}

/// Whether this process is the child [`in_child`] started.
pub fn is_child() -> bool {
    std::env::var_os("EARSHOT_TEST_CHILD").is_some()
}

/// Ends a test that cannot run its real part here: `SKIPPED: …` for a developer without a
/// sound server, but a failure under `EARSHOT_STRICT` (`make test`), where every test must run.
pub fn skip(reason: &str) {
    assert!(
        std::env::var_os("EARSHOT_STRICT").is_none(),
        "{reason}, and EARSHOT_STRICT is set (make test): this test must run, not skip"
    );
    eprintln!("SKIPPED: {reason}");
}
