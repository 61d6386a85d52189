//! The integration workbench, part two: `earshot replay` (as received and
//! edited), `earshot requests --curl` and `--har`. Real processes on
//! loopback: `earshot serve`, the IBM-shaped express server, an axum
//! [`Recorder`] and a bare TCP [`RawCapture`] that shows the bytes on the
//! wire with no HTTP library in between. Forwarding and simulated answers
//! are in `workbench.rs`.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use earshot_core::jwt::sign_hs256;
use earshot_core::sample::{self, CallIds, Packaging};
use earshot_tests::upstream::IbmServer;
use earshot_tests::workbench::{Behaviour, RawCapture, Recorder, head_header, post, sha256_hex};
use earshot_tests::{Server, run, run_ok};
use serde_json::{Value, json};
use tempfile::TempDir;

// ---- fixture ----------------------------------------------------------------

const SECRET: &str = "replay-secret";

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// A token over `claims`, signed with the shared secret.
fn token(claims: Value) -> String {
    let Value::Object(claims) = claims else { panic!("claims are an object") };
    format!("Bearer {}", sign_hs256(&claims, SECRET.as_bytes()))
}

fn fresh_token() -> String {
    let now = Utc::now().timestamp();
    token(json!({"sub": "watsonx", "iss": "replay-test", "iat": now, "exp": now + 30}))
}

/// A watsonx-shaped WAV delivery (multer needs the part's filename).
fn wav_call(session_id: &str) -> (String, Vec<u8>, Vec<u8>) {
    let ids = CallIds {
        assistant_id: "asst-r".into(),
        environment_id: "env-r".into(),
        session_id: session_id.into(),
        recording_id: uuid::Uuid::new_v4().to_string(),
    };
    let audio = sample::package(&sample::utterance(0.5), Packaging::Wav);
    let delivery = sample::delivery(&ids, &audio, Packaging::Wav, 500, Utc::now(), "----------REPLAY");
    (delivery.content_type, delivery.body, audio)
}

/// `earshot send --wav` once; returns the stored recording.
fn sent_recording(server: &Server, dir: &TempDir) -> Value {
    run_ok(dir.path(), &["send", &server.url("/audio-webhook"), "--secret", SECRET, "--wav"]);
    json_of(&run_ok(dir.path(), &["recordings", "--json"]))[0].clone()
}

/// The parts of a multipart body: name → (Content-Type, bytes).
fn parts(content_type: &str, body: &[u8]) -> Vec<(String, Option<String>, Vec<u8>)> {
    let boundary = multer::parse_boundary(content_type).expect("a multipart content type");
    let body = bytes::Bytes::copy_from_slice(body);
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
        let mut out = Vec::new();
        while let Some(field) = multipart.next_field().await.unwrap() {
            let name = field.name().unwrap_or_default().to_string();
            let kind = field.content_type().map(ToString::to_string);
            out.push((name, kind, field.bytes().await.unwrap().to_vec()));
        }
        out
    })
}

fn part<'a>(parts: &'a [(String, Option<String>, Vec<u8>)], name: &str) -> &'a (String, Option<String>, Vec<u8>) {
    parts.iter().find(|(n, _, _)| n == name).unwrap_or_else(|| panic!("no {name} part"))
}

/// `earshot replay ARGS --json`: its exit status and the answer it printed.
fn replay(dir: &TempDir, args: &[&str]) -> (bool, Value, String) {
    let output = run(dir.path(), &[&["replay"], args, &["--json"]].concat());
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.success(), json_of(&String::from_utf8_lossy(&output.stdout)), stderr)
}

// ---- replay -----------------------------------------------------------------

#[test]
fn a_kept_token_replay_sends_every_byte_and_the_token_as_they_arrived() {
    let dir = TempDir::new().unwrap();
    let server = Server::start(dir.path(), &["--secret", SECRET]);
    // Built by hand: an odd boundary, part headers in an unusual order and case,
    // metadata with an unknown field, and every byte value in the audio.
    let boundary = "x-Odd_boundary.42";
    let audio: Vec<u8> = (0..4001u32).map(|i| (i * 7 % 256) as u8).collect();
    let mut body = format!(
        "--{boundary}\r\ncontent-type: application/json\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n\
         {{ \"recording_id\": \"rec-bytes\", \"session_id\": \"sess-bytes\", \"assistant_id\": \"a\", \
         \"environment_id\": \"e\", \"start_timestamp\": \"2024-10-21T17:22:07.789Z\", \
         \"stop_timestamp\": \"2024-10-21T17:22:08.289Z\", \"extra\": [1, 2] }}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"audio_recording\"; filename=\"a b.ul\"\r\n\
         Content-Type: audio/mulaw;rate=8000\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&audio);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    // Issued a few seconds ago, so a re-signed token (iat = now) would differ from it.
    let now = Utc::now().timestamp();
    let authorization = token(json!({"sub": "watsonx", "iss": "replay-test", "iat": now - 5, "exp": now + 25}));
    let answer = post(&server.url("/audio-webhook"), &content_type, &body, Some(&authorization)).unwrap();
    assert_eq!(answer.status, 200, "{answer:?}");

    let capture = RawCapture::start();
    let to = format!("{}/", capture.base_url);
    let (ok, printed, stderr) = replay(&dir, &["rec-by", "--keep-token", "--secret", SECRET, "--to", &to]);
    assert!(ok, "{stderr}");
    let (head, sent) = capture.take(Duration::from_secs(10));
    assert!(head.starts_with("POST /audio-webhook HTTP/1.1\r\n"), "{head}");
    assert_eq!(sent.len(), body.len());
    assert!(sent == body, "the replayed body differs from the one received");
    assert_eq!(head_header(&head, "authorization").as_deref(), Some(authorization.as_str()), "the same token");
    assert_eq!(head_header(&head, "content-type").as_deref(), Some(content_type.as_str()));
    assert_eq!((printed["status"].clone(), printed["identical"].clone()), (json!(200), json!(true)), "{printed:#}");
    assert!(printed["replay_id"].is_i64(), "{printed:#}");

    // By request-log id, too.
    let capture = RawCapture::start();
    let id = json_of(&run_ok(dir.path(), &["requests", "--json"]))[0]["id"].to_string();
    let to = format!("{}/", capture.base_url);
    let (ok, _, stderr) = replay(&dir, &[&id, "--request", "--keep-token", "--secret", SECRET, "--to", &to]);
    assert!(ok, "{stderr}");
    assert!(capture.take(Duration::from_secs(10)).1 == body, "--request replays the same bytes");
}

#[test]
fn an_edited_field_and_swapped_audio_reach_the_service() {
    let dir = TempDir::new().unwrap();
    let server = Server::start(dir.path(), &["--secret", SECRET]);
    let service = Recorder::start(Behaviour::default());
    let original = sent_recording(&server, &dir);
    let id = original["recording_id"].as_str().unwrap();

    let (ok, printed, stderr) =
        replay(&dir, &[id, "--set", "recording_id=new", "--secret", SECRET, "--to", &service.url("/svc")]);
    assert!(ok, "{stderr}");
    assert_eq!(printed["identical"], false);
    assert_eq!(printed["changes"]["set"]["recording_id"], "new");
    // 16 kHz PCM16, one second of 440 Hz.
    let wav = dir.path().join("tone-16k.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&wav, spec).unwrap();
    for i in 0..16_000 {
        writer.write_sample(((i as f64 * 440.0 * std::f64::consts::TAU / 16_000.0).sin() * 8000.0) as i16).unwrap();
    }
    writer.finalize().unwrap();
    let (ok, _, stderr) =
        replay(&dir, &[id, "--audio", wav.to_str().unwrap(), "--secret", SECRET, "--to", &service.url("/svc")]);
    assert!(ok, "{stderr}");

    let received = service.wait_for(2, Duration::from_secs(5));
    let content_type = |i: usize| received[i].header("content-type").unwrap();
    let edited = parts(&content_type(0), &received[0].body);
    let metadata: Value = serde_json::from_slice(&part(&edited, "metadata").2).unwrap();
    assert_eq!(metadata["recording_id"], "new");
    assert_eq!(metadata["session_id"], original["session_id"], "the other fields are as they came");
    assert_eq!(sha256_hex(&part(&edited, "audio_recording").2), original["sha256"], "the audio is untouched");

    let swapped = parts(&content_type(1), &received[1].body);
    let (_, kind, codes) = part(&swapped, "audio_recording");
    assert_eq!(kind.as_deref(), Some("audio/mulaw;rate=8000"));
    assert!((codes.len() as i64 - 8000).abs() <= 2, "1 s at 8 kHz, one byte a sample: {} bytes", codes.len());
    // The tone survives: about 880 zero crossings in a second of 440 Hz.
    let samples = earshot_audio::mulaw::decode_all(codes);
    let crossings = samples.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count();
    assert!((860..=900).contains(&crossings), "{crossings} zero crossings");
    let metadata: Value = serde_json::from_slice(&part(&swapped, "metadata").2).unwrap();
    assert_eq!(metadata["recording_id"], original["recording_id"]);
}

#[test]
fn tokens_resigned_bad_and_absent_get_ibms_200_400_and_401() {
    let dir = TempDir::new().unwrap();
    let ibm = IbmServer::start(SECRET);
    let server = Server::start(dir.path(), &["--secret", SECRET, "--auth", "observe"]);
    // The original token expired a minute ago, as watsonx's has by the time anyone replays it.
    let now = Utc::now().timestamp();
    let expired = token(json!({"sub": "watsonx-call", "iat": now - 90, "exp": now - 60}));
    let (content_type, body, _) = wav_call("sess-tokens");
    assert_eq!(post(&server.url("/audio-webhook"), &content_type, &body, Some(&expired)).unwrap().status, 200);
    let id = json_of(&run_ok(dir.path(), &["recordings", "--json"]))[0]["recording_id"].as_str().unwrap().to_string();

    let (ok, printed, stderr) = replay(&dir, &[&id, "--secret", SECRET, "--to", &ibm.url]);
    assert!(ok, "re-signed: {stderr}\n{}", ibm.stderr());
    let claims = &json_of(printed["body"].as_str().unwrap())["claims"];
    assert_eq!(claims["sub"], "watsonx-call", "the original claims");
    assert!(claims["exp"].as_i64().unwrap() > Utc::now().timestamp(), "a fresh exp: {claims}");

    let (ok, printed, stderr) = replay(&dir, &[&id, "--keep-token", "--secret", SECRET, "--to", &ibm.url]);
    assert!(!ok && printed["status"] == 400 && printed["body"].as_str().unwrap().contains("jwt expired"), "{printed}");
    assert!(stderr.contains("error: ") && stderr.contains("400"), "{stderr}");

    let (ok, printed, stderr) = replay(&dir, &[&id, "--bad-token", "--to", &ibm.url]);
    assert!(!ok, "a 400 is a failure");
    assert_eq!(printed["status"], 400);
    assert!(printed["body"].as_str().unwrap().contains("invalid signature"), "{printed}");
    assert!(stderr.contains("answered 400"), "{stderr}");

    let output = run(dir.path(), &["replay", &id, "--no-token", "--to", &ibm.url]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success());
    assert!(stdout.starts_with("401 from ") && stdout.contains("No token provided"), "{stdout}");
    assert!(stdout.contains("replay 4 of request 1"), "{stdout}");
    assert_eq!(std::fs::read_dir(&ibm.upload_dir).unwrap().count(), 1, "only the re-signed replay was saved");
}

#[test]
fn bad_arguments_and_unreachable_targets_are_named() {
    let dir = TempDir::new().unwrap();
    let server = Server::start(dir.path(), &["--secret", SECRET]);
    let id = sent_recording(&server, &dir)["recording_id"].as_str().unwrap().to_string();
    let error = |args: &[&str]| {
        let output = run(dir.path(), &[&["replay", &id], args].concat());
        assert!(!output.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let to = "http://127.0.0.1:9/";
    assert!(error(&["--header", "X-Trace abc", "--to", to]).contains("--header \"X-Trace abc\""));
    assert!(error(&["--audio", "/no/such.wav", "--to", to]).contains("/no/such.wav"));
    assert!(error(&["--set", "novalue", "--to", to]).contains("novalue"));
    assert!(error(&["--secret", SECRET]).contains("no_target"));
    assert!(error(&["--to", to]).contains("no_secret"), "re-signing needs the secret");
    let down = format!(
        "http://127.0.0.1:{}/",
        std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
    );
    assert!(error(&["--secret", SECRET, "--to", &down]).contains("cannot connect"));
    let unknown = run(dir.path(), &["replay", "zzzz", "--to", to, "--secret", SECRET]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no recording matches \"zzzz\""));
}

// ---- curl and HAR -----------------------------------------------------------

#[test]
fn the_curl_command_run_by_bash_stores_the_same_audio_in_a_fresh_listener() {
    let dir = TempDir::new().unwrap();
    let server = Server::start(dir.path(), &["--secret", SECRET]);
    let original = sent_recording(&server, &dir);
    let fresh_dir = TempDir::new().unwrap();
    let fresh = Server::start(fresh_dir.path(), &["--secret", SECRET]);
    let out = TempDir::new().unwrap();

    let id = json_of(&run_ok(dir.path(), &["requests", "--json"]))[0]["id"].to_string();
    let to = fresh.url("/");
    let command = run_ok(
        dir.path(),
        &["requests", "--curl", &id, "--to", &to, "--secret", SECRET, "--out-dir", out.path().to_str().unwrap()],
    );
    assert!(command.contains("--data-binary"), "{command}");
    let ran = std::process::Command::new("bash").arg("-c").arg(&command).current_dir("/").output().unwrap();
    assert!(ran.status.success(), "{}", String::from_utf8_lossy(&ran.stderr));
    assert_eq!(String::from_utf8_lossy(&ran.stdout), "{}", "the fresh listener accepted it");

    let stored = json_of(&run_ok(fresh_dir.path(), &["recordings", "--json"]));
    assert_eq!(stored[0]["sha256"], original["sha256"]);
    assert_eq!(stored[0]["recording_id"], original["recording_id"]);
    assert_eq!(stored[0]["auth"]["verdict"], "valid", "signed with the secret");
}

#[test]
fn the_har_parses_and_its_base64_bodies_are_the_bytes_received() {
    let dir = TempDir::new().unwrap();
    let service = Recorder::start(Behaviour { status: 400, body: r#"{"no":1}"#.into(), ..Behaviour::default() });
    let server = Server::start(dir.path(), &["--secret", SECRET, "--forward", &service.url("/")]);
    let (type_a, body_a, _) = wav_call("sess-har-a");
    let (type_b, body_b, _) = wav_call("sess-har-b");
    let garbage = b"not multipart at all \x00\xff".to_vec();
    let sent = [(type_a, body_a), (type_b, body_b), ("text/plain".to_string(), garbage)];
    for (content_type, body) in &sent {
        assert_eq!(post(&server.url("/audio-webhook"), content_type, body, Some(&fresh_token())).unwrap().status, 400);
    }
    service.wait_for(3, Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(300)); // the upstream answers are written after the senders get them

    let har_file = dir.path().join("all.har");
    let summary = json_of(&run_ok(dir.path(), &["requests", "--har", har_file.to_str().unwrap(), "--json"]));
    assert_eq!(summary["entries"], 3, "{summary}");
    let har = json_of(&std::fs::read_to_string(&har_file).unwrap());
    assert_eq!(har["log"]["version"], "1.2");
    let entries = har["log"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "one entry per request");
    for (content_type, body) in &sent {
        let decoded = |entry: &Value| STANDARD.decode(entry["request"]["postData"]["text"].as_str().unwrap()).unwrap();
        let entry = entries.iter().find(|e| decoded(e) == *body).expect("an entry whose base64 body is the bytes sent");
        assert_eq!(entry["request"]["postData"]["encoding"], "base64");
        assert_eq!(entry["request"]["postData"]["mimeType"], content_type.as_str());
        assert_eq!(entry["_upstream"]["status"], 400, "forwarded entries carry the upstream answer: {entry:#}");
        assert_eq!(entry["response"]["status"], 400, "pass mode: the sender got the upstream's answer");
    }

    let one = dir.path().join("one.har");
    let line = run_ok(dir.path(), &["requests", "--har", one.to_str().unwrap(), "--session", "sess-har-b"]);
    assert!(line.starts_with("wrote 1 request of call sess-har-b to "), "{line}");
    let har = json_of(&std::fs::read_to_string(&one).unwrap());
    assert_eq!(har["log"]["entries"][0]["_earshot"]["session_id"], "sess-har-b");
}
