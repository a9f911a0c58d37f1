//! Server-Sent Events. Handshake era: every stream is a resumable event log
//! ([`crate::session::events`]) read by one connection at a time, with a priming event for
//! revisions that have one, event ids for `Last-Event-ID`, and keep-alive comments. 2026-07-28:
//! one call's messages and response, no ids (nothing to resume), and closing the stream cancels
//! the call.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use futures::Stream;
use std::sync::Arc;
use tokio::sync::mpsc;

use crate::handler::ctx::Outgoing;
use crate::protocol::http::SESSION_HEADER;
use crate::server::Server;
use crate::session::Session;
use crate::session::events::{EventStream, Read};

pub(super) fn sse_response(
    server: &Server,
    session: &Session,
    stream: Arc<EventStream>,
    after: u64,
    reader: u64,
    primed: bool,
    slot: Option<crate::session::StreamSlot>,
) -> Response {
    let body = Body::from_stream(sse_frames(
        stream,
        after,
        reader,
        primed.then_some(server.config().sse_retry_ms),
        server.config().sse_heartbeat,
        session.closed().clone(),
        slot,
    ));
    let mut r = Response::new(body);
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(session.id()) {
        h.insert(SESSION_HEADER, v);
    }
    r
}

/// Formats one stored event as an SSE frame.
fn frame(stream: &EventStream, seq: u64, data: &[u8]) -> Bytes {
    let id = stream.event_id(seq);
    let mut out = Vec::with_capacity(data.len() + id.len() + 32);
    out.extend_from_slice(b"event: message\nid: ");
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(b"\ndata: ");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

struct Reader {
    stream: Arc<EventStream>,
    cursor: u64,
    generation: u64,
    tick: tokio::sync::watch::Receiver<u64>,
    queued: std::collections::VecDeque<Bytes>,
    heartbeat: Duration,
    closed: tokio_util::sync::CancellationToken,
    done: bool,
    // Held for the connection's life: counts against the session's stream limit.
    _slot: Option<crate::session::StreamSlot>,
}

/// The frames of one SSE connection: an optional priming event (an id and empty data, with
/// `retry`), then the stream's events after `after`, live, with keep-alive comments, until
/// the stream finishes, a newer connection takes over, or the session ends.
fn sse_frames(
    stream: Arc<EventStream>,
    after: u64,
    generation: u64,
    retry_ms: Option<u64>,
    heartbeat: Duration,
    closed: tokio_util::sync::CancellationToken,
    slot: Option<crate::session::StreamSlot>,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
    let mut queued = std::collections::VecDeque::new();
    if let Some(ms) = retry_ms {
        queued.push_back(Bytes::from(format!(
            "id: {}\nretry: {ms}\ndata: \n\n",
            stream.event_id(after)
        )));
    }
    let reader = Reader {
        tick: stream.subscribe(),
        stream,
        cursor: after,
        generation,
        queued,
        heartbeat,
        closed,
        done: false,
        _slot: slot,
    };
    futures::stream::unfold(reader, |mut r| async move {
        loop {
            if let Some(b) = r.queued.pop_front() {
                return Some((Ok(b), r));
            }
            if r.done || !r.stream.is_current_reader(r.generation) {
                return None;
            }
            r.tick.borrow_and_update();
            match r.stream.read_after(r.cursor) {
                Read::Events(events) if !events.is_empty() => {
                    for (seq, data) in events {
                        r.cursor = seq;
                        r.queued.push_back(frame(&r.stream, seq, &data));
                    }
                    continue;
                }
                Read::Finished => {
                    r.done = true;
                    continue;
                }
                Read::Lost => {
                    // The client fell too far behind the bounded log: resume from the oldest
                    // event still kept rather than fail the stream.
                    tracing::warn!(stream = %r.stream.id(), "events lost to the replay bound");
                    r.cursor = r.stream.first_seq().saturating_sub(1);
                    continue;
                }
                Read::Events(_) => {}
            }
            tokio::select! {
                changed = r.tick.changed() => {
                    if changed.is_err() {
                        r.done = true;
                    }
                }
                _ = tokio::time::sleep(r.heartbeat) => {
                    return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), r));
                }
                _ = r.closed.cancelled() => {
                    r.done = true;
                }
            }
        }
    })
}

/// A `text/event-stream` response (2026-07-28: not resumable, no event ids).
pub(super) fn sse(body: Body) -> Response {
    let mut r = Response::new(body);
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Tells nginx-like proxies not to buffer the stream (streamable-http.mdx).
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    r
}

/// One SSE `message` event without an id.
pub(super) fn data_frame(data: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(data.len() + 24);
    out.extend_from_slice(b"event: message\ndata: ");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

/// The SSE response of one call: an opening frame, its messages, then its response, then the
/// end. Not resumable in this era, so no event ids. Dropping the body drops the guard, which
/// cancels the call.
pub(super) fn request_stream(
    first: Bytes,
    rx: mpsc::Receiver<Outgoing>,
    guard: tokio_util::sync::DropGuard,
    heartbeat: Duration,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
    let state = (Some(first), rx, Some(guard), false);
    futures::stream::unfold(state, move |(mut first, mut rx, guard, done)| async move {
        if done {
            return None;
        }
        if let Some(b) = first.take() {
            return Some((Ok(b), (None, rx, guard, false)));
        }
        loop {
            tokio::select! {
                msg = rx.recv() => match msg {
                    Some(Outgoing::Message(b)) => return Some((Ok(data_frame(&b)), (None, rx, guard, false))),
                    Some(Outgoing::Final(b)) => {
                        // The call finished: nothing to cancel any more.
                        if let Some(g) = guard {
                            g.disarm();
                        }
                        return Some((Ok(data_frame(&b)), (None, rx, None, true)));
                    }
                    Some(Outgoing::CloseStream) => continue,
                    None => return None,
                },
                _ = tokio::time::sleep(heartbeat) => {
                    return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), (None, rx, guard, false)));
                }
            }
        }
    })
}

/// The SSE response of a call that sends nothing before its result but outlasted
/// `stream_after`: an opening comment, keep-alive comments while it runs (so a client that
/// went away is noticed), then its response. Dropping the body drops the guard, which cancels
/// the call.
pub(super) fn quiet_stream(
    call: tokio::task::JoinHandle<Bytes>,
    guard: tokio_util::sync::DropGuard,
    heartbeat: Duration,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
    let state = (
        Some(Bytes::from_static(b": working\n\n")),
        Some(call),
        Some(guard),
    );
    futures::stream::unfold(state, move |(opening, call, guard)| async move {
        if let Some(b) = opening {
            return Some((Ok(b), (None, call, guard)));
        }
        let mut call = call?;
        tokio::select! {
            done = &mut call => {
                // The call finished: nothing to cancel any more.
                if let Some(g) = guard {
                    g.disarm();
                }
                let reply = done.unwrap_or_else(|_| Bytes::new());
                Some((Ok(data_frame(&reply)), (None, None, None)))
            }
            _ = tokio::time::sleep(heartbeat) => {
                Some((Ok(Bytes::from_static(b": keep-alive\n\n")), (None, Some(call), guard)))
            }
        }
    })
}
