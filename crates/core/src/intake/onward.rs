//! What happens after a request is recorded, when forwarding or a simulated
//! answer is on: the request goes on to the user's service (`pass`: the
//! sender gets its answer, or 502/504; `tee`: in the background), and a
//! simulated answer, if one applies, replaces whatever would be sent — after
//! its delay, or by hanging up. The upstream's answer is recorded against the
//! request log entry in its own write, which nobody waits for.

use std::time::Instant;

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::accept::Hangup;
use super::seen::Seen;
use super::{Answered, Intake, Rejection};
use crate::model::{Answer, ForwardMode, UpstreamFault};
use crate::relay::{ForwardConfig, Outgoing, Simulation, forward_target, forwarded_headers};
use crate::store::{Job, Logged};

/// The onward half of one request.
pub(super) struct Onward {
    forward: Option<(ForwardConfig, Outgoing)>,
    simulation: Option<Simulation>,
    hangup: Option<Hangup>,
    session_id: Option<String>,
}

impl Onward {
    pub(super) fn new(
        intake: &Intake,
        head: &Parts,
        seen: &Seen,
        simulation: Option<Simulation>,
        hangup: Option<Hangup>,
    ) -> Onward {
        // A body that could not be read whole (too large, too slow) cannot go on as it came.
        let forward = intake.inner.config.forward.clone().zip(seen.body.clone()).map(|(config, body)| {
            let outgoing = Outgoing {
                method: head.method.to_string(),
                url: forward_target(&config.url, head.uri.path(), head.uri.query()),
                headers: forwarded_headers(&head.headers),
                body,
            };
            (config, outgoing)
        });
        Onward { forward, simulation, hangup, session_id: seen.request.session_id.clone() }
    }

    /// The status to write in the log now: the simulated one, 0 while a
    /// `pass` forward is pending (the answer's write sets it), else Earshot's own.
    pub(super) fn logged_status(&self, own: u16) -> u16 {
        match (&self.simulation, &self.forward) {
            (Some(simulation), _) if simulation.drop => 0,
            (Some(simulation), _) => simulation.status,
            (None, Some((config, _))) if config.mode == ForwardMode::Pass => 0,
            _ => own,
        }
    }

    /// Forwards (when on) and decides the answer; `own` is Earshot's own answer.
    pub(super) async fn finish(self, intake: &Intake, logged: Option<Logged>, own: Answered) -> Answered {
        let (own_response, outcome, mut detail) = own;
        let logged_status = self.logged_status(own_response.status().as_u16());
        let request_id = logged.map(|l| l.request_id);
        if let (Some((config, outgoing)), Some(request_id)) = (self.forward, request_id) {
            let record = Recorder { intake: intake.clone(), request_id, session_id: self.session_id.clone() };
            if config.mode == ForwardMode::Pass && self.simulation.is_none() {
                let answer = intake.inner.upstream.send(&outgoing, config.timeout).await;
                let response = passed_on(&answer);
                detail = format!("{detail} upstream={}", describe(&answer));
                record.spawn(response.status().as_u16(), config.mode, answer);
                return (response, outcome, detail);
            }
            let upstream = intake.inner.upstream.clone();
            tokio::spawn(async move {
                let answer = upstream.send(&outgoing, config.timeout).await;
                record.spawn(logged_status, config.mode, answer);
            });
        }
        let Some(simulation) = self.simulation else {
            return (own_response, outcome, detail);
        };
        tokio::time::sleep(simulation.delay()).await;
        detail = format!("{detail} simulated={}", simulation.describe());
        if simulation.drop {
            return (hang_up(self.hangup).await, outcome, detail);
        }
        (simulated(&simulation), outcome, detail)
    }
}

/// Writes an upstream answer against its request log entry.
struct Recorder {
    intake: Intake,
    request_id: i64,
    session_id: Option<String>,
}

impl Recorder {
    fn spawn(self, status: u16, mode: ForwardMode, answer: Answer) {
        tokio::spawn(async move {
            let job = Job::RecordForward {
                request_id: self.request_id,
                session_id: self.session_id,
                status,
                mode,
                answer: Box::new(answer),
            };
            if let Err(fault) = self.intake.inner.writer.submit(job, Instant::now()).await {
                tracing::error!(target: "earshot::intake", "could not record the upstream answer: {fault}");
            }
        });
    }
}

fn describe(answer: &Answer) -> String {
    match (&answer.status, &answer.fault) {
        (Some(status), _) => format!("{status} in {:.1} ms", answer.latency_us as f64 / 1000.0),
        (None, Some((fault, _))) => fault.as_str().to_string(),
        (None, None) => "none".to_string(),
    }
}

/// The upstream's status, `Content-Type` and body; 502 or 504 when it gave none.
fn passed_on(answer: &Answer) -> Response {
    let Some(status) = answer.status else {
        let (fault, message) = answer.fault.clone().unwrap_or((UpstreamFault::Broken, "no answer".into()));
        let status = match fault {
            UpstreamFault::Timeout => StatusCode::GATEWAY_TIMEOUT,
            UpstreamFault::Unreachable | UpstreamFault::Broken => StatusCode::BAD_GATEWAY,
        };
        return Rejection::new(status, fault.as_str(), format!("Earshot forwarded the request but {message}"))
            .into_response();
    };
    let mut response = Response::new(Body::from(answer.body.clone()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    if let Some(value) = answer.header("content-type").and_then(|v| HeaderValue::from_str(v).ok()) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

fn simulated(simulation: &Simulation) -> Response {
    let status = StatusCode::from_u16(simulation.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_success() {
        return (status, axum::Json(json!({}))).into_response();
    }
    let body = json!({
        "error": "simulated",
        "message": format!("Earshot answered {} because a simulated answer is on (Response card / --answer-status)", simulation.status),
    });
    (status, axum::Json(body)).into_response()
}

/// Closes the connection without an answer. Only a real connection can be
/// hung up; a router driven without one (tests with `oneshot`) gets a body
/// that fails, which hyper also turns into a closed connection.
async fn hang_up(hangup: Option<Hangup>) -> Response {
    match hangup {
        Some(hangup) => {
            hangup.now();
            std::future::pending().await
        }
        None => {
            let failing = futures_util::stream::once(async {
                Err::<bytes::Bytes, std::io::Error>(std::io::Error::other("simulated drop"))
            });
            Response::new(Body::from_stream(failing))
        }
    }
}
