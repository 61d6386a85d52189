//! `earshot serve`: resolves settings with the core's one resolution (flag,
//! environment, settings.json, default), opens the store, and runs the
//! core's listener start-up until Ctrl-C or SIGTERM, with a public tunnel in
//! front of it when `--tunnel` asks for one.

use std::net::SocketAddr;
use std::time::Duration;

use earshot_core::relay::{SimScope, Simulation};
use earshot_core::{AuthMode, ForwardMode, ListenerStatus, Overrides, Resolved, SavedSettings, Server};

use crate::{CliError, say};

/// Options of `earshot serve`. Each flag beats its `EARSHOT_*` variable,
/// which beats `settings.json`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on (or EARSHOT_LISTEN) [default: 127.0.0.1:8787].
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// The webhook secret configured in watsonx, 1–1,024 characters (or EARSHOT_SECRET).
    #[arg(long, value_name = "S")]
    secret: Option<String>,
    /// enforce (401 on a bad token), observe (accept and mark), off (or EARSHOT_AUTH) [default: enforce with a secret].
    #[arg(long, value_name = "MODE")]
    auth: Option<AuthMode>,
    /// Largest request body in bytes (or EARSHOT_MAX_BODY) [default: 52428800].
    #[arg(long, value_name = "BYTES")]
    max_body: Option<usize>,
    #[command(flatten)]
    tunnel: crate::tunnel::TunnelArgs,
    /// Seconds a client has to send a request's headers (or EARSHOT_HEADER_TIMEOUT) [default: 10].
    #[arg(long, value_name = "SECS")]
    header_timeout: Option<u64>,
    /// Seconds a client has to send a request's body (or EARSHOT_BODY_TIMEOUT) [default: 60].
    #[arg(long, value_name = "SECS")]
    body_timeout: Option<u64>,
    /// Connections served at once; more get 503 (or EARSHOT_MAX_CONNECTIONS) [default: 256].
    #[arg(long, value_name = "N")]
    max_connections: Option<usize>,
    /// Bytes of request bodies held in memory at once; more wait, then get 503 (or EARSHOT_MAX_BUFFERED) [default: 268435456].
    #[arg(long, value_name = "BYTES")]
    max_buffered: Option<usize>,
    /// Forward every request to your own service at URL, as it came (or EARSHOT_FORWARD); the request path is appended when URL ends in '/'.
    #[arg(long, value_name = "URL")]
    forward: Option<String>,
    /// pass: the sender gets your service's answer (502/504 when it has none); tee: the sender gets 200 {} at once (or EARSHOT_FORWARD_MODE) [default: pass].
    #[arg(long, value_name = "MODE", value_parser = parse_mode)]
    forward_mode: Option<ForwardMode>,
    /// Seconds to wait for your service's whole answer, at most 30 (or EARSHOT_FORWARD_TIMEOUT) [default: 25].
    #[arg(long, value_name = "SECS")]
    forward_timeout: Option<f64>,
    /// Simulate an answer: reply with this HTTP status instead (the recording is still stored and forwarded).
    #[arg(long, value_name = "CODE")]
    answer_status: Option<u16>,
    /// Simulate a slow answer: wait this many seconds before answering (with --answer-status, or 200).
    #[arg(long, value_name = "SECS")]
    answer_delay: Option<f64>,
    /// Simulate a failure: close the connection without answering (after --answer-delay, if given).
    #[arg(long)]
    answer_drop: bool,
    /// Simulate only the next N answers, then answer normally again.
    #[arg(long, value_name = "N")]
    answer_count: Option<u32>,
    /// Simulate only for requests of this call (session id).
    #[arg(long, value_name = "SESSION_ID")]
    answer_session: Option<String>,
    /// Remove calls whose last recording is older than N days, on start and every hour; kept ones stay (or EARSHOT_RETENTION_DAYS) [default: off].
    #[arg(long, value_name = "N")]
    retention_days: Option<u32>,
    /// Remove the oldest calls while the audio stored is over G gigabytes; kept ones stay (or EARSHOT_RETENTION_MAX_GB) [default: off].
    #[arg(long, value_name = "G")]
    retention_max_gb: Option<f64>,
}

fn parse_mode(text: &str) -> Result<ForwardMode, String> {
    ForwardMode::from_name(text).ok_or_else(|| format!("{text:?} is not a forward mode (pass or tee)"))
}

impl Args {
    fn overrides(&self) -> Overrides {
        Overrides {
            listen: self.listen,
            secret: self.secret.clone(),
            auth: self.auth,
            max_body: self.max_body,
            header_timeout: self.header_timeout.map(Duration::from_secs),
            body_timeout: self.body_timeout.map(Duration::from_secs),
            max_connections: self.max_connections,
            max_buffered: self.max_buffered,
            forward: self.forward.clone(),
            forward_mode: self.forward_mode,
            forward_timeout: self.forward_timeout.map(|s| Duration::from_secs_f64(s.max(0.0))),
            retention_days: self.retention_days,
            retention_max_gb: self.retention_max_gb,
        }
    }

    /// The simulated answer the `--answer-*` flags ask for, if any.
    fn simulation(&self) -> Result<Option<Simulation>, CliError> {
        let asked = self.answer_status.is_some() || self.answer_delay.is_some() || self.answer_drop;
        if !asked {
            if self.answer_count.is_some() || self.answer_session.is_some() {
                return Err(CliError::Message(
                    "--answer-count and --answer-session narrow a simulated answer; add --answer-status, --answer-delay or --answer-drop".into(),
                ));
            }
            return Ok(None);
        }
        if self.answer_count.is_some() && self.answer_session.is_some() {
            return Err(CliError::Message("give --answer-count or --answer-session, not both".into()));
        }
        let scope = match (&self.answer_count, &self.answer_session) {
            (Some(count), _) => SimScope::Next { count: *count },
            (_, Some(session_id)) => SimScope::Session { session_id: session_id.clone() },
            _ => SimScope::All,
        };
        let delay = self.answer_delay.unwrap_or(0.0);
        if !delay.is_finite() || delay < 0.0 {
            return Err(CliError::Message(format!("--answer-delay {delay} is not a number of seconds")));
        }
        let simulation = Simulation {
            status: self.answer_status.unwrap_or(200),
            delay_ms: (delay * 1000.0).round() as u64,
            drop: self.answer_drop,
            scope,
        };
        simulation.check().map_err(|e| CliError::Message(format!("--answer-*: {e}")))?;
        Ok(Some(simulation))
    }
}

pub fn run(place: &crate::Place, args: Args) -> Result<(), CliError> {
    let data_dir = place.data_dir()?;
    let saved = SavedSettings::load(&data_dir)?;
    let settings = Resolved::resolve(args.overrides(), Overrides::from_env()?, &saved)?;
    let store = place.open()?;
    let provider = args.tunnel.provider()?;
    let simulation = args.simulation()?;

    let runtime = tokio::runtime::Runtime::new().map_err(|e| CliError::Message(format!("cannot start tokio: {e}")))?;
    runtime.block_on(async move {
        let mode = settings.auth.mode();
        let server = Server::new(store.clone());
        server.simulator().set(simulation).map_err(|e| CliError::Message(e.to_string()))?;
        let config = settings.intake_config();
        let local = match server.start(settings.listen, config, settings.limits.clone()).await {
            ListenerStatus::Running { address, .. } => {
                address.parse::<SocketAddr>().map_err(|e| CliError::Message(e.to_string()))?
            }
            ListenerStatus::Failed { message, .. } => return Err(CliError::Message(message)),
            ListenerStatus::Stopped => return Err(CliError::Message("the listener did not start".into())),
        };
        if !local.ip().is_loopback() {
            tracing::warn!(
                "listening on {local}, which is reachable from other machines; Earshot is meant to sit behind a tunnel on loopback"
            );
        }
        // Tests and scripts read this line to find the port when listening on :0.
        say(&format!("listening on http://{local}"));
        say(&format!("database: {}", store.describe()));
        say(&format!("auth: {}", mode.as_str()));
        if mode == AuthMode::Off {
            say("warning: no secret set, so tokens are not checked (pass --secret or set EARSHOT_SECRET)");
        }
        if let Some(forward) = &settings.forward {
            say(&format!(
                "forwarding: {} ({}, timeout {:.1} s); your service decides on tokens",
                forward.url,
                forward.mode.as_str(),
                forward.timeout.as_secs_f64()
            ));
        }
        if let Some(state) = server.simulator().state() {
            say(&format!("simulating answers: {} (the recordings are still stored)", state.label));
        }
        let _retention = settings.retention.is_on().then(|| {
            say(&format!(
                "retention: {}{}{} (kept recordings stay)",
                settings.retention.days.map(|d| format!("{d} days")).unwrap_or_default(),
                if settings.retention.days.is_some() && settings.retention.max_gb.is_some() { ", " } else { "" },
                settings.retention.max_gb.map(|g| format!("at most {g} GB")).unwrap_or_default()
            ));
            earshot_core::retention::schedule(
                store.clone(),
                settings.retention,
                earshot_core::system_clock(),
                earshot_core::retention::RETENTION_EVERY,
            )
        });
        // Catches up on recordings stored before analysis existed, then analyses each new one.
        let _analyser = earshot_core::analysis::Analyser::start(
            store.clone(),
            std::sync::Arc::new(|p: earshot_core::analysis::Progress| {
                if p.done == p.total || p.done % 1000 < 32 {
                    tracing::info!(target: "earshot::analysis", "analysed {} of {} recordings", p.done, p.total);
                }
            }),
        );
        let tunnel = crate::tunnel::start(provider, local, mode)?;
        shutdown_signal().await;
        crate::tunnel::stop(tunnel).await;
        server.stop().await;
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
