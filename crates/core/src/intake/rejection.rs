//! The one HTTP error answer: a status and `{ "error": code, "message": text }`
//! that says exactly what was wrong with the request. Inner layers
//! (`delivery`, `metadata`, `jwt`) return their own errors with a `code()`;
//! the mapping to a status lives here.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use earshot_audio::AudioError;
use serde_json::json;

use super::delivery::DeliveryError;

/// An HTTP error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// What exactly was wrong, for the developer reading it.
    pub message: String,
}

impl Rejection {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Rejection {
        Rejection { status, code, message: message.into() }
    }
}

impl From<DeliveryError> for Rejection {
    fn from(error: DeliveryError) -> Rejection {
        let status = match &error {
            DeliveryError::NotMultipart(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            DeliveryError::MetadataTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            // Well-formed HTTP and multipart whose content is unusable.
            DeliveryError::Metadata(_)
            | DeliveryError::Audio(AudioError::Empty | AudioError::Wav(_) | AudioError::BadParameter(_)) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            DeliveryError::NoBoundary(_)
            | DeliveryError::BoundaryMismatch { .. }
            | DeliveryError::Truncated(_)
            | DeliveryError::PartHeaders(_)
            | DeliveryError::Malformed(_)
            | DeliveryError::DuplicatePart(_)
            | DeliveryError::MissingPart { .. } => StatusCode::BAD_REQUEST,
        };
        Rejection::new(status, error.code(), error.to_string())
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.code, "message": self.message }))).into_response()
    }
}
