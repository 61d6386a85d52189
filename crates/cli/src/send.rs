//! `earshot send`: posts requests shaped exactly like watsonx's Audio
//! webhook (documented multipart layout, fresh UUIDs, HS256 `Bearer` token)
//! to any URL — Earshot itself, a tunnel, or the user's production webhook —
//! and prints each status and latency.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use earshot_audio as audio;
use earshot_audio::wav;
use earshot_core::sample::{self, CallIds, Packaging};
use uuid::Uuid;

use crate::CliError;

/// watsonx waits at most 30 s for the webhook; so does `send`.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Options of `earshot send`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Webhook URL, e.g. http://127.0.0.1:8787/audio-webhook.
    url: String,
    /// The secret the receiver checks tokens with.
    #[arg(long, env = "EARSHOT_SECRET", hide_env_values = true)]
    secret: String,
    /// Audio to send: raw μ-law or a WAV (default: a synthesized 2.5 s utterance).
    #[arg(long, value_name = "FILE")]
    audio: Option<PathBuf>,
    /// Session (call) id to use; default: a fresh UUID shared by all --count recordings.
    #[arg(long, value_name = "ID")]
    session: Option<String>,
    /// Send a μ-law WAV file (as IBM's test client does).
    #[arg(long, conflicts_with = "raw")]
    wav: bool,
    /// Send headerless μ-law, audio/mulaw;rate=8000 (as IBM documents; the default for synthesized audio).
    #[arg(long)]
    raw: bool,
    /// How many recordings to send in the call.
    #[arg(long, default_value_t = 1)]
    count: usize,
}

struct Payload {
    bytes: Vec<u8>,
    packaging: Packaging,
    duration_ms: u64,
}

fn payload(args: &Args) -> Result<Payload, CliError> {
    let wanted = if args.wav {
        Some(Packaging::Wav)
    } else if args.raw {
        Some(Packaging::Raw)
    } else {
        None
    };
    let Some(path) = &args.audio else {
        let codes = sample::utterance(2.5);
        let packaging = wanted.unwrap_or(Packaging::Raw);
        return Ok(Payload { bytes: sample::package(&codes, packaging), packaging, duration_ms: 2500 });
    };
    let bytes = std::fs::read(path).map_err(|e| CliError::Message(format!("cannot read {}: {e}", path.display())))?;
    let info = audio::describe(&bytes, None).map_err(|e| CliError::Message(format!("{}: {e}", path.display())))?;
    let as_sent = if wav::looks_like_riff(&bytes) { Packaging::Wav } else { Packaging::Raw };
    match wanted {
        // No flag: the file goes byte for byte, labelled by what it is.
        None => Ok(Payload { bytes, packaging: as_sent, duration_ms: info.duration_ms }),
        Some(packaging) => {
            if info.sample_rate != 8000 {
                return Err(CliError::Message(format!(
                    "{} is {} Hz; --wav/--raw repackage 8 kHz audio only (send it without either flag to send it as is)",
                    path.display(),
                    info.sample_rate
                )));
            }
            let codes = audio::to_mulaw(&bytes, &info);
            Ok(Payload { bytes: sample::package(&codes, packaging), packaging, duration_ms: info.duration_ms })
        }
    }
}

pub fn run(args: Args) -> Result<(), CliError> {
    if args.count == 0 {
        return Err(CliError::Message("--count must be at least 1".into()));
    }
    let payload = payload(&args)?;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Message(format!("cannot start tokio: {e}")))?
        .block_on(send_all(&args, &payload))
}

async fn send_all(args: &Args, payload: &Payload) -> Result<(), CliError> {
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| CliError::Message(format!("cannot build the HTTP client: {e}")))?;
    let session_id = args.session.clone().unwrap_or_else(|| Uuid::new_v4().to_string());
    let assistant_id = Uuid::new_v4().to_string();
    let environment_id = Uuid::new_v4().to_string();
    let mut failures = 0;
    for _ in 0..args.count {
        let ids = CallIds {
            assistant_id: assistant_id.clone(),
            environment_id: environment_id.clone(),
            session_id: session_id.clone(),
            recording_id: Uuid::new_v4().to_string(),
        };
        let now = Utc::now();
        let boundary = format!("----------{}", Uuid::new_v4().to_string().to_uppercase());
        let delivery = sample::delivery(&ids, &payload.bytes, payload.packaging, payload.duration_ms, now, &boundary);
        let started = Instant::now();
        let response = client
            .post(&args.url)
            .header("Content-Type", delivery.content_type)
            .header("Authorization", sample::authorization(args.secret.as_bytes(), now))
            .body(delivery.body)
            .send()
            .await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        match response {
            Ok(response) => {
                let status = response.status();
                let body = response.text().await.unwrap_or_default();
                println!("{} recording {} session {} {ms:.1} ms", status.as_u16(), ids.recording_id, ids.session_id);
                if !status.is_success() {
                    failures += 1;
                    println!("  {}", body.trim());
                }
            }
            Err(e) => {
                failures += 1;
                println!("failed recording {} {ms:.1} ms: {}", ids.recording_id, describe(&e));
            }
        }
    }
    if failures > 0 {
        return Err(CliError::Message(format!("{failures} of {} requests did not succeed", args.count)));
    }
    Ok(())
}

fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        text.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    if error.is_connect() {
        text.push_str(" (is the listener running and the URL right?)");
    } else if error.is_timeout() {
        text.push_str(" (no answer within 30 s: watsonx would hang up the call)");
    }
    text
}
