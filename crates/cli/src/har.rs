//! `earshot requests --har FILE`: the request log (or one call's requests)
//! as a HAR 1.2 file, built by the core (`relay::har_of_store`), with a
//! one-line summary.

use std::path::Path;

use earshot_core::Store;
use earshot_core::relay;
use serde_json::json;

use crate::list::print_json;
use crate::{CliError, say};

pub fn run(store: &Store, file: &Path, session: Option<&str>, json: bool) -> Result<(), CliError> {
    let har = relay::har_of_store(store, session)?;
    let entries = har["log"]["entries"].as_array().map_or(0, Vec::len);
    let text = serde_json::to_vec_pretty(&har).map_err(|e| CliError::Message(e.to_string()))?;
    std::fs::write(file, text).map_err(|e| CliError::Message(format!("cannot write {}: {e}", file.display())))?;
    if json {
        return print_json(&json!({"file": file, "entries": entries}));
    }
    let scope = session.map(|s| format!(" of call {s}")).unwrap_or_default();
    say(&format!(
        "wrote {entries} request{}{scope} to {} (HAR 1.2)",
        if entries == 1 { "" } else { "s" },
        file.display()
    ));
    Ok(())
}
