//! `earshot requests --curl ID`: a logged request as a runnable `curl`
//! command on stdout, its body written to a file beside it (curl sends a
//! `--data-binary @FILE` unchanged). The command is the core's
//! (`relay::curl_for_request`); this finds the target, the secret and the
//! folder.

use std::path::Path;

use chrono::Utc;
use earshot_core::Store;
use earshot_core::relay;
use serde_json::json;

use crate::list::{RequestsArgs, print_json};
use crate::replay::{Fallbacks, relay_error};
use crate::{CliError, say};

pub fn run(store: &Store, data_dir: &Path, id: i64, args: &RequestsArgs, json: bool) -> Result<(), CliError> {
    let fallbacks = Fallbacks::load(data_dir)?;
    let to = fallbacks.target(args.to.as_deref())?;
    let secret = fallbacks.secret(args.secret.as_deref())?;
    store.request(id)?;
    let dir = args.out_dir.clone().unwrap_or_else(|| ".".into());
    std::fs::create_dir_all(&dir).map_err(|e| CliError::Message(format!("--out-dir {}: {e}", dir.display())))?;
    // An absolute path keeps the command runnable from any folder.
    let dir = std::path::absolute(&dir).map_err(|e| CliError::Message(format!("{}: {e}", dir.display())))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Message(format!("cannot start tokio: {e}")))?;
    let (command, body_file) =
        runtime.block_on(relay::curl_for_request(store, id, &to, secret, &dir, Utc::now())).map_err(relay_error)?;
    if json {
        return print_json(&json!({"command": command, "body_file": body_file}));
    }
    say(&command);
    eprintln!("the body of request {id} is in {}", body_file.display());
    Ok(())
}
