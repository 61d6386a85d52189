//! The integration workbench against real services on loopback: a listener
//! that forwards to an axum upstream (pass and tee, 502 and 504, a bad token
//! and an unreadable body forwarded as they came), simulated answers
//! (status, delay, a dropped connection, the next N), replay byte for byte to
//! a raw TCP capture and edited to the upstream, and the HAR of the store.
//! Every case checks that the recording was stored regardless.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use base64::Engine;
use earshot_core::relay::{
    Edits, ForwardConfig, MetadataEdit, ReplayRequest, ReplaySource, SimScope, Simulation, TokenChoice, Upstream,
    har_of_store, replay,
};
use earshot_core::{
    AuthConfig, AuthMode, ForwardMode, Intake, IntakeConfig, Limits, Outcome, ReplayOf, Secret, Store, TokenCheck, jwt,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;

const SECRET: &str = "workbench shared secret";

/// The listener's clock, so tokens signed here stay valid however long a run takes.
fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 26, 12, 0, 0).unwrap()
}
const BOUNDARY: &str = "WorkbenchBoundary7MA4YWxkTrZu0gW";

// ---------------------------------------------------------------- fixtures

/// What the upstream received.
#[derive(Debug, Clone)]
struct Received {
    uri: String,
    headers: HeaderMap,
    body: Bytes,
}

/// How the upstream answers.
#[derive(Debug, Clone)]
struct Behaviour {
    status: u16,
    delay: Duration,
}

#[derive(Clone, Default)]
struct UpstreamState {
    received: Arc<Mutex<Vec<Received>>>,
    behaviour: Arc<Mutex<Option<Behaviour>>>,
}

/// A user's service: records every request, answers `{"got": recording_id}` with the configured status.
async fn upstream() -> (SocketAddr, UpstreamState) {
    async fn answer(
        State(state): State<UpstreamState>,
        uri: Uri,
        headers: HeaderMap,
        body: Bytes,
    ) -> impl IntoResponse {
        let behaviour =
            state.behaviour.lock().unwrap().clone().unwrap_or(Behaviour { status: 200, delay: Duration::ZERO });
        let got = String::from_utf8_lossy(&body)
            .split("\"recording_id\":")
            .nth(1)
            .and_then(|rest| rest.trim_start().trim_start_matches('"').split('"').next().map(str::to_string));
        state.received.lock().unwrap().push(Received { uri: uri.to_string(), headers, body });
        tokio::time::sleep(behaviour.delay).await;
        (
            StatusCode::from_u16(behaviour.status).unwrap(),
            [("content-type", "application/vnd.test+json"), ("x-upstream", "yes")],
            json!({"got": got}).to_string(),
        )
    }
    let state = UpstreamState::default();
    let app = axum::Router::new().fallback(answer).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, state)
}

struct Earshot {
    _dir: TempDir,
    store: Store,
    intake: Intake,
    url: String,
}

/// A listener in `mode` (secret set) that forwards per `forward`, on a real socket.
async fn earshot(mode: AuthMode, forward: Option<ForwardConfig>) -> Earshot {
    let dir = TempDir::new().unwrap();
    let store = common::open_store(&dir);
    let auth = AuthConfig::new(Some(mode), Some(Secret::new(SECRET).unwrap())).unwrap();
    let config = IntakeConfig { auth, max_body: 4 << 20, forward };
    let intake = Intake::new(config, &store, Arc::new(now), Limits::default()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/audio-webhook", listener.local_addr().unwrap());
    tokio::spawn(earshot_core::serve(listener, intake.clone(), std::future::pending()));
    Earshot { _dir: dir, store, intake, url }
}

fn forward_to(addr: SocketAddr, mode: ForwardMode, timeout: Duration) -> Option<ForwardConfig> {
    Some(ForwardConfig::new(&format!("http://{addr}/hooks/"), mode, timeout).unwrap())
}

fn token(secret: &str) -> String {
    let claims = json!({"sub": "user", "iss": "test-client", "iat": now().timestamp(), "exp": now().timestamp() + 30});
    jwt::sign_hs256(claims.as_object().unwrap(), secret.as_bytes())
}

fn audio(seed: u8) -> Vec<u8> {
    (0..4000u32).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

/// A watsonx delivery, byte for byte.
fn delivery(session: &str, recording: &str, audio: &[u8]) -> Vec<u8> {
    let metadata = json!({
        "assistant_id": "assistant-w", "environment_id": "environment-w",
        "session_id": session, "recording_id": recording,
        "start_timestamp": "2026-11-26T11:59:59.000Z", "stop_timestamp": "2026-11-26T11:59:59.500Z"
    });
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{metadata}\r\n--{BOUNDARY}\r\n\
         Content-Disposition: form-data; name=\"audio_recording\"; filename=\"{recording}.ul\"\r\n\
         Content-Type: audio/mulaw;rate=8000\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(audio);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn post(url: &str, body: Vec<u8>, authorization: Option<String>) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .header("x-custom", "kept")
        .body(body);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    request.send().await.unwrap()
}

/// Waits for the upstream answer to a request to be recorded (it is written after the answer is sent).
async fn forwarded(store: &Store) -> earshot_core::RequestEntry {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(entry) = store.requests(10).unwrap().into_iter().find(|e| e.forward.is_some()) {
            return entry;
        }
        assert!(Instant::now() < deadline, "no forward answer was recorded: {:?}", store.requests(10).unwrap());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

// ---------------------------------------------------------------- forwarding

common::both! {
    #[tokio::test]
    async fn pass_mode_hands_back_the_upstreams_answer_after_storing_and_forwards_every_byte() {
        let (addr, service) = upstream().await;
        service.behaviour.lock().unwrap().replace(Behaviour { status: 201, delay: Duration::ZERO });
        let earshot = earshot(AuthMode::Enforce, forward_to(addr, ForwardMode::Pass, Duration::from_secs(5))).await;
        let sent = delivery("call-pass", "rec-pass", &audio(1));
        let authorization = format!("Bearer {}", token(SECRET));
        let reply = post(&format!("{}?leg=2", earshot.url), sent.clone(), Some(authorization.clone())).await;

        assert_eq!(reply.status(), 201, "the sender gets the upstream's status");
        assert_eq!(reply.headers()["content-type"], "application/vnd.test+json");
        assert!(reply.headers().get("x-upstream").is_none(), "only status, Content-Type and body pass");
        assert_eq!(reply.text().await.unwrap(), r#"{"got":"rec-pass"}"#);

        let got = service.received.lock().unwrap()[0].clone();
        assert_eq!(got.uri, "/hooks/audio-webhook?leg=2", "path appended to a URL ending in '/', query kept");
        assert_eq!(got.body.as_ref(), sent.as_slice(), "byte-identical body");
        assert_eq!(got.headers["authorization"], authorization.as_str(), "the original token goes on");
        assert_eq!(got.headers["x-custom"], "kept");

        let stored = earshot.store.find_recording("rec-pass", None).unwrap();
        assert_eq!(stored.sha256, sha(&audio(1)));
        let entry = forwarded(&earshot.store).await;
        let forward = entry.forward.clone().unwrap();
        assert_eq!((entry.status, forward.answer.status, forward.mode), (201, Some(201), ForwardMode::Pass));
        assert_eq!(forward.answer.body, r#"{"got":"rec-pass"}"#);
        assert_eq!(earshot.store.request_body(entry.id).unwrap().unwrap(), sent, "the accepted body is kept whole");
        assert!(earshot.store.recording_row(stored.row).unwrap().upstream.is_some_and(|u| u.ok));
    }
}

common::both! {
    #[tokio::test]
    async fn with_forwarding_the_service_decides_on_tokens_and_even_unreadable_bodies_go_on() {
        let (addr, service) = upstream().await;
        service.behaviour.lock().unwrap().replace(Behaviour { status: 400, delay: Duration::ZERO });
        let earshot = earshot(AuthMode::Enforce, forward_to(addr, ForwardMode::Pass, Duration::from_secs(5))).await;

        let bad =
            post(&earshot.url, delivery("call-bad", "rec-bad", &audio(2)), Some(format!("Bearer {}", token("wrong"))))
                .await;
        assert_eq!(bad.status(), 400, "the service's 400 reaches the sender, not Earshot's 401");
        let stored = earshot.store.find_recording("rec-bad", None).unwrap();
        assert_eq!(stored.auth.verdict, TokenCheck::Invalid, "Earshot's own check is recorded as in observe mode");

        let garbage = b"not multipart at all".to_vec();
        let reply = post(&earshot.url, garbage.clone(), None).await;
        assert_eq!(reply.status(), 400);
        assert_eq!(service.received.lock().unwrap()[1].body.as_ref(), garbage.as_slice(), "forwarded as it came");
        let deadline = Instant::now() + Duration::from_secs(10);
        let entry = loop {
            let log = earshot.store.requests(10).unwrap();
            if let Some(e) = log.into_iter().find(|e| e.outcome == Outcome::Rejected && e.forward.is_some()) {
                break e;
            }
            assert!(Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert!(entry.error.is_some(), "Earshot's verdict beside the upstream's answer");
        assert_eq!((entry.status, entry.forward.unwrap().answer.status), (400, Some(400)));
        let session = earshot.store.sessions().unwrap();
        assert_eq!(session[0].upstream_failures, 1, "the call is badged for its non-2xx answer");
    }
}

common::both! {
    #[tokio::test]
    async fn an_unreachable_upstream_is_a_502_and_a_slow_one_a_504_and_the_recording_is_stored_either_way() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let down = earshot(AuthMode::Off, forward_to(closed, ForwardMode::Pass, Duration::from_secs(5))).await;
        let reply = post(&down.url, delivery("call-down", "rec-down", &audio(3)), None).await;
        assert_eq!(reply.status(), 502);
        let body: Value = reply.json().await.unwrap();
        assert_eq!(body["error"], "upstream_unreachable", "{body}");
        assert!(body["message"].as_str().unwrap().contains(&closed.port().to_string()), "{body}");
        assert!(down.store.find_recording("rec-down", None).is_ok());
        assert_eq!(
            forwarded(&down.store).await.forward.unwrap().answer.error_code.as_deref(),
            Some("upstream_unreachable")
        );

        let (addr, service) = upstream().await;
        service.behaviour.lock().unwrap().replace(Behaviour { status: 200, delay: Duration::from_secs(3) });
        let slow = earshot(AuthMode::Off, forward_to(addr, ForwardMode::Pass, Duration::from_millis(500))).await;
        let started = Instant::now();
        let reply = post(&slow.url, delivery("call-slow", "rec-slow", &audio(4)), None).await;
        let waited = started.elapsed();
        assert_eq!(reply.status(), 504);
        assert!(
            waited >= Duration::from_millis(500) && waited < Duration::from_secs(2),
            "answered after the timeout: {waited:?}"
        );
        assert_eq!(reply.json::<Value>().await.unwrap()["error"], "upstream_timeout");
        assert!(slow.store.find_recording("rec-slow", None).is_ok());
        let entry = forwarded(&slow.store).await;
        assert_eq!((entry.status, entry.forward.unwrap().answer.status), (504, None));
    }
}

common::both! {
    #[tokio::test]
    async fn tee_mode_answers_at_once_and_records_the_upstreams_answer_later() {
        let (addr, service) = upstream().await;
        service.behaviour.lock().unwrap().replace(Behaviour { status: 500, delay: Duration::from_millis(800) });
        let earshot = earshot(AuthMode::Off, forward_to(addr, ForwardMode::Tee, Duration::from_secs(5))).await;
        let started = Instant::now();
        let reply = post(&earshot.url, delivery("call-tee", "rec-tee", &audio(5)), None).await;
        assert_eq!(reply.status(), 200);
        assert_eq!(reply.text().await.unwrap(), "{}");
        assert!(started.elapsed() < Duration::from_millis(700), "not held for the slow service: {:?}", started.elapsed());
        let entry = forwarded(&earshot.store).await;
        let forward = entry.forward.unwrap();
        assert_eq!((entry.status, forward.mode, forward.answer.status), (200, ForwardMode::Tee, Some(500)));
    }
}

// ---------------------------------------------------------------- simulated answers

common::both! {
    #[tokio::test]
    async fn simulated_status_delay_and_next_n_are_what_the_sender_sees_and_recordings_are_kept() {
        let earshot = earshot(AuthMode::Off, None).await;
        let simulator = earshot.intake.simulator();
        simulator
            .set(Some(Simulation { status: 503, delay_ms: 300, drop: false, scope: SimScope::Next { count: 1 } }))
            .unwrap();
        let started = Instant::now();
        let first = post(&earshot.url, delivery("call-sim", "rec-sim-1", &audio(6)), None).await;
        assert_eq!(first.status(), 503);
        assert!(started.elapsed() >= Duration::from_millis(300), "the delay came first");
        assert_eq!(first.json::<Value>().await.unwrap()["error"], "simulated");
        let second = post(&earshot.url, delivery("call-sim", "rec-sim-2", &audio(7)), None).await;
        assert_eq!(second.status(), 200, "the next 1 only");
        assert!(simulator.state().is_none(), "it switched itself off");

        let log = earshot.store.requests(10).unwrap();
        let simulated = log.iter().find(|e| e.recording_id.as_deref() == Some("rec-sim-1")).unwrap();
        assert_eq!((simulated.status, simulated.simulated.as_deref()), (503, Some("503 after 0.3 s")));
        assert!(earshot.store.find_recording("rec-sim-1", None).is_ok(), "stored although answered 503");
    }
}

common::both! {
    #[tokio::test]
    async fn a_simulated_drop_closes_the_connection_without_an_answer_and_the_recording_is_kept() {
        let earshot = earshot(AuthMode::Off, None).await;
        earshot
            .intake
            .simulator()
            .set(Some(Simulation {
                status: 200,
                delay_ms: 0,
                drop: true,
                scope: SimScope::Session { session_id: "call-drop".into() },
            }))
            .unwrap();
        let body = delivery("call-drop", "rec-drop", &audio(8));
        let addr = earshot.url.trim_start_matches("http://").split('/').next().unwrap().to_string();
        let mut socket = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST /audio-webhook HTTP/1.1\r\nhost: {addr}\r\ncontent-type: multipart/form-data; boundary={BOUNDARY}\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(&body).await.unwrap();
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), socket.read_to_end(&mut answer)).await;
        assert!(matches!(read, Ok(Ok(_)) | Ok(Err(_))), "the connection ended");
        assert!(answer.is_empty(), "no answer at all: {:?}", String::from_utf8_lossy(&answer));
        assert!(earshot.store.find_recording("rec-drop", None).is_ok());
        let other = post(&earshot.url, delivery("call-other", "rec-other", &audio(9)), None).await;
        assert_eq!(other.status(), 200, "another call is not dropped");
    }
}

// ---------------------------------------------------------------- replay

/// Accepts one connection, returns the bytes of the request it carried.
async fn capture_one() -> (SocketAddr, tokio::task::JoinHandle<Vec<u8>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut bytes = Vec::new();
        let mut chunk = [0u8; 65536];
        loop {
            let n = socket.read(&mut chunk).await.unwrap();
            bytes.extend_from_slice(&chunk[..n]);
            if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&bytes[..end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                    .unwrap_or(0);
                if bytes.len() >= end + 4 + length {
                    break;
                }
            }
            assert!(n > 0, "the replay hung up early");
        }
        socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}").await.unwrap();
        bytes
    });
    (addr, task)
}

fn split_request(raw: &[u8]) -> (String, Vec<u8>) {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    (String::from_utf8_lossy(&raw[..end]).into_owned(), raw[end + 4..].to_vec())
}

fn replay_of(source: ReplaySource, to: String, token: TokenChoice, edits: Edits) -> ReplayRequest {
    ReplayRequest {
        source,
        to,
        token,
        secret: Some(Secret::new(SECRET).unwrap()),
        edits,
        timeout: Duration::from_secs(5),
    }
}

common::both! {
    #[tokio::test]
    async fn an_unmodified_replay_with_the_kept_token_is_byte_identical_to_what_arrived() {
        let earshot = earshot(AuthMode::Enforce, None).await;
        let sent = delivery("call-replay", "rec-replay", &audio(10));
        let original_token = token(SECRET);
        assert_eq!(post(&earshot.url, sent.clone(), Some(format!("Bearer {original_token}"))).await.status(), 200);
        let row = earshot.store.find_recording("rec-replay", None).unwrap().row;

        let (addr, captured) = capture_one().await;
        let request =
            replay_of(ReplaySource::Recording(row), format!("http://{addr}/"), TokenChoice::Keep, Edits::default());
        let outcome = replay(&earshot.store, &Upstream::new(), &request, now()).await.unwrap();
        let (head, body) = split_request(&captured.await.unwrap());
        assert_eq!(body, sent, "every byte of the body");
        assert!(head.starts_with("POST /audio-webhook HTTP/1.1\r\n"), "{head}");
        assert!(head.lines().any(|l| l == format!("authorization: Bearer {original_token}")), "the original token: {head}");
        assert!(head.contains(&format!("content-type: multipart/form-data; boundary={BOUNDARY}")), "{head}");
        assert!(outcome.prepared.identical);
        assert_eq!(outcome.answer.status, Some(200));

        let replays = earshot.store.replays(ReplayOf::Recording(row)).unwrap();
        assert_eq!(replays.len(), 1);
        assert_eq!((replays[0].id, replays[0].answer.status, replays[0].identical), (outcome.replay_id, Some(200), true));
        assert_eq!(replays[0].body_sha256, sha(&sent));
        let stored = earshot.store.find_recording("rec-replay", None).unwrap();
        assert_eq!((stored.row, stored.sha256.clone()), (row, sha(&audio(10))), "the original never changes");
        assert!(replays[0].headers.to_string().contains("<signature removed>"), "no signature stored for the replay");
    }
}

common::both! {
    #[tokio::test]
    async fn edited_replays_reach_the_service_with_the_new_field_the_swapped_audio_and_the_chosen_token() {
        let earshot = earshot(AuthMode::Enforce, None).await;
        assert_eq!(
            post(&earshot.url, delivery("call-edit", "rec-edit", &audio(11)), Some(format!("Bearer {}", token(SECRET))))
                .await
                .status(),
            200
        );
        let row = earshot.store.find_recording("rec-edit", None).unwrap().row;
        let (addr, service) = upstream().await;
        let to = format!("http://{addr}/svc");

        let set = Edits { set: vec![MetadataEdit::parse("recording_id=rec-edit-2").unwrap()], ..Edits::default() };
        let outcome = replay(
            &earshot.store,
            &Upstream::new(),
            &replay_of(ReplaySource::Recording(row), to.clone(), TokenChoice::Resign, set),
            now(),
        )
        .await
        .unwrap();
        assert_eq!(outcome.answer.body, br#"{"got":"rec-edit-2"}"#, "the service saw the edited field");
        assert!(!outcome.prepared.identical);
        let received = service.received.lock().unwrap()[0].clone();
        let fresh = received.headers["authorization"].to_str().unwrap().trim_start_matches("Bearer ").to_string();
        let (decoded, verified) = jwt::verify(&fresh, SECRET.as_bytes(), now().timestamp());
        assert!(verified.is_ok(), "re-signed with the secret: {verified:?}");
        assert_eq!(decoded.unwrap().claims["iss"], "test-client", "the original claims");

        let pcm: Vec<i16> = (0..16_000).map(|i| ((i as f64 * 0.2).sin() * 9000.0) as i16).collect();
        let wav16k = earshot_audio::wav::pcm16_wav(&pcm, 16_000, 1);
        let swap = Edits { audio: Some(earshot_audio::to_telephone_mulaw(&wav16k).unwrap()), ..Edits::default() };
        replay(
            &earshot.store,
            &Upstream::new(),
            &replay_of(ReplaySource::Recording(row), to.clone(), TokenChoice::Bad, swap),
            now(),
        )
        .await
        .unwrap();
        let received = service.received.lock().unwrap()[1].clone();
        let text = String::from_utf8_lossy(&received.body).into_owned();
        assert!(text.contains("Content-Type: audio/mulaw;rate=8000"), "{}", &text[..300.min(text.len())]);
        let part = received.body.len() - delivery("call-edit", "rec-edit", &[]).len();
        assert!((7990..=8010).contains(&part), "1 s at 16 kHz became about 8000 μ-law bytes: {part}");
        let bad = received.headers["authorization"].to_str().unwrap().trim_start_matches("Bearer ").to_string();
        assert!(jwt::verify(&bad, SECRET.as_bytes(), now().timestamp()).1.is_err(), "--bad-token does not verify");

        let none = replay_of(ReplaySource::Recording(row), to, TokenChoice::None, Edits::default());
        replay(&earshot.store, &Upstream::new(), &none, now()).await.unwrap();
        assert!(service.received.lock().unwrap()[2].headers.get("authorization").is_none());
        assert_eq!(earshot.store.replays(ReplayOf::Recording(row)).unwrap().len(), 3);
    }
}

#[tokio::test]
async fn a_recording_whose_body_was_not_kept_is_rebuilt_and_said_to_be() {
    let earshot = earshot(AuthMode::Off, None).await;
    assert_eq!(post(&earshot.url, delivery("call-old", "rec-old", &audio(12)), None).await.status(), 200);
    // What a database from before bodies were kept holds.
    let sqlite = earshot_core::SqliteStore::open(earshot._dir.path()).unwrap();
    sqlite.connect().unwrap().execute("UPDATE requests SET body = NULL, body_audio_at = NULL", []).unwrap();
    let row = earshot.store.find_recording("rec-old", None).unwrap().row;
    let (addr, service) = upstream().await;
    let request = ReplayRequest {
        secret: None,
        ..replay_of(ReplaySource::Recording(row), format!("http://{addr}/"), TokenChoice::None, Edits::default())
    };
    let outcome = replay(&earshot.store, &Upstream::new(), &request, now()).await.unwrap();
    assert_eq!(outcome.prepared.changes["rebuilt"], true);
    assert_eq!(outcome.answer.body, br#"{"got":"rec-old"}"#);
    let body = service.received.lock().unwrap()[0].body.clone();
    assert!(body.windows(4000).any(|w| w == audio(12).as_slice()), "the stored audio, unchanged");
}

common::both! {
    #[tokio::test]
    async fn replay_refuses_clearly_when_the_token_needs_a_secret_it_does_not_have() {
        let earshot = earshot(AuthMode::Off, None).await;
        post(&earshot.url, delivery("call-x", "rec-x", &audio(13)), None).await;
        let row = earshot.store.find_recording("rec-x", None).unwrap().row;
        let request = ReplayRequest {
            secret: None,
            ..replay_of(ReplaySource::Recording(row), "http://127.0.0.1:9/".into(), TokenChoice::Resign, Edits::default())
        };
        let error = replay(&earshot.store, &Upstream::new(), &request, now()).await.unwrap_err();
        assert_eq!(error.code(), "no_secret");
        assert!(error.to_string().contains("--secret"), "{error}");
        let bad_url = replay_of(ReplaySource::Recording(row), "ftp://x".into(), TokenChoice::None, Edits::default());
        assert_eq!(replay(&earshot.store, &Upstream::new(), &bad_url, now()).await.unwrap_err().code(), "bad_url");
        assert!(earshot.store.replays(ReplayOf::Recording(row)).unwrap().is_empty(), "nothing sent, nothing recorded");
    }
}

// ---------------------------------------------------------------- HAR

common::both! {
    #[tokio::test]
    async fn the_har_parses_and_its_base64_bodies_are_the_bytes_that_arrived() {
        let (addr, _service) = upstream().await;
        let earshot = earshot(AuthMode::Off, forward_to(addr, ForwardMode::Pass, Duration::from_secs(5))).await;
        let first = delivery("call-har", "rec-har-1", &audio(14));
        let second = b"--not-a-delivery".to_vec();
        post(&earshot.url, first.clone(), None).await;
        post(&earshot.url, second.clone(), None).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while earshot.store.requests(10).unwrap().iter().any(|e| e.forward.is_none()) {
            assert!(Instant::now() < deadline);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let store = earshot.store.clone();
        let har = tokio::task::spawn_blocking(move || har_of_store(&store, None)).await.unwrap().unwrap();
        let har: Value = serde_json::from_str(&har.to_string()).unwrap();
        assert_eq!(har["log"]["version"], "1.2");
        let entries = har["log"]["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 2);
        let decode = |v: &Value| base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap()).unwrap();
        assert_eq!(entries[0]["request"]["postData"]["encoding"], "base64");
        assert!(decode(&entries[0]["request"]["postData"]["text"]) == first, "the first body, byte for byte");
        assert!(decode(&entries[1]["request"]["postData"]["text"]) == second, "the second body, byte for byte");
        assert_eq!(entries[0]["_upstream"]["status"], 200);
        assert_eq!(decode(&entries[0]["response"]["content"]["text"]), br#"{"got":"rec-har-1"}"#);
        let one_call =
            tokio::task::spawn_blocking(move || har_of_store(&earshot.store, Some("call-har"))).await.unwrap().unwrap();
        assert_eq!(one_call["log"]["entries"].as_array().unwrap().len(), 1);
    }
}
