//! `earshot report` against the real binary: a listener stores two calls,
//! `earshot review` judges one of them, and the reports are read back — the
//! CSV with the `csv` crate (one row per recording of the call, the verdicts,
//! tags, note and markers as reviewed), the HTML by hand (one player per
//! recording whose embedded WAV is `earshot export`'s PCM16 file byte for
//! byte, PNG pictures of the drawn size, nothing fetched from anywhere). A
//! selection that matches nothing fails by name and writes no file.

use std::collections::HashMap;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use earshot_tests::{Server, run, run_ok};
use serde_json::Value;
use tempfile::TempDir;

const SECRET: &str = "report cli secret";
const NOTE: &str = "said \"no, thanks\", twice,\nthen <b>hung up</b>";

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Recording ids of a call, in time order.
fn ids(data: &Path, session: &str) -> Vec<String> {
    let listed = json(&run_ok(data, &["recordings", "--json", "--session", session]));
    listed.as_array().unwrap().iter().map(|r| r["recording_id"].as_str().unwrap().to_string()).collect()
}

/// A listener stores `judged` (3 recordings) and `other` (2); `judged` is reviewed from the CLI.
fn reviewed(data: &Path) -> (Server, Vec<String>) {
    let server = Server::start(data, &["--secret", SECRET]);
    let url = server.url("/audio-webhook");
    run_ok(data, &["send", &url, "--secret", SECRET, "--session", "judged", "--count", "3"]);
    run_ok(data, &["send", &url, "--secret", SECRET, "--session", "other", "--count", "2"]);
    let judged = ids(data, "judged");
    assert_eq!(judged.len(), 3);
    run_ok(
        data,
        &[
            "review",
            &judged[0],
            "--verdict",
            "fail",
            "--note",
            NOTE,
            "--tag",
            "cut-off",
            "--marker",
            "0.5-1.25=cut off",
        ],
    );
    run_ok(data, &["review", &judged[0], "--marker", "2=click"]);
    run_ok(data, &["review", &judged[1], "--verdict", "pass", "--tag", "clean"]);
    (server, judged)
}

fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    reader
        .records()
        .map(|record| header.iter().cloned().zip(record.unwrap().iter().map(str::to_string)).collect())
        .collect()
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

#[test]
fn a_csv_report_of_a_call_has_one_row_per_recording_with_the_reviews_set_from_the_cli() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    let (_server, judged) = reviewed(&data);
    let out = dir.path().join("judged.csv");
    let printed = json(&run_ok(&data, &["report", "--session", "judged", "-o", out.to_str().unwrap(), "--json"]));
    assert_eq!(printed["recordings"], 3);
    assert_eq!(printed["calls"], 1);
    assert_eq!(printed["format"], "csv", "the format follows the extension");
    assert_eq!(printed["bytes"], std::fs::metadata(&out).unwrap().len());

    let rows = read_csv(&out);
    let reported: Vec<&str> = rows.iter().map(|r| r["recording_id"].as_str()).collect();
    assert_eq!(reported, judged, "one row per recording of the call, in time order");
    assert!(rows.iter().all(|r| r["session_id"] == "judged"));
    let failed = &rows[0];
    assert_eq!(
        (failed["verdict"].as_str(), failed["tags"].as_str(), failed["markers"].as_str()),
        ("fail", "cut-off", "0.5-1.25=cut off;2=click")
    );
    assert_eq!(failed["note"], NOTE, "comma, quotes, line break and markup survive");
    assert_eq!((rows[1]["verdict"].as_str(), rows[1]["tags"].as_str()), ("pass", "clean"));
    assert_eq!(rows[2]["verdict"], "unreviewed");
    assert!(rows.iter().all(|r| r["peak_dbfs"].parse::<f64>().is_ok() && r["lufs"].parse::<f64>().is_ok()), "{rows:?}");
    assert!(rows.iter().all(|r| r["sha256"].len() == 64));

    let by_verdict = dir.path().join("passed.report");
    run_ok(&data, &["report", "--verdict", "pass", "--format", "csv", "-o", by_verdict.to_str().unwrap()]);
    let rows = read_csv(&by_verdict);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["recording_id"], judged[1]);
    let everything = dir.path().join("all.csv");
    run_ok(&data, &["report", "--all", "-o", everything.to_str().unwrap()]);
    assert_eq!(read_csv(&everything).len(), 5);
}

#[test]
fn an_html_report_plays_each_recording_as_its_pcm16_export_and_is_self_contained() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    let (_server, judged) = reviewed(&data);
    let out = dir.path().join("judged.html");
    let said = run_ok(&data, &["report", "--session", "judged", "-o", out.to_str().unwrap()]);
    assert!(said.contains("3 recordings of 1 call"), "{said}");
    let html = std::fs::read_to_string(&out).unwrap();

    assert_eq!(html.matches("<audio").count(), 3, "one player per recording");
    let wavs = data_uris(&html, "audio/wav");
    assert_eq!(wavs.len(), 3);
    for (wav, id) in wavs.iter().zip(&judged) {
        let exported = dir.path().join(format!("{id}.wav"));
        run_ok(&data, &["export", id, "--format", "pcm16", "-o", exported.to_str().unwrap()]);
        assert!(*wav == std::fs::read(&exported).unwrap(), "{id}: the embedded WAV is earshot export's PCM16 file");
    }
    for (n, picture) in data_uris(&html, "image/png").iter().enumerate() {
        let reader = png::Decoder::new(std::io::Cursor::new(picture)).read_info().unwrap();
        let expected = if n % 2 == 0 { (600, 80) } else { (600, 128) };
        assert_eq!((reader.info().width, reader.info().height), expected, "picture {n}");
    }
    assert_eq!(data_uris(&html, "image/png").len(), 6, "a waveform and a spectrogram per recording");
    assert!(!html.contains("http://") && !html.contains("https://"), "nothing to fetch");
    assert!(!html.contains("<b>hung up</b>") && html.contains("&lt;b&gt;hung up&lt;/b&gt;"), "the note is text");
    assert!(html.contains("3 recordings · 2 of 3 reviewed"), "the call's summary counts the two judged");
}

#[test]
fn a_selection_matching_nothing_fails_by_name_and_writes_no_file() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    let (_server, _) = reviewed(&data);
    let out = dir.path().join("nothing.html");
    let output = run(&data, &["report", "--tag", "never-used", "-o", out.to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no recordings match tag \"never-used\"; nothing was written"), "{stderr}");
    assert!(!out.exists());
    let output = run(&data, &["report", "--session", "judged", "--verdict", "follow-up", "-o", out.to_str().unwrap()]);
    assert!(!output.status.success(), "selectors combine: judged has no follow-up");
    assert!(!out.exists());

    let output = run(&data, &["report", "-o", out.to_str().unwrap()]);
    assert!(!output.status.success(), "no selection is refused rather than reporting everything");
    let output = run(&data, &["report", "--all", "-o", dir.path().join("report.txt").to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && stderr.contains("give --format csv|html"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, ["data"], "no report or partial file written");
}
