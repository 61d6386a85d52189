//! The self-test against a "custom URL" that is really Earshot's listener on
//! loopback (earshot-core's intake on 127.0.0.1:0 with its own database):
//! the success path, and each failing hop named by what actually broke.

use std::time::Duration;

use axum::http::StatusCode;
use earshot_core::Store;
use earshot_core::{AuthConfig, AuthMode, DEFAULT_MAX_BODY, Secret};
use earshot_core::{Intake, IntakeConfig};
use earshot_tunnel::selftest::Outcome;
use earshot_tunnel::{Hop, Provider, SelfTest, SelfTestReport, webhook_url};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

const SECRET: &str = "the secret watsonx was given";

/// Earshot's listener on a free loopback port, stopped on drop.
struct Earshot {
    base: String,
    store: Store,
    _stop: oneshot::Sender<()>,
    _dir: TempDir,
}

async fn earshot(mode: AuthMode, max_body: usize) -> Earshot {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let secret = (mode != AuthMode::Off).then(|| Secret::new(SECRET).unwrap());
    let auth = AuthConfig::new(Some(mode), secret).unwrap();
    let intake = Intake::new(
        IntakeConfig { auth, max_body, forward: None },
        &store,
        earshot_core::system_clock(),
        earshot_core::Limits::default(),
    )
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(earshot_core::serve(listener, intake, async {
        let _ = stopped.await;
    }));
    Earshot { base, store, _stop: stop, _dir: dir }
}

/// A server that is not Earshot, answering every request with `status` and `body`.
async fn impostor(status: StatusCode, body: &'static str) -> (String, oneshot::Sender<()>) {
    let router = axum::Router::new().fallback(move || async move { (status, body) });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    (base, stop)
}

fn test(url: &str, secret: Option<&str>, store: Option<&Store>) -> SelfTest {
    SelfTest {
        url: url.to_string(),
        secret: secret.map(|s| Secret::new(s).unwrap()),
        store: store.cloned(),
        timeout: Duration::from_secs(10),
    }
}

fn outcome(report: &SelfTestReport, hop: Hop) -> Outcome {
    report.hops.iter().find(|line| line.hop == hop).unwrap().outcome
}

fn detail(report: &SelfTestReport, hop: Hop) -> &str {
    &report.hops.iter().find(|line| line.hop == hop).unwrap().detail
}

/// The base URL as a user would enter it for a custom tunnel.
fn public_webhook(base: &str) -> String {
    let Provider::Custom { base_url } = Provider::custom(base).unwrap() else { panic!("custom") };
    webhook_url(&base_url, earshot_tunnel::DEFAULT_WEBHOOK_PATH)
}

#[tokio::test]
async fn a_signed_request_reaches_earshot_verifies_and_is_stored_byte_exact() {
    let earshot = earshot(AuthMode::Enforce, DEFAULT_MAX_BODY).await;
    // By name, so the DNS hop does a real lookup (localhost resolves from /etc/hosts).
    let url = public_webhook(&earshot.base.replace("127.0.0.1", "localhost"));
    let report = test(&url, Some(SECRET), Some(&earshot.store)).run().await;
    assert!(report.ok, "{report:#?}");
    assert_eq!(report.failed_hop, None);
    for line in &report.hops {
        assert_eq!(line.outcome, Outcome::Passed, "{line:?}");
    }
    assert_eq!(report.http_status, Some(200));
    assert!(report.latency_ms.is_some_and(|ms| ms > 0.0 && ms < 10_000.0));
    assert!(report.summary.starts_with("ok: reached Earshot, token verified, stored as "), "{}", report.summary);
    assert!(detail(&report, Hop::Store).contains("byte-exact"));
    // What the user would find in Earshot: the recording, verified, under the webhook path.
    let stored = earshot.store.find_recording(&report.recording_id, None).unwrap();
    assert_eq!(stored.auth.verdict, earshot_core::TokenCheck::Valid);
    assert_eq!(stored.session_id, report.session_id);
    assert_eq!(stored.path, "/audio-webhook");
    assert_eq!(stored.duration_ms, 1000);
}

#[tokio::test]
async fn a_port_nobody_listens_on_fails_at_connect() {
    let free = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let report = test(&format!("http://127.0.0.1:{port}/audio-webhook"), Some(SECRET), None).run().await;
    assert!(!report.ok);
    assert_eq!(report.failed_hop, Some(Hop::Connect));
    assert_eq!(outcome(&report, Hop::Dns), Outcome::Passed);
    assert!(detail(&report, Hop::Connect).contains(&format!("cannot connect to 127.0.0.1:{port}")), "{report:#?}");
    for hop in [Hop::Tunnel, Hop::Auth, Hop::Parse, Hop::Store] {
        assert_eq!(outcome(&report, hop), Outcome::NotReached, "{hop:?}");
    }
    assert_eq!(report.http_status, None);
}

#[tokio::test]
async fn a_wrong_secret_fails_at_auth_and_stores_nothing() {
    let earshot = earshot(AuthMode::Enforce, DEFAULT_MAX_BODY).await;
    let report = test(&public_webhook(&earshot.base), Some("not the secret"), Some(&earshot.store)).run().await;
    assert_eq!(report.failed_hop, Some(Hop::Auth), "{report:#?}");
    assert_eq!(report.http_status, Some(401));
    assert_eq!(outcome(&report, Hop::Tunnel), Outcome::Passed);
    assert!(detail(&report, Hop::Auth).contains("invalid_token"), "{}", detail(&report, Hop::Auth));
    assert!(report.summary.starts_with("failed at auth: Earshot refused the token"), "{}", report.summary);
    assert!(earshot.store.find_recording(&report.recording_id, None).is_err());

    let unsigned = test(&public_webhook(&earshot.base), None, Some(&earshot.store)).run().await;
    assert_eq!(unsigned.failed_hop, Some(Hop::Auth));
    assert!(detail(&unsigned, Hop::Auth).contains("missing_token"));
}

#[tokio::test]
async fn observe_mode_accepts_a_wrong_secret_but_the_store_shows_the_verdict() {
    let earshot = earshot(AuthMode::Observe, DEFAULT_MAX_BODY).await;
    let report = test(&public_webhook(&earshot.base), Some("not the secret"), Some(&earshot.store)).run().await;
    assert_eq!(report.http_status, Some(200));
    assert_eq!(report.failed_hop, Some(Hop::Auth), "{report:#?}");
    assert!(detail(&report, Hop::Auth).contains("observe mode, but the token is invalid"));
    assert_eq!(outcome(&report, Hop::Store), Outcome::Passed);
}

#[tokio::test]
async fn auth_off_passes_with_the_token_unchecked() {
    let earshot = earshot(AuthMode::Off, DEFAULT_MAX_BODY).await;
    let report = test(&public_webhook(&earshot.base), Some(SECRET), Some(&earshot.store)).run().await;
    assert!(report.ok, "{report:#?}");
    assert_eq!(outcome(&report, Hop::Auth), Outcome::Unconfirmed);
    assert!(report.summary.contains("token not checked"));
}

#[tokio::test]
async fn a_body_earshot_refuses_fails_at_parse() {
    let earshot = earshot(AuthMode::Enforce, 2_000).await;
    let report = test(&public_webhook(&earshot.base), Some(SECRET), Some(&earshot.store)).run().await;
    assert_eq!(report.failed_hop, Some(Hop::Parse), "{report:#?}");
    assert_eq!(report.http_status, Some(413));
    assert!(detail(&report, Hop::Parse).contains("413 body_too_large"), "{}", detail(&report, Hop::Parse));
}

#[tokio::test]
async fn a_listener_that_is_not_earshot_fails_at_the_tunnel() {
    let (edge, _stop_edge) = impostor(StatusCode::BAD_GATEWAY, "<html><h1>502 Bad Gateway</h1></html>").await;
    let report = test(&public_webhook(&edge), Some(SECRET), None).run().await;
    assert_eq!(report.failed_hop, Some(Hop::Tunnel), "{report:#?}");
    assert_eq!(outcome(&report, Hop::Connect), Outcome::Passed);
    let said = detail(&report, Hop::Tunnel);
    assert!(said.contains("the tunnel answered 502 without reaching Earshot"), "{said}");
    assert!(said.contains("502 Bad Gateway"), "quotes the page: {said}");

    let (other, _stop_other) = impostor(StatusCode::OK, "hello from another app").await;
    let report = test(&public_webhook(&other), Some(SECRET), None).run().await;
    assert_eq!(report.failed_hop, Some(Hop::Tunnel));
    assert!(detail(&report, Hop::Tunnel).contains("leads to another server"));
}

#[tokio::test]
async fn another_earshots_database_does_not_have_the_recording() {
    let earshot = earshot(AuthMode::Enforce, DEFAULT_MAX_BODY).await;
    let elsewhere = tempfile::tempdir().unwrap();
    let other_store = Store::open(elsewhere.path()).unwrap();
    let report = test(&public_webhook(&earshot.base), Some(SECRET), Some(&other_store)).run().await;
    assert_eq!(report.failed_hop, Some(Hop::Store), "{report:#?}");
    assert!(detail(&report, Hop::Store).contains("leads to a different Earshot"));
    // Without a database to check, the same answer passes on Earshot's word.
    let trusting = test(&public_webhook(&earshot.base), Some(SECRET), None).run().await;
    assert!(trusting.ok);
    assert_eq!(outcome(&trusting, Hop::Auth), Outcome::Unconfirmed);
}

#[tokio::test]
async fn the_report_serialises_for_the_desktop() {
    let report = test("ftp://example.com/x", Some(SECRET), None).run().await;
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["failed_hop"], "dns");
    assert_eq!(json["hops"][0]["hop"], "dns");
    assert_eq!(json["hops"][0]["outcome"], "failed");
    assert_eq!(json["hops"][1]["outcome"], "not_reached");
    assert!(json["summary"].as_str().unwrap().contains("is not an http(s) URL"));
}
