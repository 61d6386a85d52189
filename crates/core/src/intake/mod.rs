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
mod onward;
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
pub(crate) use delivery::boundary as boundary_of;
pub use delivery::{AUDIO_PART, DeliveryError, MAX_METADATA, METADATA_PART};
pub use metadata::{Metadata, MetadataError};
pub use rejection::Rejection;

use self::accept::Hangup;
use self::seen::Seen;
use crate::events::Event;
use crate::model::{NewRecording, Outcome, TokenCheck};
use crate::relay::{ForwardConfig, Simulation, Simulator, Upstream};
use crate::settings::{AuthConfig, AuthMode, Limits};
use crate::store::{Job, Logged, Store, StoreError, WriteError, Writer};

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
    /// Where every request goes on to, when forwarding is on.
    pub forward: Option<ForwardConfig>,
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
    simulator: Simulator,
    upstream: Upstream,
}

impl Intake {
    /// Builds the listener state over `store` (whose writer it uses) with explicit limits.
    pub fn new(config: IntakeConfig, store: &Store, clock: Clock, limits: Limits) -> Result<Intake, StoreError> {
        Intake::with_simulator(config, store, clock, limits, Simulator::new())
    }

    /// Like [`Intake::new`], answering as `simulator` says (a switch the caller keeps and changes live).
    pub fn with_simulator(
        config: IntakeConfig,
        store: &Store,
        clock: Clock,
        limits: Limits,
        simulator: Simulator,
    ) -> Result<Intake, StoreError> {
        let budget = Arc::new(Semaphore::new(limits.max_buffered.clamp(1, Semaphore::MAX_PERMITS)));
        let writer = store.writer()?;
        let upstream = Upstream::new();
        let inner = Inner { config, limits, budget, store: store.clone(), writer, clock, simulator, upstream };
        Ok(Intake { inner: Arc::new(inner) })
    }

    /// The simulated-answer switch this listener obeys.
    pub fn simulator(&self) -> &Simulator {
        &self.inner.simulator
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

/// An answer, what became of the request, and any detail for the log line.
type Answered = (Response, Outcome, String);

async fn handle(State(intake): State<Intake>, request: Request) -> Response {
    let started = Instant::now();
    let now = (intake.inner.clock)();
    let received_at = now.to_rfc3339_opts(SecondsFormat::Millis, true);
    let hangup = request.extensions().get::<Hangup>().cloned();
    let (head, body) = request.into_parts();
    let mut seen = Seen::new(&head, &received_at);
    let forwarding = intake.inner.config.forward.is_some();
    let result = match head.method {
        Method::POST => receive(&intake, &head, body, &mut seen, now).await,
        ref other => {
            // Forwarded requests go on with their bodies, whatever the method.
            let read = match forwarding {
                true => body::read_body(&intake, &head.headers, body, &mut seen).await.map(|bytes| {
                    seen.request.body_size = bytes.len();
                    seen.body = Some(bytes);
                }),
                false => Ok(()),
            };
            match (read, other) {
                (Err(rejection), _) => Err(rejection),
                (Ok(()), &Method::GET | &Method::HEAD) => Ok(Accepted::Info),
                (Ok(()), other) => Err(Rejection::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    format!("watsonx delivers recordings with POST; this request used {other}"),
                )),
            }
        }
    };
    let simulation = intake.inner.simulator.take(seen.request.session_id.as_deref());
    seen.request.simulated = simulation.as_ref().map(Simulation::describe);
    let recording_id = seen.request.recording_id.clone();
    let onward = onward::Onward::new(&intake, &head, &seen, simulation, hangup);
    let (response, outcome, detail) = match result {
        Ok(Accepted::Recording(recording)) => store_recording(&intake, seen, *recording, started, onward).await,
        Ok(Accepted::Info) => answer_info(&intake, seen, started, onward).await,
        Err(rejection) => answer_rejection(&intake, seen, rejection, started, onward).await,
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

async fn answer_info(intake: &Intake, mut seen: Seen, started: Instant, onward: onward::Onward) -> Answered {
    seen.request.status = onward.logged_status(200);
    seen.request.outcome = Outcome::Info;
    let logged = log_only(intake, seen, started).await;
    let body = Json(json!({
        "service": "earshot",
        "message": "Earshot is listening: point the watsonx Audio webhook at this URL (it POSTs recordings)."
    }));
    onward.finish(intake, logged, (body.into_response(), Outcome::Info, String::new())).await
}

async fn answer_rejection(
    intake: &Intake,
    mut seen: Seen,
    rejection: Rejection,
    started: Instant,
    onward: onward::Onward,
) -> Answered {
    seen.request.status = onward.logged_status(rejection.status.as_u16());
    seen.request.outcome = Outcome::Rejected;
    seen.request.error_code = Some(rejection.code.to_string());
    seen.request.reason = Some(rejection.message.clone());
    keep_whole_body(&mut seen);
    let detail = format!(" ({}: {})", rejection.code, rejection.message);
    let logged = log_only(intake, seen, started).await;
    onward.finish(intake, logged, (rejection.into_response(), Outcome::Rejected, detail)).await
}

/// Keeps the body as received (up to the cap), for a request that stores no recording.
fn keep_whole_body(seen: &mut Seen) {
    seen.request.body_audio_at = None;
    seen.request.body = seen.body.as_ref().map(|body| body[..body.len().min(REJECTED_BODY_CAP)].to_vec());
}

async fn store_recording(
    intake: &Intake,
    mut seen: Seen,
    recording: NewRecording,
    started: Instant,
    onward: onward::Onward,
) -> Answered {
    seen.request.status = onward.logged_status(200);
    let job = Job::StoreRecording { request: seen.request.clone(), recording: Box::new(recording) };
    match intake.inner.writer.submit(job, started).await.map(|done| done.logged()) {
        Ok(Some(done)) => {
            let own = (Json(json!({})).into_response(), done.outcome, String::new());
            onward.finish(intake, Some(done), own).await
        }
        Ok(None) => unreachable!("a recording job commits a request log entry"),
        Err(fault) => {
            // Nothing acknowledged, nothing forwarded: the sender retries or the call fails visibly.
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
            keep_whole_body(&mut seen);
            log_only(intake, seen, started).await;
            (rejection.into_response(), Outcome::Failed, String::new())
        }
    }
}

async fn log_only(intake: &Intake, seen: Seen, started: Instant) -> Option<Logged> {
    let job = Job::LogRequest { request: seen.request };
    match intake.inner.writer.submit(job, started).await {
        Ok(done) => done.logged(),
        Err(WriteError(fault)) => {
            tracing::error!(target: "earshot::intake", "could not write the request log: {fault}");
            None
        }
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
    // Read first, so that a body Earshot refuses can still be forwarded as it came.
    let bytes = body::read_body(intake, &head.headers, body, seen).await?;
    seen.request.body_size = bytes.len();
    seen.body = Some(bytes.clone());
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

    seen.request.auth = auth::authenticate(&config.auth, &head.headers, now);
    let content_type =
        head.headers.get(header::CONTENT_TYPE).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let parsed = delivery::read(content_type.as_deref(), bytes.clone(), &mut seen.request).await;
    // With forwarding on, the user's service is the authority on tokens; Earshot only records its own check.
    if config.auth.mode() == AuthMode::Enforce
        && config.forward.is_none()
        && seen.request.auth.verdict != TokenCheck::Valid
    {
        return Err(auth::rejection(&seen.request.auth));
    }
    let delivery = parsed?;
    // Keep the body for byte-identical replay, without the audio bytes the recording holds.
    if let Some(at) = memchr::memmem::find(&bytes, &delivery.audio) {
        let mut envelope = Vec::with_capacity(bytes.len() - delivery.audio.len());
        envelope.extend_from_slice(&bytes[..at]);
        envelope.extend_from_slice(&bytes[at + delivery.audio.len()..]);
        seen.request.body = Some(envelope);
        seen.request.body_audio_at = Some(at);
    }
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
