//! `earshot sessions`, `recordings` and `requests`: tables for people,
//! `--json` for scripts (the same field names the desktop app receives).

use earshot_core::Store;
use serde::Serialize;

use crate::CliError;

/// Options of `earshot sessions`.
#[derive(Debug, clap::Args)]
pub struct SessionsArgs {
    /// Print a JSON array instead of a table.
    #[arg(long)]
    json: bool,
}

/// Options of `earshot recordings`.
#[derive(Debug, clap::Args)]
pub struct RecordingsArgs {
    /// Only recordings of this call (session id).
    #[arg(long, value_name = "ID")]
    session: Option<String>,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    json: bool,
}

/// Options of `earshot requests`.
#[derive(Debug, clap::Args)]
pub struct RequestsArgs {
    /// Print a JSON array instead of a table.
    #[arg(long)]
    json: bool,
    /// Show at most this many requests.
    #[arg(long, default_value_t = 100)]
    limit: usize,
}

fn print_json<T: Serialize>(value: &T) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Message(e.to_string()))?;
    println!("{text}");
    Ok(())
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

pub fn sessions(store: &Store, args: SessionsArgs) -> Result<(), CliError> {
    let sessions = store.sessions()?;
    if args.json {
        return print_json(&sessions);
    }
    if sessions.is_empty() {
        println!("no calls yet: point watsonx (or `earshot send`) at `earshot serve`");
        return Ok(());
    }
    println!("{:<36}  {:>4}  {:<24}  {:<24}  {:>7}", "SESSION", "RECS", "FIRST", "LAST", "FLAGGED");
    for s in sessions {
        println!(
            "{:<36}  {:>4}  {:<24}  {:<24}  {:>7}",
            s.session_id, s.recording_count, s.first_received_at, s.last_received_at, s.flagged_requests
        );
    }
    Ok(())
}

pub fn recordings(store: &Store, args: RecordingsArgs) -> Result<(), CliError> {
    let recordings = store.recordings(args.session.as_deref())?;
    if args.json {
        return print_json(&recordings);
    }
    if recordings.is_empty() {
        println!("no recordings{}", args.session.map(|s| format!(" in session {s}")).unwrap_or_default());
        return Ok(());
    }
    println!(
        "{:<36}  {:>2}  {:<8}  {:<24}  {:>8}  {:<11}  {:>8}  AUTH",
        "RECORDING", "V", "SESSION", "RECEIVED", "SECONDS", "FORMAT", "BYTES"
    );
    for r in recordings {
        let format = format!("{} {}", r.container.as_str(), r.encoding.as_str());
        println!(
            "{:<36}  {:>2}  {:<8}  {:<24}  {:>8.2}  {:<11}  {:>8}  {}{}",
            r.recording_id,
            r.version,
            short(&r.session_id),
            r.received_at,
            r.duration_ms as f64 / 1000.0,
            format,
            r.size_bytes,
            r.auth.verdict,
            r.auth.reason.map(|why| format!(" ({why})")).unwrap_or_default()
        );
    }
    Ok(())
}

pub fn requests(store: &Store, args: RequestsArgs) -> Result<(), CliError> {
    let requests = store.requests(args.limit)?;
    if args.json {
        return print_json(&requests);
    }
    if requests.is_empty() {
        println!("no requests yet");
        return Ok(());
    }
    println!(
        "{:>6}  {:<24}  {:<6}  {:<20}  {:>6}  {:>8}  {:<9}  REASON",
        "ID", "TIME", "METHOD", "PATH", "STATUS", "MS", "OUTCOME"
    );
    for q in requests {
        println!(
            "{:>6}  {:<24}  {:<6}  {:<20}  {:>6}  {:>8.1}  {:<9}  {}",
            q.id,
            q.received_at,
            q.method,
            q.path,
            q.status,
            q.latency_ms,
            q.outcome,
            q.error.map(|code| format!("{code}: {}", q.reason.unwrap_or_default())).unwrap_or_default()
        );
    }
    Ok(())
}
