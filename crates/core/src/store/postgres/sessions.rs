//! Calls on PostgreSQL: the same portable queries SQLite runs
//! (`sqlite::sessions`), with PostgreSQL's placeholders.

use super::sql::{Db, dollars};
use crate::model::{SessionSummary, TokenCheck};
use crate::store::sqlite::page_limit;
use crate::store::sqlite::sessions::{all_sql, page_sql};
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
