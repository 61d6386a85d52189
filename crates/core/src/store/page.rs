//! The shapes of paged and filtered reads: a [`Filter`], one [`Page`] of a
//! longer list, and the detail views. Every backend answers with these, so
//! lists stay fast at 100,000 recordings (only one page is ever fetched) and
//! details are loaded one item at a time.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{RecordingSummary, RequestEntry, TokenCheck};

/// Largest page the UI may ask for.
pub const MAX_PAGE: usize = 500;

/// Bytes of a rejected body shown in the inspector's preview.
pub const PREVIEW_BYTES: usize = 4096;

/// Which verification outcome to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum VerdictFilter {
    /// Calls or requests with any rejected or unverified request.
    Flagged,
    /// Verified.
    Valid,
    /// Token refused.
    Invalid,
    /// No token.
    Missing,
    /// Verification off.
    Off,
}

impl VerdictFilter {
    /// The one token check this filter keeps; `None` for [`VerdictFilter::Flagged`].
    pub fn token_check(self) -> Option<TokenCheck> {
        match self {
            VerdictFilter::Flagged => None,
            VerdictFilter::Valid => Some(TokenCheck::Valid),
            VerdictFilter::Invalid => Some(TokenCheck::Invalid),
            VerdictFilter::Missing => Some(TokenCheck::Missing),
            VerdictFilter::Off => Some(TokenCheck::Off),
        }
    }
}

/// What the list views are narrowed to. Every field optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Filter {
    /// Prefix of a session id or of any of its recording ids.
    #[serde(default)]
    pub id_prefix: Option<String>,
    /// Received at or after (RFC 3339, or a date `YYYY-MM-DD`).
    #[serde(default)]
    pub from: Option<String>,
    /// Received before the end of (RFC 3339, or a date).
    #[serde(default)]
    pub to: Option<String>,
    /// Verification outcome.
    #[serde(default)]
    pub verdict: Option<VerdictFilter>,
}

impl Filter {
    /// `[prefix, prefix + U+10FFFF)`: a range the id indexes can answer, unlike `LIKE`.
    pub(crate) fn prefix_range(&self) -> Option<(String, String)> {
        let prefix = self.id_prefix.as_deref().map(str::trim).filter(|p| !p.is_empty())?;
        Some((prefix.to_string(), format!("{prefix}\u{10FFFF}")))
    }

    pub(crate) fn upper_bound(&self) -> Option<String> {
        // A bare date means "through the end of that day"; '~' sorts after any time text.
        self.to
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(|t| if t.len() == 10 { format!("{t}~") } else { t.to_string() })
    }

    pub(crate) fn lower_bound(&self) -> Option<String> {
        self.from.clone().filter(|f| !f.is_empty())
    }
}

/// One page of a longer list.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// How many items match in all.
    pub total: u64,
    /// Index of the first item.
    pub offset: u64,
}

/// Everything shown in a recording's detail pane.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RecordingDetail {
    /// The list entry.
    pub recording: RecordingSummary,
    /// The metadata object as received, unknown fields included.
    pub metadata: Value,
    /// Decoded JWT header.
    pub jwt_header: Option<Value>,
    /// Decoded JWT claims.
    pub jwt_claims: Option<Value>,
    /// Headers of the request that delivered it, signatures removed.
    pub headers: Value,
    /// That request's log id.
    pub request_id: Option<i64>,
}

/// A request with a readable view of its stored body.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RequestDetail {
    /// The log entry.
    pub request: RequestEntry,
    /// Hex dump of the first bytes (16 per line, offset, hex, ASCII).
    pub hex: String,
    /// The first bytes as text, non-UTF-8 replaced.
    pub text: String,
    /// True when the stored body is longer than the preview.
    pub truncated: bool,
}

impl RequestDetail {
    /// A request with a preview of the first [`PREVIEW_BYTES`] of its stored body.
    pub fn new(request: RequestEntry, body: &[u8]) -> RequestDetail {
        let shown = &body[..body.len().min(PREVIEW_BYTES)];
        RequestDetail {
            request,
            hex: hex_dump(shown),
            text: String::from_utf8_lossy(shown).into_owned(),
            truncated: body.len() > PREVIEW_BYTES,
        }
    }
}

/// `00000000  52 49 46 46 …  |RIFF…|` lines, 16 bytes each.
pub fn hex_dump(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .enumerate()
        .map(|(line, chunk)| {
            let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
            let ascii: String =
                chunk.iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { b as char } else { '.' }).collect();
            format!("{:08x}  {:<47}  |{ascii}|", line * 16, hex.join(" "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::hex_dump;

    #[test]
    fn hex_dump_shows_offsets_bytes_and_text() {
        let dump = hex_dump(b"RIFF\x00\x01metadata-and-more");
        let first = dump.lines().next().unwrap();
        assert_eq!(first, "00000000  52 49 46 46 00 01 6d 65 74 61 64 61 74 61 2d 61  |RIFF..metadata-a|");
        assert!(dump.lines().nth(1).unwrap().starts_with("00000010  6e 64"));
    }
}
