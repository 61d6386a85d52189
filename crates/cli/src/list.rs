//! `earshot sessions`, `recordings` and `requests`: tables for people,
//! `--json` for scripts (the same field names the desktop app receives).
//! `requests --curl` and `--har` write requests out for other tools
//! (`crate::curl`, `crate::har`).

use std::path::{Path, PathBuf};

use earshot_core::{ForwardEntry, RecordingSummary, RequestEntry, Store};
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
    /// Only recordings with this review verdict: pass, fail, follow-up or unreviewed.
    #[arg(long, value_parser = crate::review::parse_verdict, value_name = "V")]
    verdict: Option<earshot_core::Verdict>,
    /// Only recordings carrying this review tag.
    #[arg(long, value_name = "T")]
    tag: Option<String>,
    /// Only recordings raising this analysis flag: silent, clipped, truncated or late_start.
    #[arg(long, value_parser = parse_flag, value_name = "F")]
    flag: Option<earshot_audio::Flag>,
    /// Print a JSON array instead of a table.
    #[arg(long)]
    json: bool,
}

/// Options of `earshot requests`.
#[derive(Debug, clap::Args)]
pub struct RequestsArgs {
    /// Print JSON instead of a table (with --curl or --har: what was written).
    #[arg(long)]
    json: bool,
    /// Show at most this many requests.
    #[arg(long, default_value_t = 100)]
    limit: usize,
    /// Print a curl command that sends request ID again byte for byte (its body is written to a file next to it).
    #[arg(long, value_name = "ID", conflicts_with = "har")]
    pub(crate) curl: Option<i64>,
    /// With --curl: where the command sends it [default: the forward URL].
    #[arg(long, value_name = "URL", requires = "curl")]
    pub(crate) to: Option<String>,
    /// With --curl: sign a fresh token with this secret (or EARSHOT_SECRET, or settings.json); none known: no token.
    #[arg(long, value_name = "S", requires = "curl")]
    pub(crate) secret: Option<String>,
    /// With --curl: the folder for the body file [default: the current one].
    #[arg(long, value_name = "DIR", requires = "curl")]
    pub(crate) out_dir: Option<PathBuf>,
    /// Write the request log as HAR 1.2 to FILE (bodies base64, byte-exact).
    #[arg(long, value_name = "FILE")]
    pub(crate) har: Option<PathBuf>,
    /// With --har: only the requests of this call (session id).
    #[arg(long, value_name = "ID", requires = "har")]
    pub(crate) session: Option<String>,
}

pub(crate) fn print_json<T: Serialize>(value: &T) -> Result<(), CliError> {
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
    println!("{:<36}  {:>4}  {:<24}  {:<24}  {:>7}  UPSTREAM", "SESSION", "RECS", "FIRST", "LAST", "FLAGGED");
    for s in sessions {
        let upstream = match s.upstream_failures {
            0 => String::new(),
            n => format!("✗ {n} not 2xx"),
        };
        println!(
            "{:<36}  {:>4}  {:<24}  {:<24}  {:>7}  {upstream}",
            s.session_id, s.recording_count, s.first_received_at, s.last_received_at, s.flagged_requests
        );
    }
    Ok(())
}

pub fn recordings(store: &Store, args: RecordingsArgs) -> Result<(), CliError> {
    // A store this process cannot write to still lists; it just shows no analysis for the new ones.
    if let Err(e) = crate::review::catch_up(store) {
        eprintln!("warning: recordings not analysed yet stay without levels and flags: {e}");
    }
    let filter = earshot_core::ReviewFilter {
        session: args.session.clone(),
        verdict: args.verdict,
        tag: args.tag.clone(),
        flag: args.flag,
        reviewed: None,
    };
    let recordings: Vec<RecordingSummary> =
        store.recordings(args.session.as_deref())?.into_iter().filter(|r| filter.matches(r)).collect();
    if args.json {
        return print_json(&recordings);
    }
    if recordings.is_empty() {
        println!("no recordings{}", args.session.map(|s| format!(" in session {s}")).unwrap_or_default());
        return Ok(());
    }
    println!(
        "{:<36}  {:>2}  {:<8}  {:<24}  {:>8}  {:<11}  {:>8}  {:<8}  AUTH",
        "RECORDING", "V", "SESSION", "RECEIVED", "SECONDS", "FORMAT", "BYTES", "UPSTREAM"
    );
    for r in recordings {
        let format = format!("{} {}", r.container.as_str(), r.encoding.as_str());
        println!(
            "{:<36}  {:>2}  {:<8}  {:<24}  {:>8.2}  {:<11}  {:>8}  {:<8}  {}{}{}",
            r.recording_id,
            r.version,
            short(&r.session_id),
            r.received_at,
            r.duration_ms as f64 / 1000.0,
            format,
            r.size_bytes,
            upstream_mark(&r),
            r.auth.verdict,
            r.auth.reason.as_ref().map(|why| format!(" ({why})")).unwrap_or_default(),
            marks(&r)
        );
    }
    Ok(())
}

/// Parses `--flag`.
fn parse_flag(name: &str) -> Result<earshot_audio::Flag, String> {
    serde_json::from_value(serde_json::Value::String(name.to_string()))
        .map_err(|_| format!("{name:?} is not a flag: use silent, clipped, truncated or late_start"))
}

/// `  · kept`, `  · imported from call.earshot`, `  · fail [noise]`, `  · clipped`: what
/// keep, import, a review and the analysis left on it.
fn marks(recording: &RecordingSummary) -> String {
    let mut marks = String::new();
    let review = &recording.review;
    if review.verdict != earshot_core::Verdict::Unreviewed || !review.tags.is_empty() {
        marks.push_str(&format!("  · {}", review.verdict));
        if !review.tags.is_empty() {
            marks.push_str(&format!(" [{}]", review.tags.join(", ")));
        }
    }
    for flag in recording.analysis.iter().flat_map(|a| &a.flags) {
        marks.push_str(&format!("  · {}", crate::review::flag_name(*flag)));
    }
    if recording.pinned {
        marks.push_str("  · kept");
    }
    if let Some(origin) = &recording.imported_from {
        marks.push_str(&format!("  · imported from {origin}"));
    }
    marks
}

/// The recording's upstream answer: `-` when not forwarded, `✗` before one that was not 2xx.
fn upstream_mark(recording: &RecordingSummary) -> String {
    match recording.upstream {
        None => "-".into(),
        Some(brief) => {
            let status = brief.status.map_or_else(|| "none".to_string(), |s| s.to_string());
            if brief.ok { status } else { format!("✗ {status}") }
        }
    }
}

/// What the user's service answered a forwarded request, for the DETAIL column.
fn forward_note(forward: &ForwardEntry) -> String {
    let answer = &forward.answer;
    let tee = if forward.mode == earshot_core::ForwardMode::Tee { " (tee)" } else { "" };
    match (answer.status, &answer.error_code) {
        (Some(status), _) => format!("→ upstream {status} in {:.1} ms{tee}", answer.latency_ms),
        (None, Some(code)) => format!("→ {code}{tee}: {}", answer.error.as_deref().unwrap_or_default()),
        (None, None) => format!("→ upstream pending{tee}"),
    }
}

/// "answered 503 (simulated)", "dropped the connection after 2 s (simulated)".
fn simulated_note(simulated: &str) -> String {
    match simulated.strip_prefix("drop") {
        Some(rest) => format!("dropped the connection{rest} (simulated)"),
        None => format!("answered {simulated} (simulated)"),
    }
}

/// Reason, upstream answer and simulation, joined.
fn detail(q: &RequestEntry) -> String {
    let mut notes = Vec::new();
    if let Some(code) = &q.error {
        notes.push(format!("{code}: {}", q.reason.as_deref().unwrap_or_default()));
    }
    if let Some(simulated) = &q.simulated {
        notes.push(simulated_note(simulated));
    }
    if let Some(forward) = &q.forward {
        notes.push(forward_note(forward));
    }
    notes.join("; ")
}

pub fn requests(store: &Store, data_dir: &Path, args: RequestsArgs) -> Result<(), CliError> {
    if let Some(id) = args.curl {
        return crate::curl::run(store, data_dir, id, &args, args.json);
    }
    if let Some(file) = &args.har {
        return crate::har::run(store, file, args.session.as_deref(), args.json);
    }
    let requests = store.requests(args.limit)?;
    if args.json {
        return print_json(&requests);
    }
    if requests.is_empty() {
        println!("no requests yet");
        return Ok(());
    }
    println!(
        "{:>6}  {:<24}  {:<6}  {:<20}  {:>6}  {:>8}  {:<9}  DETAIL",
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
            detail(&q)
        );
    }
    Ok(())
}
