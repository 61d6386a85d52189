//! Writing a bundle: the selected calls' rows from the store, each table as
//! JSON by column name and each byte column as its own file, every file's
//! sha256 in the manifest.

use std::collections::BTreeMap;
use std::io::{Seek, Write};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;

use super::{BundleCall, BundleError, FORMAT, FORMAT_VERSION, FileEntry, Manifest, Selection};
use crate::store::{Cell, Snapshot, Store};

struct Zip<W: Write + Seek> {
    zip: zip::ZipWriter<W>,
    files: Vec<FileEntry>,
}

impl<W: Write + Seek> Zip<W> {
    fn add(&mut self, path: String, bytes: &[u8]) -> Result<(), BundleError> {
        let failed = |e: &dyn std::fmt::Display| BundleError::Io(format!("cannot write {path} into the bundle: {e}"));
        let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        self.zip.start_file(path.as_str(), options).map_err(|e| failed(&e))?;
        self.zip.write_all(bytes).map_err(|e| failed(&e))?;
        self.files.push(FileEntry { path, sha256: hex::encode(Sha256::digest(bytes)), size: bytes.len() as u64 });
        Ok(())
    }
}

/// The calls' summary: recordings and requests per session.
fn calls(snapshot: &Snapshot) -> Vec<BundleCall> {
    let mut calls: BTreeMap<String, BundleCall> = BTreeMap::new();
    for table in &snapshot.tables {
        let Some(session) = table.columns.iter().position(|c| c == "session_id") else { continue };
        for row in &table.rows {
            let Cell::Text(session_id) = &row[session] else { continue };
            let call = calls.entry(session_id.clone()).or_insert_with(|| BundleCall {
                session_id: session_id.clone(),
                recordings: 0,
                requests: 0,
            });
            match table.table.as_str() {
                "recordings" => call.recordings += 1,
                "requests" => call.requests += 1,
                _ => {}
            }
        }
    }
    calls.into_values().filter(|c| c.recordings > 0 || c.requests > 0).collect()
}

/// Writes the calls `selection` picks as a bundle to `out`; returns its manifest.
pub fn write(
    store: &Store,
    selection: &Selection,
    out: impl Write + Seek,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Manifest, BundleError> {
    let snapshot = store.bundle_rows(selection)?;
    let mut zip = Zip { zip: zip::ZipWriter::new(out), files: Vec::new() };
    for table in &snapshot.tables {
        let mut rows = Vec::with_capacity(table.rows.len());
        for (index, row) in table.rows.iter().enumerate() {
            let mut cells = Vec::with_capacity(row.len());
            for (cell, column) in row.iter().zip(&table.columns) {
                cells.push(match cell {
                    Cell::Null => Value::Null,
                    Cell::Integer(v) => json!(v),
                    Cell::Real(v) => json!(v),
                    Cell::Text(v) => json!(v),
                    Cell::Blob(bytes) => {
                        let path = format!("blobs/{}/{index}-{column}.bin", table.table);
                        zip.add(path.clone(), bytes)?;
                        json!({ "blob": path })
                    }
                });
            }
            rows.push(Value::Array(cells));
        }
        let body = json!({"table": table.table, "columns": table.columns, "rows": rows});
        zip.add(format!("tables/{}.json", table.table), body.to_string().as_bytes())?;
    }
    let manifest = Manifest {
        format: FORMAT.to_string(),
        format_version: FORMAT_VERSION,
        earshot_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        calls: calls(&snapshot),
        files: zip.files.clone(),
    };
    let text = serde_json::to_vec_pretty(&manifest).expect("a manifest serializes");
    let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let failed = |e: &dyn std::fmt::Display| BundleError::Io(format!("cannot finish the bundle: {e}"));
    zip.zip.start_file("manifest.json", options).map_err(|e| failed(&e))?;
    zip.zip.write_all(&text).map_err(|e| failed(&e))?;
    zip.zip.finish().map_err(|e| failed(&e))?;
    Ok(manifest)
}
