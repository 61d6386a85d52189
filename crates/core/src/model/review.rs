//! A QA reviewer's judgement of one recording version — verdict, note, tags
//! and time-line markers — and the analysis stored beside it. (The JWT
//! check is [`super::TokenCheck`]; this is about what the caller said.)
//!
//! Changes are deltas ([`ReviewChange`]) applied by the store's one writer,
//! so a tag added from the CLI and a verdict set in the app at the same
//! moment both survive.

use serde::{Deserialize, Serialize};

use earshot_audio::{Analysis, Flag};

/// Longest note kept; a note is a sentence or a paragraph, not a document.
pub const MAX_NOTE: usize = 10_000;
/// Longest tag or marker text.
pub const MAX_LABEL: usize = 200;
/// Most markers on one recording.
pub const MAX_MARKERS: usize = 500;

/// What the reviewer decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Nobody has judged it yet.
    #[default]
    Unreviewed,
    /// Captured whole and clean.
    Pass,
    /// Something is wrong with it.
    Fail,
    /// Needs someone else's look.
    FollowUp,
}

impl Verdict {
    /// Every verdict, in the order the UI offers them.
    pub const ALL: [Verdict; 4] = [Verdict::Unreviewed, Verdict::Pass, Verdict::Fail, Verdict::FollowUp];

    /// Name stored in the database and printed by the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Unreviewed => "unreviewed",
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::FollowUp => "follow-up",
        }
    }

    /// Parses a stored or typed name.
    pub fn from_name(name: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == name)
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A point (no `end_ms`) or a region on a recording's time line, with a short text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Marker {
    /// Where it starts, from the recording's first sample.
    pub start_ms: u64,
    /// Where a region ends; `None` for a point.
    pub end_ms: Option<u64>,
    /// "caller cut off here".
    pub text: String,
}

impl Marker {
    /// Parses the CLI's `START[-END]=TEXT`, times in seconds: `1.25-2.5=cut off`.
    pub fn parse(spec: &str) -> Result<Marker, String> {
        let (times, text) =
            spec.split_once('=').ok_or_else(|| format!("marker {spec:?} has no text: write START[-END]=TEXT"))?;
        let seconds = |s: &str| -> Result<u64, String> {
            let value: f64 = s.trim().parse().map_err(|_| format!("marker time {s:?} is not a number of seconds"))?;
            if !value.is_finite() || value < 0.0 {
                return Err(format!("marker time {s:?} must be zero or more seconds"));
            }
            Ok((value * 1000.0).round() as u64)
        };
        let (start_ms, end_ms) = match times.split_once('-') {
            Some((start, end)) => (seconds(start)?, Some(seconds(end)?)),
            None => (seconds(times)?, None),
        };
        Marker { start_ms, end_ms, text: text.trim().to_string() }.checked()
    }

    /// The marker with its region in order, or why it cannot be stored.
    pub fn checked(self) -> Result<Marker, String> {
        if self.text.chars().count() > MAX_LABEL {
            return Err(format!("a marker's text is at most {MAX_LABEL} characters"));
        }
        match self.end_ms {
            Some(end) if end < self.start_ms => {
                Err(format!("marker region ends ({end} ms) before it starts ({} ms)", self.start_ms))
            }
            Some(end) if end == self.start_ms => Ok(Marker { end_ms: None, ..self }),
            _ => Ok(self),
        }
    }
}

/// The review of one recording version. An unreviewed recording has the default.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Review {
    /// The verdict.
    pub verdict: Verdict,
    /// Free text; empty when there is none.
    pub note: String,
    /// Labels, sorted, each once.
    pub tags: Vec<String>,
    /// Points and regions, in time order.
    pub markers: Vec<Marker>,
    /// When the review last changed (RFC 3339, UTC); `None` if it never did.
    pub reviewed_at: Option<String>,
}

impl Review {
    /// Applies `change` (the writer does this inside its transaction).
    pub fn apply(&mut self, change: &ReviewChange, now: &str) {
        if let Some(verdict) = change.verdict {
            self.verdict = verdict;
        }
        if let Some(note) = &change.note {
            self.note = note.trim().to_string();
        }
        self.tags.retain(|t| !change.remove_tags.iter().any(|r| r.eq_ignore_ascii_case(t)));
        for tag in &change.add_tags {
            if !self.tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
                self.tags.push(tag.clone());
            }
        }
        self.tags.sort();
        self.markers.retain(|m| !change.remove_markers.contains(m));
        for marker in &change.add_markers {
            if !self.markers.contains(marker) {
                self.markers.push(marker.clone());
            }
        }
        self.markers.sort_by_key(|m| (m.start_ms, m.end_ms));
        self.reviewed_at = Some(now.to_string());
    }
}

/// What to change in a review; everything not named stays as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct ReviewChange {
    /// A new verdict.
    pub verdict: Option<Verdict>,
    /// A new note (replaces the old one; `""` clears it).
    pub note: Option<String>,
    /// Tags to add.
    pub add_tags: Vec<String>,
    /// Tags to remove.
    pub remove_tags: Vec<String>,
    /// Markers to add.
    pub add_markers: Vec<Marker>,
    /// Markers to remove (matched exactly).
    pub remove_markers: Vec<Marker>,
}

impl ReviewChange {
    /// True when it changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == ReviewChange::default()
    }

    /// The change with tags trimmed, or why it cannot be stored.
    pub fn checked(mut self) -> Result<ReviewChange, String> {
        if self.note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE) {
            return Err(format!("a note is at most {MAX_NOTE} characters"));
        }
        for tags in [&mut self.add_tags, &mut self.remove_tags] {
            for tag in tags.iter_mut() {
                *tag = tag.trim().to_string();
                if tag.is_empty() {
                    return Err("a tag cannot be empty".into());
                }
                if tag.chars().count() > MAX_LABEL {
                    return Err(format!("a tag is at most {MAX_LABEL} characters"));
                }
            }
        }
        self.add_markers = self.add_markers.into_iter().map(Marker::checked).collect::<Result<_, _>>()?;
        if self.add_markers.len() > MAX_MARKERS {
            return Err(format!("a recording holds at most {MAX_MARKERS} markers"));
        }
        Ok(self)
    }
}

/// A recording's stored analysis: the measures, the duration its metadata
/// promises, and the flags they raise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RecordingAnalysis {
    /// Levels, loudness, clipping, silence and speech.
    #[serde(flatten)]
    pub measures: Analysis,
    /// `stop_timestamp − start_timestamp`, when both parse.
    pub expected_duration_ms: Option<u64>,
    /// `silent`, `clipped`, `truncated`, `late_start`.
    pub flags: Vec<Flag>,
}

impl RecordingAnalysis {
    /// Analyses `original` as described by `info`, against the span its metadata promises.
    pub fn of(original: &[u8], info: &earshot_audio::AudioInfo, start: &str, stop: &str) -> RecordingAnalysis {
        let measures = earshot_audio::analyze(original, info);
        let expected_duration_ms = promised_span(start, stop);
        let flags = earshot_audio::flags(&measures, expected_duration_ms);
        RecordingAnalysis { measures, expected_duration_ms, flags }
    }
}

/// Which recordings a review list, a report or `earshot recordings` keeps.
/// Every field optional; all given must match.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(default)]
pub struct ReviewFilter {
    /// One call.
    pub session: Option<String>,
    /// This verdict.
    pub verdict: Option<Verdict>,
    /// Carrying this tag (any case).
    pub tag: Option<String>,
    /// Raising this analysis flag.
    pub flag: Option<Flag>,
    /// Reviewed (any verdict but unreviewed) or not.
    pub reviewed: Option<bool>,
}

impl ReviewFilter {
    /// True when `recording` passes every condition given.
    pub fn matches(&self, recording: &super::RecordingSummary) -> bool {
        let review = &recording.review;
        self.session.as_ref().is_none_or(|s| *s == recording.session_id)
            && self.verdict.is_none_or(|v| v == review.verdict)
            && self.tag.as_ref().is_none_or(|tag| review.tags.iter().any(|t| t.eq_ignore_ascii_case(tag)))
            && self.flag.is_none_or(|flag| recording.analysis.as_ref().is_some_and(|a| a.flags.contains(&flag)))
            && self.reviewed.is_none_or(|r| r == (review.verdict != Verdict::Unreviewed))
    }
}

/// `stop − start` in milliseconds when both are RFC 3339 times and in order.
pub fn promised_span(start: &str, stop: &str) -> Option<u64> {
    let start = chrono::DateTime::parse_from_rfc3339(start.trim()).ok()?;
    let stop = chrono::DateTime::parse_from_rfc3339(stop.trim()).ok()?;
    u64::try_from((stop - start).num_milliseconds()).ok()
}

#[cfg(test)]
mod tests {
    use super::{Marker, Review, ReviewChange, Verdict, promised_span};

    #[test]
    fn markers_parse_from_seconds_and_refuse_nonsense() {
        let m = Marker::parse("1.25-2.5=cut off").unwrap();
        assert_eq!(m, Marker { start_ms: 1250, end_ms: Some(2500), text: "cut off".into() });
        assert_eq!(Marker::parse("3=here").unwrap().end_ms, None);
        assert!(Marker::parse("2-1=backwards").unwrap_err().contains("before it starts"));
        assert!(Marker::parse("1.5").unwrap_err().contains("no text"));
        assert!(Marker::parse("soon=x").unwrap_err().contains("not a number"));
        assert!(Marker::parse("-1=x").is_err());
    }

    #[test]
    fn changes_merge_instead_of_overwriting() {
        let mut review = Review::default();
        review.apply(&ReviewChange { add_tags: vec!["noise".into()], ..Default::default() }, "t1");
        review.apply(&ReviewChange { verdict: Some(Verdict::Fail), ..Default::default() }, "t2");
        review.apply(&ReviewChange { add_tags: vec!["Noise".into(), "echo".into()], ..Default::default() }, "t3");
        assert_eq!(review.verdict, Verdict::Fail);
        assert_eq!(review.tags, ["echo", "noise"]);
        assert_eq!(review.reviewed_at.as_deref(), Some("t3"));
        review.apply(&ReviewChange { remove_tags: vec!["NOISE".into()], ..Default::default() }, "t4");
        assert_eq!(review.tags, ["echo"]);
    }

    #[test]
    fn verdict_names_round_trip() {
        for verdict in Verdict::ALL {
            assert_eq!(Verdict::from_name(verdict.as_str()), Some(verdict));
        }
        assert_eq!(serde_json::to_string(&Verdict::FollowUp).unwrap(), "\"follow-up\"");
    }

    #[test]
    fn the_promised_span_is_stop_minus_start() {
        assert_eq!(promised_span("2026-01-01T00:00:00Z", "2026-01-01T00:00:10.500Z"), Some(10_500));
        assert_eq!(promised_span("2026-01-01T00:00:10Z", "2026-01-01T00:00:00Z"), None);
        assert_eq!(promised_span("", "2026-01-01T00:00:00Z"), None);
    }
}
