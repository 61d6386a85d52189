//! The CSV report: a header row, then one row per selected recording version
//! (ids, times, duration, the review, the analysis). Quoting is the `csv`
//! crate's (RFC 4180): a note with commas, quotes or line breaks reads back
//! exactly.
//!
//! Lists are `;`-joined: tags, flags, and markers as `START-END=TEXT` or
//! `START=TEXT` in seconds, the form `earshot review --marker` takes. Text
//! that would start with `=`, `+`, `-`, `@`, a tab or a carriage return gets
//! a leading `'`: session and recording ids come from whoever can reach the
//! webhook, and a spreadsheet would run such a cell as a formula (OWASP's
//! "CSV injection"). Numbers are never touched (−20.5 dBFS stays a number).

use std::io::Write;

use crate::model::RecordingSummary;

use super::{RenderError, Report, flag_name, seconds};

/// The columns, in order.
pub(super) const HEADER: [&str; 23] = [
    "session_id",
    "recording_id",
    "version",
    "received_at",
    "start_timestamp",
    "stop_timestamp",
    "duration_ms",
    "expected_duration_ms",
    "verdict",
    "tags",
    "note",
    "markers",
    "peak_dbfs",
    "rms_dbfs",
    "lufs",
    "clipped_samples",
    "leading_silence_ms",
    "trailing_silence_ms",
    "speech_ratio",
    "flags",
    "sha256",
    "reviewed_at",
    "encoding",
];

/// Writes the table to `out`.
pub(super) fn render(report: &Report<'_>, out: &mut dyn Write, progress: &dyn Fn(u64, u64)) -> Result<(), RenderError> {
    let mut table = ::csv::Writer::from_writer(out);
    table.write_record(HEADER).map_err(io)?;
    let total = report.entries.len() as u64;
    for (done, recording) in report.entries.iter().enumerate() {
        table.write_record(row(recording)).map_err(io)?;
        progress(done as u64 + 1, total);
    }
    table.flush()?;
    Ok(())
}

fn io(e: ::csv::Error) -> RenderError {
    match e.into_kind() {
        ::csv::ErrorKind::Io(e) => RenderError::Io(e),
        other => RenderError::Io(std::io::Error::other(format!("{other:?}"))),
    }
}

/// One recording's cells, in [`HEADER`]'s order.
fn row(r: &RecordingSummary) -> Vec<String> {
    let review = &r.review;
    let analysis = r.analysis.as_ref();
    let measures = analysis.map(|a| &a.measures);
    let decibels = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_default();
    let markers: Vec<String> = review
        .markers
        .iter()
        .map(|m| match m.end_ms {
            Some(end) => format!("{}-{}={}", seconds(m.start_ms), seconds(end), m.text),
            None => format!("{}={}", seconds(m.start_ms), m.text),
        })
        .collect();
    vec![
        text(&r.session_id),
        text(&r.recording_id),
        r.version.to_string(),
        r.received_at.clone(),
        text(&r.start_timestamp),
        text(&r.stop_timestamp),
        r.duration_ms.to_string(),
        analysis.and_then(|a| a.expected_duration_ms).map(|ms| ms.to_string()).unwrap_or_default(),
        review.verdict.as_str().to_string(),
        text(&review.tags.join(";")),
        text(&review.note),
        text(&markers.join(";")),
        decibels(measures.and_then(|m| m.peak_dbfs)),
        decibels(measures.and_then(|m| m.rms_dbfs)),
        decibels(measures.and_then(|m| m.lufs)),
        measures.map(|m| m.clipped_samples.to_string()).unwrap_or_default(),
        measures.map(|m| m.leading_silence_ms.to_string()).unwrap_or_default(),
        measures.map(|m| m.trailing_silence_ms.to_string()).unwrap_or_default(),
        measures.map(|m| format!("{:.3}", m.speech_ratio)).unwrap_or_default(),
        analysis.map(|a| a.flags.iter().map(|f| flag_name(*f)).collect::<Vec<_>>().join(";")).unwrap_or_default(),
        r.sha256.clone(),
        review.reviewed_at.clone().unwrap_or_default(),
        format!("{} {} {} Hz", r.container.as_str(), r.encoding.as_str(), r.sample_rate),
    ]
}

/// Free text as a cell a spreadsheet shows rather than runs.
fn text(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_string() }
}

#[cfg(test)]
mod tests {
    use super::text;

    #[test]
    fn cells_a_spreadsheet_would_run_are_defused() {
        assert_eq!(text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(text("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(text("caller said \"hi\", then = hung up"), "caller said \"hi\", then = hung up");
    }
}
