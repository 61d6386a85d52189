//! Review reports over a real store: recordings delivered through the
//! intake, reviewed through the writer (`Job::Review`), then reported. The
//! CSV is read back with the `csv` crate, the HTML is taken apart by hand:
//! one player per recording whose embedded WAV is the PCM16 export byte for
//! byte, pictures that decode as PNGs of the drawn size, escaped text, and
//! nothing fetched from anywhere.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{TimeZone, Utc};
use common::Fixture;
use earshot_audio::Flag;
use earshot_core::export::{self, Format};
use earshot_core::report::{self, ReportError, ReportFormat, ReportSummary};
use earshot_core::sample::{self, CallIds, Packaging};
use earshot_core::{AuthMode, Committed, Job, Marker, ReviewChange, ReviewFilter, Verdict};
use tempfile::TempDir;
use tower::ServiceExt;

/// A note a spreadsheet's naive split would break: comma, quotes, a line break.
const AWKWARD_NOTE: &str = "caller said \"no, thanks\", twice,\nthen hung up";

async fn deliver(f: &Fixture, session: &str, recording: &str, codes: &[u8]) {
    let ids = CallIds {
        assistant_id: "assistant-1".into(),
        environment_id: "env-1".into(),
        session_id: session.into(),
        recording_id: recording.into(),
    };
    let stopped = Utc.with_ymd_and_hms(2026, 11, 26, 11, 59, 0).unwrap();
    let duration_ms = codes.len() as u64 / 8;
    let delivery = sample::delivery(&ids, codes, Packaging::Raw, duration_ms, stopped, "ReportBoundary");
    let request = Request::post("/audio-webhook")
        .header("content-type", delivery.content_type)
        .body(Body::from(delivery.body))
        .unwrap();
    let response = earshot_core::router(f.intake.clone()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

async fn review(f: &Fixture, recording: &str, change: ReviewChange) {
    let row = f.store.find_recording(recording, None).unwrap().row;
    let job = Job::Review { row, change, now: "2026-11-26T12:00:00.000Z".into() };
    let answer = f.store.writer().unwrap().submit(job, Instant::now()).await.unwrap();
    assert!(matches!(answer, Committed::Reviewed(_)), "{answer:?}");
}

/// Call A: three utterances (fail with the awkward note and two markers, pass, unreviewed);
/// call B: one follow-up tagged like A's fail, and one of digital silence.
async fn reviewed_store() -> Fixture {
    let f = common::fixture(AuthMode::Off, "", 4 << 20);
    deliver(&f, "call-a", "a-1", &sample::utterance(1.0)).await;
    deliver(&f, "call-a", "a-2", &sample::utterance(1.5)).await;
    deliver(&f, "call-a", "a-3", &sample::utterance(0.5)).await;
    deliver(&f, "call-b", "b-1", &sample::utterance(2.0)).await;
    // μ-law 0xFF is zero: digital silence.
    deliver(&f, "call-b", "b-silent", &[0xFF; 8000]).await;
    let fail = ReviewChange {
        verdict: Some(Verdict::Fail),
        note: Some(AWKWARD_NOTE.into()),
        add_tags: vec!["cut-off".into(), "noise".into()],
        add_markers: vec![Marker::parse("0.25-0.5=cut off").unwrap(), Marker::parse("0.75=click; loud").unwrap()],
        ..Default::default()
    };
    review(&f, "a-1", fail).await;
    review(&f, "a-2", ReviewChange { verdict: Some(Verdict::Pass), ..Default::default() }).await;
    let follow = ReviewChange {
        verdict: Some(Verdict::FollowUp),
        add_tags: vec!["noise".into()],
        note: Some("<script>alert('owned')</script> & more".into()),
        ..Default::default()
    };
    review(&f, "b-1", follow).await;
    f
}

/// Runs the blocking report off the test's runtime.
async fn write(
    f: &Fixture,
    filter: ReviewFilter,
    format: ReportFormat,
    out: &Path,
) -> Result<ReportSummary, ReportError> {
    let (store, out) = (f.store.clone(), out.to_path_buf());
    tokio::task::spawn_blocking(move || report::write(&store, &filter, format, &out, &|_, _| {})).await.unwrap()
}

fn session(id: &str) -> ReviewFilter {
    ReviewFilter { session: Some(id.into()), ..Default::default() }
}

/// The CSV's rows as column → value maps.
fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    reader
        .records()
        .map(|record| header.iter().cloned().zip(record.unwrap().iter().map(str::to_string)).collect())
        .collect()
}

fn ids(rows: &[HashMap<String, String>]) -> Vec<&str> {
    rows.iter().map(|r| r["recording_id"].as_str()).collect()
}

#[tokio::test]
async fn the_csv_has_one_row_per_recording_of_the_call_with_its_review_and_levels() {
    let f = reviewed_store().await;
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("call-a.csv");
    let summary = write(&f, session("call-a"), ReportFormat::Csv, &out).await.unwrap();
    assert_eq!(summary, ReportSummary { recordings: 3, calls: 1, bytes: std::fs::metadata(&out).unwrap().len() });

    let rows = read_csv(&out);
    assert_eq!(ids(&rows), ["a-1", "a-2", "a-3"], "one row per recording, in time order");
    let failed = &rows[0];
    assert_eq!(failed["session_id"], "call-a");
    assert_eq!(failed["verdict"], "fail");
    assert_eq!(failed["tags"], "cut-off;noise");
    assert_eq!(failed["note"], AWKWARD_NOTE, "comma, quotes and line break survive the quoting");
    assert_eq!(failed["markers"], "0.25-0.5=cut off;0.75=click; loud");
    assert_eq!(failed["reviewed_at"], "2026-11-26T12:00:00.000Z");
    assert_eq!(failed["duration_ms"], "1000");
    assert_eq!(failed["expected_duration_ms"], "1000");
    let stored = f.store.find_recording("a-1", None).unwrap();
    assert_eq!(failed["sha256"], stored.sha256);
    let peak: f64 = failed["peak_dbfs"].parse().unwrap();
    assert!((-20.0..=0.0).contains(&peak), "the utterance's peak is a level in dBFS: {peak}");
    assert!(failed["speech_ratio"].parse::<f64>().unwrap() > 0.3, "{failed:?}");
    assert_eq!((rows[1]["verdict"].as_str(), rows[2]["verdict"].as_str()), ("pass", "unreviewed"));
    assert_eq!((rows[2]["note"].as_str(), rows[2]["tags"].as_str(), rows[2]["reviewed_at"].as_str()), ("", "", ""));
}

#[tokio::test]
async fn selections_by_verdict_tag_flag_and_everything_pick_exactly_their_recordings() {
    let f = reviewed_store().await;
    let dir = TempDir::new().unwrap();
    let cases = [
        (ReviewFilter { verdict: Some(Verdict::Fail), ..Default::default() }, vec!["a-1"]),
        (ReviewFilter { verdict: Some(Verdict::Unreviewed), ..Default::default() }, vec!["a-3", "b-silent"]),
        (ReviewFilter { tag: Some("NOISE".into()), ..Default::default() }, vec!["a-1", "b-1"]),
        (ReviewFilter { tag: Some("noise".into()), session: Some("call-b".into()), ..Default::default() }, vec!["b-1"]),
        // No analysis stored yet: the report measures before choosing by a flag.
        (ReviewFilter { flag: Some(Flag::Silent), ..Default::default() }, vec!["b-silent"]),
        (ReviewFilter::default(), vec!["a-1", "a-2", "a-3", "b-1", "b-silent"]),
    ];
    for (n, (filter, expected)) in cases.into_iter().enumerate() {
        let out = dir.path().join(format!("{n}.csv"));
        let summary = write(&f, filter.clone(), ReportFormat::Csv, &out).await.unwrap();
        let rows = read_csv(&out);
        assert_eq!(ids(&rows), expected, "{filter:?}");
        assert_eq!(summary.recordings, expected.len() as u64);
    }
    let silent = read_csv(&dir.path().join("4.csv"));
    assert_eq!((silent[0]["flags"].as_str(), silent[0]["peak_dbfs"].as_str()), ("silent", ""), "−∞ is left empty");
}

/// Every `src="data:MIME;base64,…"` in the page, decoded.
fn data_uris(html: &str, mime: &str) -> Vec<Vec<u8>> {
    let prefix = format!("src=\"data:{mime};base64,");
    html.match_indices(&prefix)
        .map(|(at, _)| {
            let rest = &html[at + prefix.len()..];
            STANDARD.decode(&rest[..rest.find('"').unwrap()]).unwrap()
        })
        .collect()
}

#[tokio::test]
async fn the_html_plays_each_recording_as_its_pcm16_export() {
    let f = reviewed_store().await;
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("all.html");
    let summary = write(&f, ReviewFilter::default(), ReportFormat::Html, &out).await.unwrap();
    assert_eq!((summary.recordings, summary.calls), (5, 2));
    let html = std::fs::read_to_string(&out).unwrap();

    assert_eq!(html.matches("<audio").count(), 5, "one player per recording");
    let wavs = data_uris(&html, "audio/wav");
    assert_eq!(wavs.len(), 5, "each player's source is embedded");
    for (wav, id) in wavs.iter().zip(["a-1", "a-2", "a-3", "b-1", "b-silent"]) {
        let recording = f.store.find_recording(id, None).unwrap();
        let exported = dir.path().join(export::file_name(&recording, Format::Pcm16));
        export::export_to(&f.store, &recording, Format::Pcm16, &exported).unwrap();
        assert!(*wav == std::fs::read(&exported).unwrap(), "{id}: the embedded WAV is the PCM16 export");
    }
    assert!(html.contains("2 of 3 reviewed"), "call A's summary counts its reviews");
    assert!(html.contains("<span class=\"badge fail\">1 fail</span>"));
    assert!(html.contains("<span class=\"flag\">silent ×1</span>"), "call B's summary counts its flags");
}

#[tokio::test]
async fn the_html_shows_markup_in_notes_as_text_and_fetches_nothing() {
    let f = reviewed_store().await;
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("b.html");
    write(&f, session("call-b"), ReportFormat::Html, &out).await.unwrap();
    let html = std::fs::read_to_string(&out).unwrap();

    assert!(!html.contains("<script"), "no script element, not even the note's");
    assert!(html.contains("&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt; &amp; more"), "the note shows as text");
    assert!(!html.contains("http://") && !html.contains("https://"), "self-contained: no address to fetch");
    let references = ["src=\"", "href=\"", "url("];
    for reference in references {
        for (at, _) in html.match_indices(reference) {
            let target = &html[at + reference.len()..];
            assert!(target.starts_with("data:"), "only data URIs are referenced: {}", &target[..40.min(target.len())]);
        }
    }
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
}

#[tokio::test]
async fn the_html_pictures_are_pngs_of_the_drawn_size_and_markers_are_drawn_on_them() {
    let f = reviewed_store().await;
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("a.html");
    write(&f, session("call-a"), ReportFormat::Html, &out).await.unwrap();
    let html = std::fs::read_to_string(&out).unwrap();

    let pictures = data_uris(&html, "image/png");
    assert_eq!(pictures.len(), 6, "a waveform and a spectrogram per recording");
    for (n, picture) in pictures.iter().enumerate() {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(picture));
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let frame = reader.next_frame(&mut pixels).unwrap();
        let expected = if n % 2 == 0 { (600, 80) } else { (600, 128) };
        assert_eq!((frame.width, frame.height), expected, "picture {n}");
        let pixel = frame.line_size / frame.width as usize;
        let first = &pixels[..pixel];
        assert!(pixels.chunks_exact(pixel).any(|p| p != first), "picture {n} is not blank");
    }
    // a-1's region 0.25–0.5 s of 1 s and its point at 0.75 s, across both pictures.
    assert!(html.contains("class=\"mark\" style=\"left:25.00%;width:25.00%\" title=\"cut off\""), "{html:.0}");
    assert!(html.contains("class=\"mark point\" style=\"left:75.00%\" title=\"click; loud\""));
    assert!(html.contains("<li>0.25–0.5 s: cut off</li>"));
}

#[tokio::test]
async fn a_selection_matching_nothing_is_refused_and_leaves_the_old_file_alone() {
    let f = reviewed_store().await;
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("report.csv");
    std::fs::write(&out, "an older report").unwrap();
    let filter = ReviewFilter { tag: Some("never-used".into()), ..Default::default() };
    let error = write(&f, filter, ReportFormat::Csv, &out).await.unwrap_err();
    assert!(matches!(error, ReportError::NothingMatched(_)), "{error:?}");
    assert_eq!(error.to_string(), "no recordings match tag \"never-used\"; nothing was written");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "an older report");
    let error = write(&f, session("no-such-call"), ReportFormat::Html, &dir.path().join("x.html")).await.unwrap_err();
    assert!(error.to_string().contains("session no-such-call"), "{error}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["report.csv"], "no new or partial file");
}

#[tokio::test]
async fn a_report_that_cannot_be_written_names_the_file_and_leaves_nothing() {
    let f = reviewed_store().await;
    let dir = TempDir::new().unwrap();
    let out = dir.path().join("missing-folder").join("report.html");
    let error = write(&f, ReviewFilter::default(), ReportFormat::Html, &out).await.unwrap_err();
    assert!(matches!(error, ReportError::Write { .. }), "{error:?}");
    assert!(error.to_string().starts_with(&format!("cannot write {}: ", out.display())), "{error}");
    assert!(!out.exists());
}

#[tokio::test]
async fn progress_counts_every_recording() {
    let f = reviewed_store().await;
    let dir = TempDir::new().unwrap();
    let store = f.store.clone();
    let out = dir.path().join("p.html");
    let seen = tokio::task::spawn_blocking(move || {
        let seen = std::sync::Mutex::new(Vec::new());
        report::write(&store, &ReviewFilter::default(), ReportFormat::Html, &out, &|done, total| {
            seen.lock().unwrap().push((done, total))
        })
        .unwrap();
        seen.into_inner().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(seen, (1..=5).map(|n| (n, 5)).collect::<Vec<_>>());
}
