//! The webhook listener: an axum router that takes watsonx Audio webhook
//! deliveries on any path, verifies the token, parses the multipart body,
//! stores the recording, and answers `200 {}` only once the row is committed.
//!
//! Every request of any method or path is written to the request log with
//! what became of it. This module owns HTTP concerns only: reading the
//! multipart body lives in `delivery` (with `metadata` and `audio`), tokens
//! in `jwt`, persistence in `store`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Json, Response};
use bytes::BytesMut;
use chrono::{DateTime, SecondsFormat, Utc};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast};

use crate::delivery;
pub use crate::delivery::{AUDIO_PART, MAX_METADATA, METADATA_PART};
use crate::events::{self, Event};
use crate::jwt::{self, TokenSource};
use crate::listener::{self, BUDGET_WAIT, Limits};
use crate::model::{AuthRecord, NewRecording, NewRequest, Outcome, Verdict};
use crate::settings::{AuthConfig, AuthMode};
use crate::store::{Committed, Writer};

/// Bytes of a rejected request's body kept in the log for inspection.
pub const REJECTED_BODY_CAP: usize = 1024 * 1024;

/// Source of "now", passed in so tests control token expiry and timestamps.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The wall clock.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

/// Listener settings.
#[derive(Debug, Clone)]
pub struct IntakeConfig {
    /// Token verification.
    pub auth: AuthConfig,
    /// Largest body accepted, in bytes.
    pub max_body: usize,
}

/// Shared state of the listener. Cheap to clone.
#[derive(Clone)]
pub struct Intake {
    inner: Arc<Inner>,
}

struct Inner {
    config: IntakeConfig,
    limits: Limits,
    budget: Arc<Semaphore>,
    writer: Writer,
    events: broadcast::Sender<Event>,
    clock: Clock,
}

impl Intake {
    /// Builds the listener state around a store writer, with [`Limits::default`].
    pub fn new(config: IntakeConfig, writer: Writer, clock: Clock) -> Intake {
        Intake::with_limits(config, writer, clock, Limits::default())
    }

    /// Builds the listener state with explicit limits on slow and large bodies.
    pub fn with_limits(config: IntakeConfig, writer: Writer, clock: Clock, limits: Limits) -> Intake {
        let (events, _) = broadcast::channel(events::CAPACITY);
        Intake::with_events(config, writer, clock, limits, events)
    }

    /// Like [`Intake::with_limits`], publishing on an existing channel so
    /// subscribers survive a listener restart.
    pub fn with_events(
        config: IntakeConfig,
        writer: Writer,
        clock: Clock,
        limits: Limits,
        events: broadcast::Sender<Event>,
    ) -> Intake {
        let budget = Arc::new(Semaphore::new(limits.max_buffered.clamp(1, Semaphore::MAX_PERMITS)));
        Intake { inner: Arc::new(Inner { config, limits, budget, writer, events, clock }) }
    }

    /// The limits in force; pass them to [`serve_with`] too.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// Events published after each commit.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// The settings in force.
    pub fn config(&self) -> &IntakeConfig {
        &self.inner.config
    }

    fn publish(&self, event: Event) {
        // No subscriber is fine: the CLI runs without one.
        let _ = self.inner.events.send(event);
    }
}

/// The router: every method and path goes to the one handler.
pub fn router(intake: Intake) -> Router {
    Router::new().fallback(handle).with_state(intake)
}

/// Serves `router` on `listener` with [`Limits::default`] until `shutdown`
/// resolves, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    listener::serve(listener, router, Limits::default(), shutdown).await
}

/// Like [`serve`], with the connection limits of [`Intake::limits`].
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    listener::serve(listener, router, limits, shutdown).await
}

/// An HTTP error answer: a status and `{ "error": code, "message": text }`.
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

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.code, "message": self.message }))).into_response()
    }
}

/// What the handler learned about a request, for the log.
struct Seen {
    request: NewRequest,
    body: Option<Bytes>,
    /// This request's share of the buffered-bytes budget, released with it.
    budget: Option<OwnedSemaphorePermit>,
}

impl Seen {
    fn new(head: &Parts, received_at: &str) -> Seen {
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
                auth: AuthRecord { verdict: Verdict::Off, reason: None, jwt_header: None, jwt_claims: None },
                parts_json: None,
                body_size: 0,
                body: None,
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

enum Accepted {
    Recording(Box<NewRecording>),
    Info,
}

async fn handle(State(intake): State<Intake>, request: Request) -> Response {
    let started = Instant::now();
    let now = (intake.inner.clock)();
    let received_at = now.to_rfc3339_opts(SecondsFormat::Millis, true);
    let (head, body) = request.into_parts();
    let mut seen = Seen::new(&head, &received_at);
    let result = match head.method {
        Method::POST => receive(&intake, &head, body, &mut seen, now).await,
        Method::GET | Method::HEAD => Ok(Accepted::Info),
        ref other => Err(Rejection::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("watsonx delivers recordings with POST; this request used {other}"),
        )),
    };
    let recording_id = seen.request.recording_id.clone();
    let (response, outcome) = match result {
        Ok(Accepted::Recording(recording)) => store_recording(&intake, seen, *recording, started).await,
        Ok(Accepted::Info) => {
            seen.request.status = 200;
            seen.request.outcome = Outcome::Info;
            log_only(&intake, seen, started).await;
            let body = Json(json!({
                "service": "earshot",
                "message": "Earshot is listening: point the watsonx Audio webhook at this URL (it POSTs recordings)."
            }));
            (body.into_response(), Outcome::Info)
        }
        Err(rejection) => {
            seen.request.status = rejection.status.as_u16();
            seen.request.outcome = Outcome::Rejected;
            seen.request.error_code = Some(rejection.code.to_string());
            seen.request.reason = Some(rejection.message.clone());
            if let Some(body) = &seen.body {
                seen.request.body = Some(body[..body.len().min(REJECTED_BODY_CAP)].to_vec());
            }
            let reason = format!(" ({}: {})", rejection.code, rejection.message);
            log_only(&intake, seen, started).await;
            tracing::info!(
                target: "earshot::intake",
                "{} {} {} rejected{reason} {:.1} ms",
                head.method,
                head.uri.path(),
                rejection.status.as_u16(),
                started.elapsed().as_secs_f64() * 1000.0
            );
            return rejection.into_response();
        }
    };
    tracing::info!(
        target: "earshot::intake",
        "{} {} {} {}{} {:.1} ms",
        head.method,
        head.uri.path(),
        response.status().as_u16(),
        outcome.as_str(),
        recording_id.map(|id| format!(" recording={id}")).unwrap_or_default(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    response
}

async fn store_recording(
    intake: &Intake,
    mut seen: Seen,
    recording: NewRecording,
    started: Instant,
) -> (Response, Outcome) {
    seen.request.status = 200;
    let session_id = recording.metadata.session_id.clone();
    let recording_id = recording.metadata.recording_id.clone();
    match intake.inner.writer.commit(seen.request.clone(), Some(recording), started).await {
        Ok(done) => {
            announce(intake, &done, 200, Some(&session_id), Some(&recording_id));
            (Json(json!({})).into_response(), done.outcome)
        }
        Err(fault) => {
            let rejection = Rejection::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                format!("Earshot could not save the recording: {fault}"),
            );
            tracing::error!(target: "earshot::intake", "store fault: {fault}");
            intake.publish(Event::StoreFault { message: fault.to_string() });
            seen.request.status = 503;
            seen.request.outcome = Outcome::Failed;
            seen.request.error_code = Some(rejection.code.to_string());
            seen.request.reason = Some(rejection.message.clone());
            log_only(intake, seen, started).await;
            (rejection.into_response(), Outcome::Failed)
        }
    }
}

async fn log_only(intake: &Intake, seen: Seen, started: Instant) {
    let status = seen.request.status;
    let session_id = seen.request.session_id.clone();
    match intake.inner.writer.commit(seen.request, None, started).await {
        Ok(done) => announce(intake, &done, status, session_id.as_deref(), None),
        Err(fault) => {
            tracing::error!(target: "earshot::intake", "could not write the request log: {fault}");
            intake.publish(Event::StoreFault { message: fault.to_string() });
        }
    }
}

fn announce(intake: &Intake, done: &Committed, status: u16, session_id: Option<&str>, recording_id: Option<&str>) {
    if let (Some(row), Some(version), Some(session_id), Some(recording_id)) =
        (done.recording_row, done.version, session_id, recording_id)
        && done.outcome != Outcome::Duplicate
    {
        intake.publish(Event::RecordingStored {
            row,
            recording_id: recording_id.to_string(),
            session_id: session_id.to_string(),
            version,
        });
    }
    intake.publish(Event::RequestLogged {
        request_id: done.request_id,
        status,
        outcome: done.outcome.as_str().to_string(),
        session_id: session_id.map(str::to_string),
    });
}

/// Reads, parses and verifies a POST. Fills `seen` as it learns things, so a
/// rejection is logged with everything known up to the fault.
async fn receive(
    intake: &Intake,
    head: &Parts,
    body: Body,
    seen: &mut Seen,
    now: DateTime<Utc>,
) -> Result<Accepted, Rejection> {
    let config = &intake.inner.config;
    if let Some(encoding) = head.headers.get(header::CONTENT_ENCODING)
        && !encoding.as_bytes().eq_ignore_ascii_case(b"identity")
    {
        return Err(Rejection::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_encoding",
            format!(
                "Content-Encoding {:?} is not supported; send the body uncompressed",
                String::from_utf8_lossy(encoding.as_bytes())
            ),
        ));
    }
    let bytes = read_body(intake, &head.headers, body, seen).await?;
    seen.request.body_size = bytes.len();
    seen.body = Some(bytes.clone());

    seen.request.auth = authenticate(&config.auth, &head.headers, now);
    let parsed = delivery::read(head, bytes, &mut seen.request).await;
    if config.auth.mode() == AuthMode::Enforce && seen.request.auth.verdict != Verdict::Valid {
        return Err(auth_rejection(&seen.request.auth));
    }
    let delivery = parsed?;
    Ok(Accepted::Recording(Box::new(NewRecording {
        metadata: delivery.metadata,
        received_at: seen.request.received_at.clone(),
        path: seen.request.path.clone(),
        filename: delivery.filename,
        part_content_type: delivery.content_type,
        info: delivery.info,
        sha256: hex::encode(Sha256::digest(&delivery.audio)),
        audio: delivery.audio.to_vec(),
        auth: seen.request.auth.clone(),
    })))
}

fn auth_rejection(auth: &AuthRecord) -> Rejection {
    let code = match auth.verdict {
        Verdict::Missing => "missing_token",
        _ => "invalid_token",
    };
    Rejection::new(StatusCode::UNAUTHORIZED, code, auth.reason.clone().unwrap_or_default())
}

/// Reads the whole body within the body timeout, holding its size against
/// the shared budget of buffered bytes.
async fn read_body(intake: &Intake, headers: &HeaderMap, mut body: Body, seen: &mut Seen) -> Result<Bytes, Rejection> {
    let max = intake.inner.config.max_body;
    let limits = &intake.inner.limits;
    let too_large = |size: Option<u64>| {
        let size = size.map_or("larger than allowed".to_string(), |n| format!("{n} bytes"));
        Rejection::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the request body is {size}; the limit is {max} bytes (see --max-body)"),
        )
    };
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if let Some(length) = declared
        && length > max as u64
    {
        return Err(too_large(Some(length)));
    }
    let expected = declared.unwrap_or(0) as usize;
    seen.budget = Some(reserve(intake, expected).await?);
    let mut buffer = BytesMut::with_capacity(expected);
    let deadline = tokio::time::Instant::now() + limits.body_timeout;
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => {
                return Err(Rejection::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "body_timeout",
                    format!(
                        "the body did not arrive within {} s ({} bytes received)",
                        limits.body_timeout.as_secs_f64(),
                        buffer.len()
                    ),
                ));
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                return Err(Rejection::new(
                    StatusCode::BAD_REQUEST,
                    "body_read_failed",
                    format!("the request body could not be read to its end: {e}"),
                ));
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else { continue };
        let wanted = buffer.len() + data.len();
        if wanted > max {
            return Err(too_large(None));
        }
        let held = seen.budget.as_ref().map_or(0, OwnedSemaphorePermit::num_permits);
        if wanted > held {
            // Chunked or under-declared bodies: grow the share in 64 KiB steps.
            let more = reserve(intake, (wanted - held).max(64 * 1024)).await?;
            if let Some(permit) = seen.budget.as_mut() {
                permit.merge(more);
            }
        }
        buffer.extend_from_slice(&data);
    }
    Ok(buffer.freeze())
}

/// Takes `bytes` of the buffered-bytes budget, waiting up to [`BUDGET_WAIT`].
async fn reserve(intake: &Intake, bytes: usize) -> Result<OwnedSemaphorePermit, Rejection> {
    let total = intake.inner.limits.max_buffered;
    let wanted = bytes.clamp(0, total.clamp(1, Semaphore::MAX_PERMITS)).min(u32::MAX as usize) as u32;
    match tokio::time::timeout(BUDGET_WAIT, intake.inner.budget.clone().acquire_many_owned(wanted)).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(Rejection::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "intake_busy",
            format!(
                "Earshot is already holding {total} bytes of request bodies in memory (--max-buffered); retry shortly"
            ),
        )),
    }
}

/// Checks the token according to the mode. With verification off the token
/// is still decoded, so users see what the sender put in it.
fn authenticate(config: &AuthConfig, headers: &HeaderMap, now: DateTime<Utc>) -> AuthRecord {
    let found = jwt::extract(headers);
    let Some(secret) = config.secret() else {
        let decoded = found.and_then(|(_, token)| jwt::decode(&token).ok());
        return AuthRecord {
            verdict: Verdict::Off,
            reason: None,
            jwt_header: decoded.as_ref().map(|d| d.header.clone()),
            jwt_claims: decoded.map(|d| d.claims),
        };
    };
    let Some((source, token)) = found else {
        return AuthRecord {
            verdict: Verdict::Missing,
            reason: Some("no token: neither an Authorization nor an authentication header was sent".into()),
            jwt_header: None,
            jwt_claims: None,
        };
    };
    let (decoded, result) = jwt::verify(&token, secret.as_bytes(), now.timestamp());
    let (verdict, reason) = match result {
        Ok(()) if source == TokenSource::Authentication => {
            (Verdict::Valid, Some("token read from the 'authentication' header, not 'Authorization'".into()))
        }
        Ok(()) => (Verdict::Valid, None),
        Err(e) => (Verdict::Invalid, Some(e.to_string())),
    };
    AuthRecord {
        verdict,
        reason,
        jwt_header: decoded.as_ref().map(|d| d.header.clone()),
        jwt_claims: decoded.map(|d| d.claims),
    }
}
