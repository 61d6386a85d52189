//! Shared by the reference tests: audio made at test time with `sox` and
//! `espeak-ng`, converted to 8 kHz μ-law by sox, and the independent meters
//! (sox's `stats`, Python's pyloudnorm and numpy from the venv
//! `scripts/setup.sh` makes). A missing tool skips the test with `SKIPPED: …`,
//! and fails it under `EARSHOT_STRICT` (`make test`).

// Each test binary includes this module and uses only part of it.
#![allow(dead_code)]
use std::path::{Path, PathBuf};
use std::process::Command;

use earshot_audio::{AudioInfo, describe};

/// Ends a test that cannot run its real part here; a failure under `EARSHOT_STRICT`.
pub fn skip(reason: &str) {
    assert!(
        std::env::var_os("EARSHOT_STRICT").is_none(),
        "{reason}, and EARSHOT_STRICT is set (make test): this test must run, not skip"
    );
    eprintln!("SKIPPED: {reason}");
}

/// Whether every tool answers; skips (or fails, strictly) naming the first that does not.
pub fn have(tools: &[&str]) -> bool {
    for tool in tools {
        let found = match *tool {
            "python" => python().is_some(),
            name => Command::new(name).arg("--version").output().is_ok_and(|o| o.status.success()),
        };
        if !found {
            skip(&format!("{tool} is not installed (scripts/setup.sh installs it)"));
            return false;
        }
    }
    true
}

/// The venv's Python with pyloudnorm and numpy: `$EARSHOT_PYTHON`, or where
/// `scripts/setup.sh` puts it (`${XDG_CACHE_HOME:-~/.cache}/earshot/venv`).
pub fn python() -> Option<PathBuf> {
    let python = std::env::var_os("EARSHOT_PYTHON").map(PathBuf::from).or_else(|| {
        let cache = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))?;
        Some(cache.join("earshot/venv/bin/python"))
    })?;
    let ok = Command::new(&python).args(["-c", "import pyloudnorm, numpy"]).output().is_ok_and(|o| o.status.success());
    ok.then_some(python)
}

/// Runs a command, panicking with its stderr unless it succeeds; its stdout and stderr.
pub fn run(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> (String, String) {
    let program = program.as_ref();
    let output = Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program:?}: {e}"));
    let (out, err) =
        (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned());
    assert!(output.status.success(), "{program:?} {args:?} failed: {err}");
    (out, err)
}

/// `path` as a string for command lines.
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

/// Speech from espeak-ng with its own leading and trailing silence trimmed off by sox, as a
/// 16-bit WAV at espeak's rate: the speech edges are where sox's `silence` effect says.
pub fn speech(dir: &Path, text: &str) -> PathBuf {
    let raw = dir.join("espeak.wav");
    run("espeak-ng", &["-w", arg(&raw), text]);
    let trimmed = dir.join("speech.wav");
    run(
        "sox",
        &[
            arg(&raw),
            arg(&trimmed),
            "silence",
            "1",
            "0.01",
            "0.1%",
            "reverse",
            "silence",
            "1",
            "0.01",
            "0.1%",
            "reverse",
        ],
    );
    trimmed
}

/// `input` converted by sox to headerless 8 kHz mono μ-law (no dither, so silence stays
/// digital silence), after the sox `effects`; the codes and their description.
pub fn mulaw(dir: &Path, input: &Path, name: &str, effects: &[&str]) -> (PathBuf, Vec<u8>, AudioInfo) {
    let out = dir.join(format!("{name}.ul"));
    let mut args = vec!["-D", arg(input), "-r", "8000", "-c", "1", "-t", "ul", arg(&out)];
    args.extend_from_slice(effects);
    run("sox", &args);
    let codes = std::fs::read(&out).unwrap();
    let info = describe(&codes, Some("audio/mulaw;rate=8000")).unwrap();
    (out, codes, info)
}

/// Headerless μ-law decoded by sox to a 16-bit WAV (for the Python meters).
pub fn sox_decode(dir: &Path, ul: &Path) -> PathBuf {
    let out = ul.with_extension("decoded.wav");
    let _ = dir;
    run("sox", &["-t", "ul", "-r", "8000", "-c", "1", arg(ul), "-e", "signed", "-b", "16", arg(&out)]);
    out
}

/// A tone made by sox: `synth SECONDS sine FREQ` at `gain_db` (negative), 8 kHz.
pub fn tone(dir: &Path, name: &str, seconds: f64, freq: f64, gain_db: f64) -> PathBuf {
    let out = dir.join(format!("{name}.wav"));
    run(
        "sox",
        &[
            "-n",
            "-r",
            "8000",
            "-c",
            "1",
            "-b",
            "16",
            arg(&out),
            "synth",
            &seconds.to_string(),
            "sine",
            &freq.to_string(),
            "gain",
            &gain_db.to_string(),
        ],
    );
    out
}

/// Runs Python code with `args` in the venv; its stdout.
pub fn python_run(code: &str, args: &[&str]) -> String {
    let python = python().expect("checked with have()");
    let mut all = vec!["-c", code];
    all.extend_from_slice(args);
    run(python, &all).0
}

/// The frequency with the most energy between `lo` and `hi` Hz (a single-bin DFT scanned in
/// 1 Hz steps, then 0.05 Hz around the best).
pub fn peak_hz(samples: &[f32], rate: f64, lo: f64, hi: f64) -> f64 {
    let magnitude = |freq: f64| {
        let (mut re, mut im) = (0.0, 0.0);
        for (i, &s) in samples.iter().enumerate() {
            let phase = std::f64::consts::TAU * freq * i as f64 / rate;
            re += s as f64 * phase.cos();
            im += s as f64 * phase.sin();
        }
        re * re + im * im
    };
    let best = |from: f64, to: f64, step: f64| {
        let steps = ((to - from) / step).round() as usize;
        (0..=steps).map(|k| from + k as f64 * step).max_by(|a, b| magnitude(*a).total_cmp(&magnitude(*b))).unwrap()
    };
    let coarse = best(lo, hi, 1.0);
    best(coarse - 1.0, coarse + 1.0, 0.05)
}
