//! Reading a bundle without trusting it: every entry's name must stay inside
//! the bundle (no `..`, no absolute paths, no drive letters or backslashes),
//! names are unique, each entry inflates to at most [`MAX_ENTRY_BYTES`] and
//! all of them to [`MAX_TOTAL_BYTES`] (a zip bomb stops there, whatever its
//! headers claim), the manifest is of a format this Earshot reads, and every
//! file's sha256 matches it. Only then are the rows handed back.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{BundleError, FORMAT, FORMAT_VERSION, Manifest};
use crate::store::{Cell, Snapshot, TableRows};

/// Most entries a bundle may hold.
pub const MAX_ENTRIES: usize = 200_000;

/// Largest entry once inflated: a recording is at most `--max-body`'s 50 MiB.
pub const MAX_ENTRY_BYTES: u64 = 64 * 1024 * 1024;

/// Largest bundle once inflated.
pub const MAX_TOTAL_BYTES: u64 = 8 * 1024 * 1024 * 1024;

/// The tables a bundle may carry, in the order they are applied.
const TABLES: [&str; 5] = ["recordings", "requests", "forwards", "replays", "reviews"];

fn safe_name(name: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("the entry {name:?} {why}"));
    if name.is_empty() {
        return bad("has no name");
    }
    if name.starts_with('/') || name.starts_with('\\') {
        return bad("is an absolute path");
    }
    if name.contains('\\') {
        return bad("contains a backslash");
    }
    if name.len() >= 2 && name.as_bytes()[1] == b':' {
        return bad("names a drive");
    }
    if name.split('/').any(|part| part == ".." || part == ".") {
        return bad("leaves the bundle's folder ('..')");
    }
    if name.chars().any(char::is_control) {
        return bad("contains control characters");
    }
    Ok(())
}

/// Reads and checks the bundle; `name` is the file's name for messages.
pub fn read(source: impl Read + Seek, name: &str) -> Result<(Manifest, Snapshot), BundleError> {
    let refuse = |reason: String| BundleError::Refused { name: name.to_string(), reason };
    let mut archive = zip::ZipArchive::new(source)
        .map_err(|e| BundleError::NotABundle { name: name.to_string(), reason: e.to_string() })?;
    if archive.len() > MAX_ENTRIES {
        return Err(refuse(format!("it holds {} entries; at most {MAX_ENTRIES} are read", archive.len())));
    }
    if archive.has_duplicate_names() {
        return Err(refuse("two entries have the same name".into()));
    }
    let mut contents: HashMap<String, Vec<u8>> = HashMap::new();
    let mut total = 0u64;
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| BundleError::NotABundle { name: name.to_string(), reason: e.to_string() })?;
        let entry_name = entry.name().map_err(|e| refuse(format!("an entry's name cannot be read: {e}")))?.into_owned();
        safe_name(&entry_name).map_err(refuse)?;
        if entry.is_dir() {
            continue;
        }
        let mut bytes = Vec::new();
        // Read one byte past the cap: headers can lie about sizes, the inflated stream cannot.
        let read = (&mut entry)
            .take(MAX_ENTRY_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| BundleError::NotABundle { name: name.to_string(), reason: format!("{entry_name}: {e}") })?;
        if read as u64 > MAX_ENTRY_BYTES {
            return Err(refuse(format!("{entry_name} inflates past {MAX_ENTRY_BYTES} bytes")));
        }
        total += read as u64;
        if total > MAX_TOTAL_BYTES {
            return Err(refuse(format!("its entries inflate past {MAX_TOTAL_BYTES} bytes in all")));
        }
        if contents.insert(entry_name.clone(), bytes).is_some() {
            return Err(refuse(format!("{entry_name} appears twice")));
        }
    }
    let manifest_bytes = contents.remove("manifest.json").ok_or_else(|| refuse("it has no manifest.json".into()))?;
    let manifest_value: Value =
        serde_json::from_slice(&manifest_bytes).map_err(|e| refuse(format!("manifest.json is not JSON: {e}")))?;
    if manifest_value.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(refuse(format!("manifest.json does not say \"format\": \"{FORMAT}\"")));
    }
    let version = manifest_value.get("format_version").and_then(Value::as_u64).unwrap_or(0) as u32;
    if version > FORMAT_VERSION {
        return Err(BundleError::Newer { name: name.to_string(), found: version });
    }
    let manifest: Manifest =
        serde_json::from_value(manifest_value).map_err(|e| refuse(format!("manifest.json is incomplete: {e}")))?;
    let mut listed = HashSet::new();
    for file in &manifest.files {
        let bytes = contents.get(&file.path).ok_or_else(|| refuse(format!("{} is listed but missing", file.path)))?;
        let digest = hex::encode(Sha256::digest(bytes));
        if digest != file.sha256 || bytes.len() as u64 != file.size {
            return Err(refuse(format!(
                "{} does not match its sha256 in the manifest (damaged or altered)",
                file.path
            )));
        }
        listed.insert(file.path.as_str());
    }
    if let Some(extra) = contents.keys().find(|path| !listed.contains(path.as_str())) {
        return Err(refuse(format!("{extra} is not listed in the manifest")));
    }
    let mut tables = Vec::new();
    for table in TABLES {
        let Some(bytes) = contents.get(&format!("tables/{table}.json")) else { continue };
        tables.push(parse_table(table, bytes, &contents).map_err(refuse)?);
    }
    Ok((manifest, Snapshot { tables }))
}

fn parse_table(table: &str, bytes: &[u8], contents: &HashMap<String, Vec<u8>>) -> Result<TableRows, String> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| format!("tables/{table}.json is not JSON: {e}"))?;
    let columns: Vec<String> = value["columns"]
        .as_array()
        .ok_or_else(|| format!("tables/{table}.json has no columns"))?
        .iter()
        .map(|c| c.as_str().map(str::to_string).ok_or_else(|| format!("tables/{table}.json: a column is not a name")))
        .collect::<Result<_, _>>()?;
    if let Some(bad) =
        columns.iter().find(|c| c.is_empty() || !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_'))
    {
        return Err(format!("tables/{table}.json names a column {bad:?}"));
    }
    let mut rows = Vec::new();
    for row in value["rows"].as_array().ok_or_else(|| format!("tables/{table}.json has no rows"))? {
        let cells = row
            .as_array()
            .filter(|cells| cells.len() == columns.len())
            .ok_or_else(|| format!("tables/{table}.json: a row does not have {} cells", columns.len()))?;
        let row = cells
            .iter()
            .map(|cell| match cell {
                Value::Null => Ok(Cell::Null),
                Value::Bool(b) => Ok(Cell::Integer(i64::from(*b))),
                Value::Number(n) => {
                    Ok(n.as_i64().map(Cell::Integer).unwrap_or_else(|| Cell::Real(n.as_f64().unwrap_or(0.0))))
                }
                Value::String(s) => Ok(Cell::Text(s.clone())),
                Value::Object(o) => {
                    let path = o.get("blob").and_then(Value::as_str).ok_or("a cell is an object without \"blob\"")?;
                    contents.get(path).cloned().map(Cell::Blob).ok_or_else(|| format!("{path} is missing"))
                }
                Value::Array(_) => Err("a cell is a list".to_string()),
            })
            .collect::<Result<Vec<_>, String>>()?;
        rows.push(row);
    }
    Ok(TableRows { table: table.to_string(), columns, rows })
}
