//! Schema migrations for SQLite: the `.sql` files of `crates/core/migrations/`,
//! found by the build script and applied in name order. `PRAGMA user_version`
//! records how many ran.

use rusqlite::{Connection, TransactionBehavior};

use crate::store::StoreError;

include!(concat!(env!("OUT_DIR"), "/migrations.rs"));

/// Brings the schema up to date.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    // IMMEDIATE so two processes opening a new file at once do not both migrate.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current: usize = tx.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))? as usize;
    for (index, (_name, sql)) in MIGRATIONS.iter().enumerate().skip(current) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (index + 1) as i64)?;
    }
    tx.commit()?;
    Ok(())
}

/// Asserts that `listed` names every `.sql` file of `migrations/{folder}`, in name order.
#[cfg(test)]
pub(in crate::store) fn assert_lists_the_folder(folder: &str, listed: &[(&str, &str)]) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(folder);
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    files.sort();
    let names: Vec<String> = listed.iter().map(|(name, _)| name.to_string()).collect();
    assert_eq!(names, files);
    assert!(listed[0].1.contains("CREATE TABLE recordings"));
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_file_in_the_folder_is_a_migration_in_name_order() {
        super::assert_lists_the_folder("", super::MIGRATIONS);
    }
}
