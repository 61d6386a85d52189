//! What `earshot serve` exposes: the secret appears in no log line, no
//! stored header and nowhere in the database files; token signatures and
//! other credentials are redacted in the request log; binding beyond
//! loopback prints a warning.

use std::process::Stdio;
use std::time::{Duration, Instant};

use chrono::Utc;
use earshot_core::Store;
use earshot_core::sample::{self, CallIds, Delivery, Packaging};
use earshot_tests::earshot;
use tempfile::TempDir;

const SECRET: &str = "exposure-test-secret-7f3a9c";

/// Runs `earshot serve ARGS` with its output in files; returns (stdout, stderr) after `body` ran.
fn serve_and(dir: &TempDir, args: &[&str], body: impl FnOnce(&str)) -> (String, String) {
    let data = dir.path().join("data");
    let (out, err) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut child = earshot(&data)
        .args(["serve"])
        .args(args)
        .env("EARSHOT_LOG", "debug")
        .stdout(Stdio::from(std::fs::File::create(&out).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&err).unwrap()))
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let url = loop {
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        if let Some(url) = text.lines().find_map(|l| l.strip_prefix("listening on ")) {
            break url.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "serve did not start: {}",
            std::fs::read_to_string(&err).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    body(&url);
    let _ = child.kill();
    let _ = child.wait();
    (std::fs::read_to_string(out).unwrap(), std::fs::read_to_string(err).unwrap())
}

#[test]
fn the_secret_and_credentials_never_reach_logs_or_storage() {
    let dir = TempDir::new().unwrap();
    let valid = sample::authorization(SECRET.as_bytes(), Utc::now());
    let signature = valid.rsplit('.').next().unwrap().to_string();
    let (stdout, stderr) = serve_and(&dir, &["--listen", "127.0.0.1:0", "--secret", SECRET], |url| {
        let ids = CallIds {
            assistant_id: "a".into(),
            environment_id: "e".into(),
            session_id: "s".into(),
            recording_id: "exposed".into(),
        };
        let delivery = sample::delivery(&ids, &sample::utterance(0.3), Packaging::Raw, 300, Utc::now(), "x");
        assert_eq!(post(url, &delivery, &valid), 200);
        let bad = sample::authorization(b"some other secret", Utc::now());
        assert_eq!(post(url, &delivery, &bad), 401);
    });
    for (name, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        assert!(!text.contains(SECRET), "the secret is in {name}");
        assert!(!text.contains(&signature), "a token signature is in {name}");
    }
    assert!(stderr.contains("POST /audio-webhook 200"), "the log has request lines: {stderr}");
    let store = Store::open(&dir.path().join("data")).unwrap();
    let requests = store.requests(10).unwrap();
    assert_eq!(requests.len(), 2);
    for entry in &requests {
        let headers = entry.headers.to_string();
        assert!(headers.contains("authorization"), "{headers}");
        assert!(!headers.contains(&signature), "a signature is stored: {headers}");
        assert!(headers.contains("<redacted"), "{headers}");
        assert!(!headers.contains("cookie-value-42") && !headers.contains("api-key-value-42"), "{headers}");
    }
    drop(store);
    for file in std::fs::read_dir(dir.path().join("data")).unwrap() {
        let path = file.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(!bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()), "the secret is in {}", path.display());
        assert!(
            !bytes.windows(signature.len()).any(|w| w == signature.as_bytes()),
            "a signature is in {}",
            path.display()
        );
    }
}

#[test]
fn binding_beyond_loopback_warns() {
    let dir = TempDir::new().unwrap();
    let (_, stderr) = serve_and(&dir, &["--listen", "0.0.0.0:0", "--auth", "off"], |_| {});
    assert!(stderr.contains("reachable from other machines"), "{stderr}");
    let dir = TempDir::new().unwrap();
    let (_, stderr) = serve_and(&dir, &["--listen", "127.0.0.1:0", "--auth", "off"], |_| {});
    assert!(!stderr.contains("reachable from other machines"), "{stderr}");
}

/// Posts `delivery` with a token and two other credentials, returns the status.
fn post(url: &str, delivery: &Delivery, authorization: &str) -> u16 {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        reqwest::Client::new()
            .post(format!("{url}/audio-webhook"))
            .header("content-type", &delivery.content_type)
            .header("authorization", authorization)
            .header("cookie", "session=cookie-value-42")
            .header("x-api-key", "api-key-value-42")
            .body(delivery.body.clone())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    })
}
