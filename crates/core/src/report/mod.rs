//! Review reports: the recordings a [`ReviewFilter`] selects, written to one
//! file a QA lead can open anywhere — a CSV table (`csv`, one row per
//! recording) or a self-contained HTML page (`html`, the call summaries,
//! each recording's pictures, review and an embedded player).
//!
//! The report is written to a temporary file beside the target and renamed
//! over it at the end, so a report that fails half-way leaves no half file
//! (and an older report of the same name stays whole). Recordings without a
//! stored analysis are analysed here, in memory; storing analyses is
//! [`crate::analysis::catch_up`]'s job, which callers run first.
//!
//! It does not choose file names or talk to the user; the CLI and the app do.

mod csv;
mod html;

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::analysis;
use crate::model::{RecordingSummary, ReviewFilter};
use crate::store::{Store, StoreError};

/// What a report is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    /// One row per recording, for spreadsheets and scripts.
    Csv,
    /// One self-contained page with pictures and players.
    Html,
}

impl ReportFormat {
    /// The format a file name asks for by its extension (`.csv`, `.html`, `.htm`; any case).
    pub fn from_path(path: &Path) -> Option<ReportFormat> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "csv" => Some(ReportFormat::Csv),
            "html" | "htm" => Some(ReportFormat::Html),
            _ => None,
        }
    }
}

impl std::str::FromStr for ReportFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<ReportFormat, String> {
        match s {
            "csv" => Ok(ReportFormat::Csv),
            "html" => Ok(ReportFormat::Html),
            _ => Err(format!("unknown report format {s:?} (expected csv or html)")),
        }
    }
}

/// What a written report holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportSummary {
    /// Recording versions in it.
    pub recordings: u64,
    /// Calls they belong to.
    pub calls: u64,
    /// Size of the file written.
    pub bytes: u64,
}

/// Why a report was not written. No file is left behind in any case.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The selection picks no recording; an empty report would only mislead.
    #[error("no recordings match {0}; nothing was written")]
    NothingMatched(String),
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Creating, writing or renaming the file failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The report file asked for.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// What the renderers are given.
struct Report<'a> {
    /// `filter` in words.
    selection: String,
    /// When it was made (RFC 3339, UTC).
    made_at: String,
    /// The selected recordings, in time order, each with its analysis where it could be made.
    entries: Vec<RecordingSummary>,
    /// Every recording of the calls involved (the selected ones and the rest), for "3 of 5".
    calls: Vec<RecordingSummary>,
    store: &'a Store,
}

/// Writes the recordings `filter` selects to `out` as `format`, calling
/// `progress(done, total)` after each recording. Blocking.
pub fn write(
    store: &Store,
    filter: &ReviewFilter,
    format: ReportFormat,
    out: &Path,
    progress: &dyn Fn(u64, u64),
) -> Result<ReportSummary, ReportError> {
    let mut all = store.recordings(filter.session.as_deref())?;
    if filter.flag.is_some() {
        // The flag is the analysis's: measure what has none before choosing by it.
        all.iter_mut().for_each(|r| fill_analysis(store, r));
    }
    let mut selected: Vec<RecordingSummary> = all.iter().filter(|r| filter.matches(r)).cloned().collect();
    if selected.is_empty() {
        return Err(ReportError::NothingMatched(describe(filter)));
    }
    selected.iter_mut().for_each(|r| fill_analysis(store, r));
    let sessions: HashSet<&str> = selected.iter().map(|r| r.session_id.as_str()).collect();
    let calls_count = sessions.len() as u64;
    let calls = all.iter().filter(|r| sessions.contains(r.session_id.as_str())).cloned().collect();
    let entries = selected;
    let report = Report { selection: describe(filter), made_at: now(), entries, calls, store };
    let count = report.entries.len() as u64;
    let bytes = write_atomically(out, |file| match format {
        ReportFormat::Csv => csv::render(&report, file, progress),
        ReportFormat::Html => html::render(&report, file, progress),
    })?;
    Ok(ReportSummary { recordings: count, calls: calls_count, bytes })
}

/// Gives `recording` its analysis when the store holds none yet (it arrived after the caller's
/// catch-up, or the store is read-only): measured now, in memory. Unreadable audio stays without.
fn fill_analysis(store: &Store, recording: &mut RecordingSummary) {
    if recording.analysis.is_none() {
        recording.analysis = analysis::analyse(store, recording.row).ok();
    }
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The selection in words: `session S, verdict fail, tag "noise"`, or `all recordings`.
pub fn describe(filter: &ReviewFilter) -> String {
    let mut parts = Vec::new();
    if let Some(session) = &filter.session {
        parts.push(format!("session {session}"));
    }
    if let Some(verdict) = filter.verdict {
        parts.push(format!("verdict {verdict}"));
    }
    if let Some(tag) = &filter.tag {
        parts.push(format!("tag {tag:?}"));
    }
    if let Some(flag) = filter.flag {
        parts.push(format!("flag {}", flag_name(flag)));
    }
    match filter.reviewed {
        Some(true) => parts.push("reviewed".into()),
        Some(false) => parts.push("not reviewed".into()),
        None => {}
    }
    if parts.is_empty() { "all recordings".into() } else { parts.join(", ") }
}

/// A flag as JSON and `--flag` spell it: `late_start`.
fn flag_name(flag: earshot_audio::Flag) -> String {
    serde_json::to_value(flag).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// A marker time in seconds, as `earshot review --marker` takes it: `1.25`, `3`.
fn seconds(ms: u64) -> String {
    let text = format!("{}.{:03}", ms / 1000, ms % 1000);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Report failures inside a renderer: the store, or the file.
enum RenderError {
    Store(StoreError),
    Io(std::io::Error),
}

impl From<StoreError> for RenderError {
    fn from(e: StoreError) -> RenderError {
        RenderError::Store(e)
    }
}

impl From<std::io::Error> for RenderError {
    fn from(e: std::io::Error) -> RenderError {
        RenderError::Io(e)
    }
}

/// Runs `render` into a fresh temporary file beside `out`, then renames it to `out`; on any
/// failure the temporary file is removed. Returns the size written.
fn write_atomically(
    out: &Path,
    render: impl FnOnce(&mut BufWriter<File>) -> Result<(), RenderError>,
) -> Result<u64, ReportError> {
    let failed = |source: std::io::Error| ReportError::Write { path: out.to_path_buf(), source };
    let name = out.file_name().ok_or_else(|| failed(std::io::Error::other("it is not a file name")))?;
    let dir = match out.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let (temp, file) = create_temp(dir, name).map_err(failed)?;
    let mut writer = BufWriter::new(file);
    let result = render(&mut writer)
        .and_then(|()| writer.flush().map_err(RenderError::Io))
        .and_then(|()| writer.get_ref().sync_all().map_err(RenderError::Io))
        .and_then(|()| Ok(writer.get_ref().metadata()?.len()));
    drop(writer);
    let outcome = match result {
        Ok(bytes) => std::fs::rename(&temp, out).map(|()| bytes).map_err(failed),
        Err(RenderError::Io(e)) => Err(failed(e)),
        Err(RenderError::Store(e)) => Err(ReportError::Store(e)),
    };
    if outcome.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    outcome
}

/// `.NAME.PID-N.partial` in `dir`, created new so two reports never share one.
fn create_temp(dir: &Path, name: &std::ffi::OsStr) -> std::io::Result<(PathBuf, File)> {
    let mut attempt = 0u32;
    loop {
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".{}-{attempt}.partial", std::process::id()));
        let temp = dir.join(temp_name);
        match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => attempt += 1,
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{ReportFormat, describe, seconds};
    use crate::model::{ReviewFilter, Verdict};

    #[test]
    fn the_extension_picks_the_format() {
        assert_eq!(ReportFormat::from_path(Path::new("qa/week.CSV")), Some(ReportFormat::Csv));
        assert_eq!(ReportFormat::from_path(Path::new("week.htm")), Some(ReportFormat::Html));
        assert_eq!(ReportFormat::from_path(Path::new("week.txt")), None);
        assert_eq!(ReportFormat::from_path(Path::new("week")), None);
    }

    #[test]
    fn marker_times_print_as_the_cli_takes_them() {
        assert_eq!([seconds(1250), seconds(3000), seconds(0), seconds(2005)], ["1.25", "3", "0", "2.005"]);
    }

    #[test]
    fn the_selection_is_said_in_words() {
        assert_eq!(describe(&ReviewFilter::default()), "all recordings");
        let filter = ReviewFilter {
            session: Some("call-1".into()),
            verdict: Some(Verdict::FollowUp),
            tag: Some("noise".into()),
            ..Default::default()
        };
        assert_eq!(describe(&filter), "session call-1, verdict follow-up, tag \"noise\"");
    }
}
