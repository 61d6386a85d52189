//! `settings.json` in the data dir: what the user saved, every field
//! optional, written readable by the owner only (it may hold the secret).

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};

use super::{AuthMode, SettingsError};
use crate::model::ForwardMode;

/// "Forward to your service", as saved: kept while switched off, so turning it on again needs no retyping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ForwardSettings {
    /// Whether the listener forwards.
    pub enabled: bool,
    /// The user's service.
    pub url: String,
    /// `pass` or `tee`.
    #[serde(default)]
    pub mode: ForwardMode,
    /// Seconds to wait for the whole answer (1 to 30; 25 by default).
    #[serde(default = "default_timeout")]
    pub timeout_secs: f64,
}

fn default_timeout() -> f64 {
    crate::relay::DEFAULT_FORWARD_TIMEOUT.as_secs_f64()
}

/// File in the data dir holding saved settings.
pub const SETTINGS_FILE: &str = "settings.json";

/// The public URLs the desktop app can put in front of the listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum TunnelChoice {
    /// A cloudflared quick tunnel (no account) from the user's own `cloudflared`.
    Cloudflared,
    /// ngrok in-process with the user's authtoken.
    Ngrok,
    /// The user's own public URL.
    Custom,
}

impl TunnelChoice {
    /// The name saved in `settings.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            TunnelChoice::Cloudflared => "cloudflared",
            TunnelChoice::Ngrok => "ngrok",
            TunnelChoice::Custom => "custom",
        }
    }
}

fn lenient_choice<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<TunnelChoice>, D::Error> {
    let name = Option::<String>::deserialize(deserializer)?;
    Ok(name.and_then(|n| serde_json::from_value(serde_json::Value::String(n)).ok()))
}

/// What `settings.json` may hold. Every field optional; missing ones fall back to defaults.
/// `Debug` leaves out the secret and the ngrok authtoken.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct SavedSettings {
    /// Listener address.
    pub listen: Option<SocketAddr>,
    /// Webhook secret.
    pub secret: Option<String>,
    /// Auth mode.
    pub auth: Option<AuthMode>,
    /// Body cap in bytes.
    pub max_body: Option<usize>,
    /// The tunnel the desktop app offers. An unknown name (from a newer
    /// version) reads as none rather than making the whole file unreadable.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_choice")]
    pub tunnel: Option<TunnelChoice>,
    /// The user's own public base URL, for the `custom` tunnel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel_url: Option<String>,
    /// ngrok authtoken; kept here, like the secret, and never shown again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ngrok_authtoken: Option<String>,
    /// A domain reserved in the user's ngrok account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ngrok_domain: Option<String>,
    /// Whether the user left the tunnel running (Start) or not (Stop); the app restores it on launch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel_on: Option<bool>,
    /// Forwarding to the user's own service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward: Option<ForwardSettings>,
    /// How long recordings are kept (off by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<crate::store::RetentionPolicy>,
    /// The store: a `postgres://` URL for the shared store (password and all,
    /// like the secret, and never shown again); unset is this data dir's SQLite file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
}

impl fmt::Debug for SavedSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |set: &Option<String>| if set.is_some() { "<redacted>" } else { "<none>" };
        f.debug_struct("SavedSettings")
            .field("listen", &self.listen)
            .field("secret", &redacted(&self.secret))
            .field("auth", &self.auth)
            .field("max_body", &self.max_body)
            .field("tunnel", &self.tunnel)
            .field("tunnel_url", &self.tunnel_url)
            .field("ngrok_authtoken", &redacted(&self.ngrok_authtoken))
            .field("ngrok_domain", &self.ngrok_domain)
            .field("tunnel_on", &self.tunnel_on)
            .field("forward", &self.forward)
            .field("retention", &self.retention)
            .field("store", &self.store.as_deref().map(crate::store::describe_url))
            .finish()
    }
}

impl SavedSettings {
    /// Reads `settings.json` from the data dir; a missing file is empty settings.
    pub fn load(data_dir: &Path) -> Result<SavedSettings, SettingsError> {
        let path = data_dir.join(SETTINGS_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|e| SettingsError::File { path, message: e.to_string() })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SavedSettings::default()),
            Err(e) => Err(SettingsError::File { path, message: e.to_string() }),
        }
    }

    /// Writes `settings.json` readable by the owner only (it may hold the secret).
    pub fn save(&self, data_dir: &Path) -> Result<(), SettingsError> {
        let path = data_dir.join(SETTINGS_FILE);
        let failed = |e: &dyn std::fmt::Display| SettingsError::File { path: path.clone(), message: e.to_string() };
        std::fs::create_dir_all(data_dir).map_err(|e| failed(&e))?;
        let text = serde_json::to_vec_pretty(self).map_err(|e| failed(&e))?;
        let temp = data_dir.join(format!("{SETTINGS_FILE}.tmp"));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temp).map_err(|e| failed(&e))?;
        std::io::Write::write_all(&mut file, &text).map_err(|e| failed(&e))?;
        file.sync_all().map_err(|e| failed(&e))?;
        std::fs::rename(&temp, &path).map_err(|e| failed(&e))
    }
}
