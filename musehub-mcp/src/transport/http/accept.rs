//! The accept loop: TCP connections served by hyper with the settings axum's `serve` does not
//! expose, and graceful shutdown.
//!
//! - TCP_NODELAY on every accepted socket: Nagle's algorithm plus delayed ACKs otherwise stalls
//!   small keep-alive responses by ~40 ms.
//! - A header read timeout (`ServerConfig::header_read_timeout`): a client that trickles its
//!   request headers (Slowloris) is cut off instead of holding a connection forever.
//! - A bounded connection buffer (`ServerConfig::http1_max_buf_bytes`, 8 KiB): hyper's
//!   default lets it grow to ~400 KiB and costs an idle SSE stream ~21 KiB; bounded, ~16 KiB,
//!   and request heads above the bound get 431.
//! - The peer address in each request's extensions (`ConnectInfo`), for anonymous callers'
//!   rate limits and per-address in-flight limits.
//! - Graceful shutdown: stop accepting, let in-flight calls finish, end every session after
//!   the grace period so open streams close, then return once connections are drained (or
//!   after a second grace period).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tower::ServiceExt;

use crate::server::Server;

/// Serves a router (it must include [`super::router`]'s route; the crate root's `router` adds
/// the documentation surfaces) until `shutdown` resolves. See the module docs for what the
/// loop adds.
pub async fn serve_router(
    server: Arc<Server>,
    app: Router,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    server.start();
    let header_timeout = server.config().header_read_timeout;
    let grace = server.config().shutdown_grace;
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .keep_alive(true)
        // hyper panics below its minimum, 8,192.
        .max_buf_size(server.config().http1_max_buf_bytes.max(8192));
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and similar: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::warn!(error = %e, "could not set TCP_NODELAY");
        }
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req.map(axum::body::Body::new))
        });
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, peer = %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down: no new connections; in-flight calls may finish");
    // Listen streams carry no call: they get their closing result at once. Sessions (with
    // their GET streams and pending requests) end after the grace period, so calls in flight
    // can still use them.
    server.shutdown.cancel();
    // GET streams carry no call either: end their connections now (the sessions stay, so a
    // client can resume elsewhere with Last-Event-ID) instead of holding the shutdown.
    for session in server.sessions.all() {
        session.standalone().disconnect_readers();
    }
    let closer = server.clone();
    tokio::spawn(async move {
        tokio::time::sleep(grace).await;
        closer.shutdown().await;
    });
    if tokio::time::timeout(grace * 2, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace period; closing");
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
