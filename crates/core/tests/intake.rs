//! The intake through `oneshot` (no socket) and through a real server on
//! 127.0.0.1:0 with `reqwest` multipart: what is stored, what is answered,
//! what is logged.

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Fixture, now};
use earshot_audio::wav;
use earshot_core::AuthMode;
use earshot_core::{Event, jwt};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &str = "correct horse battery staple";

fn fixture_with(mode: AuthMode, max_body: usize) -> Fixture {
    common::fixture(mode, SECRET, max_body)
}

fn fixture() -> Fixture {
    fixture_with(AuthMode::Enforce, 1024 * 1024)
}

fn token() -> String {
    let claims = json!({"sub": "user", "iss": "test-client", "exp": now().timestamp() + 30});
    jwt::sign_hs256(claims.as_object().unwrap(), SECRET.as_bytes())
}

fn metadata(recording_id: &str) -> Value {
    json!({
        "assistant_id": "dadf4b56-3b67-411a-b48d-079806b626d3",
        "environment_id": "6205aead-fe91-44af-bfe1-b4435015ba23",
        "session_id": "50989a59-9976-4b3f-9a98-af42adcad69a",
        "recording_id": recording_id,
        "start_timestamp": "2026-11-26T11:59:57.000Z",
        "stop_timestamp": "2026-11-26T11:59:59.500Z"
    })
}

/// One multipart part: name, extra header lines, bytes.
struct Part<'a> {
    name: &'a str,
    headers: &'a str,
    bytes: Vec<u8>,
}

const BOUNDARY: &str = "----------3676416B-9AD6-440C-B3C8-FC66DDC7DB45";

fn multipart(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{}\"", part.name).as_bytes(),
        );
        body.extend_from_slice(part.headers.as_bytes());
        body.extend_from_slice(b"\r\n\r\n");
        body.extend_from_slice(&part.bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn watsonx_body(recording_id: &str, audio: &[u8], audio_headers: &str) -> Vec<u8> {
    multipart(&[
        Part {
            name: "metadata",
            headers: "\r\nContent-Type: application/json",
            bytes: metadata(recording_id).to_string().into_bytes(),
        },
        Part { name: "audio_recording", headers: audio_headers, bytes: audio.to_vec() },
    ])
}

fn post() -> axum::http::request::Builder {
    Request::post("/audio-webhook").header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
}

async fn call(router: Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response.headers().get("content-type").map(|v| v.to_str().unwrap().to_string());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(content_type.as_deref(), Some("application/json"), "every answer is JSON");
    (status, serde_json::from_slice(&bytes).unwrap())
}

async fn deliver(f: &Fixture, body: Vec<u8>) -> (StatusCode, Value) {
    let request = post().header("authorization", format!("Bearer {}", token())).body(Body::from(body)).unwrap();
    call(earshot_core::router(f.intake.clone()), request).await
}

fn ramp(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 256) as u8).collect()
}

common::both! {
    #[tokio::test]
    async fn raw_mulaw_without_filename_or_type_is_stored_byte_exact() {
        let f = fixture();
        let audio = ramp(20_000);
        let (status, body) = deliver(&f, watsonx_body("rec-raw", &audio, "")).await;
        assert_eq!((status, body), (StatusCode::OK, json!({})));
        let rec = f.store.find_recording("rec-raw", None).unwrap();
        assert_eq!(f.store.audio(rec.row).unwrap(), audio);
        assert_eq!((rec.encoding.as_str(), rec.container.as_str(), rec.sample_rate), ("mulaw", "raw", 8000));
        assert_eq!((rec.sample_count, rec.duration_ms, rec.size_bytes), (20_000, 2500, 20_000));
        assert_eq!(rec.auth.verdict, earshot_core::TokenCheck::Valid);
        assert_eq!(rec.filename, None);
        assert_eq!(rec.path, "/audio-webhook");
    }
}

common::both! {
    #[tokio::test]
    async fn raw_mulaw_with_filename_and_documented_type() {
        let f = fixture();
        let audio = ramp(8001);
        let headers = "; filename=\"../../etc/passwd\"\r\nContent-Type: audio/mulaw;rate=8000";
        let (status, _) = deliver(&f, watsonx_body("rec-named", &audio, headers)).await;
        assert_eq!(status, StatusCode::OK);
        let rec = f.store.find_recording("rec-named", None).unwrap();
        assert_eq!(rec.filename.as_deref(), Some("../../etc/passwd"), "kept for display, never used as a path");
        assert_eq!(rec.part_content_type.as_deref(), Some("audio/mulaw;rate=8000"));
        assert_eq!(f.store.audio(rec.row).unwrap(), audio);
    }
}

common::both! {
    #[tokio::test]
    async fn mulaw_wav_with_odd_data_and_pad_byte_is_stored_as_sent() {
        let f = fixture();
        let codes = ramp(12_345);
        let file = wav::mulaw_wav(&codes, 8000, 1);
        assert_eq!(file.len(), 58 + 12_345 + 1);
        let headers = "; filename=\"audio.wav\"\r\nContent-Type: audio/wav";
        let (status, _) = deliver(&f, watsonx_body("rec-wav", &file, headers)).await;
        assert_eq!(status, StatusCode::OK);
        let rec = f.store.find_recording("rec-wav", None).unwrap();
        assert_eq!(f.store.audio(rec.row).unwrap(), file, "pad byte included");
        assert_eq!((rec.container.as_str(), rec.sample_count, rec.size_bytes), ("wav", 12_345, 12_404));
    }
}

common::both! {
    #[tokio::test]
    async fn same_audio_again_is_a_duplicate_stored_once() {
        let f = fixture();
        let body = watsonx_body("rec-dup", &ramp(4000), "");
        assert_eq!(deliver(&f, body.clone()).await.0, StatusCode::OK);
        assert_eq!(deliver(&f, body).await.0, StatusCode::OK);
        assert_eq!(f.store.recordings(None).unwrap().len(), 1);
        let outcomes: Vec<&str> = f.store.requests(10).unwrap().into_iter().map(|r| r.outcome.as_str()).collect();
        assert_eq!(outcomes, ["duplicate", "stored"]);
    }
}

common::both! {
    #[tokio::test]
    async fn different_audio_under_the_same_id_becomes_a_conflicting_version() {
        let f = fixture();
        assert_eq!(deliver(&f, watsonx_body("rec-c", &ramp(4000), "")).await.0, StatusCode::OK);
        assert_eq!(deliver(&f, watsonx_body("rec-c", &ramp(4001), "")).await.0, StatusCode::OK);
        let all = f.store.recordings(None).unwrap();
        assert_eq!(all.iter().map(|r| (r.version, r.conflict)).collect::<Vec<_>>(), [(1, false), (2, true)]);
        assert_eq!(f.store.find_recording("rec-c", None).unwrap().size_bytes, 4001);
        assert_eq!(f.store.find_recording("rec-c", Some(1)).unwrap().size_bytes, 4000);
        assert_eq!(f.store.requests(1).unwrap()[0].outcome, earshot_core::Outcome::Conflict);
    }
}

/// One hostile or broken request and what it must be answered.
struct Case {
    label: &'static str,
    request: Request<Body>,
    status: StatusCode,
    code: &'static str,
    message_has: &'static str,
}

fn with_token(builder: axum::http::request::Builder) -> axum::http::request::Builder {
    builder.header("authorization", format!("Bearer {}", token()))
}

fn error_cases() -> Vec<Case> {
    let good = watsonx_body("rec-x", &ramp(100), "");
    let mut meta_missing = metadata("rec-x");
    meta_missing.as_object_mut().unwrap().remove("session_id");
    let mut meta_bad_time = metadata("rec-x");
    meta_bad_time["start_timestamp"] = json!("yesterday");
    let meta_part = |v: &Value| Part { name: "metadata", headers: "", bytes: v.to_string().into_bytes() };
    let audio_part = |bytes: Vec<u8>| Part { name: "audio_recording", headers: "", bytes };
    let wrong_secret = jwt::sign_hs256(json!({"sub": "user"}).as_object().unwrap(), b"not the secret");
    let truncated = good[..good.len() - 30].to_vec();
    vec![
        Case {
            label: "no token",
            request: post().body(Body::from(good.clone())).unwrap(),
            status: StatusCode::UNAUTHORIZED,
            code: "missing_token",
            message_has: "no token",
        },
        Case {
            label: "wrong secret",
            request: post()
                .header("authorization", format!("Bearer {wrong_secret}"))
                .body(Body::from(good.clone()))
                .unwrap(),
            status: StatusCode::UNAUTHORIZED,
            code: "invalid_token",
            message_has: "signature does not match",
        },
        Case {
            label: "not multipart",
            request: with_token(Request::post("/"))
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap(),
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "not_multipart",
            message_has: "application/json",
        },
        Case {
            label: "no metadata part",
            request: with_token(post()).body(Body::from(multipart(&[audio_part(ramp(10))]))).unwrap(),
            status: StatusCode::BAD_REQUEST,
            code: "missing_part",
            message_has: "'metadata'",
        },
        Case {
            label: "no audio part",
            request: with_token(post()).body(Body::from(multipart(&[meta_part(&metadata("rec-x"))]))).unwrap(),
            status: StatusCode::BAD_REQUEST,
            code: "missing_part",
            message_has: "'audio_recording'",
        },
        Case {
            label: "missing field",
            request: with_token(post())
                .body(Body::from(multipart(&[meta_part(&meta_missing), audio_part(ramp(10))])))
                .unwrap(),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "missing_field",
            message_has: "'session_id'",
        },
        Case {
            label: "bad timestamp",
            request: with_token(post())
                .body(Body::from(multipart(&[meta_part(&meta_bad_time), audio_part(ramp(10))])))
                .unwrap(),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid_timestamp",
            message_has: "start_timestamp",
        },
        Case {
            label: "empty audio",
            request: with_token(post())
                .body(Body::from(multipart(&[meta_part(&metadata("rec-x")), audio_part(vec![])])))
                .unwrap(),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "empty_audio",
            message_has: "empty",
        },
        Case {
            label: "broken RIFF",
            request: with_token(post())
                .body(Body::from(multipart(&[
                    meta_part(&metadata("rec-x")),
                    audio_part(b"RIFF\x10\0\0\0WAVEjunk".to_vec()),
                ])))
                .unwrap(),
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid_wav",
            message_has: "RIFF",
        },
        Case {
            label: "duplicate part",
            request: with_token(post())
                .body(Body::from(multipart(&[
                    meta_part(&metadata("rec-x")),
                    meta_part(&metadata("rec-y")),
                    audio_part(ramp(10)),
                ])))
                .unwrap(),
            status: StatusCode::BAD_REQUEST,
            code: "duplicate_part",
            message_has: "'metadata'",
        },
        Case {
            label: "truncated body",
            request: with_token(post()).body(Body::from(truncated)).unwrap(),
            status: StatusCode::BAD_REQUEST,
            code: "truncated_multipart",
            message_has: "ends early",
        },
        Case {
            label: "metadata over 64 KiB",
            request: with_token(post())
                .body(Body::from(multipart(&[
                    Part { name: "metadata", headers: "", bytes: vec![b' '; 70_000] },
                    audio_part(ramp(10)),
                ])))
                .unwrap(),
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "metadata_too_large",
            message_has: "65536",
        },
        Case {
            label: "body over the cap",
            request: with_token(post()).body(Body::from(watsonx_body("rec-x", &vec![0u8; 1_100_000], ""))).unwrap(),
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "body_too_large",
            message_has: "limit is 1048576",
        },
        Case {
            label: "wrong method",
            request: Request::put("/audio-webhook").body(Body::empty()).unwrap(),
            status: StatusCode::METHOD_NOT_ALLOWED,
            code: "method_not_allowed",
            message_has: "PUT",
        },
    ]
}

common::both! {
    #[tokio::test]
    async fn each_error_path_has_its_status_code_and_message_and_is_logged() {
        let f = fixture();
        assert_eq!(deliver(&f, watsonx_body("rec-kept", &ramp(800), "")).await.0, StatusCode::OK);
        let before = f.store.recordings(None).unwrap();
        for case in error_cases() {
            let (status, body) = call(earshot_core::router(f.intake.clone()), case.request).await;
            assert_eq!(status, case.status, "{}: {body}", case.label);
            assert_eq!(body["error"], case.code, "{}: {body}", case.label);
            let message = body["message"].as_str().unwrap();
            assert!(message.contains(case.message_has), "{}: {message:?} lacks {:?}", case.label, case.message_has);
            let logged = &f.store.requests(1).unwrap()[0];
            assert_eq!((logged.status, logged.outcome.as_str()), (case.status.as_u16(), "rejected"), "{}", case.label);
            assert_eq!(logged.error.as_deref(), Some(case.code), "{}", case.label);
            assert_eq!(logged.reason.as_deref(), Some(message), "{}", case.label);
        }
        assert_eq!(f.store.recordings(None).unwrap(), before, "nothing stored or changed by bad requests");
        assert_eq!(deliver(&f, watsonx_body("rec-after", &ramp(800), "")).await.0, StatusCode::OK, "still serving");
    }
}

common::both! {
    #[tokio::test]
    async fn rejected_bodies_are_kept_for_inspection_with_their_parts() {
        let f = fixture();
        let body = watsonx_body("rec-r", &ramp(300), "");
        let request = post().body(Body::from(body.clone())).unwrap();
        assert_eq!(call(earshot_core::router(f.intake.clone()), request).await.0, StatusCode::UNAUTHORIZED);
        let logged = &f.store.requests(1).unwrap()[0];
        assert_eq!(f.store.request_body(logged.id).unwrap(), Some(body));
        assert_eq!(logged.session_id.as_deref(), Some("50989a59-9976-4b3f-9a98-af42adcad69a"));
        let parts = logged.parts.as_ref().unwrap();
        assert_eq!(parts[1]["name"], "audio_recording");
        assert_eq!(parts[1]["size"], 300);
    }
}

common::both! {
    #[tokio::test]
    async fn observe_mode_accepts_and_marks_bad_tokens() {
        let f = fixture_with(AuthMode::Observe, 1 << 20);
        let body = watsonx_body("rec-o", &ramp(100), "");
        let forged = jwt::sign_hs256(json!({"sub": "x"}).as_object().unwrap(), b"wrong");
        let request = post().header("authorization", forged).body(Body::from(body)).unwrap();
        assert_eq!(call(earshot_core::router(f.intake.clone()), request).await.0, StatusCode::OK);
        let rec = f.store.find_recording("rec-o", None).unwrap();
        assert_eq!(rec.auth.verdict, earshot_core::TokenCheck::Invalid);
        assert!(rec.auth.reason.unwrap().contains("signature"));
        assert_eq!(f.store.sessions().unwrap()[0].flagged_requests, 1);
    }
}

common::both! {
    #[tokio::test]
    async fn off_mode_still_shows_the_decoded_token() {
        let f = fixture_with(AuthMode::Off, 1 << 20);
        let (status, _) = deliver(&f, watsonx_body("rec-off", &ramp(100), "")).await;
        assert_eq!(status, StatusCode::OK);
        let logged = &f.store.requests(1).unwrap()[0];
        assert_eq!(logged.auth.verdict, earshot_core::TokenCheck::Off);
        assert_eq!(logged.jwt_claims.as_ref().unwrap()["iss"], "test-client");
        let auth_header = logged.headers.as_array().unwrap().iter().find(|h| h[0] == "authorization").unwrap();
        assert!(auth_header[1].as_str().unwrap().ends_with(".<signature removed>"));
    }
}

common::both! {
    #[tokio::test]
    async fn authentication_header_is_accepted_as_a_fallback() {
        let f = fixture();
        let body = watsonx_body("rec-a", &ramp(100), "");
        let request = post().header("authentication", token()).body(Body::from(body)).unwrap();
        assert_eq!(call(earshot_core::router(f.intake.clone()), request).await.0, StatusCode::OK);
        let rec = f.store.find_recording("rec-a", None).unwrap();
        assert_eq!(rec.auth.verdict, earshot_core::TokenCheck::Valid);
        assert!(rec.auth.reason.unwrap().contains("'authentication'"));
    }
}

common::both! {
    #[tokio::test]
    async fn a_replaced_content_type_still_parses_from_the_body_boundary() {
        let f = fixture();
        let body = watsonx_body("rec-ct", &ramp(100), "");
        let request =
            with_token(Request::post("/hook")).header("content-type", "application/json").body(Body::from(body)).unwrap();
        assert_eq!(call(earshot_core::router(f.intake.clone()), request).await.0, StatusCode::OK);
    }
}

common::both! {
    #[tokio::test]
    async fn get_is_answered_and_logged() {
        let f = fixture();
        let (status, body) =
            call(earshot_core::router(f.intake.clone()), Request::get("/").body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["service"], "earshot");
        assert_eq!(f.store.requests(1).unwrap()[0].outcome, earshot_core::Outcome::Info);
    }
}

common::both! {
    #[tokio::test]
    async fn stored_recordings_are_announced_on_the_event_stream() {
        let f = fixture();
        let mut events = f.intake.subscribe();
        deliver(&f, watsonx_body("rec-ev", &ramp(100), "")).await;
        let first = events.recv().await.unwrap();
        assert!(matches!(first, Event::RecordingStored { ref recording_id, version: 1, .. } if recording_id == "rec-ev"));
        assert!(matches!(events.recv().await.unwrap(), Event::RequestLogged { status: 200, .. }));
    }
}

async fn start_server(f: &Fixture) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/audio-webhook", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let router = earshot_core::router(f.intake.clone());
    tokio::spawn(earshot_core::serve_router(listener, router, earshot_core::Limits::default(), async {
        let _ = stopped.await;
    }));
    (url, stop)
}

fn reqwest_form(
    recording_id: &str,
    audio: Vec<u8>,
    filename: Option<&str>,
    mime: Option<&str>,
) -> reqwest::multipart::Form {
    let mut part = reqwest::multipart::Part::bytes(audio);
    if let Some(name) = filename {
        part = part.file_name(name.to_string());
    }
    if let Some(mime) = mime {
        part = part.mime_str(mime).unwrap();
    }
    reqwest::multipart::Form::new().text("metadata", metadata(recording_id).to_string()).part("audio_recording", part)
}

common::both! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn real_server_accepts_reqwest_multipart_in_every_documented_shape() {
        let f = fixture_with(AuthMode::Enforce, 1 << 20);
        let (url, _stop) = start_server(&f).await;
        let client = reqwest::Client::new();
        let wav_file = wav::mulaw_wav(&ramp(2001), 8000, 1);
        let shapes = [
            ("r1", ramp(1600), None, None),
            ("r2", ramp(1600), Some("utterance.ul"), Some("audio/mulaw;rate=8000")),
            ("r3", wav_file.clone(), Some("audio.wav"), Some("audio/wav")),
            ("r4", wav_file.clone(), None, None),
        ];
        for (id, audio, filename, mime) in shapes {
            let response = client
                .post(&url)
                .bearer_auth(token())
                .multipart(reqwest_form(id, audio.clone(), filename, mime))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{id}");
            assert_eq!(response.headers()["content-type"], "application/json");
            assert_eq!(response.text().await.unwrap(), "{}");
            let rec = f.store.find_recording(id, None).unwrap();
            assert_eq!(f.store.audio(rec.row).unwrap(), audio, "{id} byte-exact");
        }
        let logged = &f.store.requests(1).unwrap()[0];
        assert!(logged.remote_addr.as_deref().unwrap().starts_with("127.0.0.1:"));
    }
}

common::both! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_200_means_the_row_is_already_readable() {
        let f = fixture_with(AuthMode::Enforce, 1 << 20);
        let (url, _stop) = start_server(&f).await;
        let client = reqwest::Client::new();
        let mut tasks = Vec::new();
        for i in 0..24 {
            let (client, url, store) = (client.clone(), url.clone(), f.store.clone());
            tasks.push(tokio::spawn(async move {
                let id = format!("durable-{i}");
                let response = client
                    .post(&url)
                    .bearer_auth(token())
                    .multipart(reqwest_form(&id, ramp(4000 + i), None, None))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
                // A fresh connection, straight after the answer: the commit must already be visible.
                let rec = store.find_recording(&id, None).unwrap();
                assert_eq!(rec.size_bytes, 4000 + i as u64);
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(f.store.recordings(None).unwrap().len(), 24);
    }
}
