//! `earshot report`: the recordings a selection picks (a call, a verdict, a
//! tag, an analysis flag, or `--all`) written to one CSV or self-contained
//! HTML file for a QA lead. The work is `earshot_core::report`'s; this
//! parses the selection, catches up on analyses first (so every row has
//! levels and flags), shows progress on stderr and prints what was written.

use std::path::PathBuf;

use earshot_core::report::{self, ReportFormat};
use earshot_core::{ReviewFilter, Store, Verdict};

use crate::{CliError, say};

/// Reports this large or larger say how far they are on stderr.
const PROGRESS_FROM: u64 = 20;

/// Options of `earshot report`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("selection").required(true).multiple(true)
    .args(["session", "verdict", "tag", "flag", "all"])))]
pub struct Args {
    /// Recordings of this call (session id).
    #[arg(long, value_name = "ID")]
    session: Option<String>,
    /// Recordings with this verdict: pass, fail, follow-up or unreviewed.
    #[arg(long, value_parser = crate::review::parse_verdict, value_name = "V")]
    verdict: Option<Verdict>,
    /// Recordings carrying this review tag (any case).
    #[arg(long, value_name = "T")]
    tag: Option<String>,
    /// Recordings raising this analysis flag: silent, clipped, truncated or late_start.
    #[arg(long, value_parser = parse_flag, value_name = "F")]
    flag: Option<earshot_audio::Flag>,
    /// Every recording (instead of a selection).
    #[arg(long, conflicts_with_all = ["session", "verdict", "tag", "flag"])]
    all: bool,
    /// csv or html [default: from the file's extension].
    #[arg(long, value_name = "FORMAT")]
    format: Option<ReportFormat>,
    /// The report file (replaced whole when it exists).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// Print what was written as JSON: {recordings, calls, bytes, format, path}.
    #[arg(long)]
    json: bool,
}

fn parse_flag(name: &str) -> Result<earshot_audio::Flag, String> {
    serde_json::from_value(serde_json::Value::String(name.to_string()))
        .map_err(|_| format!("{name:?} is not a flag: use silent, clipped, truncated or late_start"))
}

/// What `--json` prints.
#[derive(serde::Serialize)]
struct Written<'a> {
    #[serde(flatten)]
    summary: report::ReportSummary,
    format: ReportFormat,
    path: &'a std::path::Path,
}

/// Writes the report.
pub fn run(store: &Store, args: Args) -> Result<(), CliError> {
    let format = match args.format {
        Some(format) => format,
        None => ReportFormat::from_path(&args.output).ok_or_else(|| {
            CliError::Message(format!(
                "cannot tell the report format from {}: name it .csv or .html, or give --format csv|html",
                args.output.display()
            ))
        })?,
    };
    let filter =
        ReviewFilter { session: args.session, verdict: args.verdict, tag: args.tag, flag: args.flag, reviewed: None };
    // clap insists on a selector or --all; never let a missing selector mean "everything" silently.
    if !args.all && filter == ReviewFilter::default() {
        return Err(CliError::Message(
            "choose recordings with --session, --verdict, --tag or --flag, or give --all".into(),
        ));
    }
    // A store this process cannot write to still reports; the core measures what is missing in memory.
    if let Err(e) = crate::review::catch_up(store) {
        eprintln!("warning: analyses could not be stored, so they are computed for this report only: {e}");
    }
    let progress = |done: u64, total: u64| {
        if total >= PROGRESS_FROM {
            eprint!("\rwriting report: {done} of {total} recordings");
            if done == total {
                eprintln!();
            }
        }
    };
    let summary =
        report::write(store, &filter, format, &args.output, &progress).map_err(|e| CliError::Message(e.to_string()))?;
    if args.json {
        return crate::list::print_json(&Written { summary, format, path: &args.output });
    }
    say(&format!(
        "wrote {} ({}): {} recording{} of {} call{}, {}",
        args.output.display(),
        match format {
            ReportFormat::Csv => "csv",
            ReportFormat::Html => "html",
        },
        summary.recordings,
        if summary.recordings == 1 { "" } else { "s" },
        summary.calls,
        if summary.calls == 1 { "" } else { "s" },
        crate::size_text(summary.bytes)
    ));
    Ok(())
}
