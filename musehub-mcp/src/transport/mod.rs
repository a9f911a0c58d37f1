//! Transports: Streamable HTTP on axum, and stdio.

pub mod accept;
pub mod http;
pub mod http_modern;
pub mod stdio;

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;

/// Starts a call, in the request's span: it is polled once right here, and moved to a task
/// of its own only when it does not finish at once. Most tools answer without waiting, and
/// then no task is spawned and nothing crosses threads; a call that waits keeps running in
/// its task even if the HTTP request goes away (the handshake era can resume its stream;
/// the 2026-07-28 era cancels it through its token instead).
///
/// The call reports through its channel, so its output is ignored here. A panic outside the
/// handler's own guard (the engine catches tool panics) ends the call, and the channel
/// closing tells the request.
pub(crate) async fn start_call(call: impl Future<Output = ()> + Send + 'static) {
    let call = tracing::Instrument::instrument(call, tracing::Span::current());
    let mut call = Box::pin(AssertUnwindSafe(call).catch_unwind());
    if futures::poll!(call.as_mut()).is_pending() {
        tokio::spawn(call);
    }
}
