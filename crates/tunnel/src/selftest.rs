//! The end-to-end self-test: one request shaped and signed exactly like
//! watsonx's Audio webhook, sent to the public webhook URL, and a report of
//! each hop it crossed — name lookup, connection, the tunnel reaching
//! Earshot, the token, the body, the commit — or exactly which one failed.
//!
//! The answer alone tells most hops apart: Earshot answers `200 {}` or
//! `{"error", "message"}` JSON, while a tunnel edge that cannot reach the
//! listener answers 502/530 with its own page. With Earshot's [`Store`] at
//! hand, the stored row confirms the rest: the recording is there, its bytes
//! match, and the token's verdict (observe mode accepts bad tokens too).

use std::time::{Duration, Instant};

use chrono::Utc;
use earshot_core::RecordingSummary;
use earshot_core::Secret;
use earshot_core::sample::{self, CallIds, Packaging};
use earshot_core::{Store, StoreError};
use serde::Serialize;
use uuid::Uuid;

mod answer;

use answer::Answer;

/// watsonx waits at most 30 s for the webhook; the self-test no longer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Length of the synthesized utterance sent: big enough to be a real
/// recording, small enough to cross any tunnel in one round trip.
const UTTERANCE_SECONDS: f64 = 1.0;

/// The hops a webhook request crosses, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Hop {
    /// The public host name resolves.
    Dns,
    /// A TCP (and TLS) connection to it opens.
    Connect,
    /// The tunnel delivers the request to Earshot and its answer back.
    Tunnel,
    /// Earshot verifies the token with its secret.
    Auth,
    /// Earshot accepts the multipart body.
    Parse,
    /// Earshot commits the recording to its database.
    Store,
}

impl Hop {
    /// Every hop, in the order a request crosses them.
    pub const ALL: [Hop; 6] = [Hop::Dns, Hop::Connect, Hop::Tunnel, Hop::Auth, Hop::Parse, Hop::Store];

    /// The snake_case name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Hop::Dns => "dns",
            Hop::Connect => "connect",
            Hop::Tunnel => "tunnel",
            Hop::Auth => "auth",
            Hop::Parse => "parse",
            Hop::Store => "store",
        }
    }
}

/// What happened at one hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "HopOutcome"))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Crossed.
    Passed,
    /// The request stopped here.
    Failed,
    /// Crossed, but what happened cannot be confirmed from here (see the detail).
    Unconfirmed,
    /// An earlier hop failed.
    NotReached,
}

/// One hop's line in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct HopResult {
    /// Which hop.
    pub hop: Hop,
    /// What happened.
    pub outcome: Outcome,
    /// Phrased for the user: what was seen, and what to do when it failed.
    pub detail: String,
}

/// The result of one self-test, ready to print or to send to the UI.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SelfTestReport {
    /// The webhook URL tested.
    pub url: String,
    /// True when every hop passed or could not be confirmed, none failed.
    pub ok: bool,
    /// The hop that stopped the request.
    pub failed_hop: Option<Hop>,
    /// One line: what worked, or where and why it broke.
    pub summary: String,
    /// Round trip of the POST in milliseconds, when an answer came back.
    pub latency_ms: Option<f64>,
    /// The HTTP status of the answer.
    pub http_status: Option<u16>,
    /// The recording id sent (look for it in `earshot recordings`).
    pub recording_id: String,
    /// The session id sent.
    pub session_id: String,
    /// Every hop in order.
    pub hops: Vec<HopResult>,
}

/// A self-test to run.
#[derive(Debug, Clone)]
pub struct SelfTest {
    /// The full public webhook URL (base plus path).
    pub url: String,
    /// The secret Earshot checks tokens with; `None` sends no token.
    pub secret: Option<Secret>,
    /// Earshot's database, to confirm the recording arrived intact and how its token fared.
    pub store: Option<Store>,
    /// How long to wait for the answer.
    pub timeout: Duration,
}

impl SelfTest {
    /// A self-test of `url` with no token and no database, waiting [`DEFAULT_TIMEOUT`].
    pub fn new(url: impl Into<String>) -> SelfTest {
        SelfTest { url: url.into(), secret: None, store: None, timeout: DEFAULT_TIMEOUT }
    }

    /// Sends the request and reports each hop.
    ///
    /// The hops run in order and each one's report depends on the ones before
    /// (a refused connection means DNS passed and the rest were not reached), so
    /// the sequence reads top to bottom in one function.
    pub async fn run(&self) -> SelfTestReport {
        let ids = CallIds {
            assistant_id: "earshot-selftest".to_string(),
            environment_id: "earshot-selftest".to_string(),
            session_id: format!("selftest-{}", Uuid::new_v4()),
            recording_id: Uuid::new_v4().to_string(),
        };
        let mut report = Report::new(&self.url, &ids);
        let Some((host, port)) = target(&self.url) else {
            let detail = format!("{:?} is not an http(s) URL with a host", self.url);
            return report.fail(Hop::Dns, detail);
        };
        if let Err(detail) = resolve(&host, port, self.timeout).await {
            return report.fail(Hop::Dns, detail);
        }
        report.pass(Hop::Dns, format!("{host} resolves"));

        let audio = sample::package(&sample::utterance(UTTERANCE_SECONDS), Packaging::Raw);
        let now = Utc::now();
        let boundary = format!("----------{}", Uuid::new_v4().to_string().to_uppercase());
        let duration_ms = (UTTERANCE_SECONDS * 1000.0) as u64;
        let delivery = sample::delivery(&ids, &audio, Packaging::Raw, duration_ms, now, &boundary);
        let client = match reqwest::Client::builder().timeout(self.timeout).build() {
            Ok(client) => client,
            Err(e) => return report.fail(Hop::Connect, format!("cannot build an HTTP client: {e}")),
        };
        let mut request = client.post(&self.url).header("Content-Type", delivery.content_type).body(delivery.body);
        if let Some(secret) = &self.secret {
            request = request.header("Authorization", sample::authorization(secret.as_bytes(), now));
        }
        let started = Instant::now();
        let sent = request.send().await;
        let response = match sent {
            Ok(response) => response,
            Err(error) if error.is_timeout() => {
                let detail = format!(
                    "connected, but no answer within {} s: watsonx would give up too. Is Earshot running, and does the tunnel forward to its port?",
                    self.timeout.as_secs()
                );
                report.pass(Hop::Connect, format!("connected to {host}:{port}"));
                return report.fail(Hop::Tunnel, detail);
            }
            Err(error) => {
                return report.fail(Hop::Connect, format!("cannot connect to {host}:{port}: {}", chain(&error)));
            }
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.bytes().await.unwrap_or_default();
        report.report.latency_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
        report.report.http_status = Some(status);
        report.pass(Hop::Connect, format!("connected to {host}:{port}"));

        match Answer::read(status, &headers, &body) {
            Answer::Stored => {}
            Answer::NotEarshot(detail) => return report.fail(Hop::Tunnel, detail),
            Answer::Refused { hop, detail } => {
                report.pass(Hop::Tunnel, "the request reached Earshot and its answer came back");
                if hop != Hop::Auth {
                    report.unconfirmed(Hop::Auth, "Earshot did not refuse the token (it checks it before the body)");
                }
                if hop == Hop::Store {
                    report.pass(Hop::Parse, "Earshot accepted the body");
                }
                return report.fail(hop, detail);
            }
        }
        report.pass(Hop::Tunnel, "the request reached Earshot and its answer came back");
        match &self.store {
            Some(store) => confirm(report, store, &ids.recording_id, &audio).await,
            None => {
                report.unconfirmed(
                    Hop::Auth,
                    "Earshot accepted the request; without its database the token's verdict cannot be checked \
                     (observe and off modes accept bad tokens too)",
                );
                report.pass(Hop::Parse, "Earshot accepted the body");
                report.pass(Hop::Store, "Earshot answered 200, which it does only after the commit");
                report.finish()
            }
        }
    }
}

/// Checks the stored row: present, byte-exact, and how its token fared.
async fn confirm(mut report: Report, store: &Store, recording_id: &str, sent: &[u8]) -> SelfTestReport {
    let store = store.clone();
    let path = store.describe();
    let id = recording_id.to_string();
    let found = tokio::task::spawn_blocking(move || -> Result<(RecordingSummary, Vec<u8>), StoreError> {
        let recording = store.find_recording(&id, None)?;
        let audio = store.audio(recording.row)?;
        Ok((recording, audio))
    })
    .await;
    let (recording, stored) = match found {
        Ok(Ok(found)) => found,
        Ok(Err(StoreError::NotFound { .. })) => {
            report.unconfirmed(Hop::Auth, "Earshot accepted the request");
            report.pass(Hop::Parse, "Earshot accepted the body");
            let detail = format!(
                "Earshot answered 200, but recording {recording_id} is not in {path}: the URL leads to a \
                 different Earshot (another machine or data dir)"
            );
            return report.fail(Hop::Store, detail);
        }
        Ok(Err(e)) => return report.fail(Hop::Store, format!("cannot read {path}: {e}")),
        Err(e) => return report.fail(Hop::Store, format!("could not read the database: {e}")),
    };
    report.pass(Hop::Parse, "Earshot accepted the body");
    let auth = &recording.auth;
    match auth.verdict.as_str() {
        "valid" => report.pass(Hop::Auth, "the token verified with Earshot's secret"),
        "off" => report.unconfirmed(Hop::Auth, "Earshot checks no token (auth off): set a secret before going live"),
        verdict => {
            report.pass(Hop::Store, format!("stored as {recording_id}"));
            let reason = auth.reason.as_deref().unwrap_or("no reason recorded");
            let detail = format!(
                "Earshot accepted it in observe mode, but the token is {verdict}: {reason}; \
                 watsonx must be given the same secret as Earshot"
            );
            return report.fail(Hop::Auth, detail);
        }
    }
    if stored != sent {
        let detail = format!(
            "recording {recording_id} was stored with {} bytes that differ from the {} bytes sent: something on \
             the way changed the body",
            stored.len(),
            sent.len()
        );
        return report.fail(Hop::Store, detail);
    }
    report.pass(Hop::Store, format!("stored byte-exact as {recording_id} v{} in {path}", recording.version));
    report.finish()
}

/// Host and port of an http(s) URL.
fn target(url: &str) -> Option<(String, u16)> {
    let parsed = reqwest::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    let host = parsed.host_str()?.trim_start_matches('[').trim_end_matches(']').to_string();
    Some((host, parsed.port_or_known_default()?))
}

async fn resolve(host: &str, port: u16, timeout: Duration) -> Result<(), String> {
    match tokio::time::timeout(timeout, tokio::net::lookup_host((host, port))).await {
        Ok(Ok(mut addrs)) => match addrs.next() {
            Some(_) => Ok(()),
            None => Err(format!("{host} has no address")),
        },
        Ok(Err(e)) => Err(format!(
            "cannot resolve {host}: {e} (a new quick tunnel's name can take a few seconds to appear; try again)"
        )),
        Err(_) => Err(format!("looking up {host} took more than {} s", timeout.as_secs())),
    }
}

/// An error with its causes, which is where reqwest puts the useful part.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    text
}

/// The report under construction.
struct Report {
    report: SelfTestReport,
}

impl Report {
    fn new(url: &str, ids: &CallIds) -> Report {
        let hops = Hop::ALL
            .iter()
            .map(|&hop| HopResult { hop, outcome: Outcome::NotReached, detail: String::new() })
            .collect();
        Report {
            report: SelfTestReport {
                url: url.to_string(),
                ok: false,
                failed_hop: None,
                summary: String::new(),
                latency_ms: None,
                http_status: None,
                recording_id: ids.recording_id.clone(),
                session_id: ids.session_id.clone(),
                hops,
            },
        }
    }

    fn set(&mut self, hop: Hop, outcome: Outcome, detail: impl Into<String>) {
        if let Some(line) = self.report.hops.iter_mut().find(|line| line.hop == hop) {
            line.outcome = outcome;
            line.detail = detail.into();
        }
    }

    fn pass(&mut self, hop: Hop, detail: impl Into<String>) {
        self.set(hop, Outcome::Passed, detail);
    }

    fn unconfirmed(&mut self, hop: Hop, detail: impl Into<String>) {
        self.set(hop, Outcome::Unconfirmed, detail);
    }

    fn fail(mut self, hop: Hop, detail: impl Into<String>) -> SelfTestReport {
        let detail = detail.into();
        self.report.summary = format!("failed at {}: {detail}", hop.as_str());
        self.set(hop, Outcome::Failed, detail);
        self.report.failed_hop = Some(hop);
        self.report.ok = false;
        self.report
    }

    fn finish(mut self) -> SelfTestReport {
        let latency = self.report.latency_ms.map(|ms| format!(" in {ms:.0} ms")).unwrap_or_default();
        let verified = match self.report.hops.iter().find(|line| line.hop == Hop::Auth).map(|line| line.outcome) {
            Some(Outcome::Passed) => "token verified",
            _ => "token not checked",
        };
        self.report.summary =
            format!("ok: reached Earshot, {verified}, stored as {}{latency}", self.report.recording_id);
        self.report.ok = true;
        self.report
    }
}
