//! Checking a request's token according to the auth mode, and the 401 that
//! `enforce` answers with.

use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, Utc};

use super::Rejection;
use super::jwt::{self, TokenSource};
use crate::model::{AuthRecord, TokenCheck};
use crate::settings::AuthConfig;

/// The 401 for a request whose token `enforce` refuses.
pub(super) fn rejection(auth: &AuthRecord) -> Rejection {
    let code = match auth.verdict {
        TokenCheck::Missing => "missing_token",
        _ => "invalid_token",
    };
    Rejection::new(StatusCode::UNAUTHORIZED, code, auth.reason.clone().unwrap_or_default())
}

/// Checks the token according to the mode. With verification off the token
/// is still decoded, so users see what the sender put in it.
pub(super) fn authenticate(config: &AuthConfig, headers: &HeaderMap, now: DateTime<Utc>) -> AuthRecord {
    let found = jwt::extract(headers);
    let Some(secret) = config.secret() else {
        let decoded = found.and_then(|(_, token)| jwt::decode(&token).ok());
        return AuthRecord {
            verdict: TokenCheck::Off,
            reason: None,
            jwt_header: decoded.as_ref().map(|d| d.header.clone()),
            jwt_claims: decoded.map(|d| d.claims),
        };
    };
    let Some((source, token)) = found else {
        return AuthRecord {
            verdict: TokenCheck::Missing,
            reason: Some("no token: neither an Authorization nor an authentication header was sent".into()),
            jwt_header: None,
            jwt_claims: None,
        };
    };
    let (decoded, result) = jwt::verify(&token, secret.as_bytes(), now.timestamp());
    let (verdict, reason) = match result {
        Ok(()) if source == TokenSource::Authentication => {
            (TokenCheck::Valid, Some("token read from the 'authentication' header, not 'Authorization'".into()))
        }
        Ok(()) => (TokenCheck::Valid, None),
        Err(e) => (TokenCheck::Invalid, Some(e.to_string())),
    };
    AuthRecord {
        verdict,
        reason,
        jwt_header: decoded.as_ref().map(|d| d.header.clone()),
        jwt_claims: decoded.map(|d| d.claims),
    }
}
