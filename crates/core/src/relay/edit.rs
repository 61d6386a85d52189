//! Modify-then-replay: a stored multipart body rebuilt with its metadata
//! fields edited and/or its audio swapped, keeping the original boundary,
//! part order, part names and part headers. (An unmodified replay never comes
//! here: it sends the stored bytes.) Recordings stored before bodies were
//! kept are rebuilt from their metadata and audio the same way.

use bytes::Bytes;
use serde_json::{Map, Value};

use super::RelayError;
use crate::intake::{AUDIO_PART, METADATA_PART, boundary_of};

/// The part type of swapped-in audio: headerless μ-law at 8 kHz, as IBM's page documents.
pub(super) const MULAW_TYPE: &str = "audio/mulaw;rate=8000";

/// One `--set` edit of a metadata field.
#[derive(Debug, Clone, PartialEq)]
pub struct MetadataEdit {
    /// The field.
    pub field: String,
    /// Its new value.
    pub value: Value,
}

impl MetadataEdit {
    /// `FIELD=TEXT` sets a string; `FIELD:=JSON` sets any JSON value (`count:=3`, `x:=null`).
    pub fn parse(argument: &str) -> Result<MetadataEdit, RelayError> {
        let bad = || {
            RelayError::BadEdit(format!(
                "--set {argument:?}: expected FIELD=TEXT or FIELD:=JSON (e.g. recording_id=new-id)"
            ))
        };
        let (field, value) = argument.split_once('=').ok_or_else(bad)?;
        let (field, value) = match field.strip_suffix(':') {
            Some(field) => (
                field,
                serde_json::from_str(value)
                    .map_err(|e| RelayError::BadEdit(format!("--set {argument:?}: {value:?} is not JSON ({e})")))?,
            ),
            None => (field, Value::String(value.to_string())),
        };
        if field.trim().is_empty() {
            return Err(bad());
        }
        Ok(MetadataEdit { field: field.trim().to_string(), value })
    }
}

/// What to change before sending.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Edits {
    /// Metadata fields to set.
    pub set: Vec<MetadataEdit>,
    /// Audio to send instead, as 8 kHz μ-law codes.
    pub audio: Option<Vec<u8>>,
    /// Headers to add or replace (`Name`, `value`).
    pub headers: Vec<(String, String)>,
}

impl Edits {
    /// Whether the body changes.
    pub fn touch_body(&self) -> bool {
        !self.set.is_empty() || self.audio.is_some()
    }
}

struct Part {
    name: String,
    headers: Vec<(String, Vec<u8>)>,
    bytes: Bytes,
}

/// Applies the metadata edits to a `metadata` part's JSON text.
pub(super) fn edit_metadata(original: &[u8], edits: &[MetadataEdit]) -> Result<Vec<u8>, RelayError> {
    let mut object: Map<String, Value> = serde_json::from_slice(original).map_err(|e| {
        RelayError::Unusable(format!("the stored metadata part is not a JSON object, so --set cannot edit it ({e})"))
    })?;
    for edit in edits {
        object.insert(edit.field.clone(), edit.value.clone());
    }
    Ok(serde_json::to_vec(&Value::Object(object)).expect("a JSON map serializes"))
}

/// The body with `edits` applied, same boundary and part headers.
pub(super) async fn rebuild(body: &[u8], content_type: Option<&str>, edits: &Edits) -> Result<Vec<u8>, RelayError> {
    let boundary = boundary_of(content_type, body)
        .map_err(|e| RelayError::Unusable(format!("the stored body cannot be edited: {e}")))?;
    let parts = split(Bytes::copy_from_slice(body), boundary.clone()).await?;
    let mut seen_metadata = false;
    let mut out = Vec::with_capacity(body.len() + edits.audio.as_ref().map_or(0, Vec::len));
    for mut part in parts {
        if part.name == METADATA_PART && !edits.set.is_empty() {
            seen_metadata = true;
            part.bytes = edit_metadata(&part.bytes, &edits.set)?.into();
        }
        if part.name == AUDIO_PART
            && let Some(audio) = &edits.audio
        {
            part.bytes = Bytes::copy_from_slice(audio);
            part.headers.retain(|(n, _)| !n.eq_ignore_ascii_case("content-type"));
            part.headers.push(("Content-Type".into(), MULAW_TYPE.as_bytes().to_vec()));
        }
        write_part(&mut out, &boundary, &part.headers, &part.bytes);
    }
    if !edits.set.is_empty() && !seen_metadata {
        return Err(RelayError::Unusable("the stored body has no 'metadata' part for --set to edit".into()));
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    Ok(out)
}

/// The `metadata` part of a multipart body as JSON, when there is one that
/// parses: what the desktop's replay editor starts from (the edits it sends
/// back are [`MetadataEdit`]s against it).
pub async fn metadata_of(body: &[u8], content_type: Option<&str>) -> Option<Value> {
    let boundary = boundary_of(content_type, body).ok()?;
    let parts = split(Bytes::copy_from_slice(body), boundary).await.ok()?;
    let part = parts.into_iter().find(|p| p.name == METADATA_PART)?;
    serde_json::from_slice(&part.bytes).ok()
}

/// A body from a recording's metadata and audio, for recordings stored
/// before request bodies were kept.
pub(super) fn assemble(
    boundary: &str,
    metadata: &[u8],
    audio: &[u8],
    filename: Option<&str>,
    audio_type: Option<&str>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(audio.len() + metadata.len() + 512);
    let metadata_headers = vec![
        ("Content-Disposition".to_string(), b"form-data; name=\"metadata\"".to_vec()),
        ("Content-Type".to_string(), b"application/json".to_vec()),
    ];
    write_part(&mut out, boundary, &metadata_headers, metadata);
    let disposition = match filename {
        Some(name) => format!("form-data; name=\"audio_recording\"; filename=\"{}\"", name.replace('"', "%22")),
        None => "form-data; name=\"audio_recording\"".to_string(),
    };
    let mut audio_headers = vec![("Content-Disposition".to_string(), disposition.into_bytes())];
    if let Some(audio_type) = audio_type {
        audio_headers.push(("Content-Type".to_string(), audio_type.as_bytes().to_vec()));
    }
    write_part(&mut out, boundary, &audio_headers, audio);
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

fn write_part(out: &mut Vec<u8>, boundary: &str, headers: &[(String, Vec<u8>)], bytes: &[u8]) {
    out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(bytes);
    out.extend_from_slice(b"\r\n");
}

async fn split(body: Bytes, boundary: String) -> Result<Vec<Part>, RelayError> {
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut parts = Vec::new();
    let unreadable = |e: multer::Error| RelayError::Unusable(format!("the stored body is not readable multipart: {e}"));
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_string();
        let headers = field.headers().iter().map(|(n, v)| (canonical(n.as_str()), v.as_bytes().to_vec())).collect();
        let bytes = field.bytes().await.map_err(unreadable)?;
        parts.push(Part { name, headers, bytes });
    }
    Ok(parts)
}

/// `content-disposition` → `Content-Disposition`, as senders write part headers.
fn canonical(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Edits, MetadataEdit, rebuild};
    use crate::sample::{self, CallIds, Packaging};

    #[test]
    fn set_arguments_take_text_or_json() {
        assert_eq!(MetadataEdit::parse("recording_id=abc").unwrap().value, json!("abc"));
        assert_eq!(MetadataEdit::parse("count:=3").unwrap().value, json!(3));
        assert_eq!(MetadataEdit::parse("note=a=b").unwrap().value, json!("a=b"));
        assert!(MetadataEdit::parse("novalue").is_err());
        assert!(MetadataEdit::parse("=x").is_err());
        assert!(MetadataEdit::parse("n:=not json").is_err());
    }

    #[tokio::test]
    async fn an_edited_body_keeps_its_boundary_and_the_parts_it_did_not_touch() {
        let ids = CallIds {
            assistant_id: "a".into(),
            environment_id: "e".into(),
            session_id: "s".into(),
            recording_id: "r".into(),
        };
        let audio = vec![0x7Fu8; 800];
        let delivery = sample::delivery(&ids, &audio, Packaging::Raw, 100, chrono::Utc::now(), "XyZ");
        let edits = Edits { set: vec![MetadataEdit::parse("recording_id=r2").unwrap()], ..Edits::default() };
        let body = rebuild(&delivery.body, Some(&delivery.content_type), &edits).await.unwrap();
        assert!(body.starts_with(b"--XyZ\r\nContent-Disposition: form-data; name=\"metadata\""));
        let text = String::from_utf8_lossy(&body);
        assert!(text.contains("\"recording_id\":\"r2\""), "{text}");
        assert!(text.contains("Content-Type: audio/mulaw;rate=8000\r\n\r\n"));
        assert!(body.windows(800).any(|w| w == audio.as_slice()), "the audio is untouched");
        assert!(body.ends_with(b"--XyZ--\r\n"));
    }

    #[tokio::test]
    async fn the_metadata_part_is_read_back_as_json() {
        let ids = CallIds {
            assistant_id: "a".into(),
            environment_id: "e".into(),
            session_id: "s".into(),
            recording_id: "r".into(),
        };
        let delivery = sample::delivery(&ids, &[0x7F; 80], Packaging::Raw, 10, chrono::Utc::now(), "XyZ");
        let metadata = super::metadata_of(&delivery.body, Some(&delivery.content_type)).await.unwrap();
        assert_eq!(metadata["recording_id"], "r");
        assert_eq!(super::metadata_of(b"not multipart", Some("text/plain")).await, None);
    }
}
