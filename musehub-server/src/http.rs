//! The HTTP application: `/mcp` (with MSign and rate limits, from the framework), the health
//! checks, and one structured log line per request.
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
use serde_json::Value;

use crate::db::Db;

/// The whole application for `server` over `db`: `/mcp`, its docs, `/healthz`, `/readyz`, the
/// OAuth authorization server with its default settings, and the request log.
pub fn app(server: Arc<Server>, db: Db) -> Router {
    let oauth = crate::oauth::OAuth::new(
        db.clone(),
        crate::oauth::OAuthSettings::default(),
        &crate::AuthSettings::default(),
    );
    app_with_oauth(server, db, &oauth)
}

/// [`app`] with the OAuth side configured by the caller (the binary's settings).
pub fn app_with_oauth(server: Arc<Server>, db: Db, oauth: &crate::oauth::OAuth) -> Router {
    let max_body = server.config().max_body_bytes;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state((server.clone(), db.clone()))
        .merge(crate::connect::routes(server.clone(), db))
        .merge(crate::oauth::routes(oauth))
        .merge(musehub_mcp::transport::http::router(server))
        .layer(axum::middleware::from_fn(move |req, next| {
            log_requests(max_body, req, next)
        }))
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
                    let response =
                        (StatusCode::BAD_REQUEST, "Bad Request: unreadable body").into_response();
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
    let response = tracing::Instrument::instrument(next.run(req), span).await;
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
