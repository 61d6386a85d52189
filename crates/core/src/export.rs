//! Turning stored recordings into files: PCM16 WAV (decoded with the G.711
//! table), μ-law WAV (format 7), or the original bytes as received; and a
//! slowed or sped-up PCM16 clip ([`render_at_speed`]) made with the same
//! time-stretch (pitch kept) or tape resampler the player uses, so a clip
//! shared from a review sounds as it did in the player.
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
    /// A speed outside 0.5–2, or a speed with a format other than PCM16.
    #[error("{0}")]
    BadSpeed(String),
}

/// How fast an exported clip plays: a factor of 0.5–2 (0.5 lasts twice as long), with the
/// pitch kept (WSOLA) or, with `tape`, following the speed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Speed {
    /// 0.5–2.
    pub factor: f64,
    /// The pitch follows the speed, as on tape.
    pub tape: bool,
}

impl Speed {
    /// A checked speed; outside 0.5–2 is [`ExportError::BadSpeed`].
    pub fn new(factor: f64, tape: bool) -> Result<Speed, ExportError> {
        let (slowest, fastest) = audio::SPEED_RANGE;
        if !(slowest..=fastest).contains(&factor) {
            return Err(ExportError::BadSpeed(format!("speed {factor} is outside {slowest}–{fastest}")));
        }
        Ok(Speed { factor, tape })
    }

    /// Exactly 1×: the recording as it is.
    pub fn is_normal(self) -> bool {
        self.factor == 1.0
    }
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

/// A PCM16 WAV of the recording at `speed`, at the recording's rate. Channels are averaged to
/// mono first, as the player does; at exactly 1× it is [`Format::Pcm16`]'s file, channels and all.
pub fn render_at_speed(recording: &RecordingSummary, original: &[u8], speed: Speed) -> Vec<u8> {
    if speed.is_normal() {
        return render(recording, original, Format::Pcm16);
    }
    let info = &recording.audio;
    let channels = usize::from(info.channels.max(1));
    let mono: Vec<f32> = audio::decode_pcm16(original, info)
        .chunks_exact(channels)
        .map(|frame| frame.iter().map(|&s| f32::from(s)).sum::<f32>() / (channels as f32 * 32768.0))
        .collect();
    let played = if speed.tape {
        audio::tape(&mono, info.sample_rate, speed.factor)
    } else {
        audio::stretch(&mono, info.sample_rate, speed.factor)
    };
    let pcm: Vec<i16> = played.iter().map(|s| (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16).collect();
    wav::pcm16_wav(&pcm, info.sample_rate, 1)
}

/// Writes one recording at `speed` to `path` as PCM16 WAV.
pub fn export_at_speed(
    store: &Store,
    recording: &RecordingSummary,
    speed: Speed,
    path: &Path,
) -> Result<(), ExportError> {
    let original = store.audio(recording.row)?;
    write(path, &render_at_speed(recording, &original, speed))
}

/// [`file_name`] for a clip at `speed`: `…_0.75x.wav`, or `…_0.75x-tape.wav`.
pub fn file_name_at_speed(recording: &RecordingSummary, speed: Speed) -> String {
    let plain = file_name(recording, Format::Pcm16);
    if speed.is_normal() {
        return plain;
    }
    let stem = plain.trim_end_matches(".wav");
    let tape = if speed.tape { "-tape" } else { "" };
    format!("{stem}_{}x{tape}.wav", speed.factor)
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
    use super::{Speed, safe};

    #[test]
    fn speeds_outside_half_to_double_are_refused_by_name() {
        assert!(Speed::new(0.5, false).is_ok() && Speed::new(2.0, true).is_ok());
        for bad in [0.49, 2.5, f64::NAN, 0.0] {
            let error = Speed::new(bad, false).unwrap_err().to_string();
            assert!(error.contains("outside 0.5–2"), "{error}");
        }
    }

    #[test]
    fn names_cannot_escape_the_folder() {
        assert_eq!(safe("../../etc/passwd"), "__etc_passwd");
        assert_eq!(safe("2024-10-21T17:22:07.789Z"), "2024-10-21T172207789Z");
        assert!(!safe("a/b\\c\0d").contains(['/', '\\', '\0']));
    }
}
