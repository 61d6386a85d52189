//! `stretch` and `tape` on a 440 Hz tone made by sox and stored as μ-law: the
//! results are written as WAV and measured by others — the length by
//! `sox --i`, the pitch by numpy's FFT (zero-padded to 0.1 Hz bins).

mod common;

use common::{arg, have, mulaw, python_run, run, tone};
use earshot_audio::{decode_pcm16, stretch, tape, wav};
use tempfile::TempDir;

/// (seconds per `sox --i -D`, strongest frequency per numpy) of mono f32 audio written as WAV.
fn measure(dir: &std::path::Path, name: &str, samples: &[f32]) -> (f64, f64) {
    let pcm: Vec<i16> = samples.iter().map(|s| (s * 32767.0).round().clamp(-32768.0, 32767.0) as i16).collect();
    let path = dir.join(format!("{name}.wav"));
    std::fs::write(&path, wav::pcm16_wav(&pcm, 8000, 1)).unwrap();
    let seconds: f64 = run("sox", &["--i", "-D", arg(&path)]).0.trim().parse().unwrap();
    let code = r#"
import sys, wave, numpy
w = wave.open(sys.argv[1])
x = numpy.frombuffer(w.readframes(w.getnframes()), dtype='<i2').astype(numpy.float64)
x = x[len(x) // 4: len(x) * 3 // 4]
x = x * numpy.hanning(len(x))
n = 80000
spectrum = numpy.abs(numpy.fft.rfft(x, n))
print(numpy.argmax(spectrum) * w.getframerate() / n)
"#;
    let hz = python_run(code, &[arg(&path)]).trim().parse().unwrap();
    (seconds, hz)
}

#[test]
fn a_440_hz_tone_keeps_its_pitch_at_half_and_double_speed_and_tape_halves_it() {
    if !have(&["sox", "python"]) {
        return;
    }
    let dir = TempDir::new().unwrap();
    let source = tone(dir.path(), "a440", 2.0, 440.0, -6.0);
    let (_, codes, info) = mulaw(dir.path(), &source, "a440", &[]);
    let samples: Vec<f32> = decode_pcm16(&codes, &info).iter().map(|&s| f32::from(s) / 32768.0).collect();
    let cases = [
        ("stretch 0.5", stretch(&samples, 8000, 0.5), 4.0, 440.0),
        ("stretch 2", stretch(&samples, 8000, 2.0), 1.0, 440.0),
        ("stretch 0.75", stretch(&samples, 8000, 0.75), 2.0 / 0.75, 440.0),
        ("tape 0.5", tape(&samples, 8000, 0.5), 4.0, 220.0),
        ("tape 2", tape(&samples, 8000, 2.0), 1.0, 880.0),
    ];
    for (name, out, seconds, hz) in cases {
        let (measured_seconds, measured_hz) = measure(dir.path(), &name.replace(' ', "_"), &out);
        eprintln!("{name}: {measured_seconds} s, {measured_hz} Hz");
        assert!((measured_seconds / seconds - 1.0).abs() <= 0.02, "{name}: {measured_seconds} s, expected {seconds}");
        assert!((measured_hz - hz).abs() <= 3.0, "{name}: {measured_hz} Hz, expected {hz}");
    }
}
