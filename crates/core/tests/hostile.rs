//! Hostile and malformed requests against a real listener on 127.0.0.1:0,
//! written byte by byte over raw TCP so that lies about lengths, broken
//! chunking and oversized heads reach the server as sent.
//!
//! For every kind: the status and error code expected; a JSON body naming the
//! fault (or, where the HTTP layer answers before the handler, its bare
//! status); the request log entry with its reason; a valid delivery right
//! after still succeeds; and nothing already stored changes.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use earshot_core::Limits;
use earshot_core::Store;
use earshot_core::jwt;
use earshot_core::{AuthConfig, AuthMode, Secret};
use earshot_core::{Intake, IntakeConfig};
use serde_json::{Map, Value, json};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SECRET: &str = "hostile corpus secret";
const BOUNDARY: &str = "b0undary";
const MAX_BODY: usize = 256 * 1024;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
}

fn token_with(header: Value, claims: Value, secret: &str) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let signing = format!("{}.{}", b64.encode(header.to_string()), b64.encode(claims.to_string()));
    let signed = jwt::sign_hs256(claims.as_object().unwrap(), secret.as_bytes());
    // Re-sign over our own header when it differs from the default one.
    if header == json!({"alg": "HS256", "typ": "JWT"}) {
        return signed;
    }
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(signing.as_bytes());
    format!("{signing}.{}", b64.encode(mac.finalize().into_bytes()))
}

fn good_claims() -> Value {
    json!({"sub": "user", "exp": now().timestamp() + 30})
}

fn token() -> String {
    token_with(json!({"alg": "HS256", "typ": "JWT"}), good_claims(), SECRET)
}

fn metadata_map(recording_id: &str) -> Map<String, Value> {
    let Value::Object(map) = json!({
        "assistant_id": "assistant-1",
        "environment_id": "environment-1",
        "session_id": "session-hostile",
        "recording_id": recording_id,
        "start_timestamp": "2026-11-26T11:59:57.000Z",
        "stop_timestamp": "2026-11-26T11:59:59.500Z"
    }) else {
        unreachable!()
    };
    map
}

fn metadata(recording_id: &str) -> Vec<u8> {
    Value::Object(metadata_map(recording_id)).to_string().into_bytes()
}

/// `(part headers after the name, bytes)` for each part, framed with BOUNDARY.
fn multipart(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (headers, bytes) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; {headers}\r\n\r\n").as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn audio() -> Vec<u8> {
    (0..4000u32).map(|i| (i * 7 % 251) as u8).collect()
}

const META: &str = "name=\"metadata\"\r\nContent-Type: application/json";
const AUDIO: &str = "name=\"audio_recording\"\r\nContent-Type: audio/basic";
const WAV: &str = "name=\"audio_recording\"; filename=\"x.wav\"\r\nContent-Type: audio/wav";

fn delivery(recording_id: &str) -> Vec<u8> {
    multipart(&[(META, &metadata(recording_id)), (AUDIO, &audio())])
}

fn with_metadata(meta: &[u8]) -> Vec<u8> {
    multipart(&[(META, meta), (AUDIO, &audio())])
}

fn with_audio(headers: &str, bytes: &[u8]) -> Vec<u8> {
    multipart(&[(META, &metadata("hostile")), (headers, bytes)])
}

fn without_field(field: &str) -> Vec<u8> {
    let mut map = metadata_map("hostile");
    map.remove(field);
    with_metadata(Value::Object(map).to_string().as_bytes())
}

fn with_field(field: &str, value: Value) -> Vec<u8> {
    let mut map = metadata_map("hostile");
    map.insert(field.into(), value);
    with_metadata(Value::Object(map).to_string().as_bytes())
}

/// A WAV with every header field chosen by the case.
fn wav(tag: u16, channels: u16, rate: u32, bits: u16, data: &[u8], data_size: u32) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&tag.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&rate.wrapping_mul(u32::from(channels) * u32::from(bits) / 8).to_le_bytes());
    out.extend_from_slice(&(channels.wrapping_mul(bits) / 8).to_le_bytes());
    out.extend_from_slice(&bits.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_size.to_le_bytes());
    out.extend_from_slice(data);
    out
}

/// Raw request bytes: a head with `lines`, then `body`.
fn raw(lines: &[String], body: &[u8]) -> Vec<u8> {
    let mut out = b"POST /audio-webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n".to_vec();
    for line in lines {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

fn auth() -> String {
    format!("Authorization: Bearer {}", token())
}

fn form() -> String {
    format!("Content-Type: multipart/form-data; boundary={BOUNDARY}")
}

/// A well-formed request with `body`, correct length, valid token.
fn post(body: &[u8]) -> Vec<u8> {
    raw(&[auth(), form(), format!("Content-Length: {}", body.len())], body)
}

/// Like [`post`] with a different token header line (or none).
fn post_token(line: Option<String>) -> Vec<u8> {
    let body = delivery("hostile");
    let mut lines = vec![form(), format!("Content-Length: {}", body.len())];
    lines.extend(line);
    raw(&lines, &body)
}

/// Turns each U+FFFD (EF BF BD) into a lone 0xFF byte, which is not UTF-8.
fn latin1(body: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut at = 0;
    while at < body.len() {
        if body[at..].starts_with(&[0xEF, 0xBF, 0xBD]) {
            out.push(0xFF);
            at += 3;
        } else {
            out.push(body[at]);
            at += 1;
        }
    }
    out
}

fn chunked(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in body.chunks(1000) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// Who answers a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// The handler: JSON `{error: code}` and a request log entry with the reason.
    Handler(&'static str),
    /// hyper, before the handler runs: a bare status, no log entry.
    HttpLayer,
    /// Not a fault: the delivery is stored.
    Stored,
}

struct Case {
    kind: &'static str,
    bytes: Vec<u8>,
    /// Close our sending side after writing (a client that stops mid-body).
    half_close: bool,
    status: u16,
    answer: Answer,
}

fn case(kind: &'static str, bytes: Vec<u8>, status: u16, answer: Answer) -> Case {
    Case { kind, bytes, half_close: false, status, answer }
}

#[allow(clippy::too_many_lines)]
fn corpus() -> Vec<Case> {
    use Answer::{Handler, HttpLayer, Stored};
    let good = delivery("hostile");
    let mut cases = vec![
        case(
            "not multipart",
            raw(&[auth(), "Content-Type: application/json".into(), "Content-Length: 2".into()], b"{}"),
            415,
            Handler("not_multipart"),
        ),
        case("no content type", raw(&[auth(), "Content-Length: 5".into()], b"hello"), 415, Handler("not_multipart")),
        case(
            "no boundary",
            raw(&[auth(), "Content-Type: multipart/form-data".into(), "Content-Length: 5".into()], b"hello"),
            400,
            Handler("no_boundary"),
        ),
        case(
            "boundary mismatch",
            raw(
                &[
                    auth(),
                    "Content-Type: multipart/form-data; boundary=other".into(),
                    format!("Content-Length: {}", good.len()),
                ],
                &good,
            ),
            400,
            Handler("boundary_mismatch"),
        ),
        case("truncated body", post(&good[..good.len() / 2]), 400, Handler("truncated_multipart")),
        case(
            "missing closing delimiter",
            post(&good[..good.len() - format!("--{BOUNDARY}--\r\n").len()]),
            400,
            Handler("truncated_multipart"),
        ),
        case("no parts", post(format!("--{BOUNDARY}--\r\n").as_bytes()), 400, Handler("missing_part")),
        case("only metadata", post(&multipart(&[(META, &metadata("hostile"))])), 400, Handler("missing_part")),
        case("only audio", post(&multipart(&[(AUDIO, &audio())])), 400, Handler("missing_part")),
        case(
            "duplicate metadata",
            post(&multipart(&[(META, &metadata("a")), (META, &metadata("b")), (AUDIO, &audio())])),
            400,
            Handler("duplicate_part"),
        ),
        case(
            "duplicate audio",
            post(&multipart(&[(META, &metadata("a")), (AUDIO, &audio()), (AUDIO, &audio())])),
            400,
            Handler("duplicate_part"),
        ),
        case("metadata not JSON", post(&with_metadata(b"recording_id=1")), 422, Handler("invalid_metadata")),
        case("metadata not an object", post(&with_metadata(b"[1, 2, 3]")), 422, Handler("invalid_metadata")),
        case("metadata wrong type", post(&with_field("recording_id", json!(12345))), 422, Handler("invalid_field")),
        case("metadata empty id", post(&with_field("session_id", json!(""))), 422, Handler("invalid_field")),
        case("metadata huge", post(&with_metadata(&vec![b' '; 70 * 1024])), 413, Handler("metadata_too_large")),
        case(
            "timestamp not RFC 3339",
            post(&with_field("start_timestamp", json!("yesterday at noon"))),
            422,
            Handler("invalid_timestamp"),
        ),
        case(
            "stop before start",
            post(&with_field("stop_timestamp", json!("2026-11-26T11:00:00Z"))),
            422,
            Handler("invalid_timestamp"),
        ),
        case("empty audio", post(&with_audio(AUDIO, b"")), 422, Handler("empty_audio")),
        case(
            "junk labelled WAV",
            post(&with_audio(WAV, b"RIFX\0\0\0\0junk that is not a wave file")),
            422,
            Handler("invalid_wav"),
        ),
        case("RIFF without WAVE", post(&with_audio(WAV, b"RIFF\x10\0\0\0AVI LIST....")), 422, Handler("invalid_wav")),
        case(
            "RIFF lying data size",
            post(&with_audio(WAV, &wav(7, 1, 8000, 8, &audio(), 1_000_000))),
            422,
            Handler("invalid_wav"),
        ),
        case(
            "RIFF zero channels",
            post(&with_audio(WAV, &wav(7, 0, 8000, 8, &audio(), 4000))),
            422,
            Handler("invalid_wav"),
        ),
        case(
            "RIFF absurd rate",
            post(&with_audio(WAV, &wav(7, 1, 4_000_000_000, 8, &audio(), 4000))),
            422,
            Handler("invalid_wav"),
        ),
        case(
            "RIFF unknown format tag",
            post(&with_audio(WAV, &wav(0x55, 1, 8000, 8, &audio(), 4000))),
            422,
            Handler("invalid_wav"),
        ),
        case(
            "RIFF truncated header",
            post(&with_audio(WAV, b"RIFF\x24\0\0\0WAVEfmt \x10\0")),
            422,
            Handler("invalid_wav"),
        ),
        case(
            "absurd rate parameter",
            post(&with_audio("name=\"audio_recording\"\r\nContent-Type: audio/basic;rate=0", &audio())),
            422,
            Handler("invalid_audio_type"),
        ),
        case(
            "compressed body",
            raw(&[auth(), form(), "Content-Encoding: gzip".into(), format!("Content-Length: {}", good.len())], &good),
            415,
            Handler("unsupported_encoding"),
        ),
        case("oversized body (declared)", post(&vec![b'x'; MAX_BODY + 1]), 413, Handler("body_too_large")),
        case(
            "oversized body (chunked)",
            raw(&[auth(), form(), "Transfer-Encoding: chunked".into()], &chunked(&vec![b'x'; MAX_BODY + 1000])),
            413,
            Handler("body_too_large"),
        ),
        case(
            "malformed chunk size",
            raw(&[auth(), form(), "Transfer-Encoding: chunked".into()], b"zz\r\nhello\r\n0\r\n\r\n"),
            400,
            Handler("body_read_failed"),
        ),
        case(
            "content-length shorter than body",
            raw(&[auth(), form(), format!("Content-Length: {}", good.len() - 100)], &good),
            400,
            Handler("truncated_multipart"),
        ),
        case(
            "two content-lengths",
            raw(&[auth(), form(), "Content-Length: 10".into(), "Content-Length: 20".into()], &good),
            400,
            HttpLayer,
        ),
        case(
            "header flood",
            raw(&(0..300).map(|i| format!("X-Flood-{i}: {i}")).collect::<Vec<_>>(), &good),
            431,
            HttpLayer,
        ),
        case("very long header", raw(&[format!("X-Long: {}", "a".repeat(100 * 1024))], &good), 431, HttpLayer),
        case("non-UTF-8 header name", raw(&["X-N\u{e9}me: 1".into()], &good), 400, HttpLayer),
        case("garbage request line", b"HELLO THERE\r\n\r\n".to_vec(), 400, HttpLayer),
        case(
            "non-UTF-8 part name",
            post(&latin1(multipart(&[(META, &metadata("hostile")), ("name=\"audio_rec\u{fffd}rding\"", &audio())]))),
            400,
            Handler("missing_part"),
        ),
        case("missing token", post_token(None), 401, Handler("missing_token")),
        case(
            "malformed token",
            post_token(Some("Authorization: Bearer not.a-token".into())),
            401,
            Handler("invalid_token"),
        ),
        case(
            "bad signature",
            post_token(Some(format!(
                "Authorization: Bearer {}",
                token_with(json!({"alg": "HS256", "typ": "JWT"}), good_claims(), "wrong secret")
            ))),
            401,
            Handler("invalid_token"),
        ),
        case(
            "expired token",
            post_token(Some(format!(
                "Authorization: Bearer {}",
                token_with(json!({"alg": "HS256", "typ": "JWT"}), json!({"exp": now().timestamp() - 3600}), SECRET)
            ))),
            401,
            Handler("invalid_token"),
        ),
        case(
            "token not yet valid",
            post_token(Some(format!(
                "Authorization: Bearer {}",
                token_with(json!({"alg": "HS256", "typ": "JWT"}), json!({"nbf": now().timestamp() + 3600}), SECRET)
            ))),
            401,
            Handler("invalid_token"),
        ),
        case(
            "alg none",
            post_token(Some(format!(
                "Authorization: Bearer {}",
                token_with(json!({"alg": "none"}), good_claims(), SECRET)
            ))),
            401,
            Handler("invalid_token"),
        ),
        case(
            "alg RS256",
            post_token(Some(format!(
                "Authorization: Bearer {}",
                token_with(json!({"alg": "RS256"}), good_claims(), SECRET)
            ))),
            401,
            Handler("invalid_token"),
        ),
        case(
            "exp not a number",
            post_token(Some(format!(
                "Authorization: Bearer {}",
                token_with(json!({"alg": "HS256", "typ": "JWT"}), json!({"exp": "soon"}), SECRET)
            ))),
            401,
            Handler("invalid_token"),
        ),
        case(
            "token in a cookie only",
            post_token(Some(format!("Cookie: token={}", token()))),
            401,
            Handler("missing_token"),
        ),
        case(
            "wrong method",
            b"PUT /audio-webhook HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".to_vec(),
            405,
            Handler("method_not_allowed"),
        ),
        case(
            "chunked delivery (legal)",
            raw(&[auth(), form(), "Transfer-Encoding: chunked".into()], &chunked(&delivery("chunked-ok"))),
            200,
            Stored,
        ),
        case(
            "path traversal in filename",
            post(&multipart(&[
                (META, &metadata("traversal")),
                ("name=\"audio_recording\"; filename=\"../../../etc/passwd\"\r\nContent-Type: audio/basic", &audio()),
            ])),
            200,
            Stored,
        ),
    ];
    for field in ["assistant_id", "environment_id", "session_id", "recording_id", "start_timestamp", "stop_timestamp"] {
        cases.push(case("metadata missing a field", post(&without_field(field)), 422, Handler("missing_field")));
    }
    let lying = raw(&[auth(), form(), format!("Content-Length: {}", good.len() + 500)], &good);
    cases.push(Case {
        kind: "content-length longer than body",
        bytes: lying,
        half_close: true,
        status: 400,
        answer: Handler("body_read_failed"),
    });
    let mut cut = post(&good);
    cut.truncate(cut.len() - 300);
    cases.push(Case {
        kind: "connection closed mid-body",
        bytes: cut,
        half_close: true,
        status: 400,
        answer: Handler("body_read_failed"),
    });
    cases
}

struct Server {
    _dir: TempDir,
    store: Store,
    addr: SocketAddr,
}

async fn start(limits: Limits) -> Server {
    let dir = TempDir::new().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let auth = AuthConfig::new(Some(AuthMode::Enforce), Some(Secret::new(SECRET).unwrap())).unwrap();
    let intake =
        Intake::new(IntakeConfig { auth, max_body: MAX_BODY, forward: None }, &store, Arc::new(now), limits).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(earshot_core::serve(listener, intake, std::future::pending()));
    Server { _dir: dir, store, addr }
}

/// Status line code and body of the answer to `bytes`.
async fn exchange(addr: SocketAddr, bytes: &[u8], half_close: bool) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    // The server may answer and close before reading everything (431, 413).
    let _ = stream.write_all(bytes).await;
    if half_close {
        stream.shutdown().await.unwrap();
    }
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), async {
        let mut buf = [0u8; 8192];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
            }
        }
    });
    read.await.expect("the server answers within 20 s");
    let text = String::from_utf8_lossy(&answer);
    let status =
        text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status line in {text:?}"));
    let body = answer.windows(4).position(|w| w == b"\r\n\r\n").map(|at| answer[at + 4..].to_vec()).unwrap_or_default();
    (status, body)
}

fn stored(store: &Store) -> Vec<(String, u32, String)> {
    store.recordings(None).unwrap().into_iter().map(|r| (r.recording_id, r.version, r.sha256)).collect()
}

fn limits() -> Limits {
    Limits { header_timeout: Duration::from_secs(3), body_timeout: Duration::from_secs(3), ..Limits::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hostile_kind_is_refused_clearly_logged_and_harmless() {
    let server = start(limits()).await;
    let (status, _) = exchange(server.addr, &post(&delivery("baseline")), false).await;
    assert_eq!(status, 200, "baseline delivery");
    let mut expected = stored(&server.store);
    let cases = corpus();
    assert!(cases.len() >= 40, "the corpus has {} kinds", cases.len());
    let mut failures = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        let logged_before = server.store.requests(1).unwrap().first().map_or(0, |r| r.id);
        let (status, body) = exchange(server.addr, &case.bytes, case.half_close).await;
        let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let mut problems = Vec::new();
        if status != case.status {
            problems.push(format!("status {status}, expected {}", case.status));
        }
        let newest = server.store.requests(1).unwrap().into_iter().next().filter(|r| r.id > logged_before);
        match case.answer {
            Answer::Handler(code) => {
                if json["error"] != code || json["message"].as_str().is_none_or(str::is_empty) {
                    problems.push(format!(
                        "body {}, expected error {code:?} with a message",
                        String::from_utf8_lossy(&body)
                    ));
                }
                match &newest {
                    Some(entry)
                        if entry.error.as_deref() == Some(code)
                            && entry.reason.as_deref().is_some_and(|r| !r.is_empty())
                            && entry.status == case.status => {}
                    other => problems.push(format!(
                        "request log entry {:?}",
                        other.as_ref().map(|e| (&e.error, &e.reason, e.status))
                    )),
                }
            }
            Answer::HttpLayer => {
                if newest.is_some() {
                    problems.push("the HTTP layer's refusal reached the request log".into());
                }
            }
            Answer::Stored => {
                if json != json!({}) {
                    problems.push(format!("body {}", String::from_utf8_lossy(&body)));
                }
                expected = stored(&server.store);
            }
        }
        if stored(&server.store) != expected {
            problems.push("stored recordings changed".into());
        }
        let id = format!("after-{n}");
        let (after, _) = exchange(server.addr, &post(&delivery(&id)), false).await;
        if after != 200 {
            problems.push(format!("the valid delivery right after got {after}"));
        }
        expected = stored(&server.store);
        if !expected.iter().any(|(r, _, _)| *r == id) {
            problems.push("the valid delivery right after was not stored".into());
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}", case.kind, problems.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{} of {} kinds misbehaved:\n{}", failures.len(), cases.len(), failures.join("\n"));
    let traversal = server.store.find_recording("traversal", None).unwrap();
    assert_eq!(traversal.filename.as_deref(), Some("../../../etc/passwd"), "kept as data, never used as a path");
}
