//! Streamable HTTP in the handshake era (basic/transports.mdx of 2025-11-25): `initialize`
//! opens a session (`Mcp-Session-Id`), every later POST names it, `GET` opens the session's
//! server-to-client stream and `DELETE` ends it.
//!
//! A POST answers `application/json` unless the call sends something before its result
//! (progress, a log message, an elicitation or sampling request); only then does the response
//! become a resumable SSE stream, whose events outlive the connection.

use std::net::IpAddr;
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tokio::sync::mpsc;

use super::guard::{accepts, gate_tool, header_str};
use super::reply::{
    json, method_not_allowed, rpc_error, shared_unavailable, too_busy, transport_error,
};
use super::sse::sse_response;
use crate::engine::{CallEnv, Conversation, Prepared, Reply, Started};
use crate::error::McpError;
use crate::handler::ctx::{Caller, Outgoing};
use crate::protocol::http::{LAST_EVENT_ID, SESSION_HEADER, SESSION_NOT_FOUND};
use crate::protocol::jsonrpc::{encode_error, encode_value};
use crate::protocol::request::{ClientRequest, Incoming, Rejected, Request};
use crate::server::Server;
use crate::session::Session;
use crate::session::binding::{self, Binding};
use crate::session::events::parse_event_id;

/// Looks up the session named by `Mcp-Session-Id`: 400 when missing, 404 when unknown or
/// expired (the client then starts a new session).
///
/// Session binding ([`binding::check`]): a session created by an authenticated `initialize`
/// belongs to that handle. A request authenticated as another handle is 403; with
/// `owner_only` (GET and DELETE) an anonymous request is 401 too, so nobody but the owner can
/// read its stream or end it.
///
/// With a shared store, the session may have been created on another instance (it is then
/// replicated here from its record) or deleted there (404 here too); every use refreshes its
/// expiry in the store. The store unavailable is 503.
#[allow(clippy::result_large_err)]
pub(super) async fn session_of(
    server: &Server,
    headers: &HeaderMap,
    caller: &Caller,
    owner_only: bool,
) -> Result<Arc<Session>, Response> {
    let Some(id) = header_str(headers, SESSION_HEADER) else {
        return Err(transport_error(
            StatusCode::BAD_REQUEST,
            "Bad Request: Mcp-Session-Id header is required",
        ));
    };
    let found = match &server.backplane {
        None => server.sessions.get(id),
        Some(b) => match server.sessions.get(id) {
            Some(s) => match b.touch_session(id).await {
                Ok(true) => Some(s),
                Ok(false) => {
                    server.sessions.remove(id);
                    None
                }
                Err(e) => return Err(shared_unavailable(&e)),
            },
            None => match b.load_session(id).await {
                Ok(Some(record)) => match server.sessions.adopt(&record) {
                    Ok(s) => Some(s),
                    Err(e) => {
                        return Err(transport_error(
                            StatusCode::SERVICE_UNAVAILABLE,
                            &format!("Service Unavailable: {e}; retry later"),
                        ));
                    }
                },
                Ok(None) => None,
                Err(e) => return Err(shared_unavailable(&e)),
            },
        },
    };
    let Some(s) = found else {
        return Err(rpc_error(
            StatusCode::NOT_FOUND,
            None,
            &McpError::new(SESSION_NOT_FOUND, "Session not found"),
        ));
    };
    match binding::check(s.owner.as_deref(), caller, owner_only) {
        Binding::Allowed => {}
        Binding::OtherCaller => {
            return Err(transport_error(
                StatusCode::FORBIDDEN,
                "Forbidden: this session belongs to another caller",
            ));
        }
        Binding::NeedsCredentials => {
            return Err(server.auth.required(
                None,
                "this session belongs to an authenticated caller; send its credentials",
                &[],
            ));
        }
    }
    s.touch();
    Ok(s)
}

/// One handshake-era POST message.
pub(super) async fn post(
    server: &Arc<Server>,
    headers: &HeaderMap,
    message: Incoming<'_>,
    caller: Caller,
    addr: Option<IpAddr>,
) -> Response {
    let req = match message {
        Incoming::Request(req) if req.method == "initialize" => {
            return initialize(server, req, &caller).await;
        }
        Incoming::Request(req) => req,
        Incoming::Notification(n) => {
            let session = match session_of(server, headers, &caller, false).await {
                Ok(s) => s,
                Err(r) => return r,
            };
            let conversation: Arc<dyn Conversation> = session;
            server.engine.notification(&n, Some(&conversation));
            return StatusCode::ACCEPTED.into_response();
        }
        Incoming::Response(resp) => {
            let session = match session_of(server, headers, &caller, false).await {
                Ok(s) => s,
                Err(r) => return r,
            };
            return answer(server, &session, resp).await;
        }
    };
    let session = match session_of(server, headers, &caller, false).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let prepared = server.engine.prepare(req);
    if let Some(tool) = prepared.tool
        && let Some(r) = gate_tool(server, &prepared.req.id, tool, &caller, addr).await
    {
        return r;
    }
    run(server, session, prepared, caller).await
}

/// A client's answer to a server-to-client request: to the call waiting here, or through the
/// bus to the instance where it waits.
async fn answer(
    server: &Server,
    session: &Session,
    resp: crate::protocol::request::Response,
) -> Response {
    if !session.resolve_request(&resp.id, resp.outcome.clone()) {
        if let Some(b) = &server.backplane {
            let msg = crate::shared::BusMessage::Answer {
                session: session.id().to_string(),
                id: resp.id,
                answer: resp.outcome,
            };
            if let Err(e) = b.publish(msg).await {
                return shared_unavailable(&e);
            }
        } else {
            tracing::debug!(id = %resp.id, "response to no pending request ignored");
        }
    }
    StatusCode::ACCEPTED.into_response()
}

async fn initialize(server: &Arc<Server>, req: Request<'_>, caller: &Caller) -> Response {
    let params = match req.params {
        Ok(ClientRequest::Initialize(p)) => p,
        Ok(_) => unreachable_params(),
        Err(e) => return rpc_error(StatusCode::BAD_REQUEST, Some(&req.id), &e),
    };
    let (version, result) = match server.engine.negotiate(&params) {
        Ok(x) => x,
        Err(e) => return rpc_error(StatusCode::BAD_REQUEST, Some(&req.id), &e),
    };
    let owner = caller.handle().map(str::to_string);
    let session = match server.sessions.create(
        version,
        params.capabilities.unwrap_or_default(),
        params.client_info.unwrap_or_default(),
        owner,
    ) {
        Ok(s) => s,
        Err(e) => {
            let mut r = transport_error(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!("Service Unavailable: {e}; retry later"),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            return r;
        }
    };
    if let Some(b) = &server.backplane
        && let Err(e) = b.create_session(&session.to_record()).await
    {
        server.sessions.remove(session.id());
        return shared_unavailable(&e);
    }
    tracing::debug!(session = %session.id(), version = %version, "session created");
    let mut r = json(StatusCode::OK, encode_value(&req.id, &result));
    if let Ok(v) = HeaderValue::from_str(session.id()) {
        r.headers_mut().insert(SESSION_HEADER, v);
    }
    r
}

/// `initialize` always decodes to its own params.
fn unreachable_params() -> crate::protocol::request::InitializeParams {
    crate::protocol::request::InitializeParams::default()
}

/// The environment of a request on `session`.
fn env(
    session: &Arc<Session>,
    caller: Caller,
    outbound: Option<mpsc::Sender<Outgoing>>,
    cancel: tokio_util::sync::CancellationToken,
) -> CallEnv {
    let conversation: Arc<dyn Conversation> = session.clone();
    CallEnv::handshake(
        Some((
            conversation,
            session.protocol_version,
            session.client_capabilities.clone(),
        )),
        caller,
        outbound,
        cancel,
    )
}

/// Runs one request: answered with JSON, or with SSE once the call sends anything before its
/// result.
async fn run(
    server: &Arc<Server>,
    session: Arc<Session>,
    prepared: Prepared<'_>,
    caller: Caller,
) -> Response {
    let limit = server.config().max_in_flight_per_session;
    if session.in_flight() >= limit {
        return too_busy(&format!(
            "Too Many Requests: {limit} requests are already in flight on this session"
        ));
    }
    let id = prepared.req.id.clone();
    let cancel = session.start_request(&id);
    if !prepared.may_stream() {
        let started = server
            .engine
            .start(prepared, env(&session, caller, None, cancel));
        let reply = super::super::run_quiet(started).await;
        session.finish_request(&id);
        return json(StatusCode::OK, reply.bytes);
    }
    let (tx, mut rx) = mpsc::channel(server.config().request_queue.max(1));
    let started = server
        .engine
        .start(prepared, env(&session, caller, Some(tx.clone()), cancel));
    let first = match started {
        Started::Done(reply) => {
            session.finish_request(&id);
            return json(StatusCode::OK, reply.bytes);
        }
        Started::Running(fut) => {
            let task_session = session.clone();
            let task_id = id.clone();
            super::super::start_streaming(async move {
                let reply: Reply = fut.await;
                task_session.finish_request(&task_id);
                let _ = tx.send(Outgoing::Final(reply.bytes)).await;
            })
            .await;
            match rx.recv().await {
                Some(Outgoing::Final(bytes)) => return json(StatusCode::OK, bytes),
                Some(first) => first,
                None => {
                    return rpc_error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        Some(&id),
                        &McpError::internal("the request ended without a response"),
                    );
                }
            }
        }
    };
    stream(server, &session, first, rx)
}

/// The call is streaming: its events go to a resumable log that outlives this connection.
fn stream(
    server: &Arc<Server>,
    session: &Arc<Session>,
    first: Outgoing,
    mut rx: mpsc::Receiver<Outgoing>,
) -> Response {
    let stream = session.open_stream();
    let primed = session.protocol_version.has_sse_priming();
    let reader = stream.claim_reader();
    let pump_stream = stream.clone();
    let shared = server.backplane.clone();
    let session_id = session.id().to_string();
    tokio::spawn(async move {
        // With a shared store every event is logged there first (numbered by it), so a client
        // may resume this stream on any instance.
        let push = |b: Bytes| {
            let (shared, stream, session_id) = (&shared, &pump_stream, &session_id);
            async move {
                match shared {
                    Some(store) => match store.append_event(session_id, stream.id(), &b).await {
                        Ok(Some(seq)) => {
                            stream.merge(seq, b);
                        }
                        Ok(None) => {
                            stream.push(b);
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "event kept on this instance only");
                            stream.push(b);
                        }
                    },
                    None => {
                        stream.push(b);
                    }
                }
            }
        };
        let mut next = Some(first);
        loop {
            let msg = match next.take() {
                Some(m) => m,
                None => match rx.recv().await {
                    Some(m) => m,
                    None => break,
                },
            };
            match msg {
                Outgoing::Message(b) => push(b).await,
                Outgoing::Final(b) => {
                    push(b).await;
                    break;
                }
                // Only a client that got a priming event id can come back for the rest.
                Outgoing::CloseStream if primed => pump_stream.disconnect_readers(),
                Outgoing::CloseStream => {}
            }
        }
        pump_stream.finish();
        if let Some(store) = &shared
            && let Err(e) = store.finish_stream(&session_id, pump_stream.id()).await
        {
            tracing::warn!(error = %e, "stream end not shared");
        }
    });
    sse_response(server, session, stream, 0, reader, primed, None)
}

/// A JSON-RPC batch (2025-03-26 only).
pub(super) async fn batch(
    server: &Arc<Server>,
    headers: &HeaderMap,
    items: Vec<Result<Incoming<'_>, Rejected>>,
    caller: Caller,
) -> Response {
    if items.is_empty() {
        return rpc_error(
            StatusCode::BAD_REQUEST,
            None,
            &McpError::invalid_request("an empty batch is not a valid request"),
        );
    }
    let session = match session_of(server, headers, &caller, false).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !session.protocol_version.allows_batches() {
        return rpc_error(
            StatusCode::BAD_REQUEST,
            None,
            &McpError::invalid_request(format!(
                "JSON-RPC batches are not part of protocol revision {}",
                session.protocol_version
            )),
        );
    }
    let mut calls = Vec::new();
    let mut out: Vec<Bytes> = Vec::new();
    for item in items {
        match item {
            Ok(Incoming::Request(req)) if req.method == "initialize" => out.push(encode_error(
                Some(&req.id),
                &McpError::invalid_request("initialize cannot be part of a batch"),
            )),
            Ok(Incoming::Request(req)) => {
                let id = req.id.clone();
                let cancel = session.start_request(&id);
                let started = server.engine.start(
                    server.engine.prepare(req),
                    env(&session, caller.clone(), None, cancel),
                );
                let session = session.clone();
                calls.push(async move {
                    let reply = super::super::run_quiet(started).await;
                    session.finish_request(&id);
                    reply.bytes
                });
            }
            Ok(Incoming::Notification(n)) => {
                let conversation: Arc<dyn Conversation> = session.clone();
                server.engine.notification(&n, Some(&conversation));
            }
            Ok(Incoming::Response(resp)) => {
                session.resolve_request(&resp.id, resp.outcome);
            }
            Err(rej) => out.push(encode_error(rej.id.as_ref(), &rej.error)),
        }
    }
    out.extend(futures::future::join_all(calls).await);
    if out.is_empty() {
        return StatusCode::ACCEPTED.into_response();
    }
    let mut body = Vec::with_capacity(out.iter().map(|b| b.len() + 1).sum::<usize>() + 2);
    body.push(b'[');
    for (i, b) in out.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(b);
    }
    body.push(b']');
    json(StatusCode::OK, Bytes::from(body))
}

/// `GET`: the session's server-to-client stream, or with `Last-Event-ID` the rest of any of
/// its streams.
pub(super) async fn get(server: &Arc<Server>, headers: &HeaderMap, caller: &Caller) -> Response {
    if !accepts(headers, "text/event-stream") {
        return method_not_allowed(
            "GET, POST, DELETE",
            "Method Not Allowed: GET opens the server-to-client stream and needs Accept: text/event-stream",
        );
    }
    let session = match session_of(server, headers, caller, true).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let primed = session.protocol_version.has_sse_priming();
    let limit = server.config().max_streams_per_session;
    let Some(slot) = session.open_stream_slot(limit) else {
        return too_busy(&format!(
            "Too Many Requests: this session already has {limit} open streams; close one first"
        ));
    };
    match header_str(headers, LAST_EVENT_ID) {
        Some(last) => {
            let Some((stream_id, seq)) = parse_event_id(last) else {
                return transport_error(
                    StatusCode::BAD_REQUEST,
                    "Bad Request: malformed Last-Event-ID",
                );
            };
            let stream = match &server.backplane {
                None => session.stream(stream_id),
                Some(b) => match b.read_events(session.id(), stream_id, seq).await {
                    // The stream may have been written on another instance: follow a local
                    // copy, filled from the shared log and kept current by the bus.
                    Ok(Some(stored)) => {
                        let stream = session.adopt_stream(stream_id);
                        for (s, data) in stored.events {
                            stream.merge(s, data);
                        }
                        if stored.finished {
                            stream.finish();
                        }
                        Some(stream)
                    }
                    Ok(None) => session.stream(stream_id),
                    Err(e) => return shared_unavailable(&e),
                },
            };
            let Some(stream) = stream else {
                return transport_error(
                    StatusCode::BAD_REQUEST,
                    "Bad Request: Last-Event-ID names no stream of this session",
                );
            };
            let reader = stream.claim_reader();
            sse_response(server, &session, stream, seq, reader, false, Some(slot))
        }
        None => {
            let stream = session.standalone().clone();
            let reader = stream.claim_reader();
            let from = stream.next_seq().saturating_sub(1);
            sse_response(server, &session, stream, from, reader, primed, Some(slot))
        }
    }
}

/// `DELETE`: ends the session.
pub(super) async fn delete(server: &Arc<Server>, headers: &HeaderMap, caller: &Caller) -> Response {
    let session = match session_of(server, headers, caller, true).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Some(b) = &server.backplane
        && let Err(e) = b.delete_session(session.id()).await
    {
        return shared_unavailable(&e);
    }
    server.sessions.remove(session.id());
    tracing::debug!(session = %session.id(), "session deleted by client");
    StatusCode::OK.into_response()
}
