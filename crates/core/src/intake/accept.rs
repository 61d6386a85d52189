//! The accept loop: serves a router over HTTP/1.1 with the limits that keep
//! slow or abusive clients from starving real deliveries.
//!
//! - Request heads must arrive whole within [`Limits::header_timeout`] and
//!   stay under [`Limits::max_header_bytes`] and [`Limits::max_headers`];
//!   hyper answers a violation itself (431 or 400, no body) and closes the
//!   connection, and the fault is written to the tracing log with the peer.
//! - At most [`Limits::max_connections`] connections are served at once; a
//!   connection over the cap gets an immediate `503` JSON answer and is closed,
//!   so a flood of idle sockets cannot hold the listener.
//!
//! Body timeouts and the buffered-bytes budget live in the handler (`body`),
//! where they can answer with the JSON error format and reach the request log.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::settings::Limits;

/// Lets a handler close its connection without answering (a simulated drop).
#[derive(Debug, Clone)]
pub(crate) struct Hangup(Arc<tokio::sync::Notify>);

impl Hangup {
    /// Closes the connection this request came on.
    pub(crate) fn now(&self) {
        self.0.notify_one();
    }
}

const OVER_CAPACITY: &str = concat!(
    r#"{"error":"too_many_connections","#,
    r#""message":"Earshot is serving its maximum number of connections; retry shortly"}"#
);

/// Serves `router` on `listener` within `limits` until `shutdown` resolves,
/// then stops accepting and finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let connections = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        // A client that shuts its sending side right after the request (`nc -N`,
        // some proxies and load balancers) still reads the answer; without this
        // hyper takes the EOF for a hang-up and closes before answering.
        .half_close(true)
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .max_header_size(limits.max_header_bytes)
        .max_headers(limits.max_headers);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait for some to free up.
                    tracing::warn!(target: "earshot::intake", "accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tracing::warn!(target: "earshot::intake", "refused {peer}: {} connections already open", limits.max_connections);
            tokio::spawn(refuse(stream));
            continue;
        };
        let router = router.clone();
        let hangup = Hangup(Arc::new(tokio::sync::Notify::new()));
        let handle = hangup.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            request.extensions_mut().insert(handle.clone());
            router.clone().oneshot(request)
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            tokio::select! {
                result = connection => if let Err(e) = result {
                    tracing::warn!(target: "earshot::intake", "connection from {peer} closed by the HTTP layer: {e}");
                },
                // Dropping the connection closes the socket with no answer.
                () = hangup.0.notified() => tracing::info!(target: "earshot::intake", "hung up on {peer} (simulated drop)"),
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Answers 503 on a connection over the cap and closes it.
async fn refuse(mut stream: TcpStream) {
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         retry-after: 1\r\nconnection: close\r\n\r\n",
        OVER_CAPACITY.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(OVER_CAPACITY.as_bytes()).await;
    let _ = stream.shutdown().await;
    // Drain briefly so the close is a FIN the client can read past, not a reset.
    let mut sink = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}
