//! `earshot review`: a QA reviewer's verdict, note, tags and markers on a
//! recording, written through the store's one writer as a change (so a
//! review made here while a listener stores, or while the app is open on the
//! same store, loses nothing); and `earshot analyze`: a recording's levels,
//! silence, speech and flags.

use earshot_core::analysis::{self, ANALYZER};
use earshot_core::{Committed, Job, Marker, RecordingAnalysis, RecordingSummary, Review, ReviewChange, Store, Verdict};

use crate::{CliError, say};

/// Options of `earshot review`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Recording id or a unique prefix (the newest version); `ID@N` picks version N.
    recording: String,
    /// pass, fail, follow-up or unreviewed.
    #[arg(long, value_parser = parse_verdict, value_name = "V")]
    verdict: Option<Verdict>,
    /// Replace the note ("" clears it).
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,
    /// Add a tag (repeatable).
    #[arg(long, value_name = "T")]
    tag: Vec<String>,
    /// Remove a tag (repeatable).
    #[arg(long, value_name = "T")]
    untag: Vec<String>,
    /// Add a marker: START[-END]=TEXT in seconds, e.g. 1.25-2.5=cut off (repeatable).
    #[arg(long, value_parser = Marker::parse, value_name = "SPEC")]
    marker: Vec<Marker>,
    /// Remove a marker, given exactly as it was added (repeatable).
    #[arg(long, value_parser = Marker::parse, value_name = "SPEC")]
    unmark: Vec<Marker>,
    /// Print the review as JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn parse_verdict(name: &str) -> Result<Verdict, String> {
    Verdict::from_name(name)
        .ok_or_else(|| format!("{name:?} is not a verdict: use pass, fail, follow-up or unreviewed"))
}

/// Applies the change (or, with none given, prints the review as it stands).
pub fn run(store: &Store, args: Args) -> Result<(), CliError> {
    let (id, version) = crate::split_version(&args.recording)?;
    let recording = store.find_recording(&id, version)?;
    let change = ReviewChange {
        verdict: args.verdict,
        note: args.note,
        add_tags: args.tag,
        remove_tags: args.untag,
        add_markers: args.marker,
        remove_markers: args.unmark,
    }
    .checked()
    .map_err(CliError::Message)?;
    let review = if change.is_empty() { recording.review.clone() } else { submit(store, &recording, change)? };
    if args.json {
        return crate::list::print_json(&review);
    }
    say(&format!("recording {} v{} of call {}", recording.recording_id, recording.version, recording.session_id));
    print_review(&review);
    Ok(())
}

fn submit(store: &Store, recording: &RecordingSummary, change: ReviewChange) -> Result<Review, CliError> {
    let writer = store.writer()?;
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let job = Job::Review { row: recording.row, change, now };
    match crate::block_on(writer.submit(job, std::time::Instant::now()))? {
        Ok(Committed::Reviewed(review)) => Ok(*review),
        Ok(other) => Err(CliError::Message(format!("the store answered the review with {other:?}"))),
        Err(e) => Err(CliError::Message(format!("cannot save the review of {}: {e}", recording.recording_id))),
    }
}

fn print_review(review: &Review) {
    say(&format!("  verdict   {}", review.verdict));
    if !review.note.is_empty() {
        say(&format!("  note      {}", review.note));
    }
    if !review.tags.is_empty() {
        say(&format!("  tags      {}", review.tags.join(", ")));
    }
    for marker in &review.markers {
        say(&format!("  marker    {}", marker_text(marker)));
    }
    if let Some(at) = &review.reviewed_at {
        say(&format!("  reviewed  {at}"));
    }
}

/// `1.250–2.500 s  cut off`, or `3.000 s  here` for a point.
pub(crate) fn marker_text(marker: &Marker) -> String {
    let start = marker.start_ms as f64 / 1000.0;
    match marker.end_ms {
        Some(end) => format!("{start:.3}–{:.3} s  {}", end as f64 / 1000.0, marker.text),
        None => format!("{start:.3} s  {}", marker.text),
    }
}

/// Options of `earshot analyze`.
#[derive(Debug, clap::Args)]
pub struct AnalyzeArgs {
    /// Recording id or a unique prefix; `ID@N` picks version N.
    recording: String,
    /// Print the analysis as JSON.
    #[arg(long)]
    json: bool,
}

/// Prints a recording's analysis, computing and storing it first if it has none yet.
pub fn analyze(store: &Store, args: AnalyzeArgs) -> Result<(), CliError> {
    let (id, version) = crate::split_version(&args.recording)?;
    let recording = store.find_recording(&id, version)?;
    let analysis = match recording.analysis {
        Some(analysis) => analysis,
        None => {
            let analysis = analysis::analyse(store, recording.row)?;
            store_one(store, recording.row, &analysis)?;
            analysis
        }
    };
    if args.json {
        return crate::list::print_json(&analysis);
    }
    say(&format!("recording {} v{} of call {}", recording.recording_id, recording.version, recording.session_id));
    let db = |v: Option<f64>, unit: &str| v.map_or("−∞".to_string(), |v| format!("{v:.1} {unit}"));
    let m = &analysis.measures;
    say(&format!("  peak               {}", db(m.peak_dbfs, "dBFS")));
    say(&format!("  rms                {}", db(m.rms_dbfs, "dBFS")));
    say(&format!("  loudness           {}", db(m.lufs, "LUFS")));
    say(&format!("  clipped samples    {}", m.clipped_samples));
    say(&format!("  leading silence    {} ms", m.leading_silence_ms));
    say(&format!("  trailing silence   {} ms", m.trailing_silence_ms));
    say(&format!("  speech             {:.0} %", m.speech_ratio * 100.0));
    say(&format!("  duration           {} ms", m.duration_ms));
    if let Some(expected) = analysis.expected_duration_ms {
        say(&format!("  metadata promises  {expected} ms"));
    }
    let flags: Vec<String> = analysis.flags.iter().map(|f| flag_name(*f)).collect();
    say(&format!("  flags              {}", if flags.is_empty() { "none".into() } else { flags.join(", ") }));
    Ok(())
}

/// A flag as `--flag` takes it and JSON prints it: `late_start`.
pub(crate) fn flag_name(flag: earshot_audio::Flag) -> String {
    serde_json::to_value(flag).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn store_one(store: &Store, row: i64, analysis: &RecordingAnalysis) -> Result<(), CliError> {
    let writer = store.writer()?;
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let job = Job::StoreAnalysis { row, analysis: Box::new(analysis.clone()), now };
    match crate::block_on(writer.submit(job, std::time::Instant::now()))? {
        Ok(_) => Ok(()),
        Err(e) => Err(CliError::Message(format!("cannot store the analysis: {e}"))),
    }
}

/// Analyses what has no analysis yet, with a progress line on stderr, so a
/// listing shows every recording's levels and flags (a database from before
/// analysis existed is caught up once, here or by a running Earshot).
pub(crate) fn catch_up(store: &Store) -> Result<(), CliError> {
    let (_, missing) = store.unanalysed(ANALYZER, 0)?;
    if missing == 0 {
        return Ok(());
    }
    let progress = |p: analysis::Progress| eprint!("\ranalysing recordings: {} of {}", p.done, p.total);
    let result = analysis::catch_up(store, &progress);
    eprintln!();
    result?;
    Ok(())
}
