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
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use futures::Stream;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::context::{Caller, Outgoing};
use crate::engine::modern::{self, Change, HEADER_MISMATCH, META_SUBSCRIPTION};
use crate::engine::{CallEnv, Server};
use crate::error::{McpError, codes};
use crate::protocol::jsonrpc::{self, Message, Request, encode_message, encode_response};

use super::http::VERSION_HEADER;

/// Routing rule between the eras, for a POST body that is one JSON object:
/// - an envelope in `params._meta` (`io.modelcontextprotocol/protocolVersion`) selects
///   2026-07-28, whatever the method (so an enveloped `initialize` is a removed method: 404);
/// - otherwise `initialize`, with or without an `MCP-Protocol-Version` header, selects the
///   handshake era (a legacy client never sends the envelope);
/// - otherwise an `MCP-Protocol-Version` header naming no handshake revision selects
///   2026-07-28 (its envelope is then missing: -32602), and anything else is handshake era.
pub fn is_modern_request(value: &Value, headers: &HeaderMap) -> bool {
    if modern::has_envelope(value.get("params").and_then(Value::as_object)) {
        return true;
    }
    if value.get("method").and_then(Value::as_str) == Some("initialize") {
        return false;
    }
    header_is_modern(headers)
}

/// Does the `MCP-Protocol-Version` header name something other than a handshake revision?
pub fn header_is_modern(headers: &HeaderMap) -> bool {
    match headers.get(VERSION_HEADER).map(|v| {
        v.to_str()
            .map(|s| s.parse::<crate::protocol::version::ProtocolVersion>())
    }) {
        None => false,
        Some(Ok(Ok(v))) => v.is_modern(),
        // Unknown or unreadable revisions are answered in the modern era, whose error
        // (-32022 with the supported list) tells any client what to use.
        Some(_) => true,
    }
}

fn error_response(status: StatusCode, id: Option<&Value>, error: McpError) -> Response {
    let body = match id {
        Some(id) => encode_response(id, &Err(error)),
        None => jsonrpc::encode_error_without_id(&error),
    };
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn mismatch(id: &Value, message: String) -> Response {
    error_response(
        StatusCode::BAD_REQUEST,
        Some(id),
        McpError::new(HEADER_MISMATCH, message),
    )
}

/// The HTTP status of a call's JSON-RPC error in this era: the errors the transport
/// binding names (unknown method 404; capability and version 400) change the status; any
/// other error is an ordinary JSON-RPC answer (200).
fn status_of(e: &McpError) -> StatusCode {
    match e.code {
        codes::METHOD_NOT_FOUND => StatusCode::NOT_FOUND,
        HEADER_MISMATCH | modern::MISSING_CAPABILITY | modern::UNSUPPORTED_VERSION => {
            StatusCode::BAD_REQUEST
        }
        _ => StatusCode::OK,
    }
}

/// Decodes a header value that may use the `=?base64?...?=` sentinel; `None` when the value
/// is not valid (non-ASCII bytes, bad Base64, not UTF-8).
pub fn decode_header_value(v: &HeaderValue) -> Option<String> {
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

/// Serves one modern POST body.
pub async fn post(
    server: Arc<Server>,
    headers: HeaderMap,
    value: Value,
    caller: Caller,
    addr: Option<std::net::IpAddr>,
) -> Response {
    let message = match jsonrpc::classify(value, server.config.max_id_bytes) {
        Ok(m) => m,
        Err(rej) => return error_response(StatusCode::BAD_REQUEST, rej.id.as_ref(), rej.error),
    };
    let req = match message {
        Message::Request(r) => r,
        // This revision defines no client notifications over HTTP; accepting and ignoring
        // one is what the transport says for a notification the server accepts.
        Message::Notification(_) => return StatusCode::ACCEPTED.into_response(),
        Message::Response { .. } => {
            return error_response(
                StatusCode::BAD_REQUEST,
                None,
                McpError::invalid_request(
                    "clients do not send responses in protocol revision 2026-07-28",
                ),
            );
        }
    };
    let id = req.id.clone();
    let header_version = headers
        .get(VERSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let envelope = match modern::envelope(req.params.as_ref()) {
        Ok(e) => e,
        Err(e) => {
            let err = match &header_version {
                Some(h)
                    if modern::modern_version(h).is_err()
                        && !modern::has_envelope(req.params.as_ref()) =>
                {
                    modern::unsupported_version(h)
                }
                _ => e,
            };
            return error_response(StatusCode::BAD_REQUEST, Some(&id), err);
        }
    };
    match &header_version {
        None => {
            return mismatch(
                &id,
                "Header mismatch: the MCP-Protocol-Version header is required".into(),
            );
        }
        Some(h) if *h != envelope.version => {
            return mismatch(
                &id,
                format!(
                    "Header mismatch: MCP-Protocol-Version header value '{}' does not match body value '{}'",
                    crate::util::truncate(h, 64),
                    crate::util::truncate(&envelope.version, 64)
                ),
            );
        }
        Some(_) => {}
    }
    let version = match modern::modern_version(&envelope.version) {
        Ok(v) => v,
        Err(e) => return error_response(StatusCode::BAD_REQUEST, Some(&id), e),
    };
    if let Err(r) = check_headers(&server, &headers, &req) {
        return r;
    }
    let cancel = CancellationToken::new();
    if req.method == "subscriptions/listen" {
        return listen(&server, &req);
    }
    if let Some(r) = super::http::gate_tool_call(&server, &req, &caller, addr).await {
        return r;
    }
    let (tx, mut rx) = mpsc::channel(server.config.request_queue.max(1));
    let env = CallEnv::modern(version, envelope, caller, Some(tx.clone()), cancel.clone());
    let task_server = server.clone();
    // The call task records the HTTP status its outcome deserves before sending it.
    let status = Arc::new(AtomicU16::new(200));
    let task_status = status.clone();
    let call = async move {
        let outcome = task_server.handle_modern(req, env).await;
        if let Err(e) = &outcome {
            task_status.store(status_of(e).as_u16(), Ordering::Release);
        }
        let _ = tx
            .send(Outgoing::Final(encode_response(&id, &outcome)))
            .await;
    };
    super::start_call(call).await;
    // Closing the response cancels the call (streamable-http.mdx, "Cancellation"): the guard
    // lives as long as this handler and then the response body.
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
        match tokio::time::timeout(server.config.stream_after, rx.recv()).await {
            Ok(Some(Outgoing::CloseStream)) => continue,
            Ok(Some(m)) => break Some(m),
            Ok(None) => {
                return error_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    None,
                    McpError::internal("the request ended without a response"),
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
            (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response()
        }
        Some(Outgoing::Message(first)) => {
            let body = Body::from_stream(request_stream(
                data_frame(&first),
                rx,
                guard,
                server.config.sse_heartbeat,
            ));
            sse(body)
        }
        Some(Outgoing::CloseStream) | None => {
            let opening = Bytes::from_static(b": working\n\n");
            let body = Body::from_stream(request_stream(
                opening,
                rx,
                guard,
                server.config.sse_heartbeat,
            ));
            sse(body)
        }
    }
}

fn sse(body: Body) -> Response {
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

fn data_frame(data: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(data.len() + 24);
    out.extend_from_slice(b"event: message\ndata: ");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\n\n");
    Bytes::from(out)
}

/// The SSE response of one call: an opening frame, its messages, then its response, then the
/// end. Not resumable in this era, so no event ids. Dropping the body drops the guard, which
/// cancels the call.
fn request_stream(
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

#[allow(clippy::result_large_err)]
fn check_headers(server: &Server, headers: &HeaderMap, req: &Request) -> Result<(), Response> {
    let id = &req.id;
    match headers.get("mcp-method").map(|v| v.to_str()) {
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
    let name_key = match req.method.as_str() {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        _ => None,
    };
    if let Some(key) = name_key {
        let body = req
            .params
            .as_ref()
            .and_then(|p| p.get(key))
            .and_then(Value::as_str)
            .unwrap_or("");
        match headers.get("mcp-name").map(decode_header_value) {
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
    if req.method == "tools/call" {
        let name = req
            .params
            .as_ref()
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if let Some(tool) = server.registry.tool(name) {
            let args = req
                .params
                .as_ref()
                .and_then(|p| p.get("arguments"))
                .and_then(Value::as_object);
            check_param_headers(headers, &tool.input_schema, args).map_err(|m| mismatch(id, m))?;
        }
    }
    Ok(())
}

/// `Mcp-Param-{Name}` headers for top-level arguments marked `x-mcp-header`: present and
/// equal (after Base64 decoding; integers compared numerically) whenever the body has a
/// non-null value.
fn check_param_headers(
    headers: &HeaderMap,
    schema: &Value,
    args: Option<&Map<String, Value>>,
) -> Result<(), String> {
    let Some(props) = schema.get("properties").and_then(Value::as_object) else {
        return Ok(());
    };
    for (prop, sub) in props {
        let Some(hname) = sub.get("x-mcp-header").and_then(Value::as_str) else {
            continue;
        };
        let header = format!("mcp-param-{}", hname.to_ascii_lowercase());
        let value = args.and_then(|a| a.get(prop)).filter(|v| !v.is_null());
        let given = headers.get(header.as_str());
        let Some(value) = value else {
            continue;
        };
        let Some(given) = given else {
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
/// opted-in change notifications, each tagged with the subscription id (the request id).
fn listen(server: &Arc<Server>, req: &Request) -> Response {
    let Some(requested) = req
        .params
        .as_ref()
        .and_then(|p| p.get("notifications"))
        .filter(|n| n.is_object())
    else {
        return error_response(
            StatusCode::BAD_REQUEST,
            Some(&req.id),
            McpError::invalid_params("subscriptions/listen needs a `notifications` filter object"),
        );
    };
    let filter = modern::agreed_filter(requested);
    let id = req.id.clone();
    let ack = encode_message(
        None,
        "notifications/subscriptions/acknowledged",
        &json!({ "notifications": filter, "_meta": { META_SUBSCRIPTION: id } }),
    );
    let changes = server.subscribe_changes();
    let heartbeat = server.config.sse_heartbeat;
    let shutdown = server.shutdown.clone();
    // Graceful closure (basic/patterns/subscriptions.mdx): when the server shuts down, the
    // listen request gets its result, tagged with the subscription id, and the stream ends.
    let closing = encode_response(
        &id,
        &Ok(json!({ "resultType": "complete", "_meta": server.modern_result_meta_with(META_SUBSCRIPTION, id.clone()) }).into()),
    );
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
                            let frame = data_frame(&notification(&c, &id));
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

fn notification(change: &Change, subscription: &Value) -> Bytes {
    let mut params = change.params();
    params.insert("_meta".into(), json!({ META_SUBSCRIPTION: subscription }));
    encode_message(None, &change.method(), &Value::Object(params))
}

/// GET and DELETE belong to the handshake era: a modern request gets 405.
pub fn method_not_allowed() -> Response {
    let mut r = error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        None,
        McpError::new(
            -32000,
            "Method Not Allowed: protocol revision 2026-07-28 uses POST only",
        ),
    );
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    r
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
        let schema = json!({"properties": {"region": {"type": "string", "x-mcp-header": "Region"}, "n": {"type": "integer", "x-mcp-header": "N"}}});
        let mut h = HeaderMap::new();
        h.insert("mcp-param-region", HeaderValue::from_static("us-west1"));
        h.insert("mcp-param-n", HeaderValue::from_static("42.0"));
        let args = json!({"region": "us-west1", "n": 42});
        assert_eq!(check_param_headers(&h, &schema, args.as_object()), Ok(()));
        let args = json!({"region": "eu", "n": 42});
        assert!(check_param_headers(&h, &schema, args.as_object()).is_err());
        let args = json!({"n": null});
        assert_eq!(
            check_param_headers(&HeaderMap::new(), &schema, args.as_object()),
            Ok(())
        );
        let args = json!({"region": "x"});
        assert!(check_param_headers(&HeaderMap::new(), &schema, args.as_object()).is_err());
    }
}
