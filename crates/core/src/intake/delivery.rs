//! A webhook delivery read from its multipart body: the `metadata` part
//! (validated by `metadata`) and the `audio_recording` part (described by
//! `earshot_audio`), or a [`DeliveryError`] naming the fault, with a stable
//! `code()` as `metadata` and `jwt` have. Tolerant where watsonx is
//! under-documented: the boundary may come from the body's first line, other
//! parts are ignored. Reading the body off the socket, and which HTTP status
//! each fault gets, stay in `intake`.

use bytes::Bytes;
use serde_json::{Value, json};

use earshot_audio::{self as audio, AudioError};

use super::metadata::{self, Metadata, MetadataError};
use crate::model::NewRequest;

/// Largest `metadata` part: the six fields take ~300 bytes, so 64 KiB only stops abuse.
pub const MAX_METADATA: u64 = 64 * 1024;

/// The part names watsonx uses.
pub const METADATA_PART: &str = "metadata";
/// The part names watsonx uses.
pub const AUDIO_PART: &str = "audio_recording";

/// Why a body is not a usable delivery.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DeliveryError {
    /// No boundary in a multipart `Content-Type`, and none at the body's start.
    #[error("Content-Type {0:?} has no boundary parameter and the body does not start with one")]
    NoBoundary(String),
    /// Not multipart at all (the `Content-Type`, if any).
    #[error("expected multipart/form-data with 'metadata' and 'audio_recording' parts; {}", match .0 {
        Some(ct) => format!("Content-Type was {ct:?}"),
        None => "no Content-Type was sent".to_string(),
    })]
    NotMultipart(Option<String>),
    /// The declared boundary never occurs in the body.
    #[error(
        "the Content-Type names boundary {boundary:?} but the body never contains \"--{boundary}\" (its first line is {first_line:?})"
    )]
    BoundaryMismatch {
        /// The boundary declared.
        boundary: String,
        /// The body's first line, cut at 80 bytes.
        first_line: String,
    },
    /// The `metadata` part is over [`MAX_METADATA`].
    #[error("the '{part}' part is larger than {limit} bytes")]
    MetadataTooLarge {
        /// The part.
        part: String,
        /// The limit.
        limit: u64,
    },
    /// The body ends inside a part.
    #[error("the multipart body ends early: {0}")]
    Truncated(String),
    /// A part's headers cannot be read.
    #[error("a multipart part's headers could not be read: {0}")]
    PartHeaders(String),
    /// Anything else multer refuses.
    #[error("the multipart body is malformed: {0}")]
    Malformed(String),
    /// `metadata` or `audio_recording` twice.
    #[error("the '{0}' part appears more than once")]
    DuplicatePart(String),
    /// A required part is absent.
    #[error("the request has no '{part}' part (parts received: {received})")]
    MissingPart {
        /// The part missing.
        part: &'static str,
        /// The names of the parts that came, or `none`.
        received: String,
    },
    /// The metadata part is not valid.
    #[error(transparent)]
    Metadata(#[from] MetadataError),
    /// The audio part is not usable audio.
    #[error(transparent)]
    Audio(#[from] AudioError),
}

impl DeliveryError {
    /// Stable machine-readable code for the request log and the HTTP answer.
    pub fn code(&self) -> &'static str {
        match self {
            DeliveryError::NoBoundary(_) => "no_boundary",
            DeliveryError::NotMultipart(_) => "not_multipart",
            DeliveryError::BoundaryMismatch { .. } => "boundary_mismatch",
            DeliveryError::MetadataTooLarge { .. } => "metadata_too_large",
            DeliveryError::Truncated(_) => "truncated_multipart",
            DeliveryError::PartHeaders(_) => "malformed_part_headers",
            DeliveryError::Malformed(_) => "malformed_multipart",
            DeliveryError::DuplicatePart(_) => "duplicate_part",
            DeliveryError::MissingPart { .. } => "missing_part",
            DeliveryError::Metadata(e) => e.code(),
            DeliveryError::Audio(AudioError::Empty) => "empty_audio",
            DeliveryError::Audio(AudioError::Wav(_)) => "invalid_wav",
            DeliveryError::Audio(AudioError::BadParameter(_)) => "invalid_audio_type",
        }
    }
}

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
pub(crate) fn boundary(content_type: Option<&str>, body: &[u8]) -> Result<String, DeliveryError> {
    if let Some(ct) = content_type
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
        Some(ct) if ct.to_ascii_lowercase().starts_with("multipart/") => DeliveryError::NoBoundary(ct.to_string()),
        other => DeliveryError::NotMultipart(other.map(str::to_string)),
    })
}

fn multipart_error(error: multer::Error) -> DeliveryError {
    use multer::Error as E;
    match error {
        E::FieldSizeExceeded { limit, field_name } => {
            DeliveryError::MetadataTooLarge { part: field_name.unwrap_or_default(), limit }
        }
        E::IncompleteFieldData { .. } | E::IncompleteStream | E::IncompleteHeaders => {
            DeliveryError::Truncated(error.to_string())
        }
        E::ReadHeaderFailed(_) | E::DecodeHeaderName { .. } | E::DecodeHeaderValue { .. } => {
            DeliveryError::PartHeaders(error.to_string())
        }
        other => DeliveryError::Malformed(other.to_string()),
    }
}

/// The `metadata` and `audio_recording` parts of a multipart body, and a
/// description of every part seen, which goes into `log` even when the body
/// is refused partway.
async fn collect_parts(
    body: Bytes,
    boundary: String,
    log: &mut NewRequest,
) -> Result<(Option<Bytes>, Option<AudioPart>, Vec<Value>), DeliveryError> {
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
            Err(e) => break Err(multipart_error(e)),
        };
        let name = field.name().unwrap_or("").to_string();
        let filename = field.file_name().map(str::to_string);
        let content_type =
            field.headers().get("content-type").map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) => break Err(multipart_error(e)),
        };
        parts.push(json!({"name": name, "filename": filename, "content_type": content_type, "size": bytes.len()}));
        let duplicate = || DeliveryError::DuplicatePart(name.clone());
        match name.as_str() {
            METADATA_PART if metadata.is_some() => break Err(duplicate()),
            METADATA_PART => metadata = Some(bytes),
            AUDIO_PART if audio_part.is_some() => break Err(duplicate()),
            AUDIO_PART => audio_part = Some(AudioPart { bytes, filename, content_type }),
            _ => {}
        }
    };
    log.parts_json = Some(Value::Array(parts.clone()).to_string());
    result.map(|()| (metadata, audio_part, parts))
}

/// Reads the two parts out of a buffered body and validates them. What it
/// learns on the way (the parts seen, the call's ids) goes into `log` even
/// when the body is refused, so the request log shows how far it got.
pub(crate) async fn read(
    content_type: Option<&str>,
    body: Bytes,
    log: &mut NewRequest,
) -> Result<Delivery, DeliveryError> {
    let boundary = boundary(content_type, &body)?;
    let delimiter = format!("--{boundary}");
    if !body.windows(delimiter.len()).any(|w| w == delimiter.as_bytes()) {
        let first_line = body.split(|&b| b == b'\r' || b == b'\n').next().unwrap_or_default();
        let first_line = String::from_utf8_lossy(&first_line[..first_line.len().min(80)]).into_owned();
        return Err(DeliveryError::BoundaryMismatch { boundary, first_line });
    }
    let (metadata, audio_part, parts) = collect_parts(body, boundary, log).await?;
    let missing = |part: &'static str| {
        let names: Vec<&str> = parts.iter().filter_map(|p| p["name"].as_str()).collect();
        let received = if names.is_empty() { "none".to_string() } else { names.join(", ") };
        DeliveryError::MissingPart { part, received }
    };
    let metadata_bytes = metadata.ok_or_else(|| missing(METADATA_PART))?;
    let metadata = metadata::parse(&metadata_bytes)?;
    log.session_id = Some(metadata.session_id.clone());
    log.recording_id = Some(metadata.recording_id.clone());
    let audio_part = audio_part.ok_or_else(|| missing(AUDIO_PART))?;
    let info = audio::describe(&audio_part.bytes, audio_part.content_type.as_deref())?;
    Ok(Delivery {
        metadata,
        audio: audio_part.bytes,
        filename: audio_part.filename,
        content_type: audio_part.content_type,
        info,
    })
}
