//! The `reviews` and `analyses` tables on PostgreSQL. A review change is a
//! delta applied to the review as it stands: the row is made to exist, then
//! locked (`FOR UPDATE`) before it is read, so two apps changing one
//! recording's review at the same moment both have their change kept.

use super::sql::Db;
use crate::model::{RecordingAnalysis, Review, ReviewChange, TagCount, Verdict};
use crate::store::StoreError;

/// What the recording queries select beside each recording: its review and analysis as JSON text.
pub(super) const REVIEW_COLUMNS: &str =
    "(SELECT json_build_array(v.verdict, v.note, v.tags::json, v.markers::json, v.reviewed_at)::text
        FROM reviews v WHERE v.recording_row = recordings.id) AS review_json,
    (SELECT a.analysis FROM analyses a WHERE a.recording_row = recordings.id) AS analysis_json";

fn refuse(message: String) -> StoreError {
    StoreError::postgres(message, None)
}

fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".into())
}

/// Applies `change` to row `row`'s review inside the writer's transaction and returns the result.
pub(super) fn apply(db: &Db<'_>, row: i64, change: &ReviewChange, now: &str) -> Result<Review, StoreError> {
    let exists: bool = db.query_one("SELECT EXISTS (SELECT 1 FROM recordings WHERE id = $1)", &[&row])?.try_get(0)?;
    if !exists {
        return Err(refuse(format!("no recording row {row} to review")));
    }
    db.execute("INSERT INTO reviews (recording_row) VALUES ($1) ON CONFLICT (recording_row) DO NOTHING", &[&row])?;
    let current = db.query_one(
        "SELECT verdict, note, tags, markers, reviewed_at FROM reviews WHERE recording_row = $1 FOR UPDATE",
        &[&row],
    )?;
    let mut review = Review {
        verdict: Verdict::from_name(&current.try_get::<_, String>(0)?).unwrap_or_default(),
        note: current.try_get(1)?,
        tags: serde_json::from_str(&current.try_get::<_, String>(2)?).unwrap_or_default(),
        markers: serde_json::from_str(&current.try_get::<_, String>(3)?).unwrap_or_default(),
        reviewed_at: current.try_get(4)?,
    };
    review.apply(change, now);
    db.execute(
        "UPDATE reviews SET verdict = $2, note = $3, tags = $4, markers = $5, reviewed_at = $6 WHERE recording_row = $1",
        &[&row, &review.verdict.as_str(), &review.note, &to_json(&review.tags), &to_json(&review.markers), &review.reviewed_at],
    )?;
    Ok(review)
}

/// Stores (or replaces) row `row`'s analysis; a recording deleted meanwhile is skipped.
pub(super) fn store_analysis(
    db: &Db<'_>,
    row: i64,
    analysis: &RecordingAnalysis,
    analyzer: u32,
    now: &str,
) -> Result<(), StoreError> {
    let text = serde_json::to_string(analysis).map_err(|e| refuse(e.to_string()))?;
    let flags = serde_json::to_string(&analysis.flags).map_err(|e| refuse(e.to_string()))?;
    db.execute(
        "INSERT INTO analyses (recording_row, analysis, flags, analyzer, computed_at)
         SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM recordings WHERE id = $1)
         ON CONFLICT (recording_row) DO UPDATE SET analysis = EXCLUDED.analysis, flags = EXCLUDED.flags,
             analyzer = EXCLUDED.analyzer, computed_at = EXCLUDED.computed_at",
        &[&row, &text, &flags, &i64::from(analyzer), &now],
    )?;
    Ok(())
}

/// Recording rows with no analysis by `analyzer` (or a newer one), oldest first, at most `limit`.
pub(super) fn unanalysed(db: &Db<'_>, analyzer: u32, limit: usize) -> Result<(Vec<i64>, u64), StoreError> {
    let missing = "FROM recordings r LEFT JOIN analyses a ON a.recording_row = r.id
                   WHERE a.recording_row IS NULL OR a.analyzer < $1";
    let analyzer = i64::from(analyzer);
    let total: i64 = db.query_one(&format!("SELECT COUNT(*) {missing}"), &[&analyzer])?.try_get(0)?;
    let rows = db
        .query(&format!("SELECT r.id {missing} ORDER BY r.id LIMIT $2"), &[&analyzer, &(limit as i64)])?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    Ok((rows, total.max(0) as u64))
}

/// Every tag in use, most used first.
pub(super) fn tags(db: &Db<'_>) -> Result<Vec<TagCount>, StoreError> {
    db.query(
        "SELECT t.tag, COUNT(*) AS uses FROM reviews v, jsonb_array_elements_text(v.tags::jsonb) AS t(tag)
         GROUP BY t.tag ORDER BY uses DESC, t.tag",
        &[],
    )?
    .iter()
    .map(|r| Ok(TagCount { tag: r.try_get(0)?, uses: r.try_get::<_, i64>(1)?.max(0) as u64 }))
    .collect()
}
