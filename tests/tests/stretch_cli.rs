//! `earshot export --speed [--tape]` and `earshot play --speed [--tape]` end
//! to end: a 440 Hz μ-law tone made by sox goes in through the webhook
//! (`earshot send --audio`), comes out slowed or sped up as a PCM16 WAV, and
//! is measured by others — its length by `sox --i`, its samples read by hound,
//! its pitch by a DFT in the test. A missing sox skips (`SKIPPED: …`), and
//! fails under `EARSHOT_STRICT`.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use earshot_tests::{Server, earshot, read_wav_i16, run, run_ok, skip};
use serde_json::Value;
use tempfile::TempDir;

/// The tone's length.
const SECONDS: f64 = 2.0;

fn have_sox() -> bool {
    let found = Command::new("sox").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        skip("sox is not installed (scripts/setup.sh installs it)");
    }
    found
}

fn sox(args: &[&str]) -> String {
    let output = Command::new("sox").args(args).output().expect("run sox");
    assert!(output.status.success(), "sox {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A data dir holding one recording: 2 s of 440 Hz at −6 dB, 8 kHz μ-law made by sox and sent
/// through the webhook. Its dir and recording id.
fn a440() -> (TempDir, String) {
    let dir = TempDir::new().unwrap();
    let ul = dir.path().join("a440.ul");
    let ul_arg = ul.to_str().unwrap();
    sox(&[
        "-n",
        "-r",
        "8000",
        "-c",
        "1",
        "-t",
        "ul",
        ul_arg,
        "synth",
        &SECONDS.to_string(),
        "sine",
        "440",
        "gain",
        "-6",
    ]);
    let server = Server::start(dir.path(), &[]);
    run_ok(dir.path(), &["send", &server.url("/audio-webhook"), "--secret", "anything", "--audio", ul_arg]);
    drop(server);
    let listed: Value = serde_json::from_str(&run_ok(dir.path(), &["recordings", "--json"])).unwrap();
    assert_eq!(listed[0]["duration_ms"], 2000, "{listed}");
    let id = listed[0]["recording_id"].as_str().unwrap().to_string();
    (dir, id)
}

/// The strongest frequency between 150 and 1000 Hz in the middle half (a single-bin DFT in
/// 1 Hz steps, then 0.1 Hz around the best).
fn pitch(samples: &[i16], rate: f64) -> f64 {
    let middle = &samples[samples.len() / 4..samples.len() * 3 / 4];
    let magnitude = |freq: f64| {
        let (mut re, mut im) = (0.0, 0.0);
        for (i, &s) in middle.iter().enumerate() {
            let phase = std::f64::consts::TAU * freq * i as f64 / rate;
            re += f64::from(s) * phase.cos();
            im += f64::from(s) * phase.sin();
        }
        re * re + im * im
    };
    let best = |from: f64, to: f64, step: f64| {
        let steps = ((to - from) / step).round() as usize;
        (0..=steps).map(|k| from + k as f64 * step).max_by(|a, b| magnitude(*a).total_cmp(&magnitude(*b))).unwrap()
    };
    let coarse = best(150.0, 1000.0, 1.0);
    best(coarse - 1.0, coarse + 1.0, 0.1)
}

/// `earshot export ID ARGS -o out.wav`: (seconds and rate by `sox --i`, pitch of the samples).
fn export(dir: &Path, id: &str, args: &[&str]) -> (f64, u32, f64) {
    let out = dir.join(format!("out{}.wav", args.join("").replace(['-', '.'], "")));
    let out_arg = out.to_str().unwrap();
    let mut all = vec!["export", id];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", out_arg]);
    let printed = run_ok(dir, &all);
    assert_eq!(printed.trim(), out_arg, "export prints the file it wrote");
    let seconds: f64 = sox(&["--i", "-D", out_arg]).trim().parse().unwrap();
    let rate: u32 = sox(&["--i", "-r", out_arg]).trim().parse().unwrap();
    let samples = read_wav_i16(&std::fs::read(&out).unwrap());
    (seconds, rate, pitch(&samples, f64::from(rate)))
}

#[test]
fn export_at_half_and_double_speed_keeps_the_pitch_and_tape_halves_it() {
    if !have_sox() {
        return;
    }
    let (dir, id) = a440();
    let cases: [(&[&str], f64, f64); 4] = [
        (&["--speed", "0.5"], SECONDS * 2.0, 440.0),
        (&["--speed", "2"], SECONDS / 2.0, 440.0),
        (&["--speed", "0.75"], SECONDS / 0.75, 440.0),
        (&["--speed", "0.5", "--tape"], SECONDS * 2.0, 220.0),
    ];
    for (args, seconds, hz) in cases {
        let (measured_seconds, rate, measured_hz) = export(dir.path(), &id, args);
        assert_eq!(rate, 8000, "{args:?}: the recording's rate");
        assert!((measured_seconds / seconds - 1.0).abs() <= 0.02, "{args:?}: {measured_seconds} s, expected {seconds}");
        assert!((measured_hz - hz).abs() <= 3.0, "{args:?}: {measured_hz:.1} Hz, expected {hz}");
    }
    // Without --speed the export is the recording as it is.
    let (plain_seconds, _, plain_hz) = export(dir.path(), &id, &[]);
    assert!((plain_seconds - SECONDS).abs() < 0.001 && (plain_hz - 440.0).abs() <= 3.0);
}

#[test]
fn a_speed_outside_half_to_double_is_a_clear_error() {
    let dir = TempDir::new().unwrap();
    for command in ["export", "play"] {
        for bad in ["3", "0.25", "fast"] {
            let mut args = vec![command, "any-id", "--speed", bad];
            if command == "export" {
                args.extend(["-o", "x.wav"]);
            }
            let output = run(dir.path(), &args);
            let text = String::from_utf8_lossy(&output.stderr);
            assert!(!output.status.success(), "{command} --speed {bad} was accepted: {text}");
            let expected = if bad == "fast" {
                "\"fast\" is not a number".to_string()
            } else {
                format!("speed {bad} is outside 0.5–2")
            };
            assert!(text.contains(&expected), "{command} --speed {bad}: {text}");
        }
    }
    let output = run(dir.path(), &["export", "any-id", "--tape", "-o", "x.wav"]);
    assert!(!output.status.success(), "--tape without --speed");
    assert!(String::from_utf8_lossy(&output.stderr).contains("--speed"), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn speed_with_a_format_other_than_pcm16_is_refused() {
    if !have_sox() {
        return;
    }
    let (dir, id) = a440();
    let output = run(dir.path(), &["export", &id, "--speed", "0.5", "--format", "mulaw", "-o", "x.wav"]);
    let text = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && text.contains("--speed writes a PCM16 WAV"), "{text}");
    assert!(!dir.path().join("x.wav").exists(), "nothing written");
}

/// `earshot play --speed 2` on the PulseAudio null sink (`scripts/with-audio.sh`) takes half the
/// tone's length and says the pitch is kept; with `--tape`, it says so.
#[test]
fn play_at_double_speed_takes_half_as_long() {
    if std::env::var_os("EARSHOT_AUDIO_TEST").is_none() {
        skip("no sound server to play on: scripts/with-audio.sh starts one and sets EARSHOT_AUDIO_TEST=1");
        return;
    }
    if !have_sox() {
        return;
    }
    let (dir, id) = a440();
    for (tape, label) in [(false, "at 2×, pitch kept"), (true, "at 2×, tape")] {
        let mut command = earshot(dir.path());
        if std::env::var_os("PULSE_COOKIE").is_none()
            && let Some(config) = std::env::var_os("XDG_CONFIG_HOME")
        {
            let cookie = Path::new(&config).join("pulse/cookie");
            if cookie.exists() {
                command.env("PULSE_COOKIE", cookie);
            }
        }
        command.args(["play", &id, "--speed", "2"]);
        if tape {
            command.arg("--tape");
        }
        let started = Instant::now();
        let output = command.output().expect("run earshot play");
        let took = started.elapsed();
        let text = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{text}");
        assert!(text.contains(label), "{text}");
        assert!(text.contains("2.00 / 2.00 s"), "the progress ends at the recording's length: {text:?}");
        // 1 s of audio; the null sink may hold a new stream up to 2 s (see playback_cli.rs).
        assert!(took >= Duration::from_millis(900), "2 s at 2× played in {took:?}");
        assert!(took <= Duration::from_millis(1000 + 3000), "2 s at 2× played in {took:?}");
    }
}
