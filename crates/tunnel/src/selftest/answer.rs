//! Reading the answer to the self-test's POST: Earshot's own answers
//! (`200 {}`, or `{"error", "message"}` JSON with its codes) against anything
//! else — a tunnel edge's 502/530 page, another server, a login gate.

use reqwest::header::{CONTENT_TYPE, HeaderMap, SERVER};
use serde::Deserialize;
use serde_json::Value;

use super::Hop;

/// Characters of a foreign body quoted in the report.
const QUOTE_CHARS: usize = 160;

/// What the answer says about the hops.
#[derive(Debug, PartialEq)]
pub(super) enum Answer {
    /// Earshot's `200 {}`: the recording is committed.
    Stored,
    /// Earshot answered, and refused at `hop`.
    Refused {
        /// Where the request stopped.
        hop: Hop,
        /// Earshot's code and message, and what to do.
        detail: String,
    },
    /// Not Earshot's answer: the tunnel did not deliver the request to Earshot.
    NotEarshot(String),
}

/// Earshot's error body.
#[derive(Deserialize)]
struct Rejection {
    error: String,
    message: String,
}

impl Answer {
    pub(super) fn read(status: u16, headers: &HeaderMap, body: &[u8]) -> Answer {
        let json: Option<Value> = serde_json::from_slice(body).ok();
        if status == 200 {
            if matches!(&json, Some(Value::Object(map)) if map.is_empty()) {
                return Answer::Stored;
            }
            return Answer::NotEarshot(format!(
                "the URL answered 200 but not the way Earshot does ({}): it leads to another server",
                describe(headers, body)
            ));
        }
        if let Some(Rejection { error, message }) = json.and_then(|v| serde_json::from_value(v).ok()) {
            match (status, error.as_str()) {
                (401, "missing_token" | "invalid_token") => {
                    let detail = format!(
                        "Earshot refused the token ({error}: {message}); give watsonx and Earshot the same secret"
                    );
                    return Answer::Refused { hop: Hop::Auth, detail };
                }
                (503, "store_unavailable") => {
                    let detail = format!("Earshot could not store the recording ({message}); check its disk");
                    return Answer::Refused { hop: Hop::Store, detail };
                }
                (400..=499, _) if status != 401 => {
                    let detail = format!("Earshot rejected the request with {status} {error}: {message}");
                    return Answer::Refused { hop: Hop::Parse, detail };
                }
                _ => {}
            }
        }
        let seen = describe(headers, body);
        Answer::NotEarshot(match status {
            502 | 503 | 504 | 520..=527 | 530 => format!(
                "the tunnel answered {status} without reaching Earshot ({seen}): is Earshot running, and does the \
                 tunnel forward to its port?"
            ),
            _ => format!("something other than Earshot answered {status} ({seen}): the URL does not lead to Earshot"),
        })
    }
}

/// `server: …, content-type, "start of the body"`, whatever of these is present.
fn describe(headers: &HeaderMap, body: &[u8]) -> String {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let mut parts = Vec::new();
    if let Some(server) = header(SERVER) {
        parts.push(format!("server: {server}"));
    }
    if let Some(kind) = header(CONTENT_TYPE) {
        parts.push(kind);
    }
    let text = String::from_utf8_lossy(body);
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut quote: String = words.join(" ").chars().take(QUOTE_CHARS).collect();
    if !quote.is_empty() {
        if quote.chars().count() == QUOTE_CHARS {
            quote.push('…');
        }
        parts.push(format!("{quote:?}"));
    }
    if parts.is_empty() { "an empty answer".to_string() } else { parts.join(", ") }
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn read(status: u16, body: &str) -> Answer {
        Answer::read(status, &HeaderMap::new(), body.as_bytes())
    }

    fn hop(answer: Answer) -> Option<Hop> {
        match answer {
            Answer::Refused { hop, .. } => Some(hop),
            _ => None,
        }
    }

    #[test]
    fn earshot_answers_name_their_hop() {
        assert_eq!(read(200, "{}"), Answer::Stored);
        assert_eq!(hop(read(401, r#"{"error":"invalid_token","message":"bad signature"}"#)), Some(Hop::Auth));
        assert_eq!(hop(read(422, r#"{"error":"missing_field","message":"session_id"}"#)), Some(Hop::Parse));
        assert_eq!(hop(read(503, r#"{"error":"store_unavailable","message":"disk full"}"#)), Some(Hop::Store));
    }

    #[test]
    fn edge_and_foreign_answers_blame_the_tunnel() {
        let mut headers = HeaderMap::new();
        headers.insert(SERVER, HeaderValue::from_static("cloudflare"));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
        let Answer::NotEarshot(detail) = Answer::read(530, &headers, b"<html>\n error code: 1033 </html>") else {
            panic!("an edge page is not Earshot")
        };
        assert!(detail.contains("tunnel answered 530 without reaching Earshot"), "{detail}");
        assert!(detail.contains("server: cloudflare, text/html, \"<html> error code: 1033 </html>\""), "{detail}");
        assert!(matches!(read(200, "<html>hello</html>"), Answer::NotEarshot(_)));
        assert!(matches!(read(200, r#"{"ok":true}"#), Answer::NotEarshot(_)));
        // A 401 from a gate in front of Earshot is not Earshot's token check.
        assert!(matches!(read(401, r#"{"error":"unauthorized","message":"login"}"#), Answer::NotEarshot(_)));
        assert!(matches!(read(404, ""), Answer::NotEarshot(d) if d.contains("an empty answer")));
    }
}
