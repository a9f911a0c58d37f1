//! Transports: Streamable HTTP on axum ([`http`]) and stdio ([`stdio`]). Both decode each
//! message once ([`crate::protocol::request`]), describe it to the engine and carry the
//! result, and whatever the call sends before it, back to the client.

#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "stdio")]
pub mod stdio;

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;

use crate::engine::{Reply, Started};
use crate::error::McpError;

/// Runs a call that sends nothing before its result, to its end. It is polled once right
/// here (most calls answer without waiting: no task is spawned and nothing crosses threads);
/// a call that waits moves to a task of its own, so it finishes even if the client goes away,
/// and its result is awaited.
pub(crate) async fn run_quiet(started: Started) -> Reply {
    let fut = match started {
        Started::Done(r) => return r,
        Started::Running(f) => f,
    };
    let mut fut = Box::pin(
        AssertUnwindSafe(tracing::Instrument::instrument(
            fut,
            tracing::Span::current(),
        ))
        .catch_unwind(),
    );
    if let std::task::Poll::Ready(r) = futures::poll!(fut.as_mut()) {
        return r.unwrap_or_else(|_| internal());
    }
    match tokio::spawn(fut).await {
        Ok(Ok(r)) => r,
        _ => internal(),
    }
}

fn internal() -> Reply {
    Reply::error(None, &McpError::internal("the request failed unexpectedly"))
}

/// Starts a call that may send messages before its result (it reports through its channel),
/// in the request's span: polled once here, and moved to a task of its own only when it does
/// not finish at once. A panic outside the handler's own guard ends the call, and the channel
/// closing tells the request.
pub(crate) async fn start_streaming(call: impl Future<Output = ()> + Send + 'static) {
    let call = tracing::Instrument::instrument(call, tracing::Span::current());
    let mut call = Box::pin(AssertUnwindSafe(call).catch_unwind());
    if futures::poll!(call.as_mut()).is_pending() {
        tokio::spawn(call);
    }
}
