//! The `reviews` and `analyses` tables: a reviewer's marks on a recording
//! version, changed only by the writer, and the analysis computed once per
//! recording (again when the analyser's version changes).

use rusqlite::{Connection, OptionalExtension, params};

use crate::model::{RecordingAnalysis, Review, ReviewChange, TagCount, Verdict};
use crate::store::StoreError;

/// What [`super::recordings`] selects beside each recording: its review and
/// analysis as JSON (read back by `fields::recording`).
pub(in crate::store) const REVIEW_COLUMNS: &str =
    "(SELECT json_array(v.verdict, v.note, json(v.tags), json(v.markers), v.reviewed_at)
        FROM reviews v WHERE v.recording_row = recordings.id) AS review_json,
    (SELECT a.analysis FROM analyses a WHERE a.recording_row = recordings.id) AS analysis_json";

/// Sessions' review counts, for a call whose id is `session` (an SQL expression).
pub(in crate::store) fn reviewed_counts(session: &str) -> String {
    format!(
        "(SELECT COUNT(*) FROM recordings x JOIN reviews v ON v.recording_row = x.id
          WHERE x.session_id = {session} AND v.verdict <> 'unreviewed') AS reviewed,
         (SELECT COUNT(*) FROM recordings x JOIN reviews v ON v.recording_row = x.id
          WHERE x.session_id = {session} AND v.verdict = 'fail') AS failed"
    )
}

fn load(conn: &Connection, row: i64) -> rusqlite::Result<Option<Review>> {
    conn.query_row(
        "SELECT verdict, note, tags, markers, reviewed_at FROM reviews WHERE recording_row = ?1",
        [row],
        |r| {
            let json = |i: usize| -> rusqlite::Result<String> { r.get(i) };
            Ok(Review {
                verdict: Verdict::from_name(&r.get::<_, String>(0)?).unwrap_or_default(),
                note: r.get(1)?,
                tags: serde_json::from_str(&json(2)?).unwrap_or_default(),
                markers: serde_json::from_str(&json(3)?).unwrap_or_default(),
                reviewed_at: r.get(4)?,
            })
        },
    )
    .optional()
}

/// Applies `change` to row `row`'s review inside the writer's transaction and returns the result.
pub(super) fn apply(conn: &Connection, row: i64, change: &ReviewChange, now: &str) -> rusqlite::Result<Review> {
    let exists: bool = conn.query_row("SELECT EXISTS (SELECT 1 FROM recordings WHERE id = ?1)", [row], |r| r.get(0))?;
    if !exists {
        return Err(super::lifecycle::refuse(format!("no recording row {row} to review")));
    }
    let mut review = load(conn, row)?.unwrap_or_default();
    review.apply(change, now);
    conn.execute(
        "INSERT INTO reviews (recording_row, verdict, note, tags, markers, reviewed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (recording_row) DO UPDATE SET verdict = excluded.verdict, note = excluded.note,
             tags = excluded.tags, markers = excluded.markers, reviewed_at = excluded.reviewed_at",
        params![
            row,
            review.verdict.as_str(),
            review.note,
            to_json(&review.tags),
            to_json(&review.markers),
            review.reviewed_at
        ],
    )?;
    Ok(review)
}

fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

/// Stores (or replaces) row `row`'s analysis; a recording deleted meanwhile is skipped.
pub(super) fn store_analysis(
    conn: &Connection,
    row: i64,
    analysis: &RecordingAnalysis,
    analyzer: u32,
    now: &str,
) -> rusqlite::Result<()> {
    let text = serde_json::to_string(analysis).map_err(|e| super::lifecycle::refuse(e.to_string()))?;
    let flags = serde_json::to_string(&analysis.flags).map_err(|e| super::lifecycle::refuse(e.to_string()))?;
    conn.execute(
        "INSERT INTO analyses (recording_row, analysis, flags, analyzer, computed_at)
         SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM recordings WHERE id = ?1)
         ON CONFLICT (recording_row) DO UPDATE SET analysis = excluded.analysis, flags = excluded.flags,
             analyzer = excluded.analyzer, computed_at = excluded.computed_at",
        params![row, text, flags, analyzer, now],
    )?;
    Ok(())
}

/// Recording rows with no analysis by `analyzer` (or a newer one), oldest first, at most `limit`.
pub(super) fn unanalysed(conn: &Connection, analyzer: u32, limit: usize) -> Result<(Vec<i64>, u64), StoreError> {
    let missing = "FROM recordings r LEFT JOIN analyses a ON a.recording_row = r.id
                   WHERE a.recording_row IS NULL OR a.analyzer < ?1";
    let total: i64 = conn.query_row(&format!("SELECT COUNT(*) {missing}"), [analyzer], |r| r.get(0))?;
    let rows = conn
        .prepare(&format!("SELECT r.id {missing} ORDER BY r.id LIMIT ?2"))?
        .query_map(params![analyzer, limit as i64], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok((rows, total.max(0) as u64))
}

/// Every tag in use, most used first.
pub(super) fn tags(conn: &Connection) -> Result<Vec<TagCount>, StoreError> {
    Ok(conn
        .prepare(
            "SELECT t.value AS tag, COUNT(*) AS uses FROM reviews v, json_each(v.tags) t
             GROUP BY t.value ORDER BY uses DESC, tag",
        )?
        .query_map([], |r| Ok(TagCount { tag: r.get(0)?, uses: r.get::<_, i64>(1)?.max(0) as u64 }))?
        .collect::<Result<_, _>>()?)
}
