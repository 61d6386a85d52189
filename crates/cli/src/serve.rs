//! `earshot serve`: resolves settings (flag, environment, settings.json,
//! default), opens the store, and runs the intake until Ctrl-C or SIGTERM,
//! with a public tunnel in front of it when `--tunnel` asks for one.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use earshot_core::intake::{self, Intake, IntakeConfig};
use earshot_core::listener::Limits;
use earshot_core::settings::{self, AuthConfig, AuthMode, SavedSettings, Secret};
use earshot_core::store::Store;

use crate::CliError;

/// Options of `earshot serve`; each also reads an `EARSHOT_*` variable.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on [default: 127.0.0.1:8787].
    #[arg(long, env = "EARSHOT_LISTEN", value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// The webhook secret configured in watsonx (1–1,024 characters).
    #[arg(long, env = "EARSHOT_SECRET", hide_env_values = true, value_name = "S")]
    secret: Option<String>,
    /// enforce (401 on a bad token), observe (accept and mark), off [default: enforce with a secret].
    #[arg(long, env = "EARSHOT_AUTH", value_name = "MODE")]
    auth: Option<AuthMode>,
    /// Largest request body in bytes [default: 52428800].
    #[arg(long, env = "EARSHOT_MAX_BODY", value_name = "BYTES")]
    max_body: Option<usize>,
    #[command(flatten)]
    tunnel: crate::tunnel::TunnelArgs,
    /// Seconds a client has to send a request's headers [default: 10].
    #[arg(long, env = "EARSHOT_HEADER_TIMEOUT", value_name = "SECS")]
    header_timeout: Option<u64>,
    /// Seconds a client has to send a request's body [default: 60].
    #[arg(long, env = "EARSHOT_BODY_TIMEOUT", value_name = "SECS")]
    body_timeout: Option<u64>,
    /// Connections served at once; more get 503 [default: 256].
    #[arg(long, env = "EARSHOT_MAX_CONNECTIONS", value_name = "N")]
    max_connections: Option<usize>,
    /// Bytes of request bodies held in memory at once; more wait, then get 503 [default: 268435456].
    #[arg(long, env = "EARSHOT_MAX_BUFFERED", value_name = "BYTES")]
    max_buffered: Option<usize>,
}

impl Args {
    fn limits(&self) -> Limits {
        let default = Limits::default();
        Limits {
            header_timeout: self.header_timeout.map_or(default.header_timeout, Duration::from_secs),
            body_timeout: self.body_timeout.map_or(default.body_timeout, Duration::from_secs),
            max_connections: self.max_connections.unwrap_or(default.max_connections),
            max_buffered: self.max_buffered.unwrap_or(default.max_buffered),
            ..default
        }
    }
}

pub fn run(data_dir: Option<PathBuf>, args: Args) -> Result<(), CliError> {
    let data_dir = settings::data_dir(data_dir)?;
    let limits = args.limits();
    let saved = SavedSettings::load(&data_dir)?;
    let listen = match args.listen.or(saved.listen) {
        Some(addr) => addr,
        None => settings::DEFAULT_LISTEN.parse().map_err(|e| CliError::Message(format!("{e}")))?,
    };
    let secret = args.secret.or(saved.secret).map(Secret::new).transpose()?;
    let auth = AuthConfig::new(args.auth.or(saved.auth), secret)?;
    let max_body = args.max_body.or(saved.max_body).unwrap_or(settings::DEFAULT_MAX_BODY);
    let store = Store::open(&data_dir)?;
    let provider = args.tunnel.provider()?;

    let runtime = tokio::runtime::Runtime::new().map_err(|e| CliError::Message(format!("cannot start tokio: {e}")))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| CliError::Message(format!("cannot listen on {listen}: {e}")))?;
        let local = listener.local_addr().map_err(|e| CliError::Message(e.to_string()))?;
        if !local.ip().is_loopback() {
            tracing::warn!(
                "listening on {local}, which is reachable from other machines; Earshot is meant to sit behind a tunnel on loopback"
            );
        }
        let mode = auth.mode();
        let intake =
            Intake::with_limits(IntakeConfig { auth, max_body }, store.writer()?, intake::system_clock(), limits);
        // Tests and scripts read this line to find the port when listening on :0.
        println!("listening on http://{local}");
        println!("database: {}", store.path().display());
        println!("auth: {}", mode.as_str());
        if mode == AuthMode::Off {
            println!("warning: no secret set, so tokens are not checked (pass --secret or set EARSHOT_SECRET)");
        }
        let tunnel = crate::tunnel::start(provider, local, mode)?;
        let limits = intake.limits().clone();
        let served = intake::serve_with(listener, intake::router(intake), limits, shutdown_signal())
            .await
            .map_err(|e| CliError::Message(format!("listener failed: {e}")));
        crate::tunnel::stop(tunnel).await;
        served
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
