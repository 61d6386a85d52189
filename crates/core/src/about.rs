//! What the desktop app's About shows: the version, where the data is, the
//! store in use and how much disk it takes. The version is passed in by the
//! binary (every crate carries the workspace's), so the About and
//! `earshot --version` read the same number.

use std::path::Path;

use serde::Serialize;

use crate::store::{Store, StoreError};

/// The About footer's facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct About {
    /// The release, e.g. `0.1.0`.
    pub version: String,
    /// The data dir (database, `settings.json`).
    pub data_dir: String,
    /// The store in use, as [`crate::Backend::describe`] puts it (the SQLite file's path today).
    pub store: String,
    /// Bytes the store takes (the database and its WAL), as [`crate::Backend::size`] counts them.
    pub store_bytes: u64,
}

impl About {
    /// Reads the store's description and size now.
    pub fn read(version: &str, store: &Store, data_dir: &Path) -> Result<About, StoreError> {
        Ok(About {
            version: version.to_string(),
            data_dir: data_dir.display().to_string(),
            store: store.describe(),
            store_bytes: store.size()?.bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::DB_FILE;

    #[test]
    fn about_names_the_store_and_its_size_grows_with_writes() {
        let dir = tempfile::TempDir::new().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let empty = About::read("9.9.9", &store, dir.path()).unwrap();
        assert_eq!(empty.version, "9.9.9");
        assert_eq!(empty.store, dir.path().join(DB_FILE).display().to_string());
        assert_eq!(empty.data_dir, dir.path().display().to_string());
        assert_eq!(empty.store_bytes, store.size().unwrap().bytes);

        let conn = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
        conn.execute_batch("CREATE TABLE ballast(b BLOB); INSERT INTO ballast VALUES (zeroblob(1000000));").unwrap();
        let grown = About::read("9.9.9", &store, dir.path()).unwrap().store_bytes;
        assert!(grown >= empty.store_bytes + 1_000_000, "{grown} after a 1 MB write, from {}", empty.store_bytes);
    }
}
