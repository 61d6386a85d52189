//! Rows into the model, once for every backend: [`Fields`] is how a backend
//! hands over one result row's columns by name, and the functions here build
//! the list entries from it, so SQLite and PostgreSQL cannot drift in how a
//! recording, a request or a replay is read.
//!
//! The queries themselves stay with each backend; they select the column
//! names read here.

use serde_json::Value;

use earshot_audio::{AudioInfo, Container, Encoding};

use crate::model::{
    ANSWER_PREVIEW, AnswerEntry, AuthSummary, ForwardEntry, ForwardMode, Outcome, RecordingAnalysis, RecordingSummary,
    ReplayEntry, RequestEntry, Review, SessionSummary, TokenCheck, UpstreamBrief, Verdict,
};

/// One result row's columns, by name. Integers are 64-bit, as both stores keep them.
pub(crate) trait Fields {
    /// The backend's error.
    type Error;

    /// An integer column, `None` for NULL.
    fn int(&self, column: &str) -> Result<Option<i64>, Self::Error>;

    /// A text column, `None` for NULL.
    fn text(&self, column: &str) -> Result<Option<String>, Self::Error>;

    /// A bytes column, `None` for NULL.
    fn blob(&self, column: &str) -> Result<Option<Vec<u8>>, Self::Error>;

    /// The error for a value that is there but not what the column holds.
    fn invalid(&self, column: &str, problem: String) -> Self::Error;

    /// An integer column that is never NULL.
    fn must_int(&self, column: &str) -> Result<i64, Self::Error> {
        self.int(column)?.ok_or_else(|| self.invalid(column, "NULL".into()))
    }

    /// A count or size: never negative.
    fn count(&self, column: &str) -> Result<u64, Self::Error> {
        Ok(self.must_int(column)?.max(0) as u64)
    }

    /// A text column that is never NULL.
    fn must_text(&self, column: &str) -> Result<String, Self::Error> {
        self.text(column)?.ok_or_else(|| self.invalid(column, "NULL".into()))
    }

    /// A 0/1 flag.
    fn flag(&self, column: &str) -> Result<bool, Self::Error> {
        Ok(self.must_int(column)? != 0)
    }

    /// A JSON text column, `None` when absent or unreadable.
    fn json(&self, column: &str) -> Result<Option<Value>, Self::Error> {
        Ok(self.text(column)?.and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// A text column holding one of a closed set of names (`parse` returns `None` for the rest).
    fn named<T>(&self, column: &str, parse: fn(&str) -> Option<T>) -> Result<T, Self::Error> {
        let text = self.must_text(column)?;
        parse(&text).ok_or_else(|| self.invalid(column, format!("unknown {column} {text:?}")))
    }

    /// A column that must fit a narrower integer.
    fn small<T: TryFrom<i64>>(&self, column: &str) -> Result<T, Self::Error> {
        let value = self.must_int(column)?;
        T::try_from(value).map_err(|_| self.invalid(column, format!("{value} out of range")))
    }
}

/// A recording list entry, from the columns the backends' recording queries select.
pub(crate) fn recording<F: Fields>(row: &F) -> Result<RecordingSummary, F::Error> {
    let (review, analysis) = review_and_analysis(row)?;
    let sample_rate: u32 = row.small("sample_rate")?;
    let channels: u16 = row.small("channels")?;
    let info = AudioInfo {
        container: row.named("container", Container::from_name)?,
        encoding: row.named("encoding", Encoding::from_name)?,
        sample_rate,
        channels,
        sample_count: row.count("sample_count")?,
        duration_ms: row.count("duration_ms")?,
        data_offset: row.count("data_offset")? as usize,
        data_len: row.count("data_len")? as usize,
    };
    // 0: forwarded, but the service gave no answer.
    let upstream = row.int("upstream_status")?.map(|status| UpstreamBrief {
        status: u16::try_from(status).ok().filter(|s| *s != 0),
        ok: (200..300).contains(&status),
    });
    Ok(RecordingSummary {
        row: row.must_int("id")?,
        recording_id: row.must_text("recording_id")?,
        version: row.small("version")?,
        conflict: row.flag("conflict")?,
        session_id: row.must_text("session_id")?,
        assistant_id: row.must_text("assistant_id")?,
        environment_id: row.must_text("environment_id")?,
        start_timestamp: row.must_text("start_timestamp")?,
        stop_timestamp: row.must_text("stop_timestamp")?,
        received_at: row.must_text("received_at")?,
        duration_ms: info.duration_ms,
        container: info.container,
        encoding: info.encoding,
        sample_rate,
        channels,
        sample_count: info.sample_count,
        size_bytes: row.count("size_bytes")?,
        sha256: row.must_text("sha256")?,
        auth: AuthSummary {
            verdict: row.named("auth_verdict", TokenCheck::from_name)?,
            reason: row.text("auth_reason")?,
        },
        path: row.must_text("path")?,
        filename: row.text("filename")?,
        part_content_type: row.text("part_content_type")?,
        pinned: row.flag("pinned")?,
        imported_from: row.text("imported_from")?,
        review,
        analysis,
        upstream,
        audio: info,
    })
}

/// A recording's review and analysis from the `review_json` (an array:
/// verdict, note, tags, markers, reviewed_at) and `analysis_json` columns; an
/// unreadable review reads as none rather than failing the list.
fn review_and_analysis<F: Fields>(row: &F) -> Result<(Review, Option<RecordingAnalysis>), F::Error> {
    let review = row
        .text("review_json")?
        .and_then(|text| serde_json::from_str::<(String, String, Vec<String>, Vec<_>, Option<String>)>(&text).ok())
        .map(|(verdict, note, tags, markers, reviewed_at)| Review {
            verdict: Verdict::from_name(&verdict).unwrap_or_default(),
            note,
            tags,
            markers,
            reviewed_at,
        })
        .unwrap_or_default();
    let analysis = row.text("analysis_json")?.and_then(|text| serde_json::from_str(&text).ok());
    Ok((review, analysis))
}

/// A call, from `session_id`, `recording_count`, `first_received_at`, … columns.
pub(crate) fn session<F: Fields>(row: &F) -> Result<SessionSummary, F::Error> {
    Ok(SessionSummary {
        session_id: row.must_text("session_id")?,
        recording_count: row.count("recording_count")?,
        first_received_at: row.must_text("first_received_at")?,
        last_received_at: row.must_text("last_received_at")?,
        assistant_id: row.must_text("assistant_id")?,
        environment_id: row.must_text("environment_id")?,
        flagged_requests: row.count("flagged_requests")?,
        upstream_failures: row.count("upstream_failures")?,
        reviewed: row.count("reviewed")?,
        failed: row.count("failed")?,
    })
}

/// A request log entry with its forward answer (the `f_` columns), if any.
pub(crate) fn request<F: Fields>(row: &F) -> Result<RequestEntry, F::Error> {
    Ok(RequestEntry {
        id: row.must_int("id")?,
        received_at: row.must_text("received_at")?,
        method: row.must_text("method")?,
        path: row.must_text("path")?,
        query: row.text("query")?,
        remote_addr: row.text("remote_addr")?,
        headers: row.json("headers_json")?.unwrap_or(Value::Null),
        status: row.small("status")?,
        latency_ms: row.must_int("latency_us")? as f64 / 1000.0,
        outcome: row.named("outcome", Outcome::from_name)?,
        error: row.text("error_code")?,
        reason: row.text("reason")?,
        session_id: row.text("session_id")?,
        recording_id: row.text("recording_id")?,
        auth: AuthSummary {
            verdict: row.named("auth_verdict", TokenCheck::from_name)?,
            reason: row.text("auth_reason")?,
        },
        jwt_header: row.json("jwt_header")?,
        jwt_claims: row.json("jwt_claims")?,
        parts: row.json("parts_json")?,
        body_size: row.count("body_size")?,
        body_stored: row.int("body_stored")?.unwrap_or(0),
        forward: forward(row)?,
        simulated: row.text("simulated")?,
    })
}

fn preview(body: Option<Vec<u8>>) -> String {
    let body = body.unwrap_or_default();
    String::from_utf8_lossy(&body[..body.len().min(ANSWER_PREVIEW)]).into_owned()
}

/// An answer whose columns are named `{prefix}status`, `{prefix}latency_us`, …, its URL in `url`.
fn answer<F: Fields>(row: &F, prefix: &str, url: &str) -> Result<AnswerEntry, F::Error> {
    let column = |name: &str| format!("{prefix}{name}");
    Ok(AnswerEntry {
        url: row.must_text(url)?,
        status: row.int(&column("status"))?.and_then(|s| u16::try_from(s).ok()),
        latency_ms: row.must_int(&column("latency_us"))? as f64 / 1000.0,
        error_code: row.text(&column("error_code"))?,
        error: row.text(&column("error"))?,
        headers: row.json(&column("headers_json"))?.unwrap_or(Value::Array(vec![])),
        body: preview(row.blob(&column("body"))?),
        body_size: row.count(&column("body_size"))?,
    })
}

/// The forward answer of a row with the `f_` columns, if it was forwarded.
pub(crate) fn forward<F: Fields>(row: &F) -> Result<Option<ForwardEntry>, F::Error> {
    if row.text("f_url")?.is_none() {
        return Ok(None);
    }
    Ok(Some(ForwardEntry { mode: row.named("f_mode", ForwardMode::from_name)?, answer: answer(row, "f_", "f_url")? }))
}

/// A replay, from the replay columns (its answer's prefixed `a_`).
pub(crate) fn replay<F: Fields>(row: &F) -> Result<ReplayEntry, F::Error> {
    Ok(ReplayEntry {
        id: row.must_int("id")?,
        sent_at: row.must_text("sent_at")?,
        replay_of: row.int("request_id")?,
        recording_row: row.int("recording_row")?,
        identical: row.flag("identical")?,
        changes: row.json("changes_json")?.unwrap_or(Value::Null),
        headers: row.json("headers_json")?.unwrap_or(Value::Array(vec![])),
        body_size: row.count("body_size")?,
        body_sha256: row.must_text("body_sha256")?,
        answer: answer(row, "a_", "url")?,
    })
}
