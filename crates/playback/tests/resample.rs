//! Decode + resample: a 1 kHz μ-law tone at 8 kHz through the playback pipeline
//! keeps its frequency and its length at 44.1 and 48 kHz.

mod common;

use earshot_playback::PlayState;
use earshot_playback::pipeline::{CHUNK, Pipeline};

/// Magnitude of `freq` in `samples` (a single-bin DFT).
fn magnitude(samples: &[f32], rate: f64, freq: f64) -> f64 {
    let (mut re, mut im) = (0.0, 0.0);
    for (i, &s) in samples.iter().enumerate() {
        let phase = 2.0 * std::f64::consts::PI * freq * i as f64 / rate;
        re += s as f64 * phase.cos();
        im += s as f64 * phase.sin();
    }
    (re * re + im * im).sqrt()
}

fn resample_all(out_rate: u32) -> Vec<f32> {
    let mut pipeline = Pipeline::new(out_rate, 1);
    pipeline.load(common::tone(1000.0, 1.0)).unwrap();
    pipeline.play().unwrap();
    let mut out = Vec::new();
    let mut block = vec![0.0; 512];
    while pipeline.state() == PlayState::Playing {
        pipeline.fill(&mut block);
        out.extend_from_slice(&block);
        assert!(out.len() < out_rate as usize * 2, "never ended");
    }
    let emitted = pipeline.emitted() as usize;
    out.truncate(emitted);
    out
}

#[test]
fn a_1khz_tone_keeps_its_frequency_and_length() {
    for out_rate in [44_100u32, 48_000] {
        let out = resample_all(out_rate);
        // The documented rule: ceil(frames × out_rate / 8000) frames of audio, then Ended.
        let expected = (8000u64 * out_rate as u64).div_ceil(8000) as usize;
        assert_eq!(out.len(), expected, "{out_rate} Hz: frame count");
        assert!(out.len().abs_diff(out_rate as usize) < CHUNK, "{out_rate} Hz: within one block of 1 s");

        // Peak bin over 100 Hz … 4 kHz in 10 Hz steps, away from the filter's start-up.
        let window = &out[out.len() / 4..out.len() * 3 / 4];
        let peak = (10..=400)
            .map(|k| k as f64 * 10.0)
            .max_by(|a, b| magnitude(window, out_rate as f64, *a).total_cmp(&magnitude(window, out_rate as f64, *b)))
            .unwrap();
        assert_eq!(peak, 1000.0, "{out_rate} Hz: peak bin");
        // And the tone arrives at its level (0.5 full scale, μ-law rounding aside).
        let top = window.iter().fold(0f32, |m, s| m.max(s.abs()));
        assert!((0.45..0.55).contains(&top), "{out_rate} Hz: amplitude {top}");
    }
}

#[test]
fn the_first_output_frame_is_the_first_source_frame() {
    // The resampler's filter delay is dropped after a load, so playback starts on time.
    let out = resample_all(48_000);
    let first_loud = out.iter().position(|s| s.abs() > 0.1).unwrap();
    assert!(first_loud < 12, "the tone starts {first_loud} frames late");
}
