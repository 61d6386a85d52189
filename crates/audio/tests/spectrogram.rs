//! `spectrogram` on audio made by sox and espeak-ng: a 1 kHz tone lights the
//! 1 kHz row, and every level of a speech spectrogram matches numpy's FFT of
//! the same frames (the same framing, Hann window and dB mapping, computed
//! independently).

mod common;

use common::{arg, have, mulaw, python_run, sox_decode, speech, tone};
use earshot_audio::spectrogram;
use tempfile::TempDir;

#[test]
fn a_1khz_tone_is_brightest_on_the_1khz_row() {
    if !have(&["sox"]) {
        return;
    }
    let dir = TempDir::new().unwrap();
    let source = tone(dir.path(), "tone", 3.0, 1000.0, -6.0);
    let (_, codes, info) = mulaw(dir.path(), &source, "tone", &[]);
    for height in [128usize, 100, 300] {
        let spec = spectrogram(&codes, &info, 600, height);
        assert_eq!(spec.max_hz, 4000);
        // Row r (from the top) spans (height − 1 − r … height − r) × 4000 / height Hz.
        let expected = height as f64 - 1000.0 / 4000.0 * height as f64;
        for column in [0usize, 300, 599] {
            let brightest = (0..height).max_by_key(|&row| spec.levels[row * 600 + column]).unwrap();
            assert!(
                (brightest as f64 - expected).abs() <= 1.0,
                "height {height}, column {column}: brightest row {brightest}, 1 kHz is row {expected}"
            );
        }
    }
}

#[test]
fn levels_match_numpy_for_speech() {
    if !have(&["sox", "espeak-ng", "python"]) {
        return;
    }
    let dir = TempDir::new().unwrap();
    let sentence = speech(dir.path(), "Please hold while I transfer your call to an agent.");
    let (ul, codes, info) = mulaw(dir.path(), &sentence, "speech", &[]);
    let (width, height) = (200usize, 128usize);
    let spec = spectrogram(&codes, &info, width, height);
    // With 128 rows, row 127 − k is FFT bin k (the top row also takes Nyquist, bin 128).
    let code = r#"
import sys, wave, numpy
w = wave.open(sys.argv[1]); width = int(sys.argv[2])
x = numpy.frombuffer(w.readframes(w.getnframes()), dtype='<i2').astype(numpy.float64) / 32768.0
n = 256; win = 0.5 - 0.5 * numpy.cos(2 * numpy.pi * numpy.arange(n) / n)
cols = []
for c in range(width):
    centre = int((c + 0.5) * len(x) / width); start = centre - n // 2
    frame = numpy.zeros(n)
    lo, hi = max(start, 0), min(start + n, len(x))
    frame[lo - start:hi - start] = x[lo:hi]
    cols.append(numpy.abs(numpy.fft.rfft(frame * win)) ** 2)
p = numpy.array(cols)[:, :127]
db = 10 * numpy.log10(numpy.maximum(p, 1e-30)); top = db.max()
levels = numpy.clip(numpy.round((db - (top - 80)) / 80 * 255), 0, 255).astype(int)
print(' '.join(str(v) for v in levels.flatten()))
"#;
    let reference: Vec<i32> = python_run(code, &[arg(&sox_decode(dir.path(), &ul)), &width.to_string()])
        .split_whitespace()
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(reference.len(), width * 127);
    let mut worst = 0;
    for column in 0..width {
        for bin in 0..127 {
            let ours = i32::from(spec.levels[(height - 1 - bin) * width + column]);
            let theirs = reference[column * 127 + bin];
            worst = worst.max((ours - theirs).abs());
        }
    }
    // One level is 80/255 ≈ 0.31 dB; f32 against f64 rounds a few across a step.
    assert!(worst <= 1, "a level differs from numpy's by {worst}");
    assert!(spec.levels.iter().filter(|&&l| l > 128).count() > 500, "speech lights the picture");
}
