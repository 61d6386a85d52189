//! Call bundles between two real data dirs: every sha256, metadata field,
//! version, token claim, request-log entry and body survives the round trip;
//! importing twice adds nothing; other audio under a known id becomes the
//! next version; and each damaged or hostile bundle is refused with the
//! target database byte for byte unchanged.

use std::io::Write;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use earshot_core::bundle::{self, BundleError, FORMAT, FileEntry, Manifest, Selection};
use earshot_core::{AuthConfig, AuthMode, DB_FILE, Intake, IntakeConfig, Limits, Secret, Store, jwt};
use serde_json::json;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

mod common;

const SECRET: &str = "bundle secret";
const BOUNDARY: &str = "BundleBoundary";

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

struct Earshot {
    dir: TempDir,
    store: Store,
    url: String,
}

async fn earshot() -> Earshot {
    let dir = TempDir::new().unwrap();
    let store = common::open_store(&dir);
    let auth = AuthConfig::new(Some(AuthMode::Observe), Some(Secret::new(SECRET).unwrap())).unwrap();
    let config = IntakeConfig { auth, max_body: 4 << 20, forward: None };
    let intake = Intake::new(config, &store, Arc::new(now), Limits::default()).unwrap();
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/audio-webhook", socket.local_addr().unwrap());
    tokio::spawn(earshot_core::serve(socket, intake, std::future::pending()));
    Earshot { dir, store, url }
}

async fn send(url: &str, session: &str, recording: &str, audio: &[u8], secret: &str) {
    let metadata = json!({
        "assistant_id": "a", "environment_id": "e", "session_id": session, "recording_id": recording,
        "start_timestamp": "2026-11-26T11:59:58.000Z", "stop_timestamp": "2026-11-26T11:59:59.000Z", "extra": [1, 2]
    });
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{metadata}\r\n--{BOUNDARY}\r\n\
         Content-Disposition: form-data; name=\"audio_recording\"; filename=\"{recording}.ul\"\r\n\
         Content-Type: audio/mulaw;rate=8000\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(audio);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let claims = json!({"sub": "user", "iss": "bundle-test", "exp": now().timestamp() + 30});
    let token = jwt::sign_hs256(claims.as_object().unwrap(), secret.as_bytes());
    let reply = reqwest::Client::new()
        .post(url)
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .header("authorization", format!("Bearer {token}"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
}

fn audio(seed: u8) -> Vec<u8> {
    (0..8000u32).map(|i| (i as u8).wrapping_mul(seed | 1).wrapping_add(seed)).collect()
}

/// Everything a user would compare, by recording id and version.
fn fingerprint(store: &Store) -> Vec<serde_json::Value> {
    let mut all: Vec<serde_json::Value> = store
        .recordings(None)
        .unwrap()
        .into_iter()
        .map(|r| {
            let detail = store.recording_detail(r.row).unwrap();
            let request = detail.request_id.map(|id| store.request(id).unwrap());
            let body = detail.request_id.and_then(|id| store.request_body(id).unwrap());
            json!({
                "id": r.recording_id, "version": r.version, "conflict": r.conflict, "sha256": r.sha256,
                "session": r.session_id, "metadata": detail.metadata, "claims": detail.jwt_claims,
                "token": r.auth.verdict, "reason": r.auth.reason,
                "request": request.map(|q| json!([q.method, q.path, q.status, q.outcome, q.headers, q.received_at])),
                "body": body.map(|b| hex::encode(Sha256::digest(b))),
            })
        })
        .collect();
    all.sort_by_key(|v| (v["id"].as_str().unwrap().to_string(), v["version"].as_u64()));
    all
}

common::both! {
    #[tokio::test]
    async fn a_bundle_carries_calls_whole_and_importing_twice_adds_nothing() {
        let source = earshot().await;
        send(&source.url, "call-1", "rec-a", &audio(1), SECRET).await;
        send(&source.url, "call-1", "rec-a", &audio(2), SECRET).await; // version 2
        send(&source.url, "call-1", "rec-b", &audio(3), "not the secret").await; // observed as invalid
        send(&source.url, "call-2", "rec-c", &audio(4), SECRET).await;
        let file = source.dir.path().join("calls.earshot");
        let manifest = bundle::export_to(&source.store, &Selection::default(), &file, now()).unwrap();
        assert_eq!(manifest.calls.len(), 2);
        assert!(manifest.files.iter().all(|f| f.sha256.len() == 64));

        let target = earshot().await;
        let report = bundle::import_from(&target.store, &file).await.unwrap();
        assert_eq!((report.calls, report.added, report.skipped, report.requests), (2, 4, 0, 4));
        assert_eq!(fingerprint(&target.store), fingerprint(&source.store), "every field, version, claim and body");
        let imported = target.store.find_recording("rec-c", None).unwrap();
        assert_eq!(imported.imported_from.as_deref(), Some("calls.earshot"), "marked with where it came from");

        let again = bundle::import_from(&target.store, &file).await.unwrap();
        assert_eq!((again.added, again.skipped, again.requests), (0, 4, 0), "{again:?}");
        assert_eq!(target.store.recordings(None).unwrap().len(), 4);
        assert_eq!(target.store.requests(100).unwrap().len(), 4);

        let one = source.dir.path().join("one.earshot");
        let selection = Selection { sessions: Some(vec!["call-2".into()]), ..Selection::default() };
        let manifest = bundle::export_to(&source.store, &selection, &one, now()).unwrap();
        assert_eq!(manifest.calls.iter().map(|c| c.session_id.as_str()).collect::<Vec<_>>(), vec!["call-2"]);
    }
}

common::both! {
    #[tokio::test]
    async fn other_audio_under_a_known_id_comes_in_as_the_next_version() {
        let source = earshot().await;
        send(&source.url, "call-x", "rec-x", &audio(9), SECRET).await;
        let file = source.dir.path().join("x.earshot");
        bundle::export_to(&source.store, &Selection::default(), &file, now()).unwrap();
        let target = earshot().await;
        send(&target.url, "call-x", "rec-x", &audio(10), SECRET).await;
        let report = bundle::import_from(&target.store, &file).await.unwrap();
        assert_eq!((report.added, report.conflicts, report.conflict_ids.clone()), (1, 1, vec!["rec-x".to_string()]));
        let newest = target.store.find_recording("rec-x", None).unwrap();
        assert_eq!((newest.version, newest.conflict), (2, true));
        assert_eq!(target.store.audio(newest.row).unwrap(), audio(9));
    }
}

// ---------------------------------------------------------------- hostile bundles

/// A zip of `entries`, with a manifest listing `listed` (name, bytes) correctly unless told otherwise.
fn zip_of(entries: &[(&str, Vec<u8>)], manifest: Option<Manifest>) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut files = Vec::new();
    for (name, bytes) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
        files.push(FileEntry {
            path: name.to_string(),
            sha256: hex::encode(Sha256::digest(bytes)),
            size: bytes.len() as u64,
        });
    }
    let manifest = manifest.unwrap_or(Manifest {
        format: FORMAT.into(),
        format_version: bundle::FORMAT_VERSION,
        earshot_version: "0.1.0".into(),
        created_at: "2026-11-26T12:00:00.000Z".into(),
        calls: vec![],
        files,
    });
    zip.start_file("manifest.json", options).unwrap();
    zip.write_all(&serde_json::to_vec(&manifest).unwrap()).unwrap();
    zip.finish().unwrap().into_inner()
}

fn valid_table() -> Vec<u8> {
    br#"{"table":"requests","columns":["id"],"rows":[]}"#.to_vec()
}

#[tokio::test]
async fn damaged_and_hostile_bundles_are_refused_and_the_database_is_untouched() {
    let target = earshot().await;
    send(&target.url, "call-t", "rec-t", &audio(20), SECRET).await;
    let source = earshot().await;
    send(&source.url, "call-s", "rec-s", &audio(21), SECRET).await;
    let good = source.dir.path().join("good.earshot");
    bundle::export_to(&source.store, &Selection::default(), &good, now()).unwrap();
    let good = std::fs::read(&good).unwrap();

    // A real bundle with one byte of one blob changed after writing.
    let mut altered = zip::ZipArchive::new(std::io::Cursor::new(good.clone())).unwrap();
    let mut rewritten = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..altered.len() {
        let mut entry = altered.by_index(i).unwrap();
        let name = entry.name().unwrap().into_owned();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
        if name.starts_with("blobs/recordings/") {
            bytes[100] ^= 0xFF;
        }
        rewritten.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        rewritten.write_all(&bytes).unwrap();
    }
    let wrong_sha = rewritten.finish().unwrap().into_inner();

    let newer = Manifest {
        format: FORMAT.into(),
        format_version: bundle::FORMAT_VERSION + 1,
        earshot_version: "9.0.0".into(),
        created_at: "2030-01-01T00:00:00.000Z".into(),
        calls: vec![],
        files: vec![],
    };
    // Two entries of the same length, then the second renamed to the first in the raw bytes.
    let mut duplicate =
        zip_of(&[("tables/requests.json", valid_table()), ("tables/requestz.json", valid_table())], None);
    let (from, to) = (b"tables/requestz.json".as_slice(), b"tables/requests.json".as_slice());
    while let Some(at) = duplicate.windows(from.len()).position(|w| w == from) {
        duplicate[at..at + from.len()].copy_from_slice(to);
    }
    let bomb = vec![0u8; (bundle::MAX_ENTRY_BYTES + 1024) as usize];

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("wrong sha256", wrong_sha, "sha256"),
        ("truncated zip", good[..good.len() / 2].to_vec(), "not a readable"),
        ("parent path", zip_of(&[("../escape.json", valid_table())], None), "'..'"),
        ("absolute path", zip_of(&[("/etc/escape", valid_table())], None), "absolute"),
        ("drive letter", zip_of(&[("C:/escape", valid_table())], None), "drive"),
        ("backslash", zip_of(&[("tables\\..\\x", valid_table())], None), "backslash"),
        ("zip bomb", zip_of(&[("blobs/recordings/0-audio.bin", bomb)], None), "inflates past"),
        ("newer format", zip_of(&[], Some(newer)), "update Earshot"),
        ("duplicate names", duplicate, "same name"),
        (
            "unlisted file",
            {
                let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
                let o = zip::write::SimpleFileOptions::default();
                z.start_file("tables/requests.json", o).unwrap();
                z.write_all(&valid_table()).unwrap();
                z.start_file("manifest.json", o).unwrap();
                z.write_all(br#"{"format":"earshot-bundle","format_version":1,"earshot_version":"x","created_at":"x","calls":[],"files":[]}"#).unwrap();
                z.finish().unwrap().into_inner()
            },
            "not listed",
        ),
    ];
    let db = target.dir.path().join(DB_FILE);
    let before = std::fs::read(&db).unwrap();
    let recordings_before = fingerprint(&target.store);
    for (what, bytes, expected) in cases {
        let path = target.dir.path().join(format!("{}.earshot", what.replace(' ', "-")));
        std::fs::write(&path, &bytes).unwrap();
        let error = bundle::import_from(&target.store, &path).await.expect_err(what);
        assert!(
            matches!(error, BundleError::NotABundle { .. } | BundleError::Refused { .. } | BundleError::Newer { .. }),
            "{what}: {error:?}"
        );
        assert!(error.to_string().contains(expected), "{what}: {error}");
        assert_eq!(std::fs::read(&db).unwrap(), before, "{what}: the database file is byte for byte unchanged");
    }
    assert_eq!(fingerprint(&target.store), recordings_before);
}

common::both! {
    #[tokio::test]
    async fn a_bundle_that_fails_halfway_adds_none_of_its_rows() {
        let source = earshot().await;
        send(&source.url, "call-h", "rec-h1", &audio(30), SECRET).await;
        send(&source.url, "call-h", "rec-h2", &audio(31), SECRET).await;
        let path = source.dir.path().join("h.earshot");
        bundle::export_to(&source.store, &Selection::default(), &path, now()).unwrap();
        // Every check passes, but the requests table names a column no Earshot has: the recordings
        // table is applied first, and must be undone with the rest.
        let mut archive = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
        let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i).unwrap();
            let name = entry.name().unwrap().into_owned();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
            if name == "tables/requests.json" {
                let mut table: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                table["columns"].as_array_mut().unwrap().push(json!("no_such_column"));
                for row in table["rows"].as_array_mut().unwrap() {
                    row.as_array_mut().unwrap().push(json!(1));
                }
                bytes = table.to_string().into_bytes();
            }
            if name != "manifest.json" {
                entries.push((name, bytes));
            }
        }
        let borrowed: Vec<(&str, Vec<u8>)> = entries.iter().map(|(n, b)| (n.as_str(), b.clone())).collect();
        let broken = source.dir.path().join("broken.earshot");
        std::fs::write(&broken, zip_of(&borrowed, None)).unwrap();

        let target = earshot().await;
        let error = bundle::import_from(&target.store, &broken).await.unwrap_err();
        assert!(error.to_string().contains("nothing was added"), "{error}");
        assert!(target.store.recordings(None).unwrap().is_empty(), "all of the bundle or nothing");
        assert!(target.store.requests(10).unwrap().is_empty());
    }
}
