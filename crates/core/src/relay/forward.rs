//! Forwarding settings and how a received request becomes the one sent on:
//! the same method, headers (the original `Authorization` included: the
//! user's service shares watsonx's secret) and byte-identical body, to the
//! forward URL with the request path appended when that URL ends in `/`.

use std::time::Duration;

use axum::http::HeaderMap;

use super::{RelayError, check_url};
use crate::model::ForwardMode;

/// watsonx waits at most 30 s; answer 504 well inside that.
pub const DEFAULT_FORWARD_TIMEOUT: Duration = Duration::from_secs(25);

/// Headers that describe one hop, not the request; the client sets its own.
const HOP_BY_HOP: [&str; 10] = [
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "expect",
];

/// Where and how the listener forwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardConfig {
    /// The user's service.
    pub url: String,
    /// `pass` or `tee`.
    pub mode: ForwardMode,
    /// How long to wait for the whole answer.
    pub timeout: Duration,
}

impl ForwardConfig {
    /// Checks the URL and the timeout (1 ms to 30 s: past that, watsonx has hung up).
    pub fn new(url: &str, mode: ForwardMode, timeout: Duration) -> Result<ForwardConfig, RelayError> {
        let url = check_url(url)?;
        if timeout.is_zero() || timeout > Duration::from_secs(30) {
            return Err(RelayError::BadTimeout(format!(
                "the forward timeout must be more than 0 and at most 30 s (watsonx's own limit); got {:.1} s",
                timeout.as_secs_f64()
            )));
        }
        Ok(ForwardConfig { url, mode, timeout })
    }
}

/// The URL a request for `path`?`query` is forwarded to.
pub fn forward_target(base: &str, path: &str, query: Option<&str>) -> String {
    let mut url =
        if base.ends_with('/') { format!("{base}{}", path.trim_start_matches('/')) } else { base.to_string() };
    if let Some(query) = query.filter(|q| !q.is_empty())
        && !url.contains('?')
    {
        url = format!("{url}?{query}");
    }
    url
}

/// The headers sent on: all of them, in order, but the hop-by-hop ones.
pub fn forwarded_headers(headers: &HeaderMap) -> Vec<(String, Vec<u8>)> {
    headers
        .iter()
        .filter(|(name, _)| !HOP_BY_HOP.contains(&name.as_str()))
        .map(|(name, value)| (name.as_str().to_string(), value.as_bytes().to_vec()))
        .collect()
}

/// The same filter over headers given as `(name, value)` text pairs.
pub(super) fn is_end_to_end(name: &str) -> bool {
    !HOP_BY_HOP.iter().any(|hop| hop.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::forward_target;

    #[test]
    fn the_path_is_appended_only_to_a_url_ending_in_a_slash() {
        assert_eq!(forward_target("http://svc/hook", "/audio-webhook", None), "http://svc/hook");
        assert_eq!(forward_target("http://svc/", "/audio-webhook", None), "http://svc/audio-webhook");
        assert_eq!(forward_target("http://svc/api/", "/a/b", Some("x=1")), "http://svc/api/a/b?x=1");
        assert_eq!(forward_target("http://svc/hook?k=v", "/p", Some("x=1")), "http://svc/hook?k=v");
    }
}
