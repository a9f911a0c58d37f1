//! The HTTP application: `/mcp` (with MSign and rate limits, from the framework), the HTTP
//! remote of the `muse` client (`/{owner}/{slug}/...`, [`crate::muse::remote_http`]), the
//! health checks, and one structured log line per request. Errors are JSON-RPC-shaped JSON
//! everywhere: a plain-text 413 from a layer below (the framework's signature check on an
//! over-long body) is rewritten on its way out.
//!
//! The log line carries the request id, the session id, the HTTP method and path, the status,
//! the duration, and for a JSON-RPC `POST` the JSON-RPC method (`rpc_method`) and, for
//! `tools/call`, the tool (`tool`). To know them the middleware reads the body before `/mcp`
//! does (only bodies with a `Content-Length` within the configured body limit; any other body
//! passes through untouched and unlogged) and hands the same bytes on.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use musehub_mcp::Server;
use musehub_mcp::auth::RateLimits;
use serde_json::Value;

use crate::db::Db;

/// The whole application for `server` over `db` with the default authentication and OAuth
/// settings: see [`app_with`].
pub fn app(server: Arc<Server>, db: Db) -> Router {
    let auth = crate::AuthSettings::default();
    let oauth = crate::oauth::OAuth::new(db.clone(), crate::oauth::OAuthSettings::default(), &auth);
    app_with(server, db, &auth, &oauth)
}

/// The whole application: `/mcp`, its docs, the HTTP remote (authenticated like `/mcp` and
/// limited by `auth`'s rate limits), the OAuth authorization server, `/healthz`, `/readyz`,
/// and the request log.
pub fn app_with(
    server: Arc<Server>,
    db: Db,
    auth: &crate::AuthSettings,
    oauth: &crate::oauth::OAuth,
) -> Router {
    let max_body = server.config().max_body_bytes;
    let limits = auth.rate_limits.as_ref().map(RateLimits::new);
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state((server.clone(), db.clone()))
        .merge(crate::connect::routes(server.clone(), db.clone()))
        .merge(crate::muse::remote_http::routes(server.clone(), db, limits))
        .merge(crate::oauth::routes(oauth))
        .merge(musehub_mcp::router(server))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(move |req, next| {
            log_requests(max_body, req, next)
        }))
}

/// A JSON-RPC error body (`id: null`) with `status`.
fn rpc_error(status: StatusCode, message: String) -> Response {
    let body = musehub_mcp::protocol::jsonrpc::encode_error(
        None,
        &musehub_mcp::McpError::new(-32000, message),
    );
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Any other path: a JSON-RPC-shaped 404 (never an empty or plain-text body).
async fn not_found(req: Request) -> Response {
    let body = musehub_mcp::protocol::jsonrpc::encode_error(
        None,
        &musehub_mcp::McpError::new(
            musehub_mcp::error::codes::RESOURCE_NOT_FOUND,
            format!(
                "Not Found: {}",
                req.uri().path().chars().take(200).collect::<String>()
            ),
        )
        .with_data(serde_json::json!({ "code": "not_found" })),
    );
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// True when a response already carries JSON.
fn is_json(r: &Response) -> bool {
    r.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the database answers and, running as one of several instances, the shared
/// bus is subscribed (until then changes raised on the other instances would not reach it).
async fn readyz(State((server, db)): State<(Arc<Server>, Db)>) -> Response {
    if !db.ping().await {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
    } else if !server.is_ready() {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "shared bus (Redis) not connected",
        )
            .into_response()
    } else {
        (StatusCode::OK, "ready").into_response()
    }
}

/// What the log says about a JSON-RPC body: the method and, for `tools/call`, the tool.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RpcSummary {
    /// The JSON-RPC method (`batch(N)` for a batch), empty when the body is not JSON-RPC.
    pub method: String,
    /// The tool of a `tools/call`, empty otherwise (comma-separated in a batch).
    pub tool: String,
}

fn one(v: &Value) -> (String, String) {
    let method = v
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let tool = if method == "tools/call" {
        v.pointer("/params/name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    } else {
        String::new()
    };
    // A result or error sent back to the server (elicitation answers) has no method.
    let method = if method.is_empty() && v.get("id").is_some() {
        "response".to_string()
    } else {
        method
    };
    (method, tool)
}

/// Summarises a request body for the log (never fails: a body that is not JSON-RPC gives
/// empty fields). Method and tool names are cut to 100 characters.
pub fn summarize(body: &[u8]) -> RpcSummary {
    // Client-controlled text reaches the log clipped and with control characters escaped, so
    // a newline in a tool name cannot forge a log line.
    let clip = |s: String| {
        s.chars()
            .take(100)
            .collect::<String>()
            .escape_debug()
            .to_string()
    };
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Array(items)) => {
            let tools: Vec<String> = items
                .iter()
                .map(|v| one(v).1)
                .filter(|t| !t.is_empty())
                .collect();
            RpcSummary {
                method: format!("batch({})", items.len()),
                tool: clip(tools.join(",")),
            }
        }
        Ok(v @ Value::Object(_)) => {
            let (method, tool) = one(&v);
            RpcSummary {
                method: clip(method),
                tool: clip(tool),
            }
        }
        _ => RpcSummary::default(),
    }
}

/// One structured log line per HTTP request: request id, session id, HTTP method, path,
/// JSON-RPC method, tool, status, duration.
async fn log_requests(max_body: usize, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let session = req
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let (req, rpc) = match length {
        Some(n) if method == Method::POST && n <= max_body => {
            let (parts, body) = req.into_parts();
            match axum::body::to_bytes(body, max_body).await {
                Ok(bytes) => {
                    let rpc = summarize(&bytes);
                    (Request::from_parts(parts, Body::from(bytes)), rpc)
                }
                Err(_) => {
                    let response = rpc_error(
                        StatusCode::BAD_REQUEST,
                        "Bad Request: the body could not be read".into(),
                    );
                    tracing::info!(
                        request_id = %request_id,
                        session_id = %session,
                        http_method = %method,
                        path = %path,
                        status = response.status().as_u16(),
                        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
                        "http request"
                    );
                    return response;
                }
            }
        }
        _ => (req, RpcSummary::default()),
    };
    // Everything logged while serving the request (in any task the framework spawns for it)
    // carries its id.
    let span = tracing::info_span!("http", request_id = %request_id);
    let mut response = tracing::Instrument::instrument(next.run(req), span).await;
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json(&response) {
        response = rpc_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Payload Too Large: the body exceeds {max_body} bytes"),
        );
    }
    tracing::info!(
        request_id = %request_id,
        session_id = %session,
        http_method = %method,
        path = %path,
        rpc_method = %rpc.method,
        tool = %rpc.tool,
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        "http request"
    );
    response
}
