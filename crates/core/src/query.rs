//! Paged and filtered reads for the desktop UI: lists stay fast with
//! 100,000 recordings because only one page is ever fetched, and details
//! are loaded for one item at a time.
//!
//! Plain listing for the CLI stays in `store`; this module only reads.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{RecordingSummary, RequestEntry, SessionSummary};
use crate::store::{Store, StoreError};

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
    fn verdict(self) -> Option<&'static str> {
        match self {
            VerdictFilter::Flagged => None,
            VerdictFilter::Valid => Some("valid"),
            VerdictFilter::Invalid => Some("invalid"),
            VerdictFilter::Missing => Some("missing"),
            VerdictFilter::Off => Some("off"),
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
    fn prefix_range(&self) -> Option<(String, String)> {
        let prefix = self.id_prefix.as_deref().map(str::trim).filter(|p| !p.is_empty())?;
        Some((prefix.to_string(), format!("{prefix}\u{10FFFF}")))
    }

    fn upper_bound(&self) -> Option<String> {
        // A bare date means "through the end of that day"; '~' sorts after any time text.
        self.to
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(|t| if t.len() == 10 { format!("{t}~") } else { t.to_string() })
    }

    fn lower_bound(&self) -> Option<String> {
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

fn limit(limit: usize) -> i64 {
    limit.clamp(1, MAX_PAGE) as i64
}

const FLAGGED: &str = "(q.status >= 400 OR q.auth_verdict IN ('invalid', 'missing'))";

impl Store {
    /// Calls matching `filter`, newest activity first, `limit` from `offset`.
    pub fn sessions_page(
        &self,
        filter: &Filter,
        offset: usize,
        count: usize,
    ) -> Result<Page<SessionSummary>, StoreError> {
        if *filter == Filter::default() {
            return self.recent_sessions_page(offset, count);
        }
        let conn = self.connect()?;
        let sql = format!(
            "WITH s AS (
                SELECT session_id, COUNT(*) AS n, MIN(received_at) AS first, MAX(received_at) AS last,
                       MAX(assistant_id) AS a, MAX(environment_id) AS e
                FROM recordings
                WHERE (?1 IS NULL OR (session_id >= ?1 AND session_id < ?2) OR (recording_id >= ?1 AND recording_id < ?2))
                  AND (?3 IS NULL OR received_at >= ?3) AND (?4 IS NULL OR received_at <= ?4)
                  AND (?5 IS NULL OR auth_verdict = ?5)
                GROUP BY session_id
            ), flag AS (
                SELECT session_id, COUNT(*) AS flagged FROM requests q WHERE {FLAGGED} GROUP BY session_id
            )
            SELECT s.session_id, n, first, last, a, e, COALESCE(flag.flagged, 0), COUNT(*) OVER ()
            FROM s LEFT JOIN flag ON flag.session_id = s.session_id
            WHERE (?6 = 0 OR flag.flagged > 0)
            ORDER BY last DESC, s.session_id LIMIT ?7 OFFSET ?8"
        );
        let (low, high) = filter.prefix_range().unzip();
        let flagged_only = filter.verdict == Some(VerdictFilter::Flagged);
        let mut total = 0u64;
        let items = conn
            .prepare(&sql)?
            .query_map(
                params![
                    low,
                    high,
                    filter.lower_bound(),
                    filter.upper_bound(),
                    filter.verdict.and_then(VerdictFilter::verdict),
                    flagged_only,
                    limit(count),
                    offset as i64
                ],
                |row| {
                    Ok((
                        SessionSummary {
                            session_id: row.get(0)?,
                            recording_count: row.get::<_, i64>(1)? as u64,
                            first_received_at: row.get(2)?,
                            last_received_at: row.get(3)?,
                            assistant_id: row.get(4)?,
                            environment_id: row.get(5)?,
                            flagged_requests: row.get::<_, i64>(6)? as u64,
                        },
                        row.get::<_, i64>(7)? as u64,
                    ))
                },
            )?
            .map(|r| {
                r.map(|(s, t)| {
                    total = t;
                    s
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if items.is_empty() && offset > 0 {
            total = self.sessions_page(filter, 0, 1)?.total;
        }
        Ok(Page { items, total, offset: offset as u64 })
    }

    /// The unfiltered list, which the app shows most: instead of aggregating
    /// every call to sort them, walk recordings newest first until the page's
    /// calls are found, then aggregate only those (the `lists` benchmark:
    /// 81 ms → about 10 ms at 100,000 recordings).
    fn recent_sessions_page(&self, offset: usize, count: usize) -> Result<Page<SessionSummary>, StoreError> {
        let conn = self.connect()?;
        let total: i64 = conn.query_row("SELECT COUNT(DISTINCT session_id) FROM recordings", [], |r| r.get(0))?;
        let wanted = offset + limit(count) as usize;
        let mut seen = std::collections::HashSet::new();
        let mut order = Vec::new();
        let mut newest = conn.prepare("SELECT session_id FROM recordings ORDER BY received_at DESC, session_id")?;
        let mut rows = newest.query([])?;
        while order.len() < wanted {
            let Some(row) = rows.next()? else { break };
            let session: String = row.get(0)?;
            if seen.insert(session.clone()) {
                order.push(session);
            }
        }
        let mut summary = conn.prepare_cached(&format!(
            "SELECT COUNT(*), MIN(received_at), MAX(received_at), MAX(assistant_id), MAX(environment_id),
                    (SELECT COUNT(*) FROM requests q WHERE q.session_id = ?1 AND {FLAGGED})
             FROM recordings WHERE session_id = ?1"
        ))?;
        let items = order
            .into_iter()
            .skip(offset)
            .map(|session_id| {
                summary.query_row([&session_id], |r| {
                    Ok(SessionSummary {
                        recording_count: r.get::<_, i64>(0)? as u64,
                        first_received_at: r.get(1)?,
                        last_received_at: r.get(2)?,
                        assistant_id: r.get(3)?,
                        environment_id: r.get(4)?,
                        flagged_requests: r.get::<_, i64>(5)? as u64,
                        session_id: session_id.clone(),
                    })
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, total: total as u64, offset: offset as u64 })
    }

    /// The request log matching `filter`, newest first.
    pub fn requests_page(
        &self,
        filter: &Filter,
        offset: usize,
        count: usize,
    ) -> Result<Page<RequestEntry>, StoreError> {
        let conn = self.connect()?;
        let sql = format!(
            "SELECT id FROM requests q
             WHERE (?1 IS NULL OR (q.session_id >= ?1 AND q.session_id < ?6)
                               OR (q.recording_id >= ?1 AND q.recording_id < ?6))
               AND (?2 IS NULL OR q.received_at >= ?2) AND (?3 IS NULL OR q.received_at <= ?3)
               AND (?4 IS NULL OR q.auth_verdict = ?4) AND (?5 = 0 OR {FLAGGED})"
        );
        let (low, high) = filter.prefix_range().unzip();
        let args = params![
            low,
            filter.lower_bound(),
            filter.upper_bound(),
            filter.verdict.and_then(VerdictFilter::verdict),
            filter.verdict == Some(VerdictFilter::Flagged),
            high
        ];
        let total: i64 = conn.query_row(&format!("SELECT COUNT(*) FROM ({sql})"), args, |r| r.get(0))?;
        let ids: Vec<i64> = conn
            .prepare(&format!("{sql} ORDER BY q.id DESC LIMIT {} OFFSET {}", limit(count), offset))?
            .query_map(args, |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let items = ids.into_iter().map(|id| self.request(id)).collect::<Result<Vec<_>, _>>()?;
        Ok(Page { items, total: total as u64, offset: offset as u64 })
    }

    /// One request log entry.
    pub fn request(&self, id: i64) -> Result<RequestEntry, StoreError> {
        self.requests_where("id = ?1", id)?
            .pop()
            .ok_or_else(|| StoreError::NotFound { what: "request", id: id.to_string() })
    }

    /// A request with a hex and text preview of its stored body.
    pub fn request_detail(&self, id: i64) -> Result<RequestDetail, StoreError> {
        let request = self.request(id)?;
        let body = self.request_body(id)?.unwrap_or_default();
        let shown = &body[..body.len().min(PREVIEW_BYTES)];
        Ok(RequestDetail {
            request,
            hex: hex_dump(shown),
            text: String::from_utf8_lossy(shown).into_owned(),
            truncated: body.len() > PREVIEW_BYTES,
        })
    }

    /// A recording row with its metadata, token and delivering request's headers.
    pub fn recording_detail(&self, row: i64) -> Result<RecordingDetail, StoreError> {
        let recording = self
            .recordings_where("id = ?1", row)?
            .pop()
            .ok_or_else(|| StoreError::NotFound { what: "recording row", id: row.to_string() })?;
        let conn = self.connect()?;
        let (metadata, jwt_header, jwt_claims): (String, Option<String>, Option<String>) =
            conn.query_row("SELECT metadata_json, jwt_header, jwt_claims FROM recordings WHERE id = ?1", [row], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?;
        let delivered: Option<(i64, String)> = conn
            .query_row(
                "SELECT id, headers_json FROM requests WHERE recording_row = ?1 ORDER BY id LIMIT 1",
                [row],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let parse = |t: &str| serde_json::from_str::<Value>(t).unwrap_or(Value::Null);
        Ok(RecordingDetail {
            recording,
            metadata: parse(&metadata),
            jwt_header: jwt_header.as_deref().map(parse),
            jwt_claims: jwt_claims.as_deref().map(parse),
            headers: delivered.as_ref().map_or(Value::Array(vec![]), |(_, h)| parse(h)),
            request_id: delivered.map(|(id, _)| id),
        })
    }

    /// A recording row by its database id.
    pub fn recording_row(&self, row: i64) -> Result<RecordingSummary, StoreError> {
        self.recordings_where("id = ?1", row)?
            .pop()
            .ok_or_else(|| StoreError::NotFound { what: "recording row", id: row.to_string() })
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
