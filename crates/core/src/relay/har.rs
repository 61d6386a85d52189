//! The request log as HAR 1.2 (the HTTP Archive format browser devtools,
//! Insomnia and Yaak open): each request with the answer Earshot gave and,
//! for forwarded ones, the user's service's answer (`_upstream`). Bodies are
//! base64 with `encoding: "base64"`, so they stay byte-exact. Earshot's own
//! answers are not stored as bytes; they are rebuilt from the log (status,
//! error code and message, which is all they contain).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::model::{ForwardMode, RequestEntry};
use crate::store::{Filter, MAX_PAGE, Store, StoreError};

/// One logged request with the bytes HAR needs.
#[derive(Debug, Clone)]
pub struct HarItem {
    /// The entry.
    pub entry: RequestEntry,
    /// Its body as received, when kept.
    pub body: Option<Vec<u8>>,
    /// The upstream answer's body, when forwarded.
    pub upstream_body: Option<Vec<u8>>,
}

fn pairs(headers: &Value) -> Vec<Value> {
    headers
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|pair| Some(json!({"name": pair.get(0)?.as_str()?, "value": pair.get(1)?.as_str()?})))
                .collect()
        })
        .unwrap_or_default()
}

fn header<'a>(headers: &'a Value, name: &str) -> Option<&'a str> {
    headers
        .as_array()?
        .iter()
        .find_map(|pair| (pair.get(0)?.as_str()?.eq_ignore_ascii_case(name)).then(|| pair.get(1)?.as_str()).flatten())
}

fn status_text(status: u16) -> &'static str {
    axum::http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("")
}

fn content(bytes: &[u8], size: u64, mime: &str) -> Value {
    json!({"size": size, "mimeType": mime, "text": STANDARD.encode(bytes), "encoding": "base64"})
}

fn entry_json(item: &HarItem) -> Value {
    let e = &item.entry;
    let host = header(&e.headers, "host").unwrap_or("localhost");
    let query = e.query.as_deref().map(|q| format!("?{q}")).unwrap_or_default();
    let query_string: Vec<Value> = e
        .query
        .as_deref()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (name, value) = p.split_once('=').unwrap_or((p, ""));
            json!({"name": name, "value": value})
        })
        .collect();
    let body = item.body.as_deref().unwrap_or_default();
    let mut request = json!({
        "method": e.method,
        "url": format!("http://{host}{}{query}", e.path),
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": pairs(&e.headers),
        "queryString": query_string,
        "headersSize": -1,
        "bodySize": e.body_size,
    });
    if e.body_size > 0 {
        request["postData"] = json!({
            "mimeType": header(&e.headers, "content-type").unwrap_or("application/octet-stream"),
            "text": STANDARD.encode(body),
            "encoding": "base64",
            "params": [],
        });
        if item.body.as_ref().is_none_or(|b| b.len() as u64 != e.body_size) {
            request["_bodyKept"] = json!(body.len());
        }
    }
    // What the sender got: the upstream's answer in pass mode, else Earshot's own.
    let passed = e.forward.as_ref().filter(|f| f.mode == ForwardMode::Pass && f.answer.status == Some(e.status));
    let response = match passed {
        Some(forward) => {
            let bytes = item.upstream_body.as_deref().unwrap_or_default();
            json!({
                "status": e.status, "statusText": status_text(e.status), "httpVersion": "HTTP/1.1",
                "cookies": [], "headers": pairs(&forward.answer.headers),
                "content": content(bytes, forward.answer.body_size,
                    header(&forward.answer.headers, "content-type").unwrap_or("")),
                "redirectURL": "", "headersSize": -1, "bodySize": forward.answer.body_size,
            })
        }
        None => {
            let own = match (&e.error, e.status) {
                (Some(code), _) => json!({"error": code, "message": e.reason.clone().unwrap_or_default()}).to_string(),
                (None, 200..=299) if e.method == "POST" => "{}".to_string(),
                (None, _) => String::new(),
            };
            json!({
                "status": e.status, "statusText": status_text(e.status), "httpVersion": "HTTP/1.1",
                "cookies": [], "headers": [{"name": "content-type", "value": "application/json"}],
                "content": content(own.as_bytes(), own.len() as u64, "application/json"),
                "redirectURL": "", "headersSize": -1, "bodySize": own.len(),
            })
        }
    };
    let mut har = json!({
        "startedDateTime": e.received_at,
        "time": e.latency_ms,
        "request": request,
        "response": response,
        "cache": {},
        "timings": {"send": 0, "wait": e.latency_ms, "receive": 0},
        "_earshot": {"id": e.id, "outcome": e.outcome, "token": e.auth.verdict, "simulated": e.simulated,
            "session_id": e.session_id, "recording_id": e.recording_id},
    });
    if let Some(forward) = &e.forward {
        let bytes = item.upstream_body.as_deref().unwrap_or_default();
        har["_upstream"] = json!({
            "url": forward.answer.url, "mode": forward.mode, "status": forward.answer.status,
            "time": forward.answer.latency_ms, "error": forward.answer.error, "errorCode": forward.answer.error_code,
            "headers": pairs(&forward.answer.headers),
            "content": content(bytes, forward.answer.body_size,
                header(&forward.answer.headers, "content-type").unwrap_or("")),
        });
    }
    har
}

/// The HAR document for `items`, oldest first.
pub fn har(items: &[HarItem]) -> Value {
    let mut entries: Vec<Value> = items.iter().map(entry_json).collect();
    let key = |e: &Value| (e["startedDateTime"].as_str().map(str::to_string), e["_earshot"]["id"].as_i64());
    entries.sort_by_key(key);
    json!({"log": {
        "version": "1.2",
        "creator": {"name": "Earshot", "version": env!("CARGO_PKG_VERSION")},
        "pages": [],
        "entries": entries,
    }})
}

/// The HAR document for the whole request log, or one call's requests
/// (`session_id`), read page by page with every kept body.
pub fn har_of_store(store: &Store, session_id: Option<&str>) -> Result<Value, StoreError> {
    let filter = Filter { id_prefix: session_id.map(str::to_string), ..Filter::default() };
    let mut items = Vec::new();
    let mut offset = 0;
    loop {
        let page = store.requests_page(&filter, offset, MAX_PAGE)?;
        let count = page.items.len();
        for entry in page.items {
            // The id filter is a prefix of session or recording ids; keep only this call's.
            if session_id.is_some_and(|wanted| entry.session_id.as_deref() != Some(wanted)) {
                continue;
            }
            let body = store.request_body(entry.id)?;
            let upstream_body = match entry.forward {
                Some(_) => store.forward_body(entry.id)?,
                None => None,
            };
            items.push(HarItem { entry, body, upstream_body });
        }
        offset += count;
        if count == 0 || offset as u64 >= page.total {
            break;
        }
    }
    Ok(har(&items))
}
