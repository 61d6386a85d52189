//! `earshot play` and `earshot devices` end to end, against the PulseAudio
//! null sink that `scripts/with-audio.sh` starts (paced in real time like a
//! sound card). `make test` runs every test inside it with
//! `EARSHOT_AUDIO_TEST=1`: then a sound server that cannot be reached FAILS
//! these tests. Without the variable they skip (`SKIPPED: …`, a failure under
//! `EARSHOT_STRICT`), since a developer's machine may have no sound server, or
//! a real one that would play out loud.
//!
//! The recordings come in the way watsonx sends them: `earshot serve` in a
//! temp dir, `earshot send` to it (a 2.5 s μ-law utterance).

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use earshot_tests::{Server, earshot, run_ok, skip};
use serde_json::Value;
use tempfile::TempDir;

/// `earshot send`'s utterance.
const LENGTH: Duration = Duration::from_millis(2500);
/// Start-up allowance on top of the length: the process and the stream opening (~0.1 s), and
/// the null sink's own hold. An idle null sink renders 2 s blocks and cannot rewind into the
/// current one when a low-latency stream arrives, so a new stream waits up to 2 s (measured by
/// the playback bench; hardware sinks rewind instead).
const START_ALLOWANCE: Duration = Duration::from_millis(3000);
/// Where the no-sound-server runs look for PulseAudio.
const NOWHERE: &str = "/nonexistent/earshot-no-sound-server";

/// Whether the audio tests run here; panics when they must and the server is unreachable.
fn audio_required() -> bool {
    if std::env::var_os("EARSHOT_AUDIO_TEST").is_none() {
        skip("no sound server to play on: scripts/with-audio.sh starts one and sets EARSHOT_AUDIO_TEST=1");
        return false;
    }
    let reachable = Command::new("pactl").arg("info").output().is_ok_and(|o| o.status.success());
    assert!(
        reachable,
        "EARSHOT_AUDIO_TEST is set but no PulseAudio server answers `pactl info` (PULSE_SERVER={:?})",
        std::env::var_os("PULSE_SERVER")
    );
    true
}

/// `earshot` for audio: cpal's PulseAudio client reads the server's cookie only from
/// `$PULSE_COOKIE` or `~/.config/pulse/cookie`, while a private server writes it under
/// `$XDG_CONFIG_HOME/pulse/cookie`; point the client there when nothing else is set.
fn earshot_audio(data: &Path) -> Command {
    let mut command = earshot(data);
    if std::env::var_os("PULSE_COOKIE").is_none()
        && let Some(config) = std::env::var_os("XDG_CONFIG_HOME")
    {
        let cookie = Path::new(&config).join("pulse/cookie");
        if cookie.exists() {
            command.env("PULSE_COOKIE", cookie);
        }
    }
    command
}

/// A data dir holding one recording sent through the webhook; its dir and recording id.
fn one_recording() -> (TempDir, String) {
    let dir = TempDir::new().unwrap();
    let server = Server::start(dir.path(), &[]);
    run_ok(dir.path(), &["send", &server.url("/audio-webhook"), "--secret", "anything"]);
    drop(server);
    let listed: Value = serde_json::from_str(&run_ok(dir.path(), &["recordings", "--json"])).unwrap();
    assert_eq!(listed[0]["duration_ms"], LENGTH.as_millis() as u64, "{listed}");
    let id = listed[0]["recording_id"].as_str().unwrap().to_string();
    (dir, id)
}

/// Runs `earshot ARGS` with the audio environment; its output and how long it took.
fn timed(data: &Path, args: &[&str]) -> (Output, Duration) {
    let started = Instant::now();
    let output = earshot_audio(data).args(args).output().expect("run earshot");
    (output, started.elapsed())
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The null sink's line in `earshot devices`: (id, name, marked default).
fn null_sink(data: &Path) -> (String, String, bool) {
    let (output, _) = timed(data, &["devices"]);
    let listed = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "earshot devices failed: {}{listed}", stderr(&output));
    let line = listed
        .lines()
        .find(|l| l.split('\t').next().is_some_and(|id| id.contains("nullsink")))
        .unwrap_or_else(|| panic!("no null sink in `earshot devices`:\n{listed}"));
    let (id, rest) = line.split_once('\t').unwrap();
    let name = rest.trim_end_matches("  (default)");
    (id.to_string(), name.to_string(), rest.ends_with("(default)"))
}

#[test]
fn devices_lists_the_null_sink_as_the_default() {
    if !audio_required() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let (id, name, is_default) = null_sink(dir.path());
    assert!(id.starts_with("pulseaudio:"), "the null sink through cpal's PulseAudio host: {id}");
    assert!(!name.is_empty());
    assert!(is_default, "{id} is the server's default sink");
}

#[test]
fn play_prints_its_progress_and_takes_the_recordings_length() {
    if !audio_required() {
        return;
    }
    let (dir, id) = one_recording();
    let (output, took) = timed(dir.path(), &["play", &id]);
    let text = stderr(&output);
    assert!(output.status.success(), "earshot play failed: {text}");
    assert!(text.contains(&format!("playing {id} on pulseaudio:nullsink")), "{text}");
    // The progress line is rewritten in place (`\r`); it ends at the recording's length.
    let progress: Vec<&str> =
        text.split('\r').skip(1).filter_map(|p| p.find(" s").map(|end| p[..end + 2].trim())).collect();
    assert!(progress.len() > 10, "a progress line many times a second: {text:?}");
    assert_eq!(progress.last(), Some(&"2.50 / 2.50 s"), "{text:?}");
    assert!(took >= LENGTH - Duration::from_millis(100), "2.5 s played in {took:?}: not paced in real time");
    assert!(took <= LENGTH + START_ALLOWANCE, "2.5 s played in {took:?}");
}

#[test]
fn play_chooses_the_device_by_id_by_exact_name_and_by_part_of_either() {
    if !audio_required() {
        return;
    }
    let (dir, id) = one_recording();
    let (sink, name, _) = null_sink(dir.path());
    let part = sink.rsplit(':').next().unwrap().to_uppercase();
    for wanted in [sink.as_str(), name.as_str(), part.as_str()] {
        let (output, _) = timed(dir.path(), &["play", &id, "--device", wanted, "--speed", "2"]);
        let text = stderr(&output);
        assert!(output.status.success(), "--device {wanted:?}: {text}");
        assert!(text.contains(&format!("on {sink} (")), "--device {wanted:?} played elsewhere: {text}");
    }
}

#[test]
fn play_on_an_unknown_device_names_it_and_points_at_earshot_devices() {
    if !audio_required() {
        return;
    }
    let (dir, id) = one_recording();
    let (output, took) = timed(dir.path(), &["play", &id, "--device", "no-such-output"]);
    let text = stderr(&output);
    assert!(!output.status.success(), "{text}");
    assert!(
        text.contains(r#"error: no output device matches "no-such-output"; `earshot devices` lists them"#),
        "{text}"
    );
    assert!(took < Duration::from_secs(10), "gave up after {took:?}");
}

/// The no-device error, with PulseAudio pointed at nothing (ALSA's `default` is its plugin
/// here, so that fails too); it needs the with-audio setup to know what ALSA routes to.
#[test]
fn play_with_no_sound_server_fails_with_the_no_device_error() {
    if !audio_required() {
        return;
    }
    let (dir, id) = one_recording();
    let started = Instant::now();
    let output = earshot(dir.path())
        .args(["play", &id])
        .env("PULSE_SERVER", format!("unix:{NOWHERE}/native"))
        .env("PULSE_RUNTIME_PATH", NOWHERE)
        .env("XDG_RUNTIME_DIR", NOWHERE)
        .env_remove("PULSE_COOKIE")
        .output()
        .expect("run earshot");
    let text = stderr(&output);
    assert!(!output.status.success(), "played with no sound server: {text}");
    assert!(text.contains("error: no audio output device is available (is a sound server running?)"), "{text}");
    assert!(!text.contains("playing "), "claimed to play: {text}");
    assert!(started.elapsed() < Duration::from_secs(10), "gave up after {:?}", started.elapsed());
}
