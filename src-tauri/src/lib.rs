//! The Earshot desktop shell: a Tauri v2 window over `earshot-core`.
//!
//! This crate only adapts: IPC calls become core calls (`commands`), core
//! events become UI events (`bridge`), and `state` holds what the app keeps
//! while it runs. The listener, store and export logic live in the core.

pub mod bindings;
pub mod bridge;
pub mod commands;
pub mod error;
pub mod state;

use tauri::{AppHandle, Builder, Manager, RunEvent, Runtime};

use crate::error::IpcError;
use crate::state::{Desktop, Launch};

/// Opens the data dir, starts the listener (and the tunnel, if it was left
/// running), and registers plugins, commands
/// and the event bridge on any runtime, so the smoke test can build the same
/// app on `tauri::test::mock_builder()`.
///
/// A listener that cannot bind (port taken) is not an error: the window
/// opens and the setup panel shows why, with a way to pick another port.
pub fn build<R: Runtime>(builder: Builder<R>, launch: Launch) -> Result<Builder<R>, IpcError> {
    let desktop = Desktop::open(launch)?;
    let status = tauri::async_runtime::block_on(async {
        let status = desktop.start_listener().await;
        commands::tunnel::restore(&desktop).await;
        desktop.start_retention();
        status
    });
    tracing::info!(target: "earshot::desktop", "listener: {status:?}");
    Ok(builder
        .manage(desktop)
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .invoke_handler(tauri::generate_handler![
            commands::sessions::list_sessions,
            commands::recordings::list_recordings,
            commands::recordings::recording_detail,
            commands::recordings::waveform,
            commands::requests::list_requests,
            commands::requests::request_detail,
            commands::export::export_recording,
            commands::export::export_file_name,
            commands::export::export_session,
            commands::setup::get_setup,
            commands::setup::set_secret,
            commands::setup::set_auth_mode,
            commands::setup::set_port,
            commands::setup::set_store,
            commands::playback::player_subscribe,
            commands::playback::player_load,
            commands::playback::player_control,
            commands::tunnel::get_tunnel,
            commands::tunnel::start_tunnel,
            commands::tunnel::stop_tunnel,
            commands::tunnel::tunnel_logs,
            commands::tunnel::tunnel_self_test,
            commands::forward::set_forward,
            commands::response::get_simulation,
            commands::response::set_simulation,
            commands::workbench::replay_draft,
            commands::workbench::replay,
            commands::workbench::list_replays,
            commands::workbench::curl_command,
            commands::workbench::export_har,
            commands::lifecycle::delete_preview,
            commands::lifecycle::delete,
            commands::lifecycle::undo_delete,
            commands::lifecycle::keep,
            commands::lifecycle::store_size,
            commands::lifecycle::compact,
            commands::lifecycle::set_retention,
            commands::lifecycle::export_bundle,
            commands::lifecycle::import_bundle,
            commands::review::review,
            commands::review::review_tags,
            commands::review::analysis,
            commands::review::spectrogram,
            commands::review::export_report,
            commands::about::about,
            commands::about::first_frame,
        ])
        .setup(|app| {
            bridge::start(app.handle().clone(), &app.state::<Desktop>());
            bridge::start_analyser(app.handle().clone(), &app.state::<Desktop>());
            #[cfg(unix)]
            exit_on_signals(app.handle().clone());
            Ok(())
        }))
}

/// What the app does on its event loop's events: as it exits (last window
/// closed, Quit, or a signal below), stop the tunnel and the listener. The
/// process ends right after, so cloudflared must be stopped here or it would
/// outlive the app.
pub fn on_run_event<R: Runtime>(handle: &AppHandle<R>, event: RunEvent) {
    if let RunEvent::Exit = event {
        tracing::info!(target: "earshot::desktop", "exiting: stopping the tunnel and the listener");
        tauri::async_runtime::block_on(handle.state::<Desktop>().shutdown());
        tracing::info!(target: "earshot::desktop", "stopped");
    }
}

/// SIGTERM, SIGHUP and Ctrl-C end the app the way closing its window does,
/// so the tunnel and the listener are stopped in order on logout or `kill`.
/// The handlers are installed before this returns, so no signal slips past.
#[cfg(unix)]
fn exit_on_signals<R: Runtime>(app: AppHandle<R>) {
    use tokio::signal::unix::{SignalKind, signal};
    let runtime = tauri::async_runtime::handle();
    let installed = {
        let _inside = runtime.inner().enter();
        (signal(SignalKind::terminate()), signal(SignalKind::hangup()), signal(SignalKind::interrupt()))
    };
    let (Ok(mut term), Ok(mut hangup), Ok(mut interrupt)) = installed else {
        tracing::warn!(target: "earshot::desktop", "cannot watch for SIGTERM: a kill will not stop the tunnel in order");
        return;
    };
    runtime.spawn(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = hangup.recv() => "SIGHUP",
            _ = interrupt.recv() => "SIGINT",
        };
        tracing::info!(target: "earshot::desktop", "{name}: exiting");
        app.exit(0);
    });
}

/// Starts the desktop app with settings from the environment.
pub fn run() {
    earshot_core::logging::init();
    let launch = match Launch::from_env() {
        Ok(launch) => launch,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let builder = match build(tauri::Builder::default(), launch) {
        Ok(builder) => builder,
        Err(e) => {
            eprintln!("error: {}", e.message);
            std::process::exit(1);
        }
    };
    let app = match builder.build(tauri::generate_context!()) {
        Ok(app) => app,
        Err(e) => {
            eprintln!("error: the desktop app could not start: {e}");
            std::process::exit(1);
        }
    };
    app.run(on_run_event);
}
