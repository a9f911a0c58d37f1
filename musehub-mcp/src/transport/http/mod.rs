//! Streamable HTTP: `POST`, `GET` and `DELETE` on one endpoint, for every revision, each
//! request routed to its era.
//!
//! The path of a POST: the guards (`guard`: Host, Origin, media types), the body read once
//! (413 past the limit), the caller authenticated from it, the JSON decoded once
//! ([`crate::protocol::request`]), then the era's handler (`handshake` or `modern`), which
//! gates and runs the call and answers with JSON or SSE (`sse`). [`accept`] is the
//! connection loop.
//!
//! **How a request picks its era:** a body whose `params._meta` carries
//! `io.modelcontextprotocol/protocolVersion` is 2026-07-28, whatever its method (so an
//! enveloped `initialize` is a removed method: 404). Otherwise `initialize`, with or without
//! an `MCP-Protocol-Version` header, starts the handshake era. Otherwise an
//! `MCP-Protocol-Version` header naming no handshake revision selects 2026-07-28 (its
//! envelope is then missing: -32602), and anything else is a handshake-era request.

pub mod accept;
mod guard;
mod handshake;
mod modern;
mod reply;
mod sse;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::Response;
use axum::routing::any;

use crate::error::McpError;
use crate::protocol::jsonrpc::nesting_exceeds;
use crate::protocol::request::{Body as Decoded, Incoming, decode_body, notification_has_envelope};
use crate::server::Server;
use reply::{method_not_allowed, rpc_error, transport_error};

pub use accept::{serve_router, shutdown_signal};

/// The path of the MCP endpoint.
pub const ENDPOINT_PATH: &str = "/mcp";

/// The `/mcp` route of a server, alone (the crate root's `router` adds the documentation
/// surfaces). Build it once; it holds no per-request state.
pub fn router(server: Arc<Server>) -> Router {
    server.start();
    let mut router = Router::new()
        .route(ENDPOINT_PATH, any(mcp))
        .with_state(server.clone());
    // What the authentication schemes publish (a bearer scheme's Protected Resource
    // Metadata), serialised once.
    let scopes = server.registry().scopes();
    for (path, doc) in server.authenticators().well_known(&scopes) {
        let body = bytes::Bytes::from(doc.to_string());
        router = router.route(
            &path,
            axum::routing::get(move || {
                let body = body.clone();
                async move {
                    (
                        [
                            (header::CONTENT_TYPE, "application/json"),
                            (header::CACHE_CONTROL, "public, max-age=300"),
                        ],
                        body,
                    )
                }
            }),
        );
    }
    router
}

async fn mcp(State(server): State<Arc<Server>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    if let Err(r) = guard::check_host_and_origin(&server, &parts) {
        return r;
    }
    let addr = guard::client_addr(&parts);
    match parts.method {
        Method::POST => {}
        Method::GET | Method::DELETE => {
            if modern::header_is_modern(&parts.headers) {
                return modern::get_or_delete();
            }
            let (caller, _slot) = match guard::admit(&server, &parts, b"", addr).await {
                Ok(x) => x,
                Err(r) => return r,
            };
            return if parts.method == Method::GET {
                handshake::get(&server, &parts.headers, &caller).await
            } else {
                handshake::delete(&server, &parts.headers, &caller).await
            };
        }
        _ => {
            return method_not_allowed(
                "GET, POST, DELETE",
                "Method not allowed: use POST, GET or DELETE",
            );
        }
    }
    let headers = &parts.headers;
    if !(guard::accepts(headers, "application/json")
        && guard::accepts(headers, "text/event-stream"))
    {
        return transport_error(
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable: the client must accept both application/json and text/event-stream",
        );
    }
    let json_body = guard::header_str(headers, header::CONTENT_TYPE.as_str())
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|mt| mt.trim().eq_ignore_ascii_case("application/json"));
    if !json_body {
        return transport_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type: Content-Type must be application/json",
        );
    }
    let limit = server.config().max_body_bytes;
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return transport_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("Payload Too Large: the body exceeds {limit} bytes"),
        );
    };
    let (caller, _slot) = match guard::admit(&server, &parts, &bytes, addr).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let depth = server.config().max_json_depth;
    if nesting_exceeds(&bytes, depth) {
        return rpc_error(
            StatusCode::BAD_REQUEST,
            None,
            &McpError::invalid_request(format!(
                "Invalid Request: JSON nested deeper than {depth} levels"
            )),
        );
    }
    // JSON text is UTF-8 (RFC 8259 §8.1): anything else is a parse error.
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return rpc_error(
            StatusCode::BAD_REQUEST,
            None,
            &McpError::parse_error("Parse error: the body is not valid UTF-8"),
        );
    };
    let decoded = match decode_body(text, server.config().max_id_bytes) {
        Ok(d) => d,
        Err(rej) => return rpc_error(StatusCode::BAD_REQUEST, rej.id.as_ref(), &rej.error),
    };
    let header_modern = modern::header_is_modern(headers);
    match decoded {
        Decoded::Batch(_) if header_modern => rpc_error(
            StatusCode::BAD_REQUEST,
            None,
            &McpError::invalid_request(
                "JSON-RPC batches are not part of protocol revision 2026-07-28",
            ),
        ),
        Decoded::Batch(items) => handshake::batch(&server, headers, items, caller).await,
        Decoded::Single(message) => {
            let is_modern = match &message {
                Incoming::Request(r) => {
                    r.meta.has_envelope() || (r.method != "initialize" && header_modern)
                }
                Incoming::Notification(n) => notification_has_envelope(n) || header_modern,
                Incoming::Response(_) => header_modern,
            };
            if is_modern {
                modern::post(&server, headers, message, caller, addr).await
            } else {
                handshake::post(&server, headers, message, caller, addr).await
            }
        }
    }
}
