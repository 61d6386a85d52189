//! The two names every other audio module shares: how samples are encoded
//! and how they were packaged. This module imports nothing of Earshot's, so
//! `wav` and `info` can both use it without depending on each other.

use serde::{Deserialize, Serialize};

/// How samples are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// G.711 μ-law, one byte per sample.
    Mulaw,
    /// G.711 A-law, one byte per sample.
    Alaw,
    /// Signed 16-bit little-endian linear PCM (WAV's byte order).
    Pcm16,
    /// Signed 16-bit big-endian linear PCM: headerless `audio/L16`, which
    /// RFC 2586 defines in network byte order.
    Pcm16Be,
}

impl Encoding {
    /// The lowercase name used in the database and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Mulaw => "mulaw",
            Encoding::Alaw => "alaw",
            Encoding::Pcm16 => "pcm16",
            Encoding::Pcm16Be => "pcm16be",
        }
    }

    /// Parses the name written by [`Encoding::as_str`].
    pub fn from_name(name: &str) -> Option<Encoding> {
        match name {
            "mulaw" => Some(Encoding::Mulaw),
            "alaw" => Some(Encoding::Alaw),
            "pcm16" => Some(Encoding::Pcm16),
            "pcm16be" => Some(Encoding::Pcm16Be),
            _ => None,
        }
    }

    /// Bytes one sample of one channel takes.
    pub fn bytes_per_sample(self) -> usize {
        match self {
            Encoding::Mulaw | Encoding::Alaw => 1,
            Encoding::Pcm16 | Encoding::Pcm16Be => 2,
        }
    }
}

/// How the samples were packaged in the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Container {
    /// Headerless samples, as the IBM documentation describes.
    Raw,
    /// A RIFF/WAVE file, as IBM's test client sends.
    Wav,
}

impl Container {
    /// The lowercase name used in the database and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Container::Raw => "raw",
            Container::Wav => "wav",
        }
    }

    /// Parses the name written by [`Container::as_str`].
    pub fn from_name(name: &str) -> Option<Container> {
        match name {
            "raw" => Some(Container::Raw),
            "wav" => Some(Container::Wav),
            _ => None,
        }
    }
}
