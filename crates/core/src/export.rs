//! Turning stored recordings into files: PCM16 WAV (decoded with the G.711
//! table), μ-law WAV (format 7), or the original bytes as received.
//!
//! File names are built from the recording id and start time, reduced to a
//! safe alphabet; the sender's `filename` is never used, so a hostile
//! request cannot choose where a file lands.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::model::RecordingSummary;
use crate::store::{Store, StoreError};
use earshot_audio::{self as audio, Container, Encoding, wav};

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// 16-bit linear PCM WAV: plays everywhere.
    Pcm16,
    /// μ-law WAV (format tag 7): the samples exactly as telephony carries them.
    Mulaw,
    /// The audio part's bytes exactly as received.
    Original,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "pcm16" => Ok(Format::Pcm16),
            "mulaw" => Ok(Format::Mulaw),
            "original" => Ok(Format::Original),
            _ => Err(format!("unknown export format {s:?} (expected pcm16, mulaw or original)")),
        }
    }
}

/// Export failures, naming the file or recording involved.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the file failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A session with no recordings.
    #[error("no recordings in session {0:?}")]
    EmptySession(String),
}

/// The file's bytes for a recording in a format.
pub fn render(recording: &RecordingSummary, original: &[u8], format: Format) -> Vec<u8> {
    let info = &recording.audio;
    match format {
        Format::Original => original.to_vec(),
        Format::Pcm16 => wav::pcm16_wav(&audio::decode_pcm16(original, info), info.sample_rate, info.channels),
        Format::Mulaw => wav::mulaw_wav(&audio::to_mulaw(original, info), info.sample_rate, info.channels),
    }
}

fn safe(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' => Some(c),
            '.' | ':' => None,
            _ => Some('_'),
        })
        .take(80)
        .collect()
}

/// `20241021T172207789Z_3daeb5d2-….wav`: sortable by time, unique by id and version.
pub fn file_name(recording: &RecordingSummary, format: Format) -> String {
    let stamp = safe(&recording.start_timestamp);
    let id = safe(&recording.recording_id);
    let version = if recording.version > 1 { format!("_v{}", recording.version) } else { String::new() };
    let extension = match (format, recording.container, recording.encoding) {
        (Format::Pcm16 | Format::Mulaw, _, _) | (Format::Original, Container::Wav, _) => "wav",
        (Format::Original, Container::Raw, Encoding::Mulaw) => "ul",
        (Format::Original, Container::Raw, Encoding::Alaw) => "al",
        (Format::Original, Container::Raw, Encoding::Pcm16 | Encoding::Pcm16Be) => "raw",
    };
    format!("{stamp}_{id}{version}.{extension}")
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    std::fs::write(path, bytes).map_err(|source| ExportError::Write { path: path.to_path_buf(), source })
}

/// Writes one recording to `path`.
pub fn export_to(store: &Store, recording: &RecordingSummary, format: Format, path: &Path) -> Result<(), ExportError> {
    let original = store.audio(recording.row)?;
    write(path, &render(recording, &original, format))
}

/// Writes every recording of a call into `dir` (created if needed), calling
/// `progress(done, total)` after each file; returns the files written.
pub fn export_session(
    store: &Store,
    session_id: &str,
    format: Format,
    dir: &Path,
    mut progress: impl FnMut(usize, usize),
) -> Result<Vec<PathBuf>, ExportError> {
    let recordings = store.recordings(Some(session_id))?;
    if recordings.is_empty() {
        return Err(ExportError::EmptySession(session_id.to_string()));
    }
    std::fs::create_dir_all(dir).map_err(|source| ExportError::Write { path: dir.to_path_buf(), source })?;
    let mut written = Vec::with_capacity(recordings.len());
    for (index, recording) in recordings.iter().enumerate() {
        let path = dir.join(file_name(recording, format));
        export_to(store, recording, format, &path)?;
        written.push(path);
        progress(index + 1, recordings.len());
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::safe;

    #[test]
    fn names_cannot_escape_the_folder() {
        assert_eq!(safe("../../etc/passwd"), "__etc_passwd");
        assert_eq!(safe("2024-10-21T17:22:07.789Z"), "2024-10-21T172207789Z");
        assert!(!safe("a/b\\c\0d").contains(['/', '\\', '\0']));
    }
}
