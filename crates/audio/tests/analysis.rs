//! `analyze` and `flags` against independent references, on audio made at
//! test time: espeak-ng speech and sox tones, converted to 8 kHz μ-law by sox.
//! Levels are checked against `sox … stats`, loudness against pyloudnorm, and
//! the speech edges against digital silence padded on by sox.

mod common;

use common::{have, mulaw, python_run, run, sox_decode, speech, tone};
use earshot_audio::{Flag, analyze, flags};
use tempfile::TempDir;

const SENTENCE: &str = "Hello, I would like to check the balance of my savings account, please.";

/// `sox FILE -n stats`: (peak dB, RMS dB) of the overall column.
fn sox_stats(ul: &std::path::Path) -> (f64, f64) {
    let (_, report) = run("sox", &["-t", "ul", "-r", "8000", "-c", "1", common::arg(ul), "-n", "stats"]);
    let value = |label: &str| -> f64 {
        let line = report.lines().find(|l| l.starts_with(label)).unwrap_or_else(|| panic!("{label} in {report}"));
        line[label.len()..].split_whitespace().next().unwrap().parse().unwrap()
    };
    (value("Pk lev dB"), value("RMS lev dB"))
}

/// pyloudnorm's integrated loudness of a 16-bit WAV (read with Python's `wave`).
fn pyloudnorm(wav: &std::path::Path) -> f64 {
    let code = r#"
import sys, wave, numpy, pyloudnorm
w = wave.open(sys.argv[1])
data = numpy.frombuffer(w.readframes(w.getnframes()), dtype='<i2').astype(numpy.float64) / 32768.0
print(pyloudnorm.Meter(w.getframerate()).integrated_loudness(data))
"#;
    python_run(code, &[common::arg(wav)]).trim().parse().unwrap()
}

#[test]
fn peak_and_rms_match_sox_stats_within_half_a_db() {
    if !have(&["sox", "espeak-ng"]) {
        return;
    }
    let dir = TempDir::new().unwrap();
    let sentence = speech(dir.path(), SENTENCE);
    let quiet = tone(dir.path(), "quiet", 2.0, 700.0, -26.0);
    for (name, source) in [("speech", &sentence), ("quiet tone", &quiet)] {
        let (ul, codes, info) = mulaw(dir.path(), source, name, &[]);
        let analysis = analyze(&codes, &info);
        let (peak, rms) = sox_stats(&ul);
        let (ours_peak, ours_rms) = (analysis.peak_dbfs.unwrap(), analysis.rms_dbfs.unwrap());
        eprintln!("{name}: peak {ours_peak:.2} / sox {peak}, RMS {ours_rms:.2} / sox {rms}");
        assert!((ours_peak - peak).abs() <= 0.5, "{name}: peak {ours_peak:.2} dBFS, sox says {peak}");
        assert!((ours_rms - rms).abs() <= 0.5, "{name}: RMS {ours_rms:.2} dBFS, sox says {rms}");
    }
}

#[test]
fn loudness_matches_pyloudnorm_within_half_an_lu() {
    if !have(&["sox", "espeak-ng", "python"]) {
        return;
    }
    let dir = TempDir::new().unwrap();
    let sentence = speech(dir.path(), SENTENCE);
    let tone = tone(dir.path(), "tone", 3.0, 1000.0, -20.0);
    for (name, source) in [("speech", &sentence), ("1 kHz tone", &tone)] {
        let (ul, codes, info) = mulaw(dir.path(), source, name, &[]);
        let ours = analyze(&codes, &info).lufs.unwrap();
        let reference = pyloudnorm(&sox_decode(dir.path(), &ul));
        eprintln!("{name}: {ours:.2} LUFS, pyloudnorm {reference:.2}");
        assert!((ours - reference).abs() <= 0.5, "{name}: {ours:.2} LUFS, pyloudnorm says {reference:.2}");
    }
}

#[test]
fn speech_padded_with_1_s_and_1_5_s_of_silence_measures_those_silences() {
    if !have(&["sox", "espeak-ng"]) {
        return;
    }
    let dir = TempDir::new().unwrap();
    let sentence = speech(dir.path(), SENTENCE);
    let (_, codes, info) = mulaw(dir.path(), &sentence, "padded", &["pad", "1.0", "1.5"]);
    let analysis = analyze(&codes, &info);
    eprintln!("{analysis:?}");
    assert!(analysis.leading_silence_ms.abs_diff(1000) <= 100, "{analysis:?}");
    assert!(analysis.trailing_silence_ms.abs_diff(1500) <= 100, "{analysis:?}");
    assert!((0.3..0.9).contains(&analysis.speech_ratio), "{analysis:?}");
    assert_eq!(analysis.duration_ms, info.duration_ms);
    assert!(flags(&analysis, Some(info.duration_ms)).is_empty(), "{analysis:?}");
}

#[test]
fn boosted_speech_is_clipped_and_the_plain_one_is_not() {
    if !have(&["sox", "espeak-ng"]) {
        return;
    }
    let dir = TempDir::new().unwrap();
    let sentence = speech(dir.path(), SENTENCE);
    let (_, plain, info) = mulaw(dir.path(), &sentence, "plain", &[]);
    let plain = analyze(&plain, &info);
    assert_eq!(plain.clipped_samples, 0, "{plain:?}");
    let (_, boosted, info) = mulaw(dir.path(), &sentence, "boosted", &["gain", "20"]);
    let boosted = analyze(&boosted, &info);
    assert!(boosted.clipped_samples > 100, "{boosted:?}");
    assert!(flags(&boosted, None).contains(&Flag::Clipped), "{boosted:?}");
}

#[test]
fn digital_silence_is_silent() {
    if !have(&["sox"]) {
        return;
    }
    let dir = TempDir::new().unwrap();
    let silence = dir.path().join("silence.wav");
    run("sox", &["-n", "-r", "8000", "-c", "1", "-b", "16", common::arg(&silence), "trim", "0", "3"]);
    let (_, codes, info) = mulaw(dir.path(), &silence, "silence", &[]);
    let analysis = analyze(&codes, &info);
    assert_eq!(flags(&analysis, Some(3000)), vec![Flag::Silent], "{analysis:?}");
    assert_eq!((analysis.peak_dbfs, analysis.lufs, analysis.speech_ratio), (None, None, 0.0));
}

#[test]
fn three_seconds_of_a_ten_second_span_is_truncated() {
    if !have(&["sox", "espeak-ng"]) {
        return;
    }
    let dir = TempDir::new().unwrap();
    let sentence = speech(dir.path(), SENTENCE);
    let (_, codes, info) = mulaw(dir.path(), &sentence, "three", &["trim", "0", "3"]);
    let analysis = analyze(&codes, &info);
    assert_eq!(analysis.duration_ms, 3000);
    assert_eq!(flags(&analysis, Some(10_000)), vec![Flag::Truncated], "{analysis:?}");
    assert!(flags(&analysis, Some(3200)).is_empty(), "200 ms short is within the allowance");
}

#[test]
fn speech_after_2_5_s_of_silence_starts_late_and_after_1_s_does_not() {
    if !have(&["sox", "espeak-ng"]) {
        return;
    }
    let dir = TempDir::new().unwrap();
    let sentence = speech(dir.path(), SENTENCE);
    let (_, codes, info) = mulaw(dir.path(), &sentence, "late", &["pad", "2.5", "0"]);
    let late = analyze(&codes, &info);
    assert!(late.leading_silence_ms.abs_diff(2500) <= 100, "{late:?}");
    assert_eq!(flags(&late, None), vec![Flag::LateStart], "{late:?}");
    let (_, codes, info) = mulaw(dir.path(), &sentence, "prompt", &["pad", "1.0", "0"]);
    assert!(flags(&analyze(&codes, &info), None).is_empty());
}
