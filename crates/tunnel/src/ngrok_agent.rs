//! One run of an ngrok endpoint, in-process through the official `ngrok` SDK
//! (no ngrok binary): a session authenticated with the user's authtoken, an
//! HTTP endpoint (on the reserved domain if one is given), and the SDK's
//! `listen_and_forward`, which proxies every connection the endpoint accepts
//! to the local listener's URL. The SDK reconnects a dropped session by
//! itself; this run ends only when forwarding ends or a stop arrives.
//!
//! ngrok's `axum` integration is not used: it pins axum 0.7 while Earshot
//! serves with axum 0.8, and forwarding to the listener's port needs neither.

use std::time::{Duration, Instant};

use ngrok::Error as NgrokError;
use ngrok::config::ForwarderBuilder;
use ngrok::session::ConnectError;
use ngrok::tunnel::{EndpointInfo, TunnelCloser};

use crate::provider::NgrokConfig;
use crate::status::Status;
use crate::supervisor::{Context, Ended, StopSignal};

/// Connecting and authenticating usually takes well under a second; past
/// this the network is not letting us through.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Closing politely tells ngrok to free the endpoint at once; a dead network
/// must not hold up a stop, so this is bounded.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// Where to see, reset or create the authtoken.
const AUTHTOKEN_PAGE: &str = "https://dashboard.ngrok.com/get-started/your-authtoken";

/// Runs ngrok once: connect, open the endpoint, forward until it ends or a stop arrives.
///
/// One state machine (connect → listen → forward → ended) over one session;
/// kept whole so every exit path reports its status in one place.
pub(crate) async fn run(config: &NgrokConfig, context: &Context, stop: &mut StopSignal) -> Ended {
    let mut builder = ngrok::Session::builder();
    builder.authtoken(config.authtoken()).client_info("earshot", env!("CARGO_PKG_VERSION"), None::<String>);
    if let Some(addr) = &config.server_addr
        && let Err(e) = builder.server_addr(addr.clone())
    {
        return Ended::Fatal { message: format!("ngrok server address {addr:?} is not usable: {e}") };
    }
    context.note(format!(
        "connecting to ngrok{}",
        config.server_addr.as_ref().map(|a| format!(" at {a}")).unwrap_or_default()
    ));
    let connected = tokio::select! {
        result = tokio::time::timeout(CONNECT_TIMEOUT, builder.connect()) => result,
        () = stop.requested() => return Ended::Stopped,
    };
    let mut session = match connected {
        Ok(Ok(session)) => session,
        Ok(Err(error)) => return connect_failed(&error),
        Err(_) => {
            let message = format!("ngrok did not answer within {} s", CONNECT_TIMEOUT.as_secs());
            return Ended::Failed { message, online_for: None };
        }
    };
    let mut endpoint = session.http_endpoint();
    if let Some(domain) = &config.domain {
        endpoint.domain(domain.clone());
    }
    endpoint.metadata("earshot");
    let listened = tokio::select! {
        result = endpoint.listen_and_forward(context.target.clone()) => result,
        () = stop.requested() => {
            close_session(&mut session).await;
            return Ended::Stopped;
        }
    };
    let mut forwarder = match listened {
        Ok(forwarder) => forwarder,
        Err(error) => {
            close_session(&mut session).await;
            let message = format!("ngrok refused the endpoint: {}", explain(&error));
            // A reserved domain that is not the user's, or a plan limit, does not go away by retrying.
            return match error.error_code() {
                Some(_) => Ended::Fatal { message },
                None => Ended::Failed { message, online_for: None },
            };
        }
    };
    let url = forwarder.url().trim_end_matches('/').to_string();
    context.note(format!("public URL {url}, forwarding to {}", context.target.origin().ascii_serialization()));
    context.publish(Status::Online { url });
    let online_at = Instant::now();
    let ended = tokio::select! {
        joined = forwarder.join() => {
            let why = match joined {
                Ok(Ok(())) => "the endpoint was closed by ngrok".to_string(),
                Ok(Err(e)) => format!("forwarding failed: {e}"),
                Err(e) => format!("the forwarding task ended: {e}"),
            };
            Ended::Failed { message: format!("ngrok stopped forwarding: {why}"), online_for: Some(online_at.elapsed()) }
        }
        () = stop.requested() => {
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, forwarder.close()).await;
            Ended::Stopped
        }
    };
    forwarder.join().abort();
    close_session(&mut session).await;
    ended
}

async fn close_session(session: &mut ngrok::Session) {
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, session.close()).await;
}

fn connect_failed(error: &ConnectError) -> Ended {
    match error {
        ConnectError::Auth(_) => Ended::Fatal {
            message: format!("ngrok refused the authtoken ({}); copy it again from {AUTHTOKEN_PAGE}", explain(error)),
        },
        _ => Ended::Failed { message: format!("cannot reach ngrok: {}", explain(error)), online_for: None },
    }
}

/// ngrok's message with its `ERR_NGROK_…` code, followed by the error's sources.
fn explain(error: &(impl NgrokError + ?Sized)) -> String {
    let mut text = match error.error_code() {
        Some(code) => format!("{} [{code}]", error.msg().trim()),
        None => error.msg().trim().to_string(),
    };
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    text
}
