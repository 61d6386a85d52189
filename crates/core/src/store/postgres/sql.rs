//! Statements as plain calls: [`Db`] runs one statement at a time on a
//! pooled connection from a thread outside the async world (the writer's,
//! or one of the store runtime's blocking threads), so the queries read like
//! the SQLite ones. Also how rows become [`Cell`]s and back, for snapshots.

use std::error::Error as _;

use bytes::BytesMut;
use tokio::runtime::Handle;
use tokio_postgres::Row;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use crate::store::fields::Fields;
use crate::store::{Cell, StoreError, TableRows};

/// A connection, used from a thread that may block.
pub(super) struct Db<'a> {
    pub(super) client: &'a deadpool_postgres::Client,
    pub(super) handle: &'a Handle,
}

/// Statement parameters.
pub(super) type Params<'p> = [&'p (dyn ToSql + Sync)];

impl Db<'_> {
    /// Every row of `sql`.
    pub(super) fn query(&self, sql: &str, params: &Params<'_>) -> Result<Vec<Row>, StoreError> {
        self.handle
            .block_on(async {
                let statement = self.client.prepare_cached(sql).await?;
                self.client.query(&statement, params).await
            })
            .map_err(StoreError::from)
    }

    /// The one row of `sql`, if any.
    pub(super) fn query_opt(&self, sql: &str, params: &Params<'_>) -> Result<Option<Row>, StoreError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The one row `sql` always gives.
    pub(super) fn query_one(&self, sql: &str, params: &Params<'_>) -> Result<Row, StoreError> {
        self.query_opt(sql, params)?.ok_or_else(|| StoreError::postgres(format!("no row from {sql}"), None))
    }

    /// Runs `sql`; returns how many rows it changed.
    pub(super) fn execute(&self, sql: &str, params: &Params<'_>) -> Result<u64, StoreError> {
        self.handle
            .block_on(async {
                let statement = self.client.prepare_cached(sql).await?;
                self.client.execute(&statement, params).await
            })
            .map_err(StoreError::from)
    }

    /// Runs statements without parameters (transaction control, DDL).
    pub(super) fn batch(&self, sql: &str) -> Result<(), StoreError> {
        self.handle.block_on(self.client.batch_execute(sql)).map_err(StoreError::from)
    }

    /// `SELECT * FROM table WHERE condition`, as cells, with the table's column names.
    pub(super) fn take(&self, table: &str, condition: &str, params: &Params<'_>) -> Result<TableRows, StoreError> {
        let sql = format!("SELECT * FROM {table} WHERE {condition} ORDER BY 1");
        let statement = self.handle.block_on(self.client.prepare_cached(&sql))?;
        let columns: Vec<String> = statement.columns().iter().map(|c| c.name().to_string()).collect();
        let rows = self
            .query(&sql, params)?
            .iter()
            .map(|row| (0..columns.len()).map(|i| cell(row, i)).collect::<Result<Vec<_>, _>>())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TableRows { table: table.to_string(), columns, rows })
    }
}

/// One value of a row as a [`Cell`], by the column's type.
fn cell(row: &Row, index: usize) -> Result<Cell, StoreError> {
    let kind = row.columns()[index].type_().clone();
    Ok(match kind {
        Type::INT8 => row.try_get::<_, Option<i64>>(index)?.map(Cell::Integer),
        Type::INT4 => row.try_get::<_, Option<i32>>(index)?.map(|v| Cell::Integer(v.into())),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(index)?.map(Cell::Real),
        Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(index)?.map(Cell::Blob),
        _ => row.try_get::<_, Option<String>>(index)?.map(Cell::Text),
    }
    .unwrap_or(Cell::Null))
}

/// A [`Cell`] as a statement parameter, converted to whatever the column is.
#[derive(Debug)]
pub(super) struct CellParam<'a>(pub(super) &'a Cell);

impl ToSql for CellParam<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match (self.0, ty) {
            (Cell::Null, _) => Ok(IsNull::Yes),
            (Cell::Integer(v), &Type::INT4) => i32::try_from(*v)?.to_sql(ty, out),
            (Cell::Integer(v), &Type::FLOAT8) => (*v as f64).to_sql(ty, out),
            (Cell::Integer(v), _) => v.to_sql(ty, out),
            (Cell::Real(v), _) => v.to_sql(ty, out),
            (Cell::Text(v), _) => v.to_sql(ty, out),
            (Cell::Blob(v), _) => v.to_sql(ty, out),
        }
    }

    fn accepts(_ty: &Type) -> bool {
        // Checked per value in `to_sql`: a NULL fits any column.
        true
    }

    to_sql_checked!();
}

impl Fields for Row {
    type Error = StoreError;

    fn int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        let index = self.columns().iter().position(|c| c.name() == column);
        let kind = index.map(|i| self.columns()[i].type_().clone());
        Ok(match kind {
            Some(Type::INT4) => self.try_get::<_, Option<i32>>(column)?.map(i64::from),
            Some(Type::INT2) => self.try_get::<_, Option<i16>>(column)?.map(i64::from),
            Some(Type::BOOL) => self.try_get::<_, Option<bool>>(column)?.map(i64::from),
            _ => self.try_get::<_, Option<i64>>(column)?,
        })
    }

    fn text(&self, column: &str) -> Result<Option<String>, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn blob(&self, column: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.try_get(column)?)
    }

    fn invalid(&self, column: &str, problem: String) -> StoreError {
        StoreError::postgres(format!("column {column}: {problem}"), None)
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> StoreError {
        if let Some(db) = e.as_db_error() {
            return StoreError::postgres(
                format!("{}: {}", db.severity(), db.message()),
                Some(db.code().code().to_string()),
            );
        }
        // "error connecting to server: Connection refused": the cause is the useful part.
        let message = match e.source() {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        };
        StoreError::postgres(message, e.code().map(|c| c.code().to_string()))
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> StoreError {
        match e {
            deadpool_postgres::PoolError::Backend(e) => e.into(),
            deadpool_postgres::PoolError::Timeout(_) => {
                StoreError::postgres("the server did not answer in time (is it running?)".into(), None)
            }
            other => StoreError::postgres(other.to_string(), None),
        }
    }
}

/// SQLite's numbered placeholders (`?1`) as PostgreSQL's (`$1`), for the
/// queries both backends share.
pub(super) fn dollars(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        let numbered = c == '?' && chars.peek().is_some_and(char::is_ascii_digit);
        out.push(if numbered { '$' } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbered_placeholders_become_dollars_and_nothing_else_changes() {
        assert_eq!(super::dollars("a = ?1 AND b < ?12 AND c = '?'"), "a = $1 AND b < $12 AND c = '?'");
    }
}
