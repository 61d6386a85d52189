//! Requests shaped exactly like watsonx's Audio webhook, for `earshot send`,
//! the tests and the benchmarks: the documented multipart layout, fresh ids
//! supplied by the caller, an HS256 token, and a synthesized utterance when
//! the user has no recording at hand.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use earshot_audio::{mulaw, wav};

use crate::intake::jwt;

/// How a call's audio is packaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packaging {
    /// Headerless μ-law, `Content-Type: audio/mulaw;rate=8000` (the documented form).
    Raw,
    /// A μ-law WAV file, as IBM's test client sends.
    Wav,
}

/// The ids watsonx puts in the metadata. Passed in so callers control randomness.
#[derive(Debug, Clone)]
pub struct CallIds {
    /// Assistant id.
    pub assistant_id: String,
    /// Environment id.
    pub environment_id: String,
    /// Session (call) id.
    pub session_id: String,
    /// Recording id.
    pub recording_id: String,
}

/// One webhook delivery, ready to send.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The `Content-Type` header, with boundary.
    pub content_type: String,
    /// The multipart body.
    pub body: Vec<u8>,
}

/// Builds the multipart body. `audio` is sent as given; `packaging` picks its part type.
///
/// The utterance is taken to have ended at `stopped`, so `start_timestamp` is
/// `stopped` minus the audio's duration.
pub fn delivery(
    ids: &CallIds,
    audio: &[u8],
    packaging: Packaging,
    duration_ms: u64,
    stopped: DateTime<Utc>,
    boundary: &str,
) -> Delivery {
    let start = stopped - Duration::milliseconds(duration_ms as i64);
    let metadata = json!({
        "assistant_id": ids.assistant_id,
        "environment_id": ids.environment_id,
        "session_id": ids.session_id,
        "recording_id": ids.recording_id,
        "start_timestamp": start.to_rfc3339_opts(SecondsFormat::Millis, true),
        "stop_timestamp": stopped.to_rfc3339_opts(SecondsFormat::Millis, true),
    });
    let audio_headers = match packaging {
        Packaging::Raw => {
            "Content-Disposition: form-data; name=\"audio_recording\"\r\nContent-Type: audio/mulaw;rate=8000"
                .to_string()
        }
        Packaging::Wav => format!(
            "Content-Disposition: form-data; name=\"audio_recording\"; filename=\"{}.wav\"\r\nContent-Type: audio/wav",
            ids.recording_id
        ),
    };
    let mut body = Vec::with_capacity(audio.len() + 1024);
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n").as_bytes());
    body.extend_from_slice(serde_json::to_string_pretty(&metadata).unwrap_or_default().as_bytes());
    body.extend_from_slice(format!("\r\n--{boundary}\r\n{audio_headers}\r\n\r\n").as_bytes());
    body.extend_from_slice(audio);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    Delivery { content_type: format!("multipart/form-data; boundary={boundary}"), body }
}

/// The claims IBM's test client signs, with `iat`: issued now, valid 30 s.
pub fn claims(now: DateTime<Utc>) -> Map<String, Value> {
    let now = now.timestamp();
    let Value::Object(map) = json!({"sub": "user", "iss": "earshot-send", "iat": now, "exp": now + 30}) else {
        unreachable!("literal object")
    };
    map
}

/// `Bearer <HS256 token>` for the secret.
pub fn authorization(secret: &[u8], now: DateTime<Utc>) -> String {
    format!("Bearer {}", jwt::sign_hs256(&claims(now), secret))
}

/// A voice-like test utterance at 8 kHz: a gliding 110–190 Hz buzz with
/// harmonics, shaped into syllables, as μ-law codes. Deterministic.
pub fn utterance(seconds: f64) -> Vec<u8> {
    let rate = 8000.0;
    let total = (seconds * rate) as usize;
    let mut phase = 0.0f64;
    (0..total)
        .map(|n| {
            let t = n as f64 / rate;
            let pitch = 150.0 + 40.0 * (2.0 * std::f64::consts::PI * 0.7 * t).sin();
            phase += 2.0 * std::f64::consts::PI * pitch / rate;
            let voice: f64 = (1..=6).map(|h| (phase * h as f64).sin() / h as f64).sum();
            let syllables = (2.0 * std::f64::consts::PI * 3.0 * t).sin().abs().powf(0.6);
            let fade = (t / 0.05).min(1.0) * ((seconds - t) / 0.05).clamp(0.0, 1.0);
            mulaw::encode((voice * syllables * fade * 9000.0) as i16)
        })
        .collect()
}

/// Packages μ-law codes for sending.
pub fn package(codes: &[u8], packaging: Packaging) -> Vec<u8> {
    match packaging {
        Packaging::Raw => codes.to_vec(),
        Packaging::Wav => wav::mulaw_wav(codes, 8000, 1),
    }
}
