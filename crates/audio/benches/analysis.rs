//! Review benchmark (prints a table; not a test): a 30 s 8 kHz μ-law
//! recording, as watsonx sends them, through each review computation, beside
//! the plain decode measured in the same run.
//!
//! - decode to PCM16 (the G.711 table): the baseline every other row includes;
//! - `analyze`: levels, EBU R128 loudness, clipping, VAD silences (goal < 5 ms);
//! - `spectrogram` for a 600 px wide, 128-row view (goal < 20 ms);
//! - `stretch` at 0.75× with the pitch kept, and `tape` beside it (goal ≥ 100× real time).
//!
//! `cargo bench -p earshot-audio --bench analysis` (or `make bench`). The audio is synthetic
//! speech-like sound: a voice's harmonics on a gliding pitch, in syllables, with pauses.

use std::time::{Duration, Instant};

use earshot_audio::{self as audio, mulaw};

const SECONDS: f64 = 30.0;
const RATE: f64 = 8000.0;
const RUNS: usize = 21;

/// Harmonics of a 110–190 Hz glide, 4 syllables a second, a pause every 3 s.
fn recording() -> Vec<u8> {
    let mut phase = 0.0f64;
    (0..(SECONDS * RATE) as usize)
        .map(|i| {
            let t = i as f64 / RATE;
            let f0 = 150.0 + 40.0 * (t * 0.7).sin();
            phase += std::f64::consts::TAU * f0 / RATE;
            let voice: f64 = (1..=12).map(|h| (phase * h as f64).sin() / h as f64).sum();
            let syllable = (t * 4.0 * std::f64::consts::PI).sin().abs();
            let pause = if t % 3.0 > 2.4 { 0.0 } else { 1.0 };
            mulaw::encode((voice * syllable * pause * 6000.0) as i16)
        })
        .collect()
}

/// The best of `RUNS` runs (other builds share these cores; the best is the least disturbed).
fn best(mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[0]
}

fn row(name: &str, took: Duration, goal: &str) {
    let x = SECONDS / took.as_secs_f64();
    println!("| {name} | {:.2} | {x:.0}× | {goal} |", took.as_secs_f64() * 1000.0);
}

fn main() {
    let codes = recording();
    let info = audio::describe(&codes, Some("audio/mulaw;rate=8000")).unwrap();
    let samples: Vec<f32> = audio::decode_pcm16(&codes, &info).iter().map(|&s| f32::from(s) / 32768.0).collect();
    println!("| 30 s of 8 kHz μ-law | ms (best of {RUNS}) | × real time | goal |");
    println!("|---|---:|---:|---|");
    row(
        "baseline: decode to PCM16 (μ-law table)",
        best(|| {
            std::hint::black_box(audio::decode_pcm16(&codes, &info));
        }),
        "",
    );
    row(
        "analyze: peak, RMS, LUFS, clipping, VAD silences and speech ratio",
        best(|| {
            std::hint::black_box(audio::analyze(&codes, &info));
        }),
        "< 5 ms",
    );
    row(
        "spectrogram 600 × 128 (256-point FFT per column)",
        best(|| {
            std::hint::black_box(audio::spectrogram(&codes, &info, 600, 128));
        }),
        "< 20 ms",
    );
    row(
        "stretch to 0.75×, pitch kept (WSOLA), from decoded samples",
        best(|| {
            std::hint::black_box(audio::stretch(&samples, 8000, 0.75));
        }),
        "≥ 100× real time",
    );
    row(
        "tape to 0.75× (sinc resampler), from decoded samples",
        best(|| {
            std::hint::black_box(audio::tape(&samples, 8000, 0.75));
        }),
        "",
    );
    let analysis = audio::analyze(&codes, &info);
    println!(
        "\n(the recording: speech ratio {:.2}, {:.1} LUFS, leading silence {} ms)",
        analysis.speech_ratio,
        analysis.lufs.unwrap_or(f64::NAN),
        analysis.leading_silence_ms
    );
}
