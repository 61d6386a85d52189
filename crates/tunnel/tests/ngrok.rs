//! ngrok in-process without the internet: no token is a clear error before
//! anything starts, and with a token the SDK really dials the ngrok service
//! address — here a loopback socket that is not ngrok — and the supervisor
//! reports the failure and retries. Reaching ngrok itself needs the network
//! and is not exercised here.

use std::time::Duration;

use earshot_tunnel::{Backoff, Provider, Status, Tunnel, TunnelError, TunnelOptions};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

#[test]
fn without_a_token_it_says_where_to_get_one() {
    let error = Provider::parse("ngrok", None, None).unwrap_err();
    assert!(matches!(error, TunnelError::NgrokTokenMissing));
    assert_eq!(error.code(), "ngrok_token_missing");
    let message = error.to_string();
    assert!(message.contains("https://dashboard.ngrok.com/get-started/your-authtoken"), "{message}");
    assert!(message.contains("NGROK_AUTHTOKEN"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_ngrok_service_is_reported_and_retried() {
    // Stands where ngrok's service would be: reads the first bytes, then hangs up.
    let service = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = service.local_addr().unwrap();
    let greeted = tokio::spawn(async move {
        let (mut socket, _) = service.accept().await.unwrap();
        let mut first = [0u8; 2];
        socket.read_exact(&mut first).await.unwrap();
        first
    });
    let Provider::Ngrok(mut config) = Provider::ngrok(Some("not-a-real-token"), None).unwrap() else { panic!("ngrok") };
    config.server_addr = Some(addr.to_string());
    let options = TunnelOptions {
        backoff: Backoff {
            initial: Duration::from_millis(200),
            max: Duration::from_secs(1),
            stable_after: Duration::from_secs(60),
        },
        ..TunnelOptions::default()
    };
    let tunnel = Tunnel::start(Provider::Ngrok(config), "127.0.0.1:8787".parse().unwrap(), options).unwrap();
    let mut status = tunnel.subscribe();
    let error = tokio::time::timeout(Duration::from_secs(20), status.wait_for(|s| matches!(s, Status::Error { .. })))
        .await
        .expect("an error status within 20 s")
        .unwrap()
        .clone();
    // A TLS record header (0x16 = handshake): the SDK opened its session to the configured address.
    assert_eq!(greeted.await.unwrap(), [0x16, 0x03]);
    let Status::Error { message } = error else { unreachable!() };
    assert!(message.starts_with("cannot reach ngrok: "), "{message}");
    assert!(message.ends_with("restarting in 0.2 s"), "{message}");
    let log: Vec<String> = tunnel.logs().into_iter().map(|l| l.text).collect();
    assert!(log.iter().any(|l| l == &format!("connecting to ngrok at {addr}")), "{log:?}");
    assert_eq!(tunnel.pid(), None, "ngrok runs in-process");
    tunnel.stop().await;
}
