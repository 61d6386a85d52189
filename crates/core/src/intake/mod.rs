//! The webhook listener: an axum router that takes watsonx Audio webhook
//! deliveries on any path, verifies the token, parses the multipart body,
//! stores the recording, and answers `200 {}` only once the row is committed.
//!
//! Every request of any method or path is written to the request log with
//! what became of it. Inside: `accept` (the accept loop and its limits),
//! `body` (reading the body within its budget), `delivery` (the multipart
//! parts, with `metadata` and the audio), `jwt` and `auth` (the token),
//! `rejection` (the HTTP error answer), `seen` (what the log records).
//! Persistence is the store's; this module only submits jobs to it.

mod accept;
mod auth;
mod body;
mod delivery;
pub mod jwt;
pub mod metadata;
mod rejection;
mod seen;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Json, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, broadcast};

pub use crate::settings::BUDGET_WAIT;
pub use delivery::{AUDIO_PART, DeliveryError, MAX_METADATA, METADATA_PART};
pub use metadata::{Metadata, MetadataError};
pub use rejection::Rejection;

use self::seen::Seen;
use crate::events::Event;
use crate::model::{NewRecording, Outcome, TokenCheck};
use crate::settings::{AuthConfig, AuthMode, Limits};
use crate::store::{Job, Store, StoreError, WriteError, Writer};

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
    store: Store,
    writer: Writer,
    clock: Clock,
}

impl Intake {
    /// Builds the listener state over `store` (whose writer it uses) with explicit limits.
    pub fn new(config: IntakeConfig, store: &Store, clock: Clock, limits: Limits) -> Result<Intake, StoreError> {
        let budget = Arc::new(Semaphore::new(limits.max_buffered.clamp(1, Semaphore::MAX_PERMITS)));
        let writer = store.writer()?;
        Ok(Intake { inner: Arc::new(Inner { config, limits, budget, store: store.clone(), writer, clock }) })
    }

    /// The limits in force; [`serve`] applies the connection ones.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// The store's change events (every commit, this listener's and others').
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.store.subscribe()
    }

    /// The settings in force.
    pub fn config(&self) -> &IntakeConfig {
        &self.inner.config
    }
}

/// The router: every method and path goes to the one handler.
pub fn router(intake: Intake) -> Router {
    Router::new().fallback(handle).with_state(intake)
}

/// Serves `intake` on `listener` within its limits until `shutdown`
/// resolves, then finishes in-flight requests.
pub async fn serve(
    listener: TcpListener,
    intake: Intake,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = intake.limits().clone();
    accept::serve(listener, router(intake), limits, shutdown).await
}

/// Like [`serve`], for any router (tests wrap the intake's), within `limits`.
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    accept::serve(listener, router, limits, shutdown).await
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
    let (response, outcome, detail) = match result {
        Ok(Accepted::Recording(recording)) => store_recording(&intake, seen, *recording, started).await,
        Ok(Accepted::Info) => answer_info(&intake, seen, started).await,
        Err(rejection) => answer_rejection(&intake, seen, rejection, started).await,
    };
    let recording = recording_id.map(|id| format!(" recording={id}")).unwrap_or_default();
    tracing::info!(
        target: "earshot::intake",
        "{} {} {} {}{detail}{recording} {:.1} ms",
        head.method,
        head.uri.path(),
        response.status().as_u16(),
        outcome.as_str(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    response
}

/// An answer, what became of the request, and any detail for the log line.
type Answered = (Response, Outcome, String);

async fn answer_info(intake: &Intake, mut seen: Seen, started: Instant) -> Answered {
    seen.request.status = 200;
    seen.request.outcome = Outcome::Info;
    log_only(intake, seen, started).await;
    let body = Json(json!({
        "service": "earshot",
        "message": "Earshot is listening: point the watsonx Audio webhook at this URL (it POSTs recordings)."
    }));
    (body.into_response(), Outcome::Info, String::new())
}

async fn answer_rejection(intake: &Intake, mut seen: Seen, rejection: Rejection, started: Instant) -> Answered {
    seen.request.status = rejection.status.as_u16();
    seen.request.outcome = Outcome::Rejected;
    seen.request.error_code = Some(rejection.code.to_string());
    seen.request.reason = Some(rejection.message.clone());
    if let Some(body) = &seen.body {
        seen.request.body = Some(body[..body.len().min(REJECTED_BODY_CAP)].to_vec());
    }
    let detail = format!(" ({}: {})", rejection.code, rejection.message);
    log_only(intake, seen, started).await;
    (rejection.into_response(), Outcome::Rejected, detail)
}

async fn store_recording(intake: &Intake, mut seen: Seen, recording: NewRecording, started: Instant) -> Answered {
    seen.request.status = 200;
    let job = Job::StoreRecording { request: seen.request.clone(), recording: Box::new(recording) };
    match intake.inner.writer.submit(job, started).await {
        Ok(done) => (Json(json!({})).into_response(), done.outcome, String::new()),
        Err(fault) => {
            let rejection = Rejection::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                format!("Earshot could not save the recording: {fault}"),
            );
            tracing::error!(target: "earshot::intake", "store fault: {fault}");
            seen.request.status = 503;
            seen.request.outcome = Outcome::Failed;
            seen.request.error_code = Some(rejection.code.to_string());
            seen.request.reason = Some(rejection.message.clone());
            log_only(intake, seen, started).await;
            (rejection.into_response(), Outcome::Failed, String::new())
        }
    }
}

async fn log_only(intake: &Intake, seen: Seen, started: Instant) {
    let job = Job::LogRequest { request: seen.request };
    if let Err(WriteError(fault)) = intake.inner.writer.submit(job, started).await {
        tracing::error!(target: "earshot::intake", "could not write the request log: {fault}");
    }
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
    let bytes = body::read_body(intake, &head.headers, body, seen).await?;
    seen.request.body_size = bytes.len();
    seen.body = Some(bytes.clone());

    seen.request.auth = auth::authenticate(&config.auth, &head.headers, now);
    let content_type =
        head.headers.get(header::CONTENT_TYPE).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let parsed = delivery::read(content_type.as_deref(), bytes, &mut seen.request).await;
    if config.auth.mode() == AuthMode::Enforce && seen.request.auth.verdict != TokenCheck::Valid {
        return Err(auth::rejection(&seen.request.auth));
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
