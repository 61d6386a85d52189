//! What the handler learns about a request as it reads it, kept so that a
//! refusal is logged with everything known up to the fault; and the headers
//! as logged, with secrets removed.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, request::Parts};
use serde_json::{Value, json};
use tokio::sync::OwnedSemaphorePermit;

use super::jwt;
use crate::model::{AuthRecord, NewRequest, Outcome, TokenCheck};

/// What the handler learned about a request, for the log.
pub(super) struct Seen {
    pub(super) request: NewRequest,
    pub(super) body: Option<Bytes>,
    /// This request's share of the buffered-bytes budget, released with it.
    pub(super) budget: Option<OwnedSemaphorePermit>,
}

impl Seen {
    pub(super) fn new(head: &Parts, received_at: &str) -> Seen {
        let remote_addr = head.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.to_string());
        Seen {
            request: NewRequest {
                received_at: received_at.to_string(),
                method: head.method.to_string(),
                path: head.uri.path().to_string(),
                query: head.uri.query().map(str::to_string),
                remote_addr,
                headers_json: redacted_headers(&head.headers).to_string(),
                status: 0,
                outcome: Outcome::Rejected,
                error_code: None,
                reason: None,
                session_id: None,
                recording_id: None,
                auth: AuthRecord { verdict: TokenCheck::Off, reason: None, jwt_header: None, jwt_claims: None },
                parts_json: None,
                body_size: 0,
                body: None,
                body_audio_at: None,
                simulated: None,
            },
            body: None,
            budget: None,
        }
    }
}

/// Headers as `[[name, value], …]` in arrival order, secrets removed.
fn redacted_headers(headers: &HeaderMap) -> Value {
    let pairs = headers
        .iter()
        .map(|(name, value)| {
            let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
            let shown = match name.as_str() {
                "authorization" | "authentication" | "proxy-authorization" => jwt::redact_signature(&text),
                "cookie" | "x-api-key" => format!("<redacted {} chars>", text.chars().count()),
                _ => text,
            };
            json!([name.as_str(), shown])
        })
        .collect();
    Value::Array(pairs)
}
