//! A stored request as a `curl` command that sends it again: the headers
//! one `-H` each, the body from a file next to the command with
//! `--data-binary @FILE` (curl sends that file's bytes unchanged).

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Outgoing, RelayError, ReplayRequest, ReplaySource, TokenChoice, prepare};
use crate::settings::Secret;
use crate::store::Store;

/// The command for `request`, whose body has been written to `body_file`.
pub fn curl_command(request: &Outgoing, body_file: &Path) -> String {
    let mut words = vec!["curl".to_string(), "--silent".into(), "--show-error".into(), "--http1.1".into()];
    words.push(format!("-X {}", quote(&request.method)));
    words.push(quote(&request.url));
    for (name, value) in &request.headers {
        words.push(format!("-H {}", quote(&format!("{name}: {}", String::from_utf8_lossy(value)))));
    }
    // curl adds these unless told not to; the original request did not have them.
    for (name, empty) in [("user-agent", "User-Agent:"), ("accept", "Accept:"), ("expect", "Expect:")] {
        if !request.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            words.push(format!("-H {}", quote(empty)));
        }
    }
    if !request.body.is_empty() {
        words.push(format!("--data-binary {}", quote(&format!("@{}", body_file.display()))));
    }
    words.join(" \\\n  ")
}

/// Writes request `request_id`'s body to `dir/earshot-request-ID.body` and
/// returns the command that sends it to `to` (the token re-signed with
/// `secret` when one is given, else left as stored — without its signature).
pub async fn curl_for_request(
    store: &Store,
    request_id: i64,
    to: &str,
    secret: Option<Secret>,
    dir: &Path,
    now: DateTime<Utc>,
) -> Result<(String, PathBuf), RelayError> {
    let token = if secret.is_some() { TokenChoice::Resign } else { TokenChoice::None };
    let request = ReplayRequest {
        source: ReplaySource::Request(request_id),
        to: to.to_string(),
        token,
        secret,
        edits: super::Edits::default(),
        timeout: Duration::from_secs(30),
    };
    let prepared = prepare(store, &request, now).await?;
    let file = dir.join(format!("earshot-request-{request_id}.body"));
    std::fs::write(&file, &prepared.outgoing.body)
        .map_err(|e| RelayError::Unusable(format!("cannot write {}: {e}", file.display())))?;
    let mut command = curl_command(&prepared.outgoing, &file);
    if token == TokenChoice::Resign {
        command =
            format!("# the token is signed with your secret and expires like watsonx's (30 s after {now})\n{command}");
    } else {
        command = format!("# no secret known: the request goes without a token (give --secret to sign one)\n{command}");
    }
    Ok((command, file))
}

/// Single-quotes `text` for a POSIX shell.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{Outgoing, curl_command};

    #[test]
    fn quotes_survive_the_shell() {
        let request = Outgoing {
            method: "POST".into(),
            url: "http://h/p".into(),
            headers: vec![("x-note".into(), b"it's".to_vec())],
            body: bytes::Bytes::from_static(b"x"),
        };
        let command = curl_command(&request, Path::new("/tmp/b ody"));
        assert!(command.contains(r"-H 'x-note: it'\''s'"), "{command}");
        assert!(command.contains("--data-binary '@/tmp/b ody'"), "{command}");
        assert!(command.contains("-H 'User-Agent:'"));
    }
}
