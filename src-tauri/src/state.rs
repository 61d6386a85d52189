//! What the app holds while it runs: the store, the listener server, the
//! tunnel, the settings in force and a small cache of waveform peaks.
//!
//! Settings resolve with the core's one resolution, as `earshot serve` does:
//! environment (`EARSHOT_*`) over `settings.json` over defaults. Changes
//! made in the UI are saved to `settings.json` (mode 0600), win over the
//! environment for the rest of the run, and are applied by restarting the
//! listener. The ngrok authtoken comes from `settings.json`, else
//! `NGROK_AUTHTOKEN`.

use std::collections::HashMap;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use earshot_audio::Peak;
use earshot_audio::Spectrogram;
use earshot_core::analysis::{Analyser, Progress};
use earshot_core::relay::{ForwardConfig, Upstream};
use earshot_core::retention::{RETENTION_EVERY, Schedule};
use earshot_core::{
    AuthConfig, ListenerStatus, Overrides, Resolved, RetentionPolicy, SavedSettings, Secret, Server, SettingsError,
    Snapshot, Store,
};
use earshot_playback::Player;
use earshot_tunnel::{Provider, TunnelError, TunnelSlot};

use crate::error::IpcResult;

/// Waveforms kept in memory, by (recording row, width).
const WAVEFORM_CACHE: usize = 64;

/// How long a delete can be undone. The UI's toast shows Undo for 10 s from
/// when the answer arrives; the adapter keeps the rows one second longer so a
/// click in the toast's last moment still finds them.
pub const UNDO_FOR: Duration = Duration::from_secs(11);

/// What recent deletes took, by undo token, held in memory only and dropped
/// after [`UNDO_FOR`]. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct UndoShelf {
    next: Arc<AtomicU64>,
    held: Arc<Mutex<HashMap<u64, Snapshot>>>,
}

impl UndoShelf {
    /// Holds `snapshot` for [`UNDO_FOR`] and returns its token.
    pub fn hold(&self, snapshot: Snapshot) -> u64 {
        let token = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        self.held.lock().expect("undo lock").insert(token, snapshot);
        let held = self.held.clone();
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(UNDO_FOR).await;
            held.lock().expect("undo lock").remove(&token);
        });
        token
    }

    /// Takes the snapshot back out, if it is still held.
    pub fn take(&self, token: u64) -> Option<Snapshot> {
        self.held.lock().expect("undo lock").remove(&token)
    }

    /// Puts a snapshot back under its token (a restore that failed can be tried again).
    pub fn put_back(&self, token: u64, snapshot: Snapshot) {
        self.held.lock().expect("undo lock").insert(token, snapshot);
    }
}

/// How the app was launched: where its data is and what the environment overrides.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    /// Data dir (`EARSHOT_DATA_DIR`, else the OS data dir).
    pub data_dir: PathBuf,
    /// `EARSHOT_LISTEN`, `EARSHOT_SECRET`, `EARSHOT_AUTH`, `EARSHOT_MAX_BODY` and the limits.
    pub overrides: Overrides,
    /// `NGROK_AUTHTOKEN`.
    pub ngrok_authtoken: Option<String>,
    /// `EARSHOT_CLOUDFLARED_PATH`: where to look for `cloudflared` (`PATH` syntax)
    /// instead of `PATH` and the usual install dirs.
    pub cloudflared_path: Option<OsString>,
}

impl Launch {
    /// Reads the `EARSHOT_*` variables, naming any that cannot be used.
    pub fn from_env() -> Result<Launch, SettingsError> {
        Ok(Launch {
            data_dir: earshot_core::data_dir(None)?,
            overrides: Overrides::from_env()?,
            ngrok_authtoken: std::env::var("NGROK_AUTHTOKEN").ok().filter(|v| !v.is_empty()),
            cloudflared_path: std::env::var_os("EARSHOT_CLOUDFLARED_PATH").filter(|v| !v.is_empty()),
        })
    }
}

/// The app's state, managed by Tauri.
pub struct Desktop {
    data_dir: PathBuf,
    store: Store,
    server: Server,
    /// What the environment set, minus what the user has since changed in the app.
    overrides: Mutex<Overrides>,
    /// `settings.json` as last read or written: read once at launch, kept in
    /// step by every save, so the setup and tunnel cards do not re-read the file.
    saved: Mutex<SavedSettings>,
    waveforms: Mutex<HashMap<(i64, usize), Vec<Peak>>>,
    spectrograms: Mutex<HashMap<(i64, usize, usize), Spectrogram>>,
    /// Keeps every recording's analysis up to date while the app runs.
    analyser: Mutex<Option<Analyser>>,
    player: Mutex<Option<Player>>,
    tunnels: TunnelSlot,
    /// One connection pool for replays.
    upstream: Upstream,
    env_ngrok_token: Option<String>,
    cloudflared_path: OsString,
    /// What recent deletes took, for Undo.
    undo: UndoShelf,
    /// The retention policy running, replaced when the setting changes; `None` when off.
    retention: Mutex<Option<Schedule>>,
}

impl Desktop {
    /// Opens the store and checks the settings file; the listener starts with [`Desktop::start_listener`].
    pub fn open(launch: Launch) -> IpcResult<Desktop> {
        let store = Store::open_url(&earshot_core::store_url(None, &launch.data_dir)?)?;
        let saved = SavedSettings::load(&launch.data_dir)?;
        Ok(Desktop {
            server: Server::new(store.clone()),
            env_ngrok_token: launch.ngrok_authtoken,
            cloudflared_path: launch
                .cloudflared_path
                .unwrap_or_else(|| cloudflared_search_path(std::env::var_os("PATH").unwrap_or_default())),
            data_dir: launch.data_dir,
            store,
            overrides: Mutex::new(launch.overrides),
            saved: Mutex::new(saved),
            waveforms: Mutex::new(HashMap::new()),
            spectrograms: Mutex::new(HashMap::new()),
            analyser: Mutex::new(None),
            player: Mutex::new(None),
            tunnels: TunnelSlot::default(),
            upstream: Upstream::new(),
            undo: UndoShelf::default(),
            retention: Mutex::new(None),
        })
    }

    /// The store (cheap to clone for blocking work).
    pub fn store(&self) -> Store {
        self.store.clone()
    }

    /// The listener server.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// The data dir.
    pub fn data_dir(&self) -> &PathBuf {
        &self.data_dir
    }

    fn overrides(&self) -> Overrides {
        self.overrides.lock().expect("overrides lock").clone()
    }

    fn saved(&self) -> SavedSettings {
        self.saved.lock().expect("saved settings lock").clone()
    }

    /// Applies `apply` to the saved settings, writes `settings.json`, and
    /// returns (before, after).
    fn save(&self, apply: impl FnOnce(&mut SavedSettings)) -> IpcResult<(SavedSettings, SavedSettings)> {
        let mut saved = self.saved.lock().expect("saved settings lock");
        let before = saved.clone();
        let mut after = before.clone();
        apply(&mut after);
        after.save(&self.data_dir)?;
        *saved = after.clone();
        Ok((before, after))
    }

    /// The shared store saved in settings.json (with its password: never for the UI).
    pub fn saved_store(&self) -> Option<String> {
        self.saved.lock().expect("saved settings lock").store.clone()
    }

    /// Saves the store to open at the next start (`None`: this computer's).
    pub fn save_store(&self, url: Option<String>) -> IpcResult<()> {
        self.save(|saved| saved.store = url).map(drop)
    }

    /// The settings in force now.
    pub fn resolved(&self) -> Result<Resolved, SettingsError> {
        Resolved::resolve(Overrides::default(), self.overrides(), &self.saved())
    }

    /// The auth configuration the listener would use now.
    pub fn auth(&self) -> Result<AuthConfig, SettingsError> {
        self.resolved().map(|r| r.auth)
    }

    /// The shared secret in force, for re-signing replays (never sent to the UI).
    pub fn secret(&self) -> Option<Secret> {
        self.auth().ok().and_then(|a| a.secret().cloned())
    }

    /// Where the listener forwards, when forwarding is on (saved in Setup or `EARSHOT_FORWARD`).
    pub fn forward(&self) -> Option<ForwardConfig> {
        self.resolved().ok().and_then(|r| r.forward)
    }

    /// The HTTP client replays go out through.
    pub fn upstream(&self) -> &Upstream {
        &self.upstream
    }

    /// Whether a secret is set (it is never sent back to the UI).
    pub fn secret_set(&self) -> bool {
        self.overrides().secret.is_some() || self.saved().secret.is_some()
    }

    /// The configured listen address.
    pub fn listen(&self) -> SocketAddr {
        Resolved::listen(&self.overrides(), &self.saved())
    }

    /// The tunnel.
    pub fn tunnels(&self) -> &TunnelSlot {
        &self.tunnels
    }

    /// The address the listener is bound to, when it runs.
    pub fn listening_on(&self) -> Option<SocketAddr> {
        match &*self.server.status().borrow() {
            ListenerStatus::Running { address, .. } => address.parse().ok(),
            _ => None,
        }
    }

    /// The saved tunnel choice, custom URL and ngrok domain (and token: never send it to the UI).
    pub fn tunnel_settings(&self) -> SavedSettings {
        self.saved()
    }

    /// Saves a tunnel setting; unlike [`Desktop::change`], the listener keeps running.
    pub fn save_tunnel(&self, apply: impl FnOnce(&mut SavedSettings)) -> IpcResult<()> {
        self.save(apply).map(|_| ())
    }

    /// The ngrok authtoken: the one saved in the app (`saved`, from [`Desktop::tunnel_settings`]),
    /// else `NGROK_AUTHTOKEN`.
    pub fn ngrok_token(&self, saved: &SavedSettings) -> Option<String> {
        saved.ngrok_authtoken.clone().or_else(|| self.env_ngrok_token.clone())
    }

    /// cloudflared, from `EARSHOT_CLOUDFLARED_PATH` or `PATH` and the usual install dirs.
    pub fn cloudflared(&self) -> Result<Provider, TunnelError> {
        Provider::cloudflared_in(&self.cloudflared_path)
    }

    /// What recent deletes took, for Undo.
    pub fn undo(&self) -> &UndoShelf {
        &self.undo
    }

    /// The retention policy in force (off when the settings cannot be resolved).
    pub fn retention_policy(&self) -> RetentionPolicy {
        self.resolved().map(|r| r.retention).unwrap_or_default()
    }

    /// (Re)starts the retention schedule with the policy in force: applied
    /// now and every hour, as `earshot serve` does. Must run inside the async
    /// runtime. Nothing runs when the policy is off.
    pub fn start_retention(&self) {
        let policy = self.retention_policy();
        let schedule = policy.is_on().then(|| {
            earshot_core::retention::schedule(self.store(), policy, earshot_core::system_clock(), RETENTION_EVERY)
        });
        *self.retention.lock().expect("retention lock") = schedule;
    }

    /// Saves a retention policy (`None`: off) to `settings.json` and restarts
    /// the schedule with it; the listener keeps running. A policy the core
    /// refuses (0 days, a size that is not positive) is not saved.
    pub fn set_retention(&self, policy: Option<RetentionPolicy>) -> IpcResult<RetentionPolicy> {
        let mut candidate = self.saved();
        candidate.retention = policy;
        // What the user sets here wins over EARSHOT_RETENTION_* for the rest of the run.
        let mut env = self.overrides();
        env.retention_days = None;
        env.retention_max_gb = None;
        Resolved::resolve(Overrides::default(), env, &candidate)?;
        self.save(|saved| saved.retention = policy)?;
        {
            let mut overrides = self.overrides.lock().expect("overrides lock");
            overrides.retention_days = None;
            overrides.retention_max_gb = None;
        }
        self.start_retention();
        Ok(self.retention_policy())
    }

    /// Stops the tunnel (waiting for its process to exit) and the listener; called as the app exits.
    pub async fn shutdown(&self) {
        self.tunnels.stop().await;
        self.server.stop().await;
    }

    /// (Re)starts the listener with the settings in force.
    pub async fn start_listener(&self) -> ListenerStatus {
        match self.resolved() {
            Ok(r) => self.server.start(r.listen, r.intake_config(), r.limits).await,
            Err(err) => self.server.fail(self.listen(), err.to_string()).await,
        }
    }

    /// Applies a change, saves it to `settings.json`, and restarts the listener.
    /// What the user just set wins over the environment for the rest of this run.
    pub async fn change(&self, apply: impl FnOnce(&mut SavedSettings)) -> IpcResult<ListenerStatus> {
        let (before, saved) = self.save(apply)?;
        {
            let mut overrides = self.overrides.lock().expect("overrides lock");
            if saved.listen != before.listen {
                overrides.listen = None;
            }
            if saved.secret != before.secret {
                overrides.secret = None;
            }
            if saved.auth != before.auth {
                overrides.auth = None;
            }
            if saved.forward != before.forward {
                overrides.forward = None;
                overrides.forward_mode = None;
                overrides.forward_timeout = None;
            }
        }
        Ok(self.start_listener().await)
    }

    /// The playback engine, started on first use so the app opens without touching the sound device.
    pub fn player(&self) -> Player {
        self.player.lock().expect("player lock").get_or_insert_with(|| Player::start(None)).clone()
    }

    /// Cached peaks for a recording at a width.
    pub fn cached_waveform(&self, key: (i64, usize)) -> Option<Vec<Peak>> {
        self.waveforms.lock().expect("waveform lock").get(&key).cloned()
    }

    /// A cached spectrogram of a recording at a size.
    pub fn cached_spectrogram(&self, key: (i64, usize, usize)) -> Option<Spectrogram> {
        self.spectrograms.lock().expect("spectrogram lock").get(&key).cloned()
    }

    /// Remembers a spectrogram, forgetting everything when the cache is full.
    pub fn cache_spectrogram(&self, key: (i64, usize, usize), picture: Spectrogram) {
        let mut cache = self.spectrograms.lock().expect("spectrogram lock");
        if cache.len() >= WAVEFORM_CACHE {
            cache.clear();
        }
        cache.insert(key, picture);
    }

    /// Starts analysing what the store has not analysed yet, then each new
    /// recording; `progress` hears each catch-up batch. Must run inside the async runtime.
    pub fn start_analyser(&self, progress: std::sync::Arc<dyn Fn(Progress) + Send + Sync>) {
        *self.analyser.lock().expect("analyser lock") = Some(Analyser::start(self.store(), progress));
    }

    /// Remembers peaks, forgetting everything when the cache is full.
    pub fn cache_waveform(&self, key: (i64, usize), peaks: Vec<Peak>) {
        let mut cache = self.waveforms.lock().expect("waveform lock");
        if cache.len() >= WAVEFORM_CACHE {
            cache.clear();
        }
        cache.insert(key, peaks);
    }
}

/// `PATH`, then where package managers put cloudflared. An app started from
/// the desktop (Finder, a launcher) often gets a shorter `PATH` than a shell.
fn cloudflared_search_path(path: OsString) -> OsString {
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    for extra in ["/opt/homebrew/bin", "/usr/local/bin", "/usr/bin"] {
        let extra = PathBuf::from(extra);
        if !dirs.contains(&extra) {
            dirs.push(extra);
        }
    }
    std::env::join_paths(dirs).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudflared_is_also_looked_for_where_package_managers_put_it() {
        let searched = cloudflared_search_path(OsString::from("/home/me/bin:/usr/local/bin"));
        let dirs: Vec<PathBuf> = std::env::split_paths(&searched).collect();
        let expected = ["/home/me/bin", "/usr/local/bin", "/opt/homebrew/bin", "/usr/bin"].map(PathBuf::from);
        assert_eq!(dirs, expected, "PATH first, then the usual dirs, each once");
    }
}
