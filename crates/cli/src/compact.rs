//! `earshot compact`: rebuilds the database file through the store's one
//! writer so free pages (left by deletes) go back to the disk, and prints
//! the size before and after.

use earshot_core::{Committed, Job, Store};
use serde_json::json;

use crate::list::print_json;
use crate::{CliError, say, size_text};

/// Options of `earshot compact`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print {before: {bytes, free_bytes}, after: {bytes, free_bytes}}.
    #[arg(long)]
    json: bool,
}

/// Runs [`Job::Compact`] and prints the size before and after.
pub fn run(store: &Store, args: Args) -> Result<(), CliError> {
    let writer = store.writer()?;
    let (before, after) = match crate::block_on(writer.submit(Job::Compact, std::time::Instant::now()))? {
        Ok(Committed::Compacted { before, after }) => (before, after),
        Ok(other) => return Err(CliError::Message(format!("the store answered Compact with {other:?}"))),
        Err(e) => return Err(CliError::Message(format!("cannot compact the database: {e}"))),
    };
    if args.json {
        return print_json(&json!({ "before": before, "after": after }));
    }
    say(&format!(
        "compacted {}: {} → {} ({} given back)",
        store.describe(),
        size_text(before.bytes),
        size_text(after.bytes),
        size_text(before.bytes.saturating_sub(after.bytes))
    ));
    Ok(())
}
