//! Call bundles: one or more calls as one `NAME.earshot` file (a zip) that
//! another Earshot imports with everything intact — each recording's bytes
//! and metadata as received, its versions, token header and claims, its
//! request-log entries with their bodies, the forwarded answers and replays.
//!
//! Inside: `manifest.json` (format, versions, what is inside, the sha256 and
//! size of every other file), `tables/*.json` (the rows, by column name) and
//! `blobs/…` (every byte column as its own file). `write` makes one from the
//! store's rows; `read` refuses anything damaged or hostile before a single
//! row is written; the import itself is one [`crate::Job::Import`], so it is
//! all of the bundle or nothing.

mod read;
mod write;

use serde::{Deserialize, Serialize};

pub use read::{MAX_ENTRIES, MAX_ENTRY_BYTES, MAX_TOTAL_BYTES, read};
pub use write::write;

/// The bundle format this Earshot writes and the newest it reads.
pub const FORMAT_VERSION: u32 = 1;

/// The name of the format, in every manifest.
pub const FORMAT: &str = "earshot-bundle";

/// The file extension.
pub const EXTENSION: &str = "earshot";

/// One file of a bundle, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path inside the zip.
    pub path: String,
    /// Its SHA-256, hex.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
}

/// One call in a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct BundleCall {
    /// The call's session id.
    pub session_id: String,
    /// Recording versions.
    pub recordings: u64,
    /// Request-log entries.
    pub requests: u64,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// The format version it was written in.
    pub format_version: u32,
    /// The Earshot that wrote it.
    pub earshot_version: String,
    /// When, RFC 3339.
    pub created_at: String,
    /// The calls inside.
    pub calls: Vec<BundleCall>,
    /// Every other file, with its digest.
    pub files: Vec<FileEntry>,
}

/// What the calls a bundle holds are chosen by.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Selection {
    /// These calls; every call when `None`.
    pub sessions: Option<Vec<String>>,
    /// Recordings received at or after this time (RFC 3339 or `YYYY-MM-DD`).
    pub after: Option<String>,
    /// Recordings received before this time (RFC 3339 or `YYYY-MM-DD`).
    pub before: Option<String>,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ImportReport {
    /// Calls the bundle held.
    pub calls: u64,
    /// Recordings added.
    pub added: u64,
    /// Recordings already present with the same id and sha256, skipped.
    pub skipped: u64,
    /// Recordings whose id was present with other audio, added as the next version.
    pub conflicts: u64,
    /// Request-log entries added.
    pub requests: u64,
    /// The recording ids skipped.
    pub skipped_ids: Vec<String>,
    /// The recording ids added as new versions.
    pub conflict_ids: Vec<String>,
}

/// Why a bundle cannot be made or imported. Nothing is written when reading fails.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Not a zip, or a damaged one.
    #[error("{name} is not a readable Earshot bundle: {reason}")]
    NotABundle {
        /// The file.
        name: String,
        /// What the zip reader said.
        reason: String,
    },
    /// Something inside is wrong (a path, a size, a digest, the manifest).
    #[error("{name} is refused: {reason}")]
    Refused {
        /// The file.
        name: String,
        /// What is wrong, precisely.
        reason: String,
    },
    /// Written by a newer Earshot.
    #[error(
        "{name} was written in bundle format {found}; this Earshot reads format {FORMAT_VERSION} — update Earshot to import it"
    )]
    Newer {
        /// The file.
        name: String,
        /// Its format version.
        found: u32,
    },
    /// Reading or writing the file.
    #[error("{0}")]
    Io(String),
    /// The store refused.
    #[error(transparent)]
    Store(#[from] crate::StoreError),
}

impl BundleError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            BundleError::NotABundle { .. } => "not_a_bundle",
            BundleError::Refused { .. } => "bundle_refused",
            BundleError::Newer { .. } => "bundle_too_new",
            BundleError::Io(_) => "io",
            BundleError::Store(_) => "store",
        }
    }
}

/// Writes the bundle to `path` (through a temporary file beside it, so a
/// failed export leaves no half file).
pub fn export_to(
    store: &crate::Store,
    selection: &Selection,
    path: &std::path::Path,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Manifest, BundleError> {
    let failed = |e: std::io::Error| BundleError::Io(format!("cannot write {}: {e}", path.display()));
    let temp = path.with_extension(format!("{EXTENSION}.partial"));
    let file = std::fs::File::create(&temp).map_err(failed)?;
    let manifest = match write(store, selection, std::io::BufWriter::new(file), now) {
        Ok(manifest) => manifest,
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            return Err(e);
        }
    };
    std::fs::rename(&temp, path).map_err(failed)?;
    Ok(manifest)
}

/// Checks the bundle at `path` and imports it in one transaction.
pub async fn import_from(store: &crate::Store, path: &std::path::Path) -> Result<ImportReport, BundleError> {
    let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let file =
        std::fs::File::open(path).map_err(|e| BundleError::Io(format!("cannot open {}: {e}", path.display())))?;
    let reading = name.clone();
    let (_, snapshot) = tokio::task::spawn_blocking(move || read(std::io::BufReader::new(file), &reading))
        .await
        .map_err(|e| BundleError::Io(format!("reading the bundle failed: {e}")))??;
    let writer = store.writer()?;
    let job = crate::Job::Import { snapshot: Box::new(snapshot), origin: name };
    match writer.submit(job, std::time::Instant::now()).await {
        Ok(crate::Committed::Imported(report)) => Ok(*report),
        Ok(other) => Err(BundleError::Io(format!("the store answered an import with {other:?}"))),
        Err(e) => Err(BundleError::Io(format!("the import was refused and nothing was added: {e}"))),
    }
}
