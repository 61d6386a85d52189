//! The one error shape that crosses IPC: `{code, message}`. The UI branches
//! on `code`; `message` is for people.

use serde::Serialize;

/// An error as the UI receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error, ts_rs::TS)]
#[error("{code}: {message}")]
pub struct IpcError {
    /// Stable machine-readable code (`not_found`, `store`, `export`, `settings`, …).
    pub code: String,
    /// What went wrong, phrased for the user.
    pub message: String,
}

impl IpcError {
    /// An error with a code and message.
    pub fn new(code: &str, message: impl Into<String>) -> IpcError {
        IpcError { code: code.to_string(), message: message.into() }
    }
}

impl From<earshot_core::StoreError> for IpcError {
    fn from(e: earshot_core::StoreError) -> IpcError {
        use earshot_core::StoreError;
        let code = match e {
            StoreError::NotFound { .. } => "not_found",
            StoreError::Ambiguous { .. } => "ambiguous",
            StoreError::BadUrl(_) => "bad_store",
            StoreError::Postgres { .. } => "store_unreachable",
            _ => "store",
        };
        IpcError::new(code, e.to_string())
    }
}

impl From<earshot_core::export::ExportError> for IpcError {
    fn from(e: earshot_core::export::ExportError) -> IpcError {
        match e {
            earshot_core::export::ExportError::Store(inner) => inner.into(),
            other => IpcError::new("export", other.to_string()),
        }
    }
}

impl From<earshot_core::SettingsError> for IpcError {
    fn from(e: earshot_core::SettingsError) -> IpcError {
        IpcError::new("settings", e.to_string())
    }
}

impl From<earshot_core::relay::RelayError> for IpcError {
    fn from(e: earshot_core::relay::RelayError) -> IpcError {
        IpcError::new(e.code(), e.to_string())
    }
}

impl From<earshot_core::bundle::BundleError> for IpcError {
    fn from(e: earshot_core::bundle::BundleError) -> IpcError {
        match e {
            earshot_core::bundle::BundleError::Store(inner) => inner.into(),
            other => IpcError::new(other.code(), other.to_string()),
        }
    }
}

/// Result type of every command.
pub type IpcResult<T> = Result<T, IpcError>;
