//! The integration workbench, part one: `earshot serve --forward` in front of
//! the user's own service, and simulated answers. Real processes on loopback:
//! `earshot serve`, the IBM-shaped express server (tests/fixtures/ibm-server)
//! and an axum [`Recorder`]. Every case checks what the sender got *and* that
//! the recording was stored, since losing it is what Earshot must never do.
//! Replays, curl and HAR are in `workbench_replay.rs`.

use std::time::Duration;

use chrono::Utc;
use earshot_core::sample::{self, CallIds, Packaging};
use earshot_tests::upstream::IbmServer;
use earshot_tests::workbench::{Behaviour, Posted, Recorder, post, sha256_hex, wait_json};
use earshot_tests::{Server, run, run_ok};
use serde_json::Value;
use tempfile::TempDir;

// ---- fixture ----------------------------------------------------------------

const SECRET: &str = "workbench-secret";

/// A watsonx-shaped request whose bytes the test knows: a μ-law WAV part
/// with a filename (multer files only parts that have one).
struct Call {
    content_type: String,
    body: Vec<u8>,
    audio: Vec<u8>,
    session_id: String,
}

fn call(session_id: &str) -> Call {
    let ids = CallIds {
        assistant_id: "asst-1".into(),
        environment_id: "env-1".into(),
        session_id: session_id.into(),
        recording_id: uuid::Uuid::new_v4().to_string(),
    };
    let audio = sample::package(&sample::utterance(1.0), Packaging::Wav);
    let delivery = sample::delivery(&ids, &audio, Packaging::Wav, 1000, Utc::now(), "----------WORKBENCH");
    Call { content_type: delivery.content_type, body: delivery.body, audio, session_id: session_id.into() }
}

fn token() -> String {
    sample::authorization(SECRET.as_bytes(), Utc::now())
}

/// POSTs `call` to the listener's `/audio-webhook` with a valid token.
fn deliver(server: &Server, call: &Call) -> reqwest::Result<Posted> {
    post(&server.url("/audio-webhook"), &call.content_type, &call.body, Some(&token()))
}

fn recordings(dir: &TempDir) -> Vec<Value> {
    serde_json::from_str::<Value>(&run_ok(dir.path(), &["recordings", "--json"])).unwrap().as_array().unwrap().clone()
}

/// The newest request log entry, once its upstream answer (or fault) is stored.
fn forwarded(dir: &TempDir) -> Value {
    let answered = |v: &Value| v[0]["forward"]["status"].is_u64() || v[0]["forward"]["error_code"].is_string();
    let requests = wait_json(dir.path(), &["requests"], answered);
    assert!(answered(&requests), "no upstream answer was recorded: {requests:#}");
    requests[0].clone()
}

fn assert_stored(dir: &TempDir, call: &Call) {
    let stored = recordings(dir);
    assert_eq!(stored.len(), 1, "{stored:#?}");
    assert_eq!(stored[0]["sha256"], sha256_hex(&call.audio), "the recording holds the audio sent");
    assert_eq!(stored[0]["session_id"], call.session_id.as_str());
}

/// A port on which nothing listens: bound, then released.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

// ---- forwarding -------------------------------------------------------------

#[test]
fn pass_mode_gives_the_sender_ibms_answer_and_ibm_saves_the_audio_sent() {
    let dir = TempDir::new().unwrap();
    let ibm = IbmServer::start(SECRET);
    let server = Server::start(dir.path(), &["--secret", SECRET, "--forward", &ibm.url]);
    let call = call("sess-pass");

    let answer = deliver(&server, &call).unwrap();
    assert_eq!(answer.status, 200, "{answer:?}\n{}", ibm.stderr());
    assert!(answer.content_type.as_deref().unwrap_or_default().starts_with("application/json"), "{answer:?}");
    let ibm_json: Value = serde_json::from_str(&answer.body).expect("IBM's JSON answer reached the sender");
    assert_eq!(ibm_json["claims"]["iss"], "earshot-send", "IBM verified the forwarded token");
    assert_eq!(ibm_json["metadata"]["session_id"], "sess-pass");
    let saved = std::fs::read(ibm_json["saved"].as_str().unwrap()).unwrap();
    assert_eq!(saved, call.audio, "IBM's file is the audio part byte for byte");

    assert_stored(&dir, &call);
    let logged = forwarded(&dir);
    assert_eq!(logged["forward"]["status"], 200);
    assert_eq!(logged["forward"]["mode"], "pass");
    assert_eq!(logged["status"], 200);
    assert!(logged["forward"]["body"].as_str().unwrap().contains("\"saved\""), "{logged:#}");
    // `earshot send --wav` (a filename on its part) goes through the same way.
    assert!(
        run_ok(dir.path(), &["send", &server.url("/audio-webhook"), "--secret", SECRET, "--wav"]).starts_with("200 ")
    );
}

#[test]
fn ibms_400_for_another_secret_and_401_without_a_token_reach_the_sender_and_the_recording_stays() {
    let dir = TempDir::new().unwrap();
    let ibm = IbmServer::start("the service's other secret");
    let server = Server::start(dir.path(), &["--secret", SECRET, "--forward", &ibm.url]);

    let output = run(dir.path(), &["send", &server.url("/audio-webhook"), "--secret", SECRET, "--wav"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "send exits non-zero on IBM's 400");
    assert!(stdout.starts_with("400 ") && stdout.contains("Invalid Token"), "{stdout}");
    assert_eq!(recordings(&dir).len(), 1, "Earshot's own check passed; the recording is stored");
    // The upstream's answer is written just after the sender has it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let table = loop {
        let table = run_ok(dir.path(), &["requests"]);
        if table.contains("→ upstream 400") || std::time::Instant::now() > deadline {
            break table;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(table.contains("→ upstream 400"), "{table}");

    let call = call("sess-no-token");
    let answer = post(&server.url("/audio-webhook"), &call.content_type, &call.body, None).unwrap();
    assert_eq!(answer.status, 401, "{answer:?}");
    assert!(answer.body.contains("No token provided"), "{answer:?}");
    let newest = forwarded(&dir);
    assert_eq!(newest["forward"]["status"], 401);
    assert_eq!(newest["auth"]["verdict"], "missing", "Earshot's verdict is kept beside the upstream's answer");
    assert_eq!(recordings(&dir).len(), 2, "forwarding makes enforce act as observe: stored anyway");
    assert_eq!(std::fs::read_dir(&ibm.upload_dir).unwrap().count(), 0, "IBM stored nothing");
    let sessions = run_ok(dir.path(), &["sessions"]);
    assert!(sessions.contains("✗ 1 not 2xx"), "the calls table marks upstream failures: {sessions}");
}

#[test]
fn an_unreachable_upstream_is_a_502_naming_it_and_the_recording_is_stored() {
    let dir = TempDir::new().unwrap();
    let target = format!("http://127.0.0.1:{}/", closed_port());
    let server = Server::start(dir.path(), &["--secret", SECRET, "--forward", &target]);
    let call = call("sess-down");

    let answer = deliver(&server, &call).unwrap();
    assert_eq!(answer.status, 502, "{answer:?}");
    let error: Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(error["error"], "upstream_unreachable", "{error}");
    assert_stored(&dir, &call);
    let logged = forwarded(&dir);
    assert_eq!(logged["forward"]["error_code"], "upstream_unreachable");
    assert_eq!(logged["forward"]["url"], format!("{target}audio-webhook"), "the path is appended to a URL ending in /");
    let table = run_ok(dir.path(), &["recordings"]);
    assert!(table.contains("✗ none"), "the recordings table marks the missing answer: {table}");
}

#[test]
fn a_slow_upstream_is_a_504_after_the_forward_timeout_and_got_the_request_byte_for_byte() {
    let dir = TempDir::new().unwrap();
    let slow = Recorder::start(Behaviour { delay: Duration::from_secs(4), ..Behaviour::default() });
    let server =
        Server::start(dir.path(), &["--secret", SECRET, "--forward", &slow.url("/svc/"), "--forward-timeout", "1"]);
    let call = call("sess-slow");
    let authorization = token();

    let answer = post(&server.url("/audio-webhook?x=1"), &call.content_type, &call.body, Some(&authorization)).unwrap();
    assert_eq!(answer.status, 504, "{answer:?}");
    assert!(answer.body.contains("upstream_timeout"), "{answer:?}");
    assert!(answer.elapsed >= Duration::from_millis(950), "answered after {:?}, before the timeout", answer.elapsed);
    assert!(answer.elapsed < Duration::from_secs(3), "answered after {:?}, not at the timeout", answer.elapsed);
    assert_stored(&dir, &call);

    let received = slow.wait_for(1, Duration::from_secs(5));
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].path, "/svc/audio-webhook?x=1");
    assert_eq!(received[0].body, call.body, "the forwarded body is the body received, byte for byte");
    assert_eq!(received[0].header("authorization").as_deref(), Some(authorization.as_str()), "the original token");
    assert_eq!(received[0].header("content-type").as_deref(), Some(call.content_type.as_str()));
}

#[test]
fn tee_mode_answers_200_at_once_and_records_the_slow_upstreams_answer_later() {
    let dir = TempDir::new().unwrap();
    let slow = Recorder::start(Behaviour { status: 503, delay: Duration::from_millis(1500), ..Behaviour::default() });
    let server = Server::start(dir.path(), &["--secret", SECRET, "--forward", &slow.url("/"), "--forward-mode", "tee"]);
    let call = call("sess-tee");

    let answer = deliver(&server, &call).unwrap();
    assert_eq!((answer.status, answer.body.as_str()), (200, "{}"), "{answer:?}");
    assert!(answer.elapsed < Duration::from_millis(1000), "tee waited for the upstream: {:?}", answer.elapsed);
    assert_stored(&dir, &call);

    let logged = forwarded(&dir);
    assert_eq!(logged["forward"]["mode"], "tee");
    assert_eq!(logged["forward"]["status"], 503, "the upstream's answer is recorded when it comes");
    assert_eq!(logged["status"], 200, "the sender's answer stays Earshot's own");
    assert!(logged["forward"]["latency_ms"].as_f64().unwrap() >= 1400.0, "{logged:#}");
}

// ---- simulated answers ------------------------------------------------------

#[test]
fn a_simulated_503_is_what_the_client_sees_and_the_recording_is_stored() {
    let dir = TempDir::new().unwrap();
    let server = Server::start(dir.path(), &["--secret", SECRET, "--answer-status", "503"]);
    let call = call("sess-503");

    assert_eq!(deliver(&server, &call).unwrap().status, 503);
    assert_stored(&dir, &call);
    let requests = wait_json(dir.path(), &["requests"], |_| true);
    assert_eq!(requests[0]["simulated"], "503");
    assert_eq!(requests[0]["status"], 503);
    let table = run_ok(dir.path(), &["requests"]);
    assert!(table.contains("answered 503 (simulated)"), "{table}");
}

#[test]
fn a_simulated_delay_answers_after_it() {
    let dir = TempDir::new().unwrap();
    let server = Server::start(dir.path(), &["--secret", SECRET, "--answer-delay", "1"]);
    let call = call("sess-delay");

    let answer = deliver(&server, &call).unwrap();
    assert_eq!(answer.status, 200);
    assert!(answer.elapsed >= Duration::from_secs(1), "answered after {:?}", answer.elapsed);
    assert_stored(&dir, &call);
    assert_eq!(wait_json(dir.path(), &["requests"], |_| true)[0]["simulated"], "200 after 1 s");
}

#[test]
fn a_simulated_drop_closes_the_connection_without_an_answer() {
    let dir = TempDir::new().unwrap();
    let server = Server::start(dir.path(), &["--secret", SECRET, "--answer-drop"]);
    let call = call("sess-drop");

    let error = deliver(&server, &call).expect_err("no HTTP answer at all");
    assert!(!error.is_timeout() && error.status().is_none(), "the connection was closed: {error:?}");
    assert_stored(&dir, &call);
    assert_eq!(wait_json(dir.path(), &["requests"], |_| true)[0]["simulated"], "drop");
}

#[test]
fn answer_count_simulates_only_the_next_n() {
    let dir = TempDir::new().unwrap();
    let server = Server::start(dir.path(), &["--secret", SECRET, "--answer-status", "500", "--answer-count", "1"]);

    assert_eq!(deliver(&server, &call("sess-count")).unwrap().status, 500, "the first is simulated");
    assert_eq!(deliver(&server, &call("sess-count")).unwrap().status, 200, "the second is answered for real");
    let requests = wait_json(dir.path(), &["requests"], |_| true);
    assert_eq!(requests[0]["simulated"], Value::Null, "newest first: the second");
    assert_eq!(requests[1]["simulated"], "500");
    assert_eq!(recordings(&dir).len(), 2);
}
