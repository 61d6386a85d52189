//! A webhook delivery read from its multipart body: the `metadata` part
//! (validated by `metadata`) and the `audio_recording` part (described by
//! `audio`), with an HTTP [`Rejection`] naming the fault when the body is
//! not one. Tolerant where watsonx is under-documented: the boundary may
//! come from the body's first line, other parts are ignored. Reading the
//! body off the socket and deciding what to answer stay in `intake`.

use axum::body::Bytes;
use axum::http::{StatusCode, header, request::Parts};
use serde_json::{Value, json};

use crate::audio::{self, AudioError};
use crate::intake::Rejection;
use crate::metadata::{self, Metadata};
use crate::model::NewRequest;

/// Largest `metadata` part: the six fields take ~300 bytes, so 64 KiB only stops abuse.
pub const MAX_METADATA: u64 = 64 * 1024;

/// The part names watsonx uses.
pub const METADATA_PART: &str = "metadata";
/// The part names watsonx uses.
pub const AUDIO_PART: &str = "audio_recording";

/// A delivery that passed every check.
pub(crate) struct Delivery {
    /// The `metadata` part, validated.
    pub(crate) metadata: Metadata,
    /// The `audio_recording` part's bytes, exactly as sent.
    pub(crate) audio: Bytes,
    /// The audio part's `filename`, shown but never used as a path.
    pub(crate) filename: Option<String>,
    /// The audio part's own `Content-Type`.
    pub(crate) content_type: Option<String>,
    /// What the audio bytes are.
    pub(crate) info: audio::AudioInfo,
}

struct AudioPart {
    bytes: Bytes,
    filename: Option<String>,
    content_type: Option<String>,
}

/// The multipart boundary from the header, or — when a custom header replaced
/// the multipart type — from the body's first line.
fn boundary(head: &Parts, body: &[u8]) -> Result<String, Rejection> {
    let content_type =
        head.headers.get(header::CONTENT_TYPE).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    if let Some(ct) = &content_type
        && let Ok(b) = multer::parse_boundary(ct)
    {
        return Ok(b);
    }
    if let Some(line) = body.strip_prefix(b"--").and_then(|rest| rest.split(|&b| b == b'\r' || b == b'\n').next())
        && (1..=200).contains(&line.len())
        && line.iter().all(|b| b.is_ascii_graphic() || *b == b' ')
    {
        return Ok(String::from_utf8_lossy(line).trim_end().to_string());
    }
    Err(match content_type {
        Some(ct) if ct.to_ascii_lowercase().starts_with("multipart/") => Rejection::new(
            StatusCode::BAD_REQUEST,
            "no_boundary",
            format!("Content-Type {ct:?} has no boundary parameter and the body does not start with one"),
        ),
        Some(ct) => Rejection::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not_multipart",
            format!(
                "expected multipart/form-data with 'metadata' and 'audio_recording' parts; Content-Type was {ct:?}"
            ),
        ),
        None => Rejection::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not_multipart",
            "expected multipart/form-data with 'metadata' and 'audio_recording' parts; no Content-Type was sent",
        ),
    })
}

fn multipart_rejection(error: multer::Error) -> Rejection {
    use multer::Error as E;
    match error {
        E::FieldSizeExceeded { limit, field_name } => Rejection::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "metadata_too_large",
            format!("the '{}' part is larger than {limit} bytes", field_name.unwrap_or_default()),
        ),
        E::IncompleteFieldData { .. } | E::IncompleteStream | E::IncompleteHeaders => Rejection::new(
            StatusCode::BAD_REQUEST,
            "truncated_multipart",
            format!("the multipart body ends early: {error}"),
        ),
        E::ReadHeaderFailed(_) | E::DecodeHeaderName { .. } | E::DecodeHeaderValue { .. } => Rejection::new(
            StatusCode::BAD_REQUEST,
            "malformed_part_headers",
            format!("a multipart part's headers could not be read: {error}"),
        ),
        other => Rejection::new(
            StatusCode::BAD_REQUEST,
            "malformed_multipart",
            format!("the multipart body is malformed: {other}"),
        ),
    }
}

/// Reads the two parts out of a buffered body and validates them. What it
/// learns on the way (the parts seen, the call's ids) goes into `log` even
/// when the body is refused, so the request log shows how far it got.
pub(crate) async fn read(head: &Parts, body: Bytes, log: &mut NewRequest) -> Result<Delivery, Rejection> {
    let boundary = boundary(head, &body)?;
    let delimiter = format!("--{boundary}");
    if !body.windows(delimiter.len()).any(|w| w == delimiter.as_bytes()) {
        let first_line = body.split(|&b| b == b'\r' || b == b'\n').next().unwrap_or_default();
        let shown = String::from_utf8_lossy(&first_line[..first_line.len().min(80)]).into_owned();
        return Err(Rejection::new(
            StatusCode::BAD_REQUEST,
            "boundary_mismatch",
            format!(
                "the Content-Type names boundary {boundary:?} but the body never contains {delimiter:?} (its first line is {shown:?})"
            ),
        ));
    }
    let constraints =
        multer::Constraints::new().size_limit(multer::SizeLimit::new().for_field(METADATA_PART, MAX_METADATA));
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(body) });
    let mut multipart = multer::Multipart::with_constraints(stream, boundary, constraints);
    let mut metadata: Option<Bytes> = None;
    let mut audio_part: Option<AudioPart> = None;
    let mut parts = Vec::new();
    let result = loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break Ok(()),
            Err(e) => break Err(multipart_rejection(e)),
        };
        let name = field.name().unwrap_or("").to_string();
        let filename = field.file_name().map(str::to_string);
        let content_type =
            field.headers().get(header::CONTENT_TYPE).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) => break Err(multipart_rejection(e)),
        };
        parts.push(json!({"name": name, "filename": filename, "content_type": content_type, "size": bytes.len()}));
        let duplicate = || {
            Rejection::new(
                StatusCode::BAD_REQUEST,
                "duplicate_part",
                format!("the '{name}' part appears more than once"),
            )
        };
        match name.as_str() {
            METADATA_PART if metadata.is_some() => break Err(duplicate()),
            METADATA_PART => metadata = Some(bytes),
            AUDIO_PART if audio_part.is_some() => break Err(duplicate()),
            AUDIO_PART => audio_part = Some(AudioPart { bytes, filename, content_type }),
            _ => {}
        }
    };
    log.parts_json = Some(Value::Array(parts.clone()).to_string());
    result?;
    let missing = |part: &str| {
        let names: Vec<&str> = parts.iter().filter_map(|p| p["name"].as_str()).collect();
        Rejection::new(
            StatusCode::BAD_REQUEST,
            "missing_part",
            format!(
                "the request has no '{part}' part (parts received: {})",
                if names.is_empty() { "none".to_string() } else { names.join(", ") }
            ),
        )
    };
    let metadata_bytes = metadata.ok_or_else(|| missing(METADATA_PART))?;
    let metadata = metadata::parse(&metadata_bytes)
        .map_err(|e| Rejection::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string()))?;
    log.session_id = Some(metadata.session_id.clone());
    log.recording_id = Some(metadata.recording_id.clone());
    let audio_part = audio_part.ok_or_else(|| missing(AUDIO_PART))?;
    let info = audio::describe(&audio_part.bytes, audio_part.content_type.as_deref()).map_err(|e| {
        let code = match e {
            AudioError::Empty => "empty_audio",
            AudioError::Wav(_) => "invalid_wav",
            AudioError::BadParameter(_) => "invalid_audio_type",
        };
        Rejection::new(StatusCode::UNPROCESSABLE_ENTITY, code, e.to_string())
    })?;
    Ok(Delivery {
        metadata,
        audio: audio_part.bytes,
        filename: audio_part.filename,
        content_type: audio_part.content_type,
        info,
    })
}
