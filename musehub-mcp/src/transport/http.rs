//! Streamable HTTP (basic/transports.mdx of 2025-11-25): `POST`, `GET` and `DELETE` on one
//! endpoint, for every handshake-era revision.
//!
//! - `POST` answers `application/json` unless the call sends something before its result
//!   (progress, a log message, an elicitation or sampling request); only then does the
//!   response become `text/event-stream`. Plain JSON is the fast path and the common case.
//! - Every SSE stream is a resumable event log ([`crate::session::events`]): the request
//!   runs in its own task, so a dropped connection loses nothing, and `GET` with
//!   `Last-Event-ID` picks the stream up where the client left it.
//! - Guards run cheapest first: Host (421), Origin (403), method-specific headers (405, 406,
//!   415), body size (413), JSON (400), protocol version (400), session (400/404).

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use bytes::Bytes;
use futures::Stream;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::context::{Caller, Outgoing};
use crate::engine::{CallEnv, Server};
use crate::error::McpError;
use crate::protocol::jsonrpc::{
    self, Message, Request as RpcRequest, encode_error_without_id, encode_response,
};
use crate::session::Session;
use crate::session::events::{EventStream, Read, parse_event_id};

/// The session header (basic/transports.mdx, "Session Management").
pub const SESSION_HEADER: &str = "mcp-session-id";
/// The protocol revision header.
pub const VERSION_HEADER: &str = "mcp-protocol-version";
/// The resumption header.
pub const LAST_EVENT_ID: &str = "last-event-id";

/// JSON-RPC code for transport-level rejections (the code the official SDKs use).
const TRANSPORT_ERROR: i64 = -32000;
/// JSON-RPC code for an unknown or expired session (as the official SDKs).
const SESSION_NOT_FOUND: i64 = -32001;

/// The `/mcp` router for a server, with the documentation surfaces (`/mcp/docs`,
/// `/mcp/docs.json`, `/mcp/docs.schema.json`, `/mcp/docs.md`) unless the server was built with
/// [`crate::docs::DocsOptions::disabled`]. Build it once; it holds no per-request state.
pub fn router(server: Arc<Server>) -> Router {
    spawn_sweeper(&server);
    let docs = server
        .docs_options()
        .enabled()
        .then(|| crate::docs::router(&server));
    let mcp_routes = Router::new()
        .route("/mcp", any(mcp))
        .layer(axum::middleware::from_fn_with_state(server.clone(), guard))
        .with_state(server);
    match docs {
        Some(docs) => mcp_routes.merge(docs),
        None => mcp_routes,
    }
}

pub use super::accept::{serve, serve_listener, serve_router, shutdown_signal};

fn spawn_sweeper(server: &Arc<Server>) {
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let weak: Weak<Server> = Arc::downgrade(server);
    let every = server
        .config
        .session_sweep_interval
        .max(Duration::from_millis(10));
    handle.spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(server) = weak.upgrade() else { break };
            let mut n = server.sessions.sweep();
            // With a shared store, a replica idle here may be busy elsewhere: only the
            // store's expiry (or deletion) ends it.
            if let Some(b) = server.backplane.clone() {
                server.sync_state_key().await;
                for s in server.sessions.idle() {
                    if let Ok(false) = b.session_exists(s.id()).await {
                        server.sessions.remove(s.id());
                        n += 1;
                    }
                }
            }
            if n > 0 {
                tracing::debug!(expired = n, "idle sessions ended");
            }
        }
    });
    if let Some(b) = server.backplane.clone() {
        spawn_bus(handle, b, Arc::downgrade(server));
    }
}

/// Follows the shared bus: events for streams read here, answers for requests awaited here,
/// deletions. Ends when the server is dropped.
fn spawn_bus(
    handle: tokio::runtime::Handle,
    backplane: Arc<dyn crate::shared::Backplane>,
    weak: Weak<Server>,
) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    handle.spawn(backplane.listen(tx));
    handle.spawn(async move {
        while let Some(msg) = rx.recv().await {
            let Some(server) = weak.upgrade() else { break };
            match msg {
                crate::shared::BusMessage::Connected => {
                    server.sync_state_key().await;
                    server.resync().await;
                    server
                        .bus_up
                        .store(true, std::sync::atomic::Ordering::Release);
                }
                crate::shared::BusMessage::Disconnected => {
                    server
                        .bus_up
                        .store(false, std::sync::atomic::Ordering::Release);
                }
                msg => server.on_bus(msg),
            }
        }
    });
}

/// 503 for a request that needs the shared store while it is unavailable: the client retries.
fn shared_unavailable(e: &crate::shared::SharedError) -> Response {
    tracing::warn!(error = %e, "shared store unavailable");
    let mut r = transport_error(
        StatusCode::SERVICE_UNAVAILABLE,
        &format!("Service Unavailable: {e}; retry shortly"),
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

/// A JSON-RPC error response with an HTTP status.
fn rpc_error(status: StatusCode, id: Option<&Value>, error: McpError) -> Response {
    let body = match id {
        Some(id) => encode_response(id, &Err(error)),
        None => encode_error_without_id(&error),
    };
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn transport_error(status: StatusCode, message: &str) -> Response {
    rpc_error(status, None, McpError::new(TRANSPORT_ERROR, message))
}

/// The client's address (from the accept loop's `ConnectInfo`), for per-address limits.
/// Kept as an `IpAddr` on the hot path; [`ip_text`] formats it only for a rate limit.
fn client_addr(req: &Request) -> Option<IpAddr> {
    req.extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        // An IPv4 client of a dual-stack listener is `::ffff:a.b.c.d`: one key either way.
        .map(|c| c.0.ip().to_canonical())
}

/// An address as the rate limits key anonymous callers (`unknown` without one).
pub(crate) fn ip_text(addr: Option<IpAddr>) -> String {
    addr.map_or_else(|| "unknown".into(), |ip| ip.to_string())
}

/// The guards every `/mcp` request passes, cheapest first: Host (421) and Origin (403), then
/// the MSign signature when the server authenticates (401), then the caller's rate limit
/// (429). The request continues with its [`Caller`] in its extensions.
async fn guard(
    State(server): State<Arc<Server>>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    if let Err(r) = check_host(&server, req.headers(), req.uri()) {
        return r;
    }
    if let Err(r) = check_origin(&server, req.headers()) {
        return r;
    }
    let mut req = match &server.auth {
        Some(verifier) => {
            match crate::auth::authenticate(
                verifier,
                &server.info.name,
                server.config.max_body_bytes,
                req,
            )
            .await
            {
                Ok(r) => r,
                Err(r) => return r,
            }
        }
        None => req,
    };
    if req.extensions().get::<Caller>().is_none() {
        req.extensions_mut().insert(Caller::anonymous());
    }
    let addr = client_addr(&req);
    let Some(_in_flight) = server
        .in_flight_by_ip
        .acquire(addr, server.config.max_in_flight_per_ip)
    else {
        return too_busy("Too Many Requests: too many requests in flight from this address");
    };
    if let Some(limits) = &server.limits {
        let ip = ip_text(addr);
        let caller = req
            .extensions()
            .get::<Caller>()
            .cloned()
            .unwrap_or_default();
        if let Err(l) = limits
            .check_caller(&caller, &ip, server.backplane.as_deref())
            .await
        {
            return too_many_requests(&l);
        }
    }
    next.run(req).await
}

/// 429 for a concurrency limit (not a rate): retry shortly.
fn too_busy(message: &str) -> Response {
    let mut r = transport_error(StatusCode::TOO_MANY_REQUESTS, message);
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

/// 429 with `Retry-After` and the `RateLimit-*` headers.
pub(crate) fn too_many_requests(l: &crate::auth::Limited) -> Response {
    let secs = l.retry_after.as_secs() + u64::from(l.retry_after.subsec_nanos() > 0);
    let secs = secs.max(1);
    let mut r = rpc_error(
        StatusCode::TOO_MANY_REQUESTS,
        None,
        McpError::new(
            TRANSPORT_ERROR,
            format!(
                "Too Many Requests: the limit is {} per minute; retry after {secs} s",
                l.limit
            ),
        )
        .with_data(serde_json::json!({ "retryAfter": secs, "limit": l.limit })),
    );
    let h = r.headers_mut();
    for (name, value) in [
        ("retry-after", secs.to_string()),
        ("ratelimit-limit", l.limit.to_string()),
        ("ratelimit-remaining", "0".to_string()),
        ("ratelimit-reset", secs.to_string()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
    r
}

/// Gates a `tools/call` before any work: a write tool needs a signed caller (401 with the
/// challenge), and a tool with its own rate limit is checked (429).
pub(crate) async fn gate_tool_call(
    server: &Server,
    req: &RpcRequest,
    caller: &Caller,
    addr: Option<IpAddr>,
) -> Option<Response> {
    if req.method != "tools/call" {
        return None;
    }
    let name = req
        .params
        .as_ref()
        .and_then(|p| p.get("name"))
        .and_then(Value::as_str)?;
    let tool = server.registry.tool(name)?;
    if tool.def.write && !caller.is_authenticated() && server.auth.is_some() {
        let mut r = rpc_error(
            StatusCode::UNAUTHORIZED,
            Some(&req.id),
            McpError::new(
                crate::error::codes::UNAUTHORIZED,
                format!(
                    "Unauthorized: tool `{name}` changes data and needs a signed request (MSign)"
                ),
            ),
        );
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            crate::auth::challenge(&server.info.name),
        );
        return Some(r);
    }
    if let Some(limits) = &server.limits
        && let Err(l) = limits
            .check_tool(name, caller, &ip_text(addr), server.backplane.as_deref())
            .await
    {
        return Some(too_many_requests(&l));
    }
    None
}

async fn mcp(State(server): State<Arc<Server>>, req: Request) -> Response {
    let addr = client_addr(&req);
    let (parts, body) = req.into_parts();
    let caller = parts
        .extensions
        .get::<Caller>()
        .cloned()
        .unwrap_or_default();
    match parts.method {
        Method::POST => post(server, parts.headers, body, caller, addr).await,
        Method::GET => get(server, &parts.headers, &caller).await,
        Method::DELETE => delete(server, &parts.headers, &caller).await,
        _ => {
            let mut r = transport_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed: use POST, GET or DELETE",
            );
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, POST, DELETE"));
            r
        }
    }
}

fn is_loopback_host(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1")
}

/// Splits `host[:port]`, keeping IPv6 brackets.
fn hostname(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority.split_inclusive(']').next().unwrap_or(authority);
    }
    authority
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(authority)
}

/// DNS-rebinding protection (basic/transports.mdx, "Security Warning"): a browser tricked into
/// resolving an attacker's name to loopback still sends the attacker's name in `Host`.
#[allow(clippy::result_large_err)]
fn check_host(server: &Server, headers: &HeaderMap, uri: &http::Uri) -> Result<(), Response> {
    let authority = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()));
    let Some(authority) = authority else {
        return Err(transport_error(
            StatusCode::MISDIRECTED_REQUEST,
            "Invalid Host header: missing",
        ));
    };
    let host = hostname(authority).to_ascii_lowercase();
    let allowed = is_loopback_host(&host)
        || server.config.allowed_hosts.iter().any(|a| {
            a == "*" || a.eq_ignore_ascii_case(&host) || a.eq_ignore_ascii_case(authority)
        });
    if allowed {
        Ok(())
    } else {
        Err(transport_error(
            StatusCode::MISDIRECTED_REQUEST,
            "Invalid Host header: this server only answers to its configured host names",
        ))
    }
}

/// Origin validation: browsers send `Origin` on cross-site requests; only localhost and the
/// configured allow-list may call.
#[allow(clippy::result_large_err)]
fn check_origin(server: &Server, headers: &HeaderMap) -> Result<(), Response> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("");
    let host = origin
        .split_once("://")
        .map(|(_, rest)| hostname(rest.split('/').next().unwrap_or(rest)))
        .unwrap_or("")
        .to_ascii_lowercase();
    let allowed = is_loopback_host(&host)
        || server
            .config
            .allowed_origins
            .iter()
            .any(|a| a == "*" || a.eq_ignore_ascii_case(origin));
    if allowed {
        Ok(())
    } else {
        Err(transport_error(
            StatusCode::FORBIDDEN,
            "Forbidden: this Origin is not allowed",
        ))
    }
}

/// Does the `Accept` header admit `wanted` (`type/subtype`), counting wildcards?
fn accepts(headers: &HeaderMap, wanted: &str) -> bool {
    let (wt, _) = wanted.split_once('/').unwrap_or((wanted, ""));
    // Compared without allocating: this runs on every POST.
    headers.get_all(header::ACCEPT).iter().any(|v| {
        v.to_str().unwrap_or("").split(',').any(|item| {
            let mt = item.split(';').next().unwrap_or("").trim();
            mt.eq_ignore_ascii_case(wanted)
                || mt == "*/*"
                || mt
                    .split_once('/')
                    .is_some_and(|(t, sub)| sub == "*" && t.eq_ignore_ascii_case(wt))
        })
    })
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

// `MCP-Protocol-Version` in the handshake era: any revision we speak is accepted, even one
// other than the session's (clients may send an older one), and an absent header means
// 2025-03-26 (basic/transports.mdx, "Protocol Version Header"). A header naming anything
// else is routed to the modern era (`http_modern::header_is_modern`), which answers -32022
// with the supported list.

/// Looks up the session named by `Mcp-Session-Id`: 400 when missing, 404 when unknown or
/// expired (the client then starts a new session).
///
/// Session binding: a session created by a signed `initialize` belongs to that handle. A
/// request signed by another handle is 403; with `owner_only` (GET and DELETE) an unsigned
/// request is 401 too, so nobody but the owner can read its stream or end it.
///
/// With a shared store, the session may have been created on another instance (it is then
/// replicated here from its record) or deleted there (404 here too); every use refreshes its
/// expiry in the store. The store unavailable is 503.
#[allow(clippy::result_large_err)]
async fn session_of(
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
    match found {
        Some(s) => {
            if let Some(owner) = &s.owner {
                match caller.handle() {
                    Some(h) if h != owner => {
                        return Err(transport_error(
                            StatusCode::FORBIDDEN,
                            "Forbidden: this session belongs to another caller",
                        ));
                    }
                    None if owner_only => {
                        let mut r = rpc_error(
                            StatusCode::UNAUTHORIZED,
                            None,
                            McpError::new(
                                crate::error::codes::UNAUTHORIZED,
                                "Unauthorized: this session belongs to a signed caller; sign the request",
                            ),
                        );
                        r.headers_mut().insert(
                            header::WWW_AUTHENTICATE,
                            crate::auth::challenge(&server.info.name),
                        );
                        return Err(r);
                    }
                    _ => {}
                }
            }
            s.touch();
            Ok(s)
        }
        None => Err(rpc_error(
            StatusCode::NOT_FOUND,
            None,
            McpError::new(SESSION_NOT_FOUND, "Session not found"),
        )),
    }
}

async fn post(
    server: Arc<Server>,
    headers: HeaderMap,
    body: Body,
    caller: Caller,
    addr: Option<IpAddr>,
) -> Response {
    if !(accepts(&headers, "application/json") && accepts(&headers, "text/event-stream")) {
        return transport_error(
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable: the client must accept both application/json and text/event-stream",
        );
    }
    let json_body = header_str(&headers, header::CONTENT_TYPE.as_str())
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|mt| mt.trim().eq_ignore_ascii_case("application/json"));
    if !json_body {
        return transport_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type: Content-Type must be application/json",
        );
    }
    let limit = server.config.max_body_bytes;
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            return transport_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("Payload Too Large: the body exceeds {limit} bytes"),
            );
        }
    };
    let depth = server.config.max_json_depth;
    if jsonrpc::nesting_exceeds(&bytes, depth) {
        return rpc_error(
            StatusCode::BAD_REQUEST,
            None,
            McpError::invalid_request(format!(
                "Invalid Request: JSON nested deeper than {depth} levels"
            )),
        );
    }
    let value: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            return rpc_error(
                StatusCode::BAD_REQUEST,
                None,
                McpError::parse_error(format!("Parse error: {e}")),
            );
        }
    };
    if value.is_object() && super::http_modern::is_modern_request(&value, &headers) {
        return super::http_modern::post(server, headers, value, caller, addr).await;
    }
    if value.is_array() && super::http_modern::header_is_modern(&headers) {
        return rpc_error(
            StatusCode::BAD_REQUEST,
            None,
            McpError::invalid_request(
                "JSON-RPC batches are not part of protocol revision 2026-07-28",
            ),
        );
    }
    if let Value::Array(items) = value {
        return post_batch(server, &headers, items, caller).await;
    }
    let message = match jsonrpc::classify(value, server.config.max_id_bytes) {
        Ok(m) => m,
        Err(rej) => return rpc_error(StatusCode::BAD_REQUEST, rej.id.as_ref(), rej.error),
    };
    if let Message::Request(req) = &message
        && req.method == "initialize"
    {
        return initialize(&server, req, &caller).await;
    }
    let session = match session_of(&server, &headers, &caller, false).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match message {
        Message::Request(req) => {
            if let Some(r) = gate_tool_call(&server, &req, &caller, addr).await {
                return r;
            }
            request(server, session, req, caller).await
        }
        Message::Notification(n) => {
            server.handle_notification(&n, Some(&session));
            StatusCode::ACCEPTED.into_response()
        }
        Message::Response { id, outcome } => {
            if !session.resolve_request(&id, outcome.clone()) {
                if let Some(b) = &server.backplane {
                    // The call waiting for it may run on another instance (issue 8).
                    let msg = crate::shared::BusMessage::Answer {
                        session: session.id().to_string(),
                        id,
                        answer: outcome,
                    };
                    if let Err(e) = b.publish(msg).await {
                        return shared_unavailable(&e);
                    }
                } else {
                    tracing::debug!(id = %id, "response to no pending request ignored");
                }
            }
            StatusCode::ACCEPTED.into_response()
        }
    }
}

async fn initialize(server: &Arc<Server>, req: &RpcRequest, caller: &Caller) -> Response {
    let (version, result) = match server.negotiate(req.params.as_ref()) {
        Ok(x) => x,
        Err(e) => return rpc_error(StatusCode::BAD_REQUEST, Some(&req.id), e),
    };
    let params = req.params.as_ref();
    let caps = params
        .and_then(|p| p.get("capabilities"))
        .cloned()
        .unwrap_or_default();
    let info = params
        .and_then(|p| p.get("clientInfo"))
        .cloned()
        .unwrap_or_default();
    let owner = caller.handle().map(str::to_string);
    let session = match server.sessions.create(version, caps, info, owner) {
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
    let body = encode_response(&req.id, &Ok(result.into()));
    let mut r = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(session.id()) {
        r.headers_mut().insert(SESSION_HEADER, v);
    }
    r
}

fn env(
    session: &Arc<Session>,
    caller: Caller,
    outbound: Option<mpsc::Sender<Outgoing>>,
    cancel: tokio_util::sync::CancellationToken,
) -> CallEnv {
    CallEnv::handshake(Some(session.clone()), caller, outbound, cancel)
}

/// Runs one request in its own task and answers with JSON, or with SSE once the call sends
/// anything before its result.
async fn request(
    server: Arc<Server>,
    session: Arc<Session>,
    req: RpcRequest,
    caller: Caller,
) -> Response {
    let limit = server.config.max_in_flight_per_session;
    if session.in_flight() >= limit {
        return too_busy(&format!(
            "Too Many Requests: {limit} requests are already in flight on this session"
        ));
    }
    let (tx, mut rx) = mpsc::channel(server.config.request_queue.max(1));
    let id = req.id.clone();
    let cancel = session.start_request(&id);
    let task_session = session.clone();
    let task_server = server.clone();
    let final_tx = tx.clone();
    // The call runs inside the request's span, so its log lines (a panic, say) carry
    // whatever the server put there (a request id).
    let call = async move {
        let call_env = env(&task_session, caller, Some(tx), cancel);
        let outcome = task_server.handle_request(req, call_env).await;
        task_session.finish_request(&id);
        let _ = final_tx
            .send(Outgoing::Final(encode_response(&id, &outcome)))
            .await;
    };
    super::start_call(call).await;

    let first = match rx.recv().await {
        Some(Outgoing::Final(bytes)) => {
            return (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                bytes,
            )
                .into_response();
        }
        Some(first) => first,
        None => {
            return rpc_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                None,
                McpError::internal("the request ended without a response"),
            );
        }
    };
    // The call is streaming: its events go to a resumable log that outlives this connection.
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
    sse_response(&server, &session, stream, 0, reader, primed, None)
}

async fn post_batch(
    server: Arc<Server>,
    headers: &HeaderMap,
    items: Vec<Value>,
    caller: Caller,
) -> Response {
    if items.is_empty() {
        return rpc_error(
            StatusCode::BAD_REQUEST,
            None,
            McpError::invalid_request("an empty batch is not a valid request"),
        );
    }
    let session = match session_of(&server, headers, &caller, false).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if !session.protocol_version.allows_batches() {
        return rpc_error(
            StatusCode::BAD_REQUEST,
            None,
            McpError::invalid_request(format!(
                "JSON-RPC batches are not part of protocol revision {}",
                session.protocol_version
            )),
        );
    }
    let mut calls = Vec::new();
    let mut out: Vec<Bytes> = Vec::new();
    for item in items {
        match jsonrpc::classify(item, server.config.max_id_bytes) {
            Ok(Message::Request(req)) if req.method == "initialize" => out.push(encode_response(
                &req.id,
                &Err(McpError::invalid_request(
                    "initialize cannot be part of a batch",
                )),
            )),
            Ok(Message::Request(req)) => {
                let server = server.clone();
                let session = session.clone();
                let caller = caller.clone();
                calls.push(async move {
                    let id = req.id.clone();
                    let cancel = session.start_request(&id);
                    let outcome = server
                        .handle_request(req, env(&session, caller, None, cancel))
                        .await;
                    session.finish_request(&id);
                    encode_response(&id, &outcome)
                });
            }
            Ok(Message::Notification(n)) => server.handle_notification(&n, Some(&session)),
            Ok(Message::Response { id, outcome }) => {
                session.resolve_request(&id, outcome);
            }
            Err(rej) => out.push(match rej.id {
                Some(id) => encode_response(&id, &Err(rej.error)),
                None => encode_error_without_id(&rej.error),
            }),
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
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

async fn get(server: Arc<Server>, headers: &HeaderMap, caller: &Caller) -> Response {
    if super::http_modern::header_is_modern(headers) {
        return super::http_modern::method_not_allowed();
    }
    if !accepts(headers, "text/event-stream") {
        let mut r = transport_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "Method Not Allowed: GET opens the server-to-client stream and needs Accept: text/event-stream",
        );
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, POST, DELETE"));
        return r;
    }
    let session = match session_of(&server, headers, caller, true).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let primed = session.protocol_version.has_sse_priming();
    let limit = server.config.max_streams_per_session;
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
            sse_response(&server, &session, stream, seq, reader, false, Some(slot))
        }
        None => {
            let stream = session.standalone().clone();
            let reader = stream.claim_reader();
            let from = stream.next_seq().saturating_sub(1);
            sse_response(&server, &session, stream, from, reader, primed, Some(slot))
        }
    }
}

async fn delete(server: Arc<Server>, headers: &HeaderMap, caller: &Caller) -> Response {
    if super::http_modern::header_is_modern(headers) {
        return super::http_modern::method_not_allowed();
    }
    let session = match session_of(&server, headers, caller, true).await {
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

fn sse_response(
    server: &Arc<Server>,
    session: &Arc<Session>,
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
        primed.then_some(server.config.sse_retry_ms),
        server.config.sse_heartbeat,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_drop_ports_and_keep_brackets() {
        assert_eq!(hostname("localhost:8080"), "localhost");
        assert_eq!(hostname("[::1]:3000"), "[::1]");
        assert_eq!(hostname("example.com"), "example.com");
    }

    #[test]
    fn accept_matches_wildcards() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json, text/*;q=0.5"),
        );
        assert!(accepts(&h, "application/json"));
        assert!(accepts(&h, "text/event-stream"));
        h.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        assert!(!accepts(&h, "text/event-stream"));
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("Application/JSON;q=1, TEXT/*"),
        );
        assert!(accepts(&h, "application/json"), "case-insensitive");
        assert!(
            accepts(&h, "text/event-stream"),
            "case-insensitive wildcard"
        );
        h.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        assert!(accepts(&h, "text/event-stream"));
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("image/*, text/html"),
        );
        assert!(!accepts(&h, "application/json"));
    }
}
