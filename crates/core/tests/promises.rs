//! Promises the guides make about the listener, checked where a user would
//! notice them: `HEAD` is answered with no body and logged as `info`
//! (accepts.md); the inspector previews the first 4 KiB of a rejected body
//! and the log keeps at most 1 MiB of it (desktop.md, data.md); A-law WAV,
//! `WAVE_FORMAT_EXTENSIBLE` PCM and headerless `audio/alaw` are stored as
//! sent and export as the samples they hold (accepts.md).

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{Fixture, now};
use earshot_audio::{Container, Encoding, alaw};
use earshot_core::export::{self, Format};
use earshot_core::{AuthMode, Outcome};
use earshot_core::{PREVIEW_BYTES, REJECTED_BODY_CAP, hex_dump, jwt};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

const SECRET: &str = "promises kept secret";
const BOUNDARY: &str = "----------5C1E2D4A-0B7F-4E61-9A3D-2F8B6C0E1A97";

fn fixture(max_body: usize) -> Fixture {
    common::fixture(AuthMode::Enforce, SECRET, max_body)
}

fn token() -> String {
    let claims = json!({"sub": "user", "iss": "test-client", "exp": now().timestamp() + 30});
    jwt::sign_hs256(claims.as_object().unwrap(), SECRET.as_bytes())
}

/// A watsonx delivery whose audio part carries `audio_headers` after its disposition.
fn delivery(recording_id: &str, audio: &[u8], audio_headers: &str) -> Vec<u8> {
    let metadata = json!({
        "assistant_id": "assistant-promises",
        "environment_id": "environment-promises",
        "session_id": "session-promises",
        "recording_id": recording_id,
        "start_timestamp": "2026-11-26T11:59:57.000Z",
        "stop_timestamp": "2026-11-26T11:59:59.500Z"
    });
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n\
         {metadata}\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"audio_recording\"{audio_headers}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(audio);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn post(token: Option<String>, body: Vec<u8>) -> Request<Body> {
    let mut request =
        Request::post("/audio-webhook").header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"));
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    request.body(Body::from(body)).unwrap()
}

async fn status_of(f: &Fixture, request: Request<Body>) -> StatusCode {
    earshot_core::router(f.intake.clone()).oneshot(request).await.unwrap().status()
}

/// Delivers `audio`, then returns the exported PCM16 WAV's rate, channels and samples, read with hound.
async fn stored_then_exported(
    f: &Fixture,
    id: &str,
    audio: &[u8],
    audio_headers: &str,
) -> (Encoding, Container, u32, u16, Vec<i16>) {
    let status = status_of(f, post(Some(token()), delivery(id, audio, audio_headers))).await;
    assert_eq!(status, StatusCode::OK, "{id} accepted: {:?}", f.store.requests(1).unwrap()[0].reason);
    let rec = f.store.find_recording(id, None).unwrap();
    let original = f.store.audio(rec.row).unwrap();
    assert_eq!(original, audio, "{id} stored byte for byte");
    let file = export::render(&rec, &original, Format::Pcm16);
    let reader = hound::WavReader::new(std::io::Cursor::new(file)).expect("a PCM WAV");
    let spec = reader.spec();
    assert_eq!((spec.bits_per_sample, spec.sample_format), (16, hound::SampleFormat::Int), "{id} PCM16");
    let samples = reader.into_samples::<i16>().collect::<Result<Vec<_>, _>>().unwrap();
    (rec.encoding, rec.container, spec.sample_rate, spec.channels, samples)
}

/// A RIFF/WAVE file: `fmt ` (tag, channels, rate, bits, then `fmt_tail`), then `data` with its pad byte.
fn wav(tag: u16, channels: u16, rate: u32, bits: u16, fmt_tail: &[u8], data: &[u8]) -> Vec<u8> {
    let block_align = channels * bits / 8;
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&tag.to_le_bytes());
    fmt.extend_from_slice(&channels.to_le_bytes());
    fmt.extend_from_slice(&rate.to_le_bytes());
    fmt.extend_from_slice(&(rate * block_align as u32).to_le_bytes());
    fmt.extend_from_slice(&block_align.to_le_bytes());
    fmt.extend_from_slice(&bits.to_le_bytes());
    fmt.extend_from_slice(fmt_tail);
    let mut file = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
    file.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
    file.extend_from_slice(&fmt);
    file.extend_from_slice(b"data");
    file.extend_from_slice(&(data.len() as u32).to_le_bytes());
    file.extend_from_slice(data);
    if data.len() % 2 == 1 {
        file.push(0);
    }
    let riff_size = (file.len() - 8) as u32;
    file[4..8].copy_from_slice(&riff_size.to_le_bytes());
    file
}

/// Every A-law code, several times over, in an order that is not the table's.
fn alaw_codes(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 37 % 256) as u8).collect()
}

common::both! {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn head_is_answered_200_with_no_body_and_logged_as_info() {
        let f = fixture(1 << 20);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(earshot_core::serve(listener, f.intake.clone(), async {
            let _ = stopped.await;
        }));

        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        stream.write_all(b"HEAD /tunnel-check HTTP/1.1\r\nHost: earshot\r\nConnection: close\r\n\r\n").await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
            .await
            .expect("the connection closes after the answer")
            .unwrap();
        let text = String::from_utf8_lossy(&answer).into_owned();
        let (head, after) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no end of head in {text:?}"));
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(head.to_ascii_lowercase().contains("content-type: application/json"), "{head}");
        assert_eq!(after, "", "a HEAD answer carries no body");

        let logged = &f.store.requests(1).unwrap()[0];
        assert_eq!((logged.method.as_str(), logged.path.as_str(), logged.status), ("HEAD", "/tunnel-check", 200));
        assert_eq!(logged.outcome, Outcome::Info);
        assert_eq!(logged.outcome.as_str(), "info");
        let _ = stop.send(());
    }
}

common::both! {
    #[tokio::test]
    async fn the_inspector_previews_exactly_the_first_4_kib_of_a_rejected_body() {
        let f = fixture(1 << 20);
        let audio: Vec<u8> = (0..10_000).map(|i| b'a' + (i % 26) as u8).collect();
        let body = delivery("rec-preview", &audio, "");
        assert!(body.len() > 10_000, "a 10 KB request");
        assert_eq!(status_of(&f, post(None, body.clone())).await, StatusCode::UNAUTHORIZED);

        let logged = &f.store.requests(1).unwrap()[0];
        let detail = f.store.request_detail(logged.id).unwrap();
        assert_eq!(PREVIEW_BYTES, 4096);
        assert!(detail.truncated, "the body is longer than the preview");
        assert_eq!(detail.text.len(), PREVIEW_BYTES, "the text view shows 4096 bytes");
        assert_eq!(detail.text.as_bytes(), &body[..PREVIEW_BYTES]);
        assert_eq!(detail.hex, hex_dump(&body[..PREVIEW_BYTES]));
        assert_eq!(detail.hex.lines().count(), PREVIEW_BYTES / 16);
        assert!(detail.hex.lines().last().unwrap().starts_with("00000ff0  "), "last line is at offset 4080");
    }
}

common::both! {
    #[tokio::test]
    async fn a_rejected_body_keeps_its_first_mib_and_logs_its_full_size() {
        let f = fixture(2 << 20);
        let audio: Vec<u8> = (0..1_536 * 1024).map(|i| (i * 7 % 251) as u8).collect();
        let body = delivery("rec-cap", &audio, "");
        assert!(body.len() > 1_572_864, "a 1.5 MiB request");
        assert_eq!(status_of(&f, post(None, body.clone())).await, StatusCode::UNAUTHORIZED);

        let logged = &f.store.requests(1).unwrap()[0];
        assert_eq!(logged.outcome, Outcome::Rejected);
        assert_eq!(logged.body_size, body.len() as u64, "body_size is what arrived");
        assert_eq!(REJECTED_BODY_CAP, 1_048_576);
        assert_eq!(logged.body_stored, 1_048_576);
        let kept = f.store.request_body(logged.id).unwrap().expect("the body is kept");
        assert_eq!(kept.len(), 1_048_576);
        assert!(kept == body[..1_048_576], "the kept bytes are the first MiB as sent");
        assert!(f.store.request_detail(logged.id).unwrap().truncated);
    }
}

common::both! {
    #[tokio::test]
    async fn alaw_wav_is_stored_as_sent_and_exports_its_g711_decode() {
        let f = fixture(1 << 20);
        let codes = alaw_codes(8001);
        let file = wav(6, 1, 8000, 8, &0u16.to_le_bytes(), &codes);
        let headers = "; filename=\"call.wav\"\r\nContent-Type: audio/wav";
        let (encoding, container, rate, channels, samples) = stored_then_exported(&f, "rec-alaw-wav", &file, headers).await;
        assert_eq!((encoding, container, rate, channels), (Encoding::Alaw, Container::Wav, 8000, 1));
        let expected: Vec<i16> = codes.iter().map(|&c| alaw::decode(c)).collect();
        assert_eq!(samples.len(), 8001, "one sample per code, the pad byte left out");
        assert!(samples == expected, "exported samples are the A-law decode of the data");
        assert_eq!((alaw::decode(0xD5), alaw::decode(0x2A)), (8, -32256), "the G.711 table");
        let rec = f.store.find_recording("rec-alaw-wav", None).unwrap();
        assert_eq!((rec.sample_count, rec.duration_ms), (8001, 1000));
    }
}

common::both! {
    #[tokio::test]
    async fn wave_format_extensible_with_a_pcm_subformat_exports_its_16_bit_samples() {
        let f = fixture(1 << 20);
        let sent: Vec<i16> = (0..4000i32).map(|i| ((i * 1103 % 65_536) - 32_768) as i16).collect();
        let data: Vec<u8> = sent.iter().flat_map(|s| s.to_le_bytes()).collect();
        // cbSize 22, valid bits 16, channel mask FRONT_CENTER, KSDATAFORMAT_SUBTYPE_PCM.
        let mut tail = vec![22, 0, 16, 0, 4, 0, 0, 0];
        tail.extend_from_slice(&[0x01, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71]);
        let file = wav(0xFFFE, 1, 16_000, 16, &tail, &data);
        assert_eq!(u32::from_le_bytes(file[16..20].try_into().unwrap()), 40, "a 40-byte extensible fmt chunk");
        let (encoding, container, rate, channels, samples) =
            stored_then_exported(&f, "rec-extensible", &file, "\r\nContent-Type: audio/wav").await;
        assert_eq!((encoding, container, rate, channels), (Encoding::Pcm16, Container::Wav, 16_000, 1));
        assert!(samples == sent, "exported samples are the ones sent");
        let rec = f.store.find_recording("rec-extensible", None).unwrap();
        assert_eq!((rec.sample_count, rec.duration_ms), (4000, 250));
    }
}

common::both! {
    #[tokio::test]
    async fn headerless_audio_alaw_is_decoded_as_alaw() {
        let f = fixture(1 << 20);
        let codes = alaw_codes(4000);
        let expected: Vec<i16> = codes.iter().map(|&c| alaw::decode(c)).collect();
        let (encoding, container, rate, channels, samples) =
            stored_then_exported(&f, "rec-alaw-raw", &codes, "\r\nContent-Type: audio/alaw;rate=8000").await;
        assert_eq!((encoding, container, rate, channels), (Encoding::Alaw, Container::Raw, 8000, 1));
        assert!(samples == expected, "exported samples are the A-law decode, not the μ-law one");
    }
}
