//! The IBM-shaped upstream fixture (`tests/fixtures/ibm-server`) is a real
//! express + multer + jsonwebtoken server: it stores the audio part it is
//! sent and answers 401 without a token and 400 for one `jwt.verify` rejects,
//! as IBM's `audio-webhook-server` does. The forward and replay scenarios rely
//! on exactly this, so it is proven here once, with a body built
//! independently of Earshot (reqwest multipart) and with `earshot send`.

use std::time::{SystemTime, UNIX_EPOCH};

use earshot_core::jwt::sign_hs256;
use earshot_tests::upstream::IbmServer;
use reqwest::blocking::multipart::{Form, Part};
use serde_json::{Value, json};

const SECRET: &str = "upstream-secret";

/// A token like watsonx's: HS256, expiring 30 s after it is issued.
fn token(secret: &str) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let Value::Object(claims) = json!({"iat": now, "exp": now + 30, "sub": "watsonx"}) else { unreachable!() };
    sign_hs256(&claims, secret.as_bytes())
}

/// Every μ-law byte value, so a re-encoding or text conversion on the way would show.
fn audio() -> Vec<u8> {
    (0..8000u32).map(|i| (i % 256) as u8).collect()
}

fn form(audio: Vec<u8>) -> Form {
    let metadata = json!({"recording_id": "rec-1", "session_id": "sess-1", "assistant_id": "asst-1"});
    Form::new()
        .text("metadata", metadata.to_string())
        .part("audio_recording", Part::bytes(audio).file_name("rec-1.ul").mime_str("audio/mulaw;rate=8000").unwrap())
}

fn post(server: &IbmServer, authorization: Option<String>) -> (u16, Value) {
    let mut request = reqwest::blocking::Client::new().post(&server.url).multipart(form(audio()));
    if let Some(value) = authorization {
        request = request.header("Authorization", value);
    }
    let response = request.send().expect("POST to the IBM-shaped server");
    let status = response.status().as_u16();
    (status, response.json().expect("a JSON answer"))
}

#[test]
fn stores_the_audio_part_byte_for_byte_and_answers_with_the_verified_claims() {
    let server = IbmServer::start(SECRET);
    let (status, answer) = post(&server, Some(format!("Bearer {}", token(SECRET))));
    assert_eq!(status, 200, "{answer}\n{}", server.stderr());

    let saved = std::path::PathBuf::from(answer["saved"].as_str().expect("saved path"));
    assert!(saved.starts_with(&server.upload_dir), "{} is outside {}", saved.display(), server.upload_dir.display());
    assert_eq!(std::fs::read(&saved).unwrap(), audio(), "the stored file is the audio part's bytes");
    assert_eq!(answer["bytes"], 8000);
    assert_eq!(answer["originalname"], "rec-1.ul");
    assert_eq!(answer["metadata"]["recording_id"], "rec-1");
    assert_eq!(answer["claims"]["sub"], "watsonx");
}

#[test]
fn no_authorization_is_401_and_a_token_that_fails_verify_is_400() {
    let server = IbmServer::start(SECRET);
    let (status, answer) = post(&server, None);
    assert_eq!(status, 401, "{answer}");

    let (status, answer) = post(&server, Some(format!("Bearer {}", token("another-secret"))));
    assert_eq!(status, 400, "a token signed with another secret: {answer}");
    assert_eq!(answer["reason"], "invalid signature");

    // IBM's server strips only "Bearer " (capital B), so "bearer <token>" fails verify.
    let (status, answer) = post(&server, Some(format!("bearer {}", token(SECRET))));
    assert_eq!(status, 400, "lower-case scheme: {answer}");

    assert_eq!(std::fs::read_dir(&server.upload_dir).unwrap().count(), 0, "rejected requests store nothing");
}

/// multer (busboy) files a part only when its Content-Disposition has a
/// `filename`; without one the audio arrives as a text field and IBM's
/// handler fails with "unable to save file" (a 500). A forward or replay test
/// that sees a 500 from this server should look here first.
#[test]
fn an_audio_part_without_a_filename_is_not_a_file_to_multer() {
    let server = IbmServer::start(SECRET);
    let form = Form::new()
        .text("metadata", json!({"recording_id": "rec-1"}).to_string())
        .part("audio_recording", Part::bytes(audio()).mime_str("audio/mulaw;rate=8000").unwrap());
    let response = reqwest::blocking::Client::new()
        .post(&server.url)
        .header("Authorization", format!("Bearer {}", token(SECRET)))
        .multipart(form)
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 500);
    assert_eq!(std::fs::read_dir(&server.upload_dir).unwrap().count(), 0);
}

/// `earshot send --wav` sends what IBM's test client sends (a μ-law WAV with a filename).
#[test]
fn stores_what_earshot_send_wav_sends() {
    let server = IbmServer::start(SECRET);
    let data = tempfile::tempdir().unwrap();
    let raw = data.path().join("audio.ul");
    std::fs::write(&raw, audio()).unwrap();
    let args = ["send", "--secret", SECRET, "--wav", "--audio", raw.to_str().unwrap(), &server.url];
    let output = earshot_tests::run_ok(data.path(), &args);
    assert!(output.starts_with("200 "), "earshot send said:\n{output}");
    let saved: Vec<_> = std::fs::read_dir(&server.upload_dir).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(saved.len(), 1, "one stored recording; earshot send said:\n{output}\n{}", server.stderr());
    let wav = std::fs::read(&saved[0]).unwrap();
    assert_eq!(&wav[..4], b"RIFF");
    let data_at = wav.windows(4).position(|w| w == b"data").expect("a data chunk") + 8;
    assert_eq!(&wav[data_at..data_at + 8000], audio().as_slice(), "the WAV's samples are the audio sent");
}
