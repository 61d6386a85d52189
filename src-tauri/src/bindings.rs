//! TypeScript declarations of every type that crosses IPC, generated from
//! the Rust types with `ts-rs` into `ui/src/ipc/bindings.ts`. A test fails
//! when the committed file drifts; `EARSHOT_WRITE_BINDINGS=1 cargo test -p
//! earshot-desktop bindings` rewrites it.

use earshot_audio::{Analysis, Container, Encoding, Flag, Peak, Spectrogram};
use earshot_core::analysis::Progress;
use earshot_core::bundle::{BundleCall, ImportReport, Selection};
use earshot_core::export::Format;
use earshot_core::relay::{SimScope, Simulation, SimulationState, TokenChoice};
use earshot_core::report::{ReportFormat, ReportSummary};
use earshot_core::{
    About, AnswerEntry, AuthMode, AuthSummary, DeleteTarget, Event, Filter, ForwardEntry, ForwardMode, ForwardSettings,
    ListenFault, ListenerStatus, Marker, Outcome, Page, RecordingAnalysis, RecordingDetail, RecordingSummary, Removed,
    ReplayEntry, RequestDetail, RequestEntry, RetentionPolicy, Review, ReviewChange, ReviewFilter, SessionSummary,
    StoreSize, TagCount, TokenCheck, TunnelChoice, UpstreamBrief, Verdict, VerdictFilter,
};
use earshot_playback::PlayState;
use earshot_tunnel::selftest::Outcome as HopOutcome;
use earshot_tunnel::{Hop, HopResult, LogLine, LogSource, SelfTestReport, Status};
use ts_rs::{Config, TS};

use crate::commands::export::ExportProgress;
use crate::commands::forward::ForwardInfo;
use crate::commands::lifecycle::{BundleWritten, Compaction, Deletion};
use crate::commands::playback::{PlayerAction, PlayerUpdate};
use crate::commands::review::ReportProgress;
use crate::commands::setup::{SetupInfo, StoreInfo};
use crate::commands::tunnel::{TunnelInfo, TunnelRequest};
use crate::commands::workbench::{CurlCommand, FieldEdit, ReplayDraft, ReplayForm, ReplayOrigin};
use crate::error::IpcError;

/// The generated file's contents.
pub fn typescript() -> String {
    // serde_json writes 64-bit integers as JSON numbers; ids and sizes stay far below 2^53.
    let cfg = Config::new().with_large_int("number");
    let decls = [
        Container::decl(&cfg),
        Encoding::decl(&cfg),
        AuthMode::decl(&cfg),
        TokenCheck::decl(&cfg),
        Outcome::decl(&cfg),
        Format::decl(&cfg),
        AuthSummary::decl(&cfg),
        ForwardMode::decl(&cfg),
        AnswerEntry::decl(&cfg),
        ForwardEntry::decl(&cfg),
        UpstreamBrief::decl(&cfg),
        SessionSummary::decl(&cfg),
        Verdict::decl(&cfg),
        Marker::decl(&cfg),
        Review::decl(&cfg),
        ReviewChange::decl(&cfg),
        ReviewFilter::decl(&cfg),
        TagCount::decl(&cfg),
        Flag::decl(&cfg),
        Analysis::decl(&cfg),
        RecordingAnalysis::decl(&cfg),
        Spectrogram::decl(&cfg),
        Progress::decl(&cfg),
        ReportFormat::decl(&cfg),
        ReportSummary::decl(&cfg),
        ReportProgress::decl(&cfg),
        RecordingSummary::decl(&cfg),
        RequestEntry::decl(&cfg),
        VerdictFilter::decl(&cfg),
        Filter::decl(&cfg),
        Page::<()>::decl(&cfg),
        RecordingDetail::decl(&cfg),
        RequestDetail::decl(&cfg),
        Peak::decl(&cfg),
        ListenFault::decl(&cfg),
        ListenerStatus::decl(&cfg),
        Removed::decl(&cfg),
        DeleteTarget::decl(&cfg),
        Deletion::decl(&cfg),
        StoreSize::decl(&cfg),
        Compaction::decl(&cfg),
        RetentionPolicy::decl(&cfg),
        Selection::decl(&cfg),
        BundleCall::decl(&cfg),
        BundleWritten::decl(&cfg),
        ImportReport::decl(&cfg),
        Event::decl(&cfg),
        ExportProgress::decl(&cfg),
        SetupInfo::decl(&cfg),
        StoreInfo::decl(&cfg),
        IpcError::decl(&cfg),
        PlayerAction::decl(&cfg),
        PlayState::decl(&cfg),
        PlayerUpdate::decl(&cfg),
        Status::decl(&cfg),
        TunnelChoice::decl(&cfg),
        TunnelInfo::decl(&cfg),
        TunnelRequest::decl(&cfg),
        LogSource::decl(&cfg),
        LogLine::decl(&cfg),
        Hop::decl(&cfg),
        HopOutcome::decl(&cfg),
        HopResult::decl(&cfg),
        SelfTestReport::decl(&cfg),
        ForwardSettings::decl(&cfg),
        ForwardInfo::decl(&cfg),
        SimScope::decl(&cfg),
        Simulation::decl(&cfg),
        SimulationState::decl(&cfg),
        TokenChoice::decl(&cfg),
        ReplayOrigin::decl(&cfg),
        ReplayDraft::decl(&cfg),
        FieldEdit::decl(&cfg),
        ReplayForm::decl(&cfg),
        ReplayEntry::decl(&cfg),
        CurlCommand::decl(&cfg),
        About::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from the Rust types by `ts-rs` (src-tauri/src/bindings.rs). Do not edit.\n\
         // Regenerate: EARSHOT_WRITE_BINDINGS=1 cargo test -p earshot-desktop bindings\n\n\
         export type JsonValue = number | string | boolean | null | JsonValue[] | { [key: string]: JsonValue };\n",
    );
    for decl in decls {
        out.push_str("\nexport ");
        out.push_str(&decl);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    #[test]
    fn bindings_match_the_committed_file() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/ipc/bindings.ts");
        let generated = super::typescript();
        if std::env::var_os("EARSHOT_WRITE_BINDINGS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "ui/src/ipc/bindings.ts is out of date: run EARSHOT_WRITE_BINDINGS=1 cargo test -p earshot-desktop bindings"
        );
    }
}
