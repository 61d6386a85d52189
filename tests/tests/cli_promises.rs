//! Promises docs/cli.md makes about the `earshot` command, with real
//! processes: `export ID@VERSION` picks that version of a conflicting resend
//! (the bare id the newest, a missing version a clear error); `--data-dir`
//! is where `serve` writes and the listing commands read, and it wins over
//! `EARSHOT_DATA_DIR`; and `send` builds the documented multipart request
//! with a token that verifies with the secret given.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use chrono::{NaiveDateTime, TimeZone, Utc};
use earshot_audio::mulaw;
use earshot_core::jwt;
use earshot_core::sample::{self, CallIds, Packaging};
use earshot_tests::{Server, earshot, read_wav_i16, run, run_ok};
use serde_json::{Value, json};
use tempfile::TempDir;

const SECRET: &str = "cli promises secret";

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// μ-law codes that differ per `seed` in content and length.
fn codes(seed: usize, len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * (seed * 2 + 3) + seed * 41) % 256) as u8).collect()
}

/// Posts one watsonx-shaped delivery of `audio` as `recording_id` and returns the status.
fn deliver(url: &str, recording_id: &str, audio: &[u8]) -> u16 {
    let ids = CallIds {
        assistant_id: "assistant-versions".into(),
        environment_id: "environment-versions".into(),
        session_id: "session-versions".into(),
        recording_id: recording_id.into(),
    };
    let now = Utc::now();
    let duration_ms = audio.len() as u64 / 8;
    let boundary = "----------0E7C6B2A-55D1-4F0B-8C3E-9A1D2B3C4D5E";
    let delivery = sample::delivery(&ids, audio, Packaging::Raw, duration_ms, now, boundary);
    reqwest::blocking::Client::new()
        .post(url)
        .header("content-type", delivery.content_type)
        .header("authorization", sample::authorization(SECRET.as_bytes(), now))
        .body(delivery.body)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

fn exported_samples(data: &Path, which: &str, out: &Path) -> Vec<i16> {
    let file = out.join(format!("{}.wav", which.replace('@', "_v")));
    run_ok(data, &["export", which, "-o", file.to_str().unwrap()]);
    read_wav_i16(&std::fs::read(&file).unwrap())
}

#[test]
fn export_id_at_version_exports_that_version_and_the_bare_id_the_newest() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, &["--secret", SECRET]);
    let id = "3daeb5d2-7a41-4c55-9d0e-versions0001";
    let sent: Vec<Vec<u8>> = vec![codes(1, 8000), codes(2, 12_000), codes(3, 4000)];
    for audio in &sent {
        assert_eq!(deliver(&server.url("/audio-webhook"), id, audio), 200);
    }
    let recordings = json(&run_ok(&data, &["recordings", "--json"]));
    let versions: Vec<(u64, bool)> = recordings
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["version"].as_u64().unwrap(), r["conflict"].as_bool().unwrap()))
        .collect();
    assert_eq!(versions, [(1, false), (2, true), (3, true)], "three versions, the later two conflicts");

    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let decoded: Vec<Vec<i16>> = sent.iter().map(|codes| mulaw::decode_all(codes)).collect();
    assert!(exported_samples(&data, &format!("{id}@2"), &out) == decoded[1], "ID@2 is the second audio sent");
    assert!(exported_samples(&data, &format!("{id}@3"), &out) == decoded[2], "ID@3 is the third audio sent");
    assert!(exported_samples(&data, id, &out) == decoded[2], "the bare id is the newest version");
    assert!(exported_samples(&data, &format!("{id}@1"), &out) == decoded[0], "ID@1 is the first audio sent");

    let missing = out.join("v4.wav");
    let output = run(&data, &["export", &format!("{id}@4"), "-o", missing.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "there is no version 4");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains(id) && stderr.contains("v4"), "the error names the id and the version: {stderr}");
    assert!(!missing.exists(), "no file is written for a missing version");
}

/// `earshot ARGS…` started in the background, killed on drop.
struct Background(Child);

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `earshot --data-dir FLAG_DIR serve …` with `EARSHOT_DATA_DIR=env_dir`; returns it and its URL.
fn serve_with_flag(env_dir: &Path, flag_dir: &Path) -> (Background, String) {
    let mut child = earshot(env_dir)
        .arg("--data-dir")
        .arg(flag_dir)
        .args(["serve", "--listen", "127.0.0.1:0", "--secret", SECRET])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let server = Background(child);
    let mut line = String::new();
    while std::io::BufRead::read_line(&mut stdout, &mut line).unwrap() > 0 {
        if let Some(url) = line.trim().strip_prefix("listening on ") {
            let url = url.to_string();
            // Keep reading, so the per-request log lines always have somewhere to go.
            std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
            return (server, url);
        }
        line.clear();
    }
    panic!("earshot serve ended without reporting its address");
}

fn recording_ids(data_env: &Path, flag: Option<&Path>) -> Vec<String> {
    let mut command = earshot(data_env);
    if let Some(dir) = flag {
        command.arg("--data-dir").arg(dir);
    }
    let output = command.args(["recordings", "--json"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let list = json(&String::from_utf8_lossy(&output.stdout));
    list.as_array().unwrap().iter().map(|r| r["recording_id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn data_dir_flag_is_where_serve_writes_and_lists_read_and_it_wins_over_the_variable() {
    let dir = TempDir::new().unwrap();
    let flagged: PathBuf = dir.path().join("flagged");
    let from_env: PathBuf = dir.path().join("from-env");
    let elsewhere: PathBuf = dir.path().join("elsewhere");
    let (server, url) = serve_with_flag(&from_env, &flagged);
    assert!(flagged.join("earshot.db").is_file(), "serve writes DIR/earshot.db");
    assert!(!from_env.join("earshot.db").exists(), "the flag wins over EARSHOT_DATA_DIR for serve");

    let sent = run_ok(&from_env, &["send", &format!("{url}/audio-webhook"), "--secret", SECRET]);
    let id = sent.split_whitespace().nth(2).unwrap_or_else(|| panic!("no recording id in {sent:?}")).to_string();
    assert!(sent.starts_with("200 recording "), "{sent}");
    drop(server);

    assert_eq!(recording_ids(&from_env, Some(&flagged)), [id.as_str()], "--data-dir is read, over the variable");
    assert_eq!(recording_ids(&flagged, None), [id.as_str()], "EARSHOT_DATA_DIR is read when there is no flag");
    assert_eq!(recording_ids(&flagged, Some(&elsewhere)), Vec::<String>::new(), "the flag wins for lists too");
    assert!(!from_env.join("earshot.db").exists(), "nothing ever opened the variable's dir while a flag was given");
}

/// One HTTP request as it arrived: request line and headers, then the body.
struct Captured {
    head: String,
    body: Vec<u8>,
}

impl Captured {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Accepts one connection, records its request and answers `200 {}`.
fn capture_one(listener: TcpListener) -> Captured {
    let (mut stream, _) = listener.accept().unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    let head_end = loop {
        if let Some(at) = find(&bytes, b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "connection closed before the end of the head");
        bytes.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(bytes[..head_end].to_vec()).unwrap();
    let mut captured = Captured { head, body: bytes[head_end + 4..].to_vec() };
    let length: usize = captured.header("content-length").expect("send gives a content-length").parse().unwrap();
    while captured.body.len() < length {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "connection closed before the end of the body");
        captured.body.extend_from_slice(&chunk[..n]);
    }
    stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}").unwrap();
    captured
}

/// The parts of a multipart body as (headers, content), checking the delimiters on the way.
fn parts<'a>(body: &'a [u8], boundary: &str) -> Vec<(String, &'a [u8])> {
    let opening = format!("--{boundary}\r\n");
    let closing = format!("\r\n--{boundary}--\r\n");
    assert!(body.starts_with(opening.as_bytes()), "the body opens with --BOUNDARY");
    assert!(body.ends_with(closing.as_bytes()), "the body ends with the closing delimiter");
    let mut rest = &body[opening.len()..body.len() - closing.len()];
    let between = format!("\r\n--{boundary}\r\n");
    let mut found = Vec::new();
    loop {
        let end = find(rest, between.as_bytes()).unwrap_or(rest.len());
        let part = &rest[..end];
        let split = find(part, b"\r\n\r\n").expect("part headers end with a blank line");
        found.push((String::from_utf8(part[..split].to_vec()).unwrap(), &part[split + 4..]));
        if end == rest.len() {
            return found;
        }
        rest = &rest[end + between.len()..];
    }
}

fn millisecond_utc(text: &str) -> chrono::DateTime<Utc> {
    assert_eq!(text.len(), 24, "YYYY-MM-DDTHH:MM:SS.mmmZ: {text}");
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.3fZ").unwrap();
    Utc.from_utc_datetime(&naive)
}

#[test]
fn send_builds_the_documented_multipart_request_with_a_token_signed_by_the_secret() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/audio-webhook", listener.local_addr().unwrap());
    let receiver = std::thread::spawn(move || capture_one(listener));
    let dir = TempDir::new().unwrap();
    let before = Utc::now().timestamp();
    let printed = run_ok(dir.path(), &["send", &url, "--secret", SECRET]);
    let after = Utc::now().timestamp();
    let request = receiver.join().unwrap();
    assert!(printed.starts_with("200 recording "), "{printed}");
    assert!(request.head.starts_with("POST /audio-webhook HTTP/1.1\r\n"), "{}", request.head);

    let content_type = request.header("content-type").unwrap();
    let boundary = content_type.strip_prefix("multipart/form-data; boundary=").expect(content_type);
    let uuid = boundary.strip_prefix("----------").unwrap_or_else(|| panic!("ten dashes then a UUID: {boundary}"));
    assert!(uuid::Uuid::parse_str(uuid).is_ok() && uuid.len() == 36, "{boundary}");
    assert_eq!(uuid, uuid.to_uppercase(), "an upper-case UUID, as watsonx writes it");

    let parts = parts(&request.body, boundary);
    assert_eq!(parts.len(), 2, "two parts");
    assert_eq!(parts[0].0, "Content-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json");
    assert_eq!(
        parts[1].0,
        "Content-Disposition: form-data; name=\"audio_recording\"\r\nContent-Type: audio/mulaw;rate=8000"
    );
    assert_eq!(parts[1].1.len(), 20_000, "2.5 s of 8 kHz μ-law");
    assert!(parts[1].1 == sample::utterance(2.5), "the synthesized utterance");

    let metadata = json(std::str::from_utf8(parts[0].1).unwrap());
    let mut keys: Vec<&str> = metadata.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    let expected_keys =
        ["assistant_id", "environment_id", "recording_id", "session_id", "start_timestamp", "stop_timestamp"];
    assert_eq!(keys, expected_keys);
    for field in ["assistant_id", "environment_id", "recording_id", "session_id"] {
        let value = metadata[field].as_str().unwrap();
        assert!(uuid::Uuid::parse_str(value).is_ok(), "{field} is a fresh UUID: {value}");
    }
    assert_eq!(printed.split_whitespace().nth(2), metadata["recording_id"].as_str(), "the id printed is the id sent");
    let start = millisecond_utc(metadata["start_timestamp"].as_str().unwrap());
    let stop = millisecond_utc(metadata["stop_timestamp"].as_str().unwrap());
    assert_eq!((stop - start).num_milliseconds(), 2500, "start and stop frame the 2.5 s utterance");
    assert!((before..=after).contains(&stop.timestamp()), "stopped just now");

    let authorization = request.header("authorization").unwrap();
    let token = authorization.strip_prefix("Bearer ").unwrap_or_else(|| panic!("Bearer token: {authorization}"));
    let (decoded, verdict) = jwt::verify(token, SECRET.as_bytes(), after);
    assert!(verdict.is_ok(), "verifies with the secret given: {verdict:?}");
    assert!(jwt::verify(token, b"another secret", after).1.is_err(), "and with no other");
    let decoded = decoded.unwrap();
    assert_eq!(decoded.header["alg"], "HS256");
    let iat = decoded.claims["iat"].as_i64().unwrap();
    assert!((before..=after).contains(&iat), "issued now");
    assert_eq!(decoded.claims, json!({"sub": "user", "iss": "earshot-send", "iat": iat, "exp": iat + 30}));
}
