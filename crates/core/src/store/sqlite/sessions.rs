//! Calls: never stored as rows, derived from `recordings` (and, for the
//! badge, from flagged `requests`) with indexes made for it.

use rusqlite::{Connection, params};

use super::reviews::reviewed_counts;
use super::{FLAGGED, UPSTREAM_FAILED, page_limit};
use crate::model::{SessionSummary, TokenCheck};
use crate::store::fields::{self, Fields};
use crate::store::{Filter, Page, StoreError, VerdictFilter};

fn summary(row: &rusqlite::Row<'_>) -> rusqlite::Result<SessionSummary> {
    fields::session(row)
}

/// Every call, newest activity first (portable SQL: PostgreSQL runs it too).
pub(in crate::store) fn all_sql() -> String {
    format!(
        "SELECT r.session_id AS session_id, COUNT(*) AS recording_count,
                MIN(r.received_at) AS first_received_at, MAX(r.received_at) AS last_received_at,
                MAX(r.assistant_id) AS assistant_id, MAX(r.environment_id) AS environment_id,
                (SELECT COUNT(*) FROM requests q WHERE q.session_id = r.session_id AND {FLAGGED}) AS flagged_requests,
                (SELECT COUNT(*) FROM requests q JOIN forwards f ON f.request_id = q.id
                 WHERE q.session_id = r.session_id AND {UPSTREAM_FAILED}) AS upstream_failures,
                {}
         FROM recordings r GROUP BY r.session_id ORDER BY MAX(r.received_at) DESC, r.session_id",
        reviewed_counts("r.session_id")
    )
}

/// Calls matching a filter, a page of them, with the total (portable SQL; the
/// casts tell PostgreSQL a parameter's type where `IS NULL` alone cannot):
/// ?1/?2 the prefix range, ?3/?4 the time bounds, ?5 the verdict, ?6 flagged only (0/1), ?7 limit, ?8 offset.
pub(in crate::store) fn page_sql() -> String {
    format!(
        "WITH s AS (
            SELECT session_id, COUNT(*) AS recording_count, MIN(received_at) AS first_received_at,
                   MAX(received_at) AS last_received_at, MAX(assistant_id) AS assistant_id,
                   MAX(environment_id) AS environment_id
            FROM recordings
            WHERE (CAST(?1 AS TEXT) IS NULL OR (session_id >= ?1 AND session_id < ?2)
                   OR (recording_id >= ?1 AND recording_id < ?2))
              AND (CAST(?3 AS TEXT) IS NULL OR received_at >= ?3) AND (CAST(?4 AS TEXT) IS NULL OR received_at <= ?4)
              AND (CAST(?5 AS TEXT) IS NULL OR auth_verdict = ?5)
            GROUP BY session_id
        ), flag AS (
            SELECT session_id, COUNT(*) AS flagged FROM requests q WHERE {FLAGGED} GROUP BY session_id
        )
        SELECT s.*, COALESCE(flag.flagged, 0) AS flagged_requests,
               (SELECT COUNT(*) FROM requests q JOIN forwards f ON f.request_id = q.id
                WHERE q.session_id = s.session_id AND {UPSTREAM_FAILED}) AS upstream_failures,
               {}, COUNT(*) OVER () AS total
        FROM s LEFT JOIN flag ON flag.session_id = s.session_id
        WHERE (?6 = 0 OR flag.flagged > 0)
        ORDER BY last_received_at DESC, s.session_id LIMIT ?7 OFFSET ?8",
        reviewed_counts("s.session_id")
    )
}

/// Every call, newest activity first.
pub(super) fn all(conn: &Connection) -> Result<Vec<SessionSummary>, StoreError> {
    let sql = all_sql();
    Ok(conn.prepare(&sql)?.query_map([], summary)?.collect::<Result<_, _>>()?)
}

/// Calls matching `filter`, newest activity first, `count` from `offset`.
pub(super) fn page(
    conn: &Connection,
    filter: &Filter,
    offset: usize,
    count: usize,
) -> Result<Page<SessionSummary>, StoreError> {
    if *filter == Filter::default() {
        return recent(conn, offset, count);
    }
    let sql = page_sql();
    let (low, high) = filter.prefix_range().unzip();
    let mut total = 0u64;
    let items = conn
        .prepare(&sql)?
        .query_map(
            params![
                low,
                high,
                filter.lower_bound(),
                filter.upper_bound(),
                filter.verdict.and_then(VerdictFilter::token_check).map(TokenCheck::as_str),
                filter.verdict == Some(VerdictFilter::Flagged),
                page_limit(count),
                offset as i64
            ],
            |row| Ok((summary(row)?, row.count("total")?)),
        )?
        .map(|r| {
            r.map(|(s, t)| {
                total = t;
                s
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if items.is_empty() && offset > 0 {
        total = page(conn, filter, 0, 1)?.total;
    }
    Ok(Page { items, total, offset: offset as u64 })
}

/// The unfiltered list, which the app shows most: instead of aggregating
/// every call to sort them, walk recordings newest first until the page's
/// calls are found, then aggregate only those (the `lists` benchmark:
/// 81 ms → about 10 ms at 100,000 recordings).
fn recent(conn: &Connection, offset: usize, count: usize) -> Result<Page<SessionSummary>, StoreError> {
    let total: i64 = conn.query_row("SELECT COUNT(DISTINCT session_id) FROM recordings", [], |r| r.get(0))?;
    let wanted = offset + page_limit(count) as usize;
    let mut seen = std::collections::HashSet::new();
    let mut order = Vec::new();
    let mut newest = conn.prepare("SELECT session_id FROM recordings ORDER BY received_at DESC, session_id")?;
    let mut rows = newest.query([])?;
    while order.len() < wanted {
        let Some(row) = rows.next()? else { break };
        let session: String = row.get("session_id")?;
        if seen.insert(session.clone()) {
            order.push(session);
        }
    }
    let mut one = conn.prepare_cached(&format!(
        "SELECT ?1 AS session_id, COUNT(*) AS recording_count, MIN(received_at) AS first_received_at,
                MAX(received_at) AS last_received_at, MAX(assistant_id) AS assistant_id,
                MAX(environment_id) AS environment_id,
                (SELECT COUNT(*) FROM requests q WHERE q.session_id = ?1 AND {FLAGGED}) AS flagged_requests,
                (SELECT COUNT(*) FROM requests q JOIN forwards f ON f.request_id = q.id
                 WHERE q.session_id = ?1 AND {UPSTREAM_FAILED}) AS upstream_failures,
                {}
         FROM recordings WHERE session_id = ?1",
        reviewed_counts("?1")
    ))?;
    let items = order
        .into_iter()
        .skip(offset)
        .map(|session_id| one.query_row([&session_id], summary))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page { items, total: total as u64, offset: offset as u64 })
}
