//! Streamable HTTP for the 2026-07-28 era (basic/transports/streamable-http.mdx of that
//! revision): stateless POSTs, request metadata mirrored into headers, responses that are
//! JSON or a non-resumable SSE stream whose closing cancels the call, and
//! `subscriptions/listen` streams.
//!
//! Validation order, cheapest and most specific first: envelope (-32602), `MCP-Protocol-Version`
//! header against the envelope (-32020), revision supported (-32022), `Mcp-Method` and
//! `Mcp-Name` (-32020), `Mcp-Param-*` of `x-mcp-header` tool arguments (-32020), then
//! dispatch (-32601 answers 404). Each rejection is `400 Bad Request` unless noted.

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::guard::{gate_tool, header_str};
use super::reply::{json, method_not_allowed, rpc_error};
use super::sse::{data_frame, quiet_stream, request_stream, sse};
use crate::engine::{CallEnv, Prepared, Reply, Started, changes};
use crate::error::{McpError, codes};
use crate::handler::ctx::{Caller, Outgoing};
use crate::protocol::http::{METHOD_HEADER, NAME_HEADER, PARAM_HEADER_PREFIX, VERSION_HEADER};
use crate::protocol::modern::{
    Envelope, HEADER_MISMATCH, MISSING_CAPABILITY, UNSUPPORTED_VERSION, agreed_filter,
    modern_version, unsupported_version,
};
use crate::protocol::request::{ClientRequest, Incoming, ListenParams, Request};
use crate::protocol::version::ProtocolVersion;
use crate::server::Server;

/// Does the `MCP-Protocol-Version` header name something other than a handshake revision?
/// Unknown or unreadable revisions are answered in this era, whose error (-32022 with the
/// supported list) tells any client what to use.
pub(super) fn header_is_modern(headers: &HeaderMap) -> bool {
    match headers
        .get(VERSION_HEADER)
        .map(|v| v.to_str().map(|s| s.parse::<ProtocolVersion>()))
    {
        None => false,
        Some(Ok(Ok(v))) => v.is_modern(),
        Some(_) => true,
    }
}

fn mismatch(id: &Value, message: String) -> Response {
    rpc_error(
        StatusCode::BAD_REQUEST,
        Some(id),
        &McpError::new(HEADER_MISMATCH, message),
    )
}

/// The HTTP status of a call's JSON-RPC error in this era: the errors the transport binding
/// names (unknown method 404; capability and version 400) change the status; any other
/// error is an ordinary JSON-RPC answer (200).
fn status_of(reply: &Reply) -> StatusCode {
    match reply.error {
        Some(codes::METHOD_NOT_FOUND) => StatusCode::NOT_FOUND,
        Some(HEADER_MISMATCH | MISSING_CAPABILITY | UNSUPPORTED_VERSION) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    }
}

/// Decodes a header value that may use the `=?base64?...?=` sentinel; `None` when the value
/// is not valid (non-ASCII bytes, bad Base64, not UTF-8).
pub(super) fn decode_header_value(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    match s
        .strip_prefix("=?base64?")
        .and_then(|r| r.strip_suffix("?="))
    {
        Some(b64) => {
            let raw = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
            String::from_utf8(raw).ok()
        }
        None => Some(s.to_string()),
    }
}

/// One 2026-07-28 POST message.
pub(super) async fn post(
    server: &Arc<Server>,
    headers: &HeaderMap,
    message: Incoming<'_>,
    caller: Caller,
    addr: Option<IpAddr>,
) -> Response {
    let req = match message {
        Incoming::Request(r) => r,
        // This revision defines no client notifications over HTTP; accepting and ignoring
        // one is what the transport says for a notification the server accepts.
        Incoming::Notification(_) => return StatusCode::ACCEPTED.into_response(),
        Incoming::Response(_) => {
            return rpc_error(
                StatusCode::BAD_REQUEST,
                None,
                &McpError::invalid_request(
                    "clients do not send responses in protocol revision 2026-07-28",
                ),
            );
        }
    };
    let header_version = header_str(headers, VERSION_HEADER);
    let envelope = match Envelope::read(&req.meta) {
        Ok(e) => e,
        Err(e) => {
            let err = match header_version {
                Some(h) if modern_version(h).is_err() && !req.meta.has_envelope() => {
                    unsupported_version(h)
                }
                _ => e,
            };
            return rpc_error(StatusCode::BAD_REQUEST, Some(&req.id), &err);
        }
    };
    match header_version {
        None => {
            return mismatch(
                &req.id,
                "Header mismatch: the MCP-Protocol-Version header is required".into(),
            );
        }
        Some(h) if h != envelope.version => {
            return mismatch(
                &req.id,
                format!(
                    "Header mismatch: MCP-Protocol-Version header value '{}' does not match body value '{}'",
                    crate::util::truncate(h, 64),
                    crate::util::truncate(&envelope.version, 64)
                ),
            );
        }
        Some(_) => {}
    }
    let version = match modern_version(&envelope.version) {
        Ok(v) => v,
        Err(e) => return rpc_error(StatusCode::BAD_REQUEST, Some(&req.id), &e),
    };
    let prepared = server.engine.prepare(req);
    if let Err(r) = check_headers(headers, &prepared) {
        return r;
    }
    let Prepared { req, tool } = prepared;
    let req = match req {
        Request {
            id,
            params: Ok(ClientRequest::Listen(p)),
            ..
        } => return listen(server, id, p),
        req => req,
    };
    let prepared = Prepared { req, tool };
    if let Some(tool) = prepared.tool
        && let Some(r) = gate_tool(server, &prepared.req.id, tool, &caller, addr).await
    {
        return r;
    }
    server.ensure_state_key().await;
    run(server, prepared, version, envelope, caller).await
}

/// Runs one call: JSON when it finishes with nothing sent first, otherwise SSE. Closing the
/// response cancels the call (streamable-http.mdx, "Cancellation").
async fn run(
    server: &Arc<Server>,
    prepared: Prepared<'_>,
    version: ProtocolVersion,
    envelope: Envelope,
    caller: Caller,
) -> Response {
    let cancel = CancellationToken::new();
    if !prepared.may_stream() {
        let env = CallEnv::modern(version, envelope, caller, None, cancel.clone());
        return run_quiet(server, server.engine.start(prepared, env), cancel).await;
    }
    let (tx, mut rx) = mpsc::channel(server.config().request_queue.max(1));
    let env = CallEnv::modern(version, envelope, caller, Some(tx.clone()), cancel.clone());
    let fut = match server.engine.start(prepared, env) {
        Started::Done(reply) => return json(status_of(&reply), reply.bytes),
        Started::Running(fut) => fut,
    };
    // The call records the HTTP status its outcome deserves before sending it.
    let status = Arc::new(AtomicU16::new(200));
    let task_status = status.clone();
    super::super::start_streaming(async move {
        let reply = fut.await;
        task_status.store(status_of(&reply).as_u16(), Ordering::Release);
        let _ = tx.send(Outgoing::Final(reply.bytes)).await;
    })
    .await;
    // The guard lives as long as this handler and then the response body.
    let guard = cancel.drop_guard();
    // A call that finished while it was started needs no timer.
    let mut done = rx.try_recv().ok();
    let first = loop {
        if let Some(m) = done.take() {
            match m {
                Outgoing::CloseStream => continue,
                m => break Some(m),
            }
        }
        match tokio::time::timeout(server.config().stream_after, rx.recv()).await {
            Ok(Some(Outgoing::CloseStream)) => continue,
            Ok(Some(m)) => break Some(m),
            Ok(None) => {
                return rpc_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    None,
                    &McpError::internal("the request ended without a response"),
                );
            }
            // Still running: stream, so that the connection is written to and a client that
            // closes it is noticed (and the call cancelled through the guard).
            Err(_) => break None,
        }
    };
    match first {
        Some(Outgoing::Final(bytes)) => {
            let status =
                StatusCode::from_u16(status.load(Ordering::Acquire)).unwrap_or(StatusCode::OK);
            json(status, bytes)
        }
        Some(Outgoing::Message(first)) => sse(Body::from_stream(request_stream(
            data_frame(&first),
            rx,
            guard,
            server.config().sse_heartbeat,
        ))),
        Some(Outgoing::CloseStream) | None => sse(Body::from_stream(request_stream(
            Bytes::from_static(b": working\n\n"),
            rx,
            guard,
            server.config().sse_heartbeat,
        ))),
    }
}

/// A call that sends nothing before its result: JSON when it answers within
/// `stream_after`, otherwise SSE with keep-alive comments until it does, so that a client
/// that closes the connection is noticed and the call cancelled.
async fn run_quiet(server: &Server, started: Started, cancel: CancellationToken) -> Response {
    let fut = match started {
        Started::Done(reply) => return json(status_of(&reply), reply.bytes),
        Started::Running(fut) => fut,
    };
    let mut fut = Box::pin(tracing::Instrument::instrument(
        fut,
        tracing::Span::current(),
    ));
    if let std::task::Poll::Ready(reply) = futures::poll!(fut.as_mut()) {
        return json(status_of(&reply), reply.bytes);
    }
    // The guard lives as long as this handler and then the response body.
    let guard = cancel.drop_guard();
    let status = Arc::new(AtomicU16::new(200));
    let task_status = status.clone();
    let mut call = tokio::spawn(async move {
        let reply = fut.await;
        task_status.store(status_of(&reply).as_u16(), Ordering::Release);
        reply.bytes
    });
    match tokio::time::timeout(server.config().stream_after, &mut call).await {
        Ok(Ok(bytes)) => {
            let status =
                StatusCode::from_u16(status.load(Ordering::Acquire)).unwrap_or(StatusCode::OK);
            json(status, bytes)
        }
        Ok(Err(_)) => rpc_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            &McpError::internal("the request failed unexpectedly"),
        ),
        Err(_) => sse(Body::from_stream(quiet_stream(
            call,
            guard,
            server.config().sse_heartbeat,
        ))),
    }
}

#[allow(clippy::result_large_err)]
fn check_headers(headers: &HeaderMap, prepared: &Prepared<'_>) -> Result<(), Response> {
    let req = &prepared.req;
    let id = &req.id;
    match headers.get(METHOD_HEADER).map(|v| v.to_str()) {
        None => {
            return Err(mismatch(
                id,
                "Header mismatch: the Mcp-Method header is required".into(),
            ));
        }
        Some(Ok(m)) if m.trim() == req.method => {}
        Some(_) => {
            return Err(mismatch(
                id,
                format!(
                    "Header mismatch: Mcp-Method header value does not match body value '{}'",
                    crate::util::truncate(&req.method, 64)
                ),
            ));
        }
    }
    let body_name: Option<&str> = match (&*req.method, &req.params) {
        ("tools/call", Ok(ClientRequest::CallTool(p))) => Some(&p.name),
        ("prompts/get", Ok(ClientRequest::GetPrompt(p))) => Some(&p.name),
        ("resources/read", Ok(ClientRequest::ReadResource(p))) => Some(&p.uri),
        ("tools/call" | "prompts/get" | "resources/read", _) => Some(""),
        _ => None,
    };
    if let Some(body) = body_name {
        match headers.get(NAME_HEADER).map(decode_header_value) {
            None => {
                return Err(mismatch(
                    id,
                    "Header mismatch: the Mcp-Name header is required".into(),
                ));
            }
            Some(Some(v)) if v.trim() == body => {}
            Some(_) => {
                return Err(mismatch(
                    id,
                    format!(
                        "Header mismatch: Mcp-Name header value does not match body value '{}'",
                        crate::util::truncate(body, 128)
                    ),
                ));
            }
        }
    }
    if let (Some(tool), Ok(ClientRequest::CallTool(p))) = (prepared.tool, &req.params)
        && !tool.header_args.is_empty()
    {
        // Only tools with `#[arg(header)]` arguments read their arguments here.
        let args: Option<serde_json::Map<String, Value>> =
            p.arguments.and_then(|a| serde_json::from_str(a.get()).ok());
        check_param_headers(headers, &tool.header_args, args.as_ref())
            .map_err(|m| mismatch(id, m))?;
    }
    Ok(())
}

/// `Mcp-Param-{Name}` headers for top-level arguments marked `x-mcp-header`: present and
/// equal (after Base64 decoding; numbers compared numerically) whenever the body has a
/// non-null value.
fn check_param_headers(
    headers: &HeaderMap,
    header_args: &[(String, String)],
    args: Option<&serde_json::Map<String, Value>>,
) -> Result<(), String> {
    for (prop, hname) in header_args {
        let header = format!("{PARAM_HEADER_PREFIX}{}", hname.to_ascii_lowercase());
        let Some(value) = args.and_then(|a| a.get(prop)).filter(|v| !v.is_null()) else {
            continue;
        };
        let Some(given) = headers.get(header.as_str()) else {
            return Err(format!(
                "Header mismatch: the Mcp-Param-{hname} header is required"
            ));
        };
        let Some(text) = decode_header_value(given) else {
            return Err(format!(
                "Header mismatch: Mcp-Param-{hname} has invalid characters"
            ));
        };
        let ok = match value {
            Value::String(s) => *s == text,
            Value::Bool(b) => text == if *b { "true" } else { "false" },
            Value::Number(n) => match (n.as_f64(), text.trim().parse::<f64>()) {
                (Some(a), Ok(b)) => a == b,
                _ => false,
            },
            _ => false,
        };
        if !ok {
            return Err(format!(
                "Header mismatch: Mcp-Param-{hname} header value does not match the body"
            ));
        }
    }
    Ok(())
}

/// `subscriptions/listen`: an SSE stream that acknowledges the agreed filter, then carries the
/// opted-in change notifications, each tagged with the subscription id (the request id), and
/// ends with the listen result when the server shuts down.
fn listen(server: &Arc<Server>, id: Value, p: ListenParams) -> Response {
    let filter = agreed_filter(&p.notifications);
    let ack = changes::acknowledgement(&filter, &id);
    let closing = changes::closing(&id, server.modern_result_meta());
    let changes = server.subscribe_changes();
    let heartbeat = server.config().sse_heartbeat;
    let shutdown = server.shutdown.clone();
    let state = (Some(ack), changes, filter, id, shutdown);
    let stream = futures::stream::unfold(state, move |(ack, mut changes, filter, id, shutdown)| {
        let closing = closing.clone();
        async move {
            if shutdown.is_cancelled() {
                return None;
            }
            if let Some(a) = ack {
                return Some((
                    Ok::<_, Infallible>(data_frame(&a)),
                    (None, changes, filter, id, shutdown),
                ));
            }
            loop {
                tokio::select! {
                    change = changes.recv() => match change {
                        Ok(c) if c.wanted_by(&filter) => {
                            let frame = data_frame(&c.tagged(&id));
                            return Some((Ok(frame), (None, changes, filter, id, shutdown)));
                        }
                        Ok(_) => continue,
                        // A listener too slow for the buffer is cut off; it re-listens and re-reads.
                        Err(_) => return None,
                    },
                    _ = tokio::time::sleep(heartbeat) => {
                        return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), (None, changes, filter, id, shutdown)));
                    }
                    _ = shutdown.cancelled() => {
                        return Some((Ok(data_frame(&closing)), (None, changes, filter, id, shutdown)));
                    }
                }
            }
        }
    });
    sse(Body::from_stream(stream))
}

/// GET and DELETE belong to the handshake era: a modern request gets 405.
pub(super) fn get_or_delete() -> Response {
    method_not_allowed(
        "POST",
        "Method Not Allowed: protocol revision 2026-07-28 uses POST only",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_decode_the_base64_sentinel() {
        let v = HeaderValue::from_static("=?base64?SGVsbG8sIOS4lueVjA==?=");
        assert_eq!(decode_header_value(&v).as_deref(), Some("Hello, 世界"));
        assert_eq!(
            decode_header_value(&HeaderValue::from_static("us-west1")).as_deref(),
            Some("us-west1")
        );
        assert_eq!(
            decode_header_value(&HeaderValue::from_static("=?base64?!!!?=")),
            None
        );
    }

    #[test]
    fn param_headers_compare_by_type() {
        let args_of = |v: serde_json::Value| v.as_object().cloned();
        let header_args = vec![
            ("region".to_string(), "Region".to_string()),
            ("n".to_string(), "N".to_string()),
        ];
        let mut h = HeaderMap::new();
        h.insert("mcp-param-region", HeaderValue::from_static("us-west1"));
        h.insert("mcp-param-n", HeaderValue::from_static("42.0"));
        let ok = args_of(serde_json::json!({"region": "us-west1", "n": 42}));
        assert_eq!(check_param_headers(&h, &header_args, ok.as_ref()), Ok(()));
        let bad = args_of(serde_json::json!({"region": "eu", "n": 42}));
        assert!(check_param_headers(&h, &header_args, bad.as_ref()).is_err());
        let null = args_of(serde_json::json!({"n": null}));
        assert_eq!(
            check_param_headers(&HeaderMap::new(), &header_args, null.as_ref()),
            Ok(())
        );
        let missing = args_of(serde_json::json!({"region": "x"}));
        assert!(check_param_headers(&HeaderMap::new(), &header_args, missing.as_ref()).is_err());
    }
}
