//! The CLI end to end, with real processes: `earshot serve` in a temp dir,
//! `earshot send` to it, then listing and exporting what arrived and checking
//! the exported audio against sox's independent decode.

use earshot_tests::{Server, read_wav_i16, run, run_ok, sox_decode_mulaw};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

const SECRET: &str = "earshot end-to-end secret";

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn serve_send_list_and_export_in_every_format() {
    let dir = TempDir::new().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, &["--secret", SECRET]);
    let url = server.url("/audio-webhook");

    let sent = run_ok(&data, &["send", &url, "--secret", SECRET, "--count", "2", "--session", "call-one"]);
    assert_eq!(sent.lines().filter(|l| l.starts_with("200 ")).count(), 2, "{sent}");
    run_ok(&data, &["send", &url, "--secret", SECRET, "--wav", "--session", "call-two"]);

    let recordings = json(&run_ok(&data, &["recordings", "--json"]));
    let recordings = recordings.as_array().unwrap();
    assert_eq!(recordings.len(), 3);
    for field in [
        "recording_id",
        "session_id",
        "assistant_id",
        "environment_id",
        "start_timestamp",
        "stop_timestamp",
        "received_at",
        "duration_ms",
        "encoding",
        "sample_rate",
        "size_bytes",
        "sha256",
        "auth",
    ] {
        assert!(recordings[0].get(field).is_some(), "recordings --json lacks {field}");
    }
    assert_eq!(recordings[0]["auth"]["verdict"], "valid");
    assert_eq!(recordings[0]["duration_ms"], 2500);
    assert_eq!(recordings[0]["encoding"], "mulaw");
    assert_eq!(recordings[2]["container"], "wav");

    let sessions = json(&run_ok(&data, &["sessions", "--json"]));
    let counts: Vec<(String, u64)> = sessions
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["session_id"].as_str().unwrap().to_string(), s["recording_count"].as_u64().unwrap()))
        .collect();
    assert_eq!(counts, [("call-two".to_string(), 1), ("call-one".to_string(), 2)]);
    let only_one = json(&run_ok(&data, &["recordings", "--session", "call-one", "--json"]));
    assert_eq!(only_one.as_array().unwrap().len(), 2);

    let raw_id = recordings[0]["recording_id"].as_str().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let original = out.join("original.ul");
    run_ok(&data, &["export", raw_id, "--format", "original", "-o", original.to_str().unwrap()]);
    let original = std::fs::read(original).unwrap();
    assert_eq!(hex::encode(Sha256::digest(&original)), recordings[0]["sha256"].as_str().unwrap());
    assert_eq!(original.len(), 20_000, "2.5 s of 8 kHz μ-law");

    let pcm = out.join("pcm.wav");
    run_ok(&data, &["export", raw_id, "-o", pcm.to_str().unwrap()]);
    let ours = read_wav_i16(&std::fs::read(&pcm).unwrap());
    let reference = sox_decode_mulaw(&original, dir.path());
    assert_eq!(ours.len(), reference.len());
    assert!(ours == reference, "PCM16 export differs from sox's decode");
    assert!(ours.iter().any(|&s| s.abs() > 4000), "the synthesized utterance is audible");

    let mulaw = out.join("mulaw.wav");
    run_ok(&data, &["export", &raw_id[..8], "--format", "mulaw", "-o", mulaw.to_str().unwrap()]);
    let mulaw = std::fs::read(&mulaw).unwrap();
    assert_eq!(&mulaw[..4], b"RIFF");
    assert_eq!(u16::from_le_bytes([mulaw[20], mulaw[21]]), 7, "format tag 7");
    assert_eq!(&mulaw[58..], &original[..], "58-byte header then the codes (even length: no pad)");

    let wav_id = recordings[2]["recording_id"].as_str().unwrap();
    let wav_original = std::process::Command::new(earshot_tests::earshot_bin())
        .env("EARSHOT_DATA_DIR", &data)
        .args(["export", wav_id, "--format", "original", "-o", out.to_str().unwrap()])
        .output()
        .unwrap();
    let written = String::from_utf8(wav_original.stdout).unwrap();
    let written = written.trim();
    assert!(written.ends_with(&format!("{wav_id}.wav")), "named from start time and id: {written}");
    assert!(std::fs::read(written).unwrap().starts_with(b"RIFF"));

    let session_dir = dir.path().join("call-one");
    let listed = run_ok(&data, &["export", "--session", "call-one", "-o", session_dir.to_str().unwrap()]);
    assert_eq!(listed.lines().count(), 2);
    assert_eq!(std::fs::read_dir(&session_dir).unwrap().count(), 2);
    drop(server);
}

#[test]
fn a_wrong_secret_is_refused_and_logged_with_its_reason() {
    let dir = TempDir::new().unwrap();
    let server = Server::start(dir.path(), &["--secret", SECRET]);
    let output = run(dir.path(), &["send", &server.url("/hook"), "--secret", "not the secret"]);
    assert!(!output.status.success(), "send exits non-zero when the webhook refuses");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("401 "), "{stdout}");
    assert!(stdout.contains("invalid_token"), "{stdout}");

    let requests = json(&run_ok(dir.path(), &["requests", "--json"]));
    let logged = &requests[0];
    assert_eq!(logged["status"], 401);
    assert_eq!(logged["outcome"], "rejected");
    assert_eq!(logged["error"], "invalid_token");
    assert_eq!(logged["reason"], "signature does not match the configured secret");
    assert_eq!(logged["path"], "/hook");
    let table = run_ok(dir.path(), &["requests"]);
    assert!(table.contains("invalid_token: signature does not match"), "{table}");
    assert_eq!(json(&run_ok(dir.path(), &["recordings", "--json"])), Value::Array(vec![]));
}

#[test]
fn settings_come_from_the_environment_like_the_flags() {
    let dir = TempDir::new().unwrap();
    let server = Server::start_with_env(dir.path(), &[], &[("EARSHOT_SECRET", SECRET), ("EARSHOT_AUTH", "observe")]);
    let output = run(dir.path(), &["send", &server.url("/"), "--secret", "wrong"]);
    assert!(output.status.success(), "observe mode accepts: {}", String::from_utf8_lossy(&output.stdout));
    let recordings = json(&run_ok(dir.path(), &["recordings", "--json"]));
    assert_eq!(recordings[0]["auth"]["verdict"], "invalid");
}

#[test]
fn settings_json_in_the_data_dir_is_read_and_flags_win_over_it() {
    let dir = TempDir::new().unwrap();
    std::fs::write(dir.path().join("settings.json"), format!(r#"{{"secret": "{SECRET}", "auth": "enforce"}}"#))
        .unwrap();
    let server = Server::start(dir.path(), &[]);
    let refused = run(dir.path(), &["send", &server.url("/"), "--secret", "wrong"]);
    assert!(!refused.status.success());
    run_ok(dir.path(), &["send", &server.url("/"), "--secret", SECRET]);
    drop(server);
    let open = Server::start(dir.path(), &["--auth", "off"]);
    run_ok(dir.path(), &["send", &open.url("/"), "--secret", "wrong"]);
}

#[test]
fn bad_arguments_unknown_ids_and_unwritable_paths_fail_clearly() {
    let dir = TempDir::new().unwrap();
    let data = dir.path();
    let cases: [(&[&str], &str); 6] = [
        (&["export", "no-such-recording"], "no recording matches \"no-such-recording\""),
        (&["export", "--session", "nope", "-o", "x"], "no recordings in session \"nope\""),
        (&["export"], "required"),
        (&["serve", "--auth", "observe", "--listen", "127.0.0.1:0"], "auth mode 'observe' needs a secret"),
        (&["serve", "--secret", "", "--listen", "127.0.0.1:0"], "the secret must be 1 to 1024 characters"),
        (&["send", "http://127.0.0.1:9/", "--secret", "s"], "(is the listener running and the URL right?)"),
    ];
    for (args, expected) in cases {
        let output = run(data, args);
        assert!(!output.status.success(), "{args:?} should fail");
        let text = format!("{}{}", String::from_utf8_lossy(&output.stderr), String::from_utf8_lossy(&output.stdout));
        assert!(text.contains(expected), "{args:?}: expected {expected:?} in {text}");
    }

    let server = Server::start(data, &[]);
    run_ok(data, &["send", &server.url("/"), "--secret", "anything"]);
    let recordings = json(&run_ok(data, &["recordings", "--json"]));
    let id = recordings[0]["recording_id"].as_str().unwrap();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, b"").unwrap();
    let target = blocker.join("out.wav");
    let output = run(data, &["export", id, "-o", target.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("cannot write") && stderr.contains("a-file/out.wav"), "{stderr}");
}

/// `earshot serve | head -1`: once the reader of its output is gone, the
/// listener must keep serving, not die on a broken pipe at its next line.
#[test]
fn serve_keeps_listening_when_its_stdout_reader_is_gone() {
    let dir = TempDir::new().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut child = earshot_tests::earshot(&dir.path().join("data"))
        .args(["serve", "--auth", "off", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let client = reqwest::blocking::Client::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let answered = loop {
        if let Ok(reply) = client.get(format!("http://127.0.0.1:{port}/")).send() {
            break reply.status().as_u16();
        }
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            panic!("earshot serve exited ({status}) instead of listening: {err}");
        }
        assert!(std::time::Instant::now() < deadline, "earshot serve never answered");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(answered, 200);
    // Its start-up lines were all written into the void by now; it must still be here.
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert!(child.try_wait().unwrap().is_none(), "earshot serve died after its output went nowhere");
    assert_eq!(client.get(format!("http://127.0.0.1:{port}/")).send().unwrap().status(), 200);
    let _ = child.kill();
    let _ = child.wait();
}
