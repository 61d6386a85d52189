//! The `metadata` part: six required string fields, two of them RFC 3339
//! timestamps, and whatever else the sender adds (kept verbatim).
//!
//! Validation names the exact field at fault because the developer reading
//! the error is wiring watsonx up and needs to know what to change.

use chrono::{DateTime, FixedOffset};
use serde_json::{Map, Value};

/// The fields every watsonx recording carries.
pub const REQUIRED: [&str; 6] =
    ["assistant_id", "environment_id", "session_id", "recording_id", "start_timestamp", "stop_timestamp"];

/// Longest id accepted; watsonx uses 36-character UUIDs, so anything near this is not an id.
pub const MAX_ID_LEN: usize = 256;

/// A validated metadata object.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    /// The watsonx assistant.
    pub assistant_id: String,
    /// The assistant's environment (draft, live, …).
    pub environment_id: String,
    /// The phone call; shared by every recording of the call.
    pub session_id: String,
    /// This utterance.
    pub recording_id: String,
    /// When the caller started speaking, as sent.
    pub start_timestamp: String,
    /// When the recording stopped, as sent.
    pub stop_timestamp: String,
    /// The whole object as received, unknown fields included.
    pub raw: Map<String, Value>,
}

/// What is wrong with a metadata part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// Not parseable JSON.
    #[error("metadata is not valid JSON: {0}")]
    NotJson(String),
    /// JSON, but not an object.
    #[error("metadata must be a JSON object, found {0}")]
    NotObject(&'static str),
    /// A required field is absent.
    #[error("metadata field '{0}' is missing")]
    Missing(&'static str),
    /// A required field has the wrong JSON type or an unusable value.
    #[error("metadata field '{field}' {problem}")]
    Invalid {
        /// The field name.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// A timestamp that is not RFC 3339.
    #[error("metadata field '{field}' is not an RFC 3339 timestamp: {value:?}")]
    Timestamp {
        /// The field name.
        field: &'static str,
        /// The value as sent.
        value: String,
    },
    /// `stop_timestamp` earlier than `start_timestamp`.
    #[error("stop_timestamp {stop} is before start_timestamp {start}")]
    StopBeforeStart {
        /// As sent.
        start: String,
        /// As sent.
        stop: String,
    },
}

impl MetadataError {
    /// Stable code for the HTTP error body.
    pub fn code(&self) -> &'static str {
        match self {
            MetadataError::NotJson(_) | MetadataError::NotObject(_) => "invalid_metadata",
            MetadataError::Missing(_) => "missing_field",
            MetadataError::Invalid { .. } => "invalid_field",
            MetadataError::Timestamp { .. } | MetadataError::StopBeforeStart { .. } => "invalid_timestamp",
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses and validates a metadata part.
pub fn parse(bytes: &[u8]) -> Result<Metadata, MetadataError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| MetadataError::NotJson(e.to_string()))?;
    let Value::Object(raw) = value else {
        return Err(MetadataError::NotObject(kind(&value)));
    };
    let mut fields: Vec<String> = Vec::with_capacity(REQUIRED.len());
    for field in REQUIRED {
        let value = raw.get(field).ok_or(MetadataError::Missing(field))?;
        let Value::String(text) = value else {
            return Err(MetadataError::Invalid { field, problem: format!("must be a string, found {}", kind(value)) });
        };
        if text.trim().is_empty() {
            return Err(MetadataError::Invalid { field, problem: "is empty".into() });
        }
        if text.len() > MAX_ID_LEN {
            return Err(MetadataError::Invalid {
                field,
                problem: format!("is {} bytes long (at most {MAX_ID_LEN})", text.len()),
            });
        }
        fields.push(text.clone());
    }
    let start = timestamp("start_timestamp", &fields[4])?;
    let stop = timestamp("stop_timestamp", &fields[5])?;
    if stop < start {
        return Err(MetadataError::StopBeforeStart { start: fields[4].clone(), stop: fields[5].clone() });
    }
    let mut it = fields.into_iter();
    let mut next = || it.next().unwrap_or_default();
    Ok(Metadata {
        assistant_id: next(),
        environment_id: next(),
        session_id: next(),
        recording_id: next(),
        start_timestamp: next(),
        stop_timestamp: next(),
        raw,
    })
}

fn timestamp(field: &'static str, value: &str) -> Result<DateTime<FixedOffset>, MetadataError> {
    DateTime::parse_from_rfc3339(value).map_err(|_| MetadataError::Timestamp { field, value: value.to_string() })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{MetadataError, parse};

    fn doc_example() -> serde_json::Value {
        json!({
            "assistant_id": "dadf4b56-3b67-411a-b48d-079806b626d3",
            "environment_id": "6205aead-fe91-44af-bfe1-b4435015ba23",
            "session_id": "50989a59-9976-4b3f-9a98-af42adcad69a",
            "recording_id": "3daeb5d2-f52b-4c3e-a869-328b6fc6327c",
            "start_timestamp": "2024-10-21T17:22:07.789Z",
            "stop_timestamp": "2024-10-21T17:22:37.789Z"
        })
    }

    #[test]
    fn the_documented_example_parses_and_unknown_fields_are_kept() {
        let mut value = doc_example();
        value["caller"] = json!({"ani": "+15550100"});
        let meta = parse(value.to_string().as_bytes()).unwrap();
        assert_eq!(meta.session_id, "50989a59-9976-4b3f-9a98-af42adcad69a");
        assert_eq!(meta.raw["caller"]["ani"], "+15550100");
    }

    #[test]
    fn each_missing_field_is_named() {
        for field in super::REQUIRED {
            let mut value = doc_example();
            value.as_object_mut().unwrap().remove(field);
            assert_eq!(parse(value.to_string().as_bytes()), Err(MetadataError::Missing(field)));
        }
    }

    #[test]
    fn wrong_types_and_bad_timestamps_are_named() {
        let mut value = doc_example();
        value["session_id"] = json!(42);
        let err = parse(value.to_string().as_bytes()).unwrap_err();
        assert_eq!(err.to_string(), "metadata field 'session_id' must be a string, found a number");

        let mut value = doc_example();
        value["start_timestamp"] = json!("21/10/2024 17:22");
        assert_eq!(parse(value.to_string().as_bytes()).unwrap_err().code(), "invalid_timestamp");

        let mut value = doc_example();
        value["stop_timestamp"] = json!("2024-10-21T17:22:00.000Z");
        assert!(matches!(parse(value.to_string().as_bytes()), Err(MetadataError::StopBeforeStart { .. })));
    }

    #[test]
    fn non_objects_are_refused() {
        assert_eq!(parse(b"[1,2]"), Err(MetadataError::NotObject("an array")));
        assert!(matches!(parse(b"{nope"), Err(MetadataError::NotJson(_))));
    }
}
