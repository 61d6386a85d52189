//! Call bundles from the command line: `earshot export … --bundle FILE`
//! writes the chosen calls as one `NAME.earshot` file and says what is
//! inside; `earshot import FILE` adds one to this store, all of it or
//! nothing, and says what was added, skipped and added as a new version.
//! The format, its checks and the import itself are the core's
//! (`earshot_core::bundle`).

use std::path::{Path, PathBuf};

use earshot_core::Store;
use earshot_core::bundle::{self, BundleError, Selection};

use crate::delete::plural;
use crate::list::print_json;
use crate::{CliError, say, size_text};

/// Options of `earshot import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The bundle (NAME.earshot) to import.
    file: PathBuf,
    /// Print {calls, added, skipped, conflicts, requests, skipped_ids, conflict_ids}.
    #[arg(long)]
    json: bool,
}

/// A bundle error with its code; a refused bundle says that nothing was imported.
fn bundle_error(e: &BundleError) -> CliError {
    let nothing = match e {
        BundleError::NotABundle { .. } | BundleError::Refused { .. } | BundleError::Newer { .. } => {
            "; nothing was imported"
        }
        _ => "",
    };
    CliError::Message(format!("{e} ({}){nothing}", e.code()))
}

/// `FILE`, with `.earshot` added when it has no extension.
fn bundle_path(file: &Path) -> PathBuf {
    match file.extension() {
        Some(_) => file.to_path_buf(),
        None => file.with_extension(bundle::EXTENSION),
    }
}

/// Writes the calls `selection` picks to `file` and prints what is inside.
/// Calls asked for by id that the store does not hold, or nothing at all
/// matching, is an error and leaves no file.
pub fn export(store: &Store, selection: &Selection, file: &Path) -> Result<(), CliError> {
    let path = bundle_path(file);
    // Written beside the target first, so a refused export leaves an existing FILE alone.
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let checking = path.with_file_name(format!(".{name}.checking"));
    let manifest = bundle::export_to(store, selection, &checking, chrono::Utc::now()).map_err(|e| bundle_error(&e))?;
    let missing: Vec<&String> =
        selection.sessions.iter().flatten().filter(|s| !manifest.calls.iter().any(|c| &c.session_id == *s)).collect();
    if !missing.is_empty() || manifest.calls.is_empty() {
        let _ = std::fs::remove_file(&checking);
        let why = match missing.as_slice() {
            [] => "nothing matches: no call has recordings or requests in that range".to_string(),
            ids => format!(
                "no call matches {} (see `earshot sessions`)",
                ids.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ")
            ),
        };
        return Err(CliError::Message(format!("{why}; no bundle was written")));
    }
    std::fs::rename(&checking, &path).map_err(|e| {
        let _ = std::fs::remove_file(&checking);
        CliError::Message(format!("cannot write {}: {e}", path.display()))
    })?;
    let recordings: u64 = manifest.calls.iter().map(|c| c.recordings).sum();
    let requests: u64 = manifest.calls.iter().map(|c| c.requests).sum();
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or_default();
    say(&format!(
        "wrote {}: {}, {}, {} ({})",
        path.display(),
        plural(manifest.calls.len() as u64, "call", "calls"),
        plural(recordings, "recording", "recordings"),
        plural(requests, "request", "requests"),
        size_text(size)
    ));
    for call in &manifest.calls {
        say(&format!(
            "  {}: {}, {}",
            call.session_id,
            plural(call.recordings, "recording", "recordings"),
            plural(call.requests, "request", "requests")
        ));
    }
    Ok(())
}

/// Imports a bundle and prints what was added, skipped and added as a new version.
pub fn import(store: &Store, args: ImportArgs) -> Result<(), CliError> {
    let report = crate::block_on(bundle::import_from(store, &args.file))?.map_err(|e| bundle_error(&e))?;
    if args.json {
        return print_json(&report);
    }
    say(&format!(
        "imported {}: {}; {} added, {} skipped (already here), {} (added as a new version); {} added",
        args.file.display(),
        plural(report.calls, "call", "calls"),
        plural(report.added, "recording", "recordings"),
        report.skipped,
        plural(report.conflicts, "conflict", "conflicts"),
        plural(report.requests, "request", "requests")
    ));
    if !report.skipped_ids.is_empty() {
        say(&format!("skipped, same id and sha256 already here: {}", report.skipped_ids.join(", ")));
    }
    if !report.conflict_ids.is_empty() {
        say(&format!("other audio under a known id, added as the next version: {}", report.conflict_ids.join(", ")));
    }
    Ok(())
}
