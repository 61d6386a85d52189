//! Calls on PostgreSQL: the same portable queries SQLite runs
//! (`sqlite::sessions`), with PostgreSQL's placeholders, and the same fast
//! path for the unfiltered list.

use std::collections::{HashMap, HashSet};

use super::sql::{Db, dollars};
use crate::model::{SessionSummary, TokenCheck};
use crate::store::sqlite::reviews::reviewed_counts;
use crate::store::sqlite::sessions::{all_sql, page_sql};
use crate::store::sqlite::{FLAGGED, UPSTREAM_FAILED, page_limit};
use crate::store::{Filter, Page, StoreError, VerdictFilter, fields};

/// Every call, newest activity first.
pub(super) fn all(db: &Db<'_>) -> Result<Vec<SessionSummary>, StoreError> {
    db.query(&all_sql(), &[])?.iter().map(fields::session).collect()
}

/// Calls matching `filter`, newest activity first, `count` from `offset`.
pub(super) fn page(
    db: &Db<'_>,
    filter: &Filter,
    offset: usize,
    count: usize,
) -> Result<Page<SessionSummary>, StoreError> {
    if *filter == Filter::default() {
        return recent(db, offset, count);
    }
    let (low, high) = filter.prefix_range().unzip();
    let verdict = filter.verdict.and_then(VerdictFilter::token_check).map(TokenCheck::as_str);
    let flagged = i32::from(filter.verdict == Some(VerdictFilter::Flagged));
    let rows = db.query(
        &dollars(&page_sql()),
        &[
            &low,
            &high,
            &filter.lower_bound(),
            &filter.upper_bound(),
            &verdict,
            &flagged,
            &page_limit(count),
            &(offset as i64),
        ],
    )?;
    let mut total = match rows.first() {
        Some(row) => row.try_get::<_, i64>("total")?.max(0) as u64,
        None => 0,
    };
    let items = rows.iter().map(fields::session).collect::<Result<Vec<_>, _>>()?;
    if items.is_empty() && offset > 0 {
        total = page(db, filter, 0, 1)?.total;
    }
    Ok(Page { items, total, offset: offset as u64 })
}

/// The unfiltered list, which the app shows most: instead of aggregating
/// every call to sort them, read recordings newest first (an index scan of
/// `recordings_recent`, more of them until the page's calls are found), then
/// aggregate only those calls (the `store` benchmark: 241 ms → a few ms at
/// 100,000 recordings).
fn recent(db: &Db<'_>, offset: usize, count: usize) -> Result<Page<SessionSummary>, StoreError> {
    let total: i64 = db
        .query_one("SELECT COUNT(*) AS calls FROM (SELECT DISTINCT session_id FROM recordings) s", &[])?
        .try_get("calls")?;
    let wanted = offset + page_limit(count) as usize;
    let mut limit = (wanted as i64).saturating_mul(8).max(256);
    let order = loop {
        let rows =
            db.query("SELECT session_id FROM recordings ORDER BY received_at DESC, session_id LIMIT $1", &[&limit])?;
        let mut seen = HashSet::new();
        let mut order = Vec::new();
        for row in &rows {
            let session: String = row.try_get("session_id")?;
            if order.len() < wanted && seen.insert(session.clone()) {
                order.push(session);
            }
        }
        if order.len() >= wanted || (rows.len() as i64) < limit {
            break order;
        }
        limit = limit.saturating_mul(4);
    };
    let shown: Vec<String> = order.into_iter().skip(offset).collect();
    let sql = format!(
        "SELECT r.session_id AS session_id, COUNT(*) AS recording_count,
                MIN(r.received_at) AS first_received_at, MAX(r.received_at) AS last_received_at,
                MAX(r.assistant_id) AS assistant_id, MAX(r.environment_id) AS environment_id,
                (SELECT COUNT(*) FROM requests q WHERE q.session_id = r.session_id AND {FLAGGED}) AS flagged_requests,
                (SELECT COUNT(*) FROM requests q JOIN forwards f ON f.request_id = q.id
                 WHERE q.session_id = r.session_id AND {UPSTREAM_FAILED}) AS upstream_failures,
                {}
         FROM recordings r WHERE r.session_id = ANY($1) GROUP BY r.session_id",
        reviewed_counts("r.session_id")
    );
    let mut found = db
        .query(&sql, &[&shown])?
        .iter()
        .map(|row| fields::session(row).map(|s| (s.session_id.clone(), s)))
        .collect::<Result<HashMap<_, _>, _>>()?;
    let items = shown.iter().filter_map(|id| found.remove(id)).collect();
    Ok(Page { items, total: total.max(0) as u64, offset: offset as u64 })
}
