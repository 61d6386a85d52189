//! Schema migrations for PostgreSQL: the `.sql` files of
//! `crates/core/migrations/postgres/`, found by the build script and applied
//! in name order, each recorded in `earshot_migrations`. They run under a
//! session advisory lock, so listeners starting at the same moment take
//! turns: the first migrates, the others find nothing left to do.

use super::sql::Db;
use crate::store::StoreError;

include!(concat!(env!("OUT_DIR"), "/postgres_migrations.rs"));

/// The advisory lock's key: "earshot" in ASCII, so other applications' keys do not collide by accident.
const LOCK: i64 = 0x0065_6172_7368_6f74;

/// Brings the schema up to date.
pub(super) fn migrate(db: &Db<'_>) -> Result<(), StoreError> {
    db.execute("SELECT pg_advisory_lock($1)", &[&LOCK])?;
    let result = apply(db);
    let unlocked = db.execute("SELECT pg_advisory_unlock($1)", &[&LOCK]);
    result.and(unlocked.map(|_| ()))
}

fn apply(db: &Db<'_>) -> Result<(), StoreError> {
    db.batch(
        "CREATE TABLE IF NOT EXISTS earshot_migrations (
            name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    )?;
    let done: Vec<String> =
        db.query("SELECT name FROM earshot_migrations", &[])?.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>()?;
    for (name, sql) in MIGRATIONS.iter().filter(|(name, _)| !done.iter().any(|d| d == name)) {
        db.batch("BEGIN")?;
        let step =
            db.batch(sql).and_then(|()| db.execute("INSERT INTO earshot_migrations (name) VALUES ($1)", &[name]));
        match step {
            Ok(_) => db.batch("COMMIT")?,
            Err(e) => {
                let _ = db.batch("ROLLBACK");
                return Err(StoreError::postgres(format!("migration {name} failed: {e}"), None));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_file_in_the_folder_is_a_migration_in_name_order() {
        crate::store::sqlite::migrate::assert_lists_the_folder("postgres", super::MIGRATIONS);
    }
}
