//! `earshot keep`: marks a recording as kept (or, with `--off`, no longer
//! kept) through the store's one writer. Retention never removes a call that
//! holds a kept recording; `earshot delete` still does, when asked.

use earshot_core::{Committed, Job, Store};

use crate::{CliError, say};

/// Options of `earshot keep`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Recording id or a unique prefix: every version of it; `ID@N`: version N only.
    recording: String,
    /// Stop keeping it.
    #[arg(long)]
    off: bool,
}

/// Sets Keep on the named versions and says what it means for retention.
pub fn run(store: &Store, args: Args) -> Result<(), CliError> {
    let (id, version) = crate::split_version(&args.recording)?;
    let found = store.find_recording(&id, version)?;
    let versions: Vec<_> = match version {
        Some(_) => vec![found.clone()],
        None => store.recordings(None)?.into_iter().filter(|r| r.recording_id == found.recording_id).collect(),
    };
    let keep = !args.off;
    let writer = store.writer()?;
    crate::block_on(async {
        for recording in &versions {
            match writer.submit(Job::Pin { row: recording.row, pinned: keep }, std::time::Instant::now()).await {
                Ok(Committed::Pinned) => {}
                Ok(other) => return Err(CliError::Message(format!("the store answered Keep with {other:?}"))),
                Err(e) => return Err(CliError::Message(format!("cannot change Keep of {}: {e}", found.recording_id))),
            }
        }
        Ok(())
    })??;
    let names = versions.iter().map(|r| format!("v{}", r.version)).collect::<Vec<_>>().join(", ");
    let call = &found.session_id;
    if keep {
        say(&format!(
            "kept recording {} ({names}) of call {call}: retention skips this call while it holds a kept recording",
            found.recording_id
        ));
        return Ok(());
    }
    let still_kept = store.recordings(Some(call))?.iter().filter(|r| r.pinned).count();
    say(&format!("recording {} ({names}) is no longer kept", found.recording_id));
    match still_kept {
        0 => say(&format!("retention may remove call {call} now: none of its recordings is kept")),
        n => say(&format!("call {call} is still skipped by retention: {n} other recording versions of it are kept")),
    }
    Ok(())
}
