//! The HTTP answers the transport gives besides a call's own response: JSON-RPC error bodies
//! with the right status, and the 429/503 answers that tell a client when to retry.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::error::McpError;
use crate::protocol::http::TRANSPORT_ERROR;
use crate::protocol::jsonrpc::{RequestId, encode_error};

/// A JSON body with a status.
pub(crate) fn json(status: StatusCode, body: Bytes) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A JSON-RPC error response with an HTTP status.
pub(crate) fn rpc_error(status: StatusCode, id: Option<&RequestId>, error: &McpError) -> Response {
    json(status, encode_error(id, error))
}

/// A transport-level rejection (-32000).
pub(crate) fn transport_error(status: StatusCode, message: &str) -> Response {
    rpc_error(status, None, &McpError::new(TRANSPORT_ERROR, message))
}

/// 429 for a concurrency limit (not a rate): retry shortly.
pub(crate) fn too_busy(message: &str) -> Response {
    let mut r = transport_error(StatusCode::TOO_MANY_REQUESTS, message);
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

#[cfg(feature = "rate-limits")]
/// 429 with `Retry-After` and the `RateLimit-*` headers.
pub(crate) fn too_many_requests(l: &crate::auth::Limited) -> Response {
    let secs = l.retry_after.as_secs() + u64::from(l.retry_after.subsec_nanos() > 0);
    let secs = secs.max(1);
    let mut r = rpc_error(
        StatusCode::TOO_MANY_REQUESTS,
        None,
        &McpError::new(
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

/// 503 for a request that needs the shared store while it is unavailable: the client retries.
pub(crate) fn shared_unavailable(e: &crate::shared::SharedError) -> Response {
    tracing::warn!(error = %e, "shared store unavailable");
    let mut r = transport_error(
        StatusCode::SERVICE_UNAVAILABLE,
        &format!("Service Unavailable: {e}; retry shortly"),
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    r
}

/// 405 naming the methods the endpoint serves.
pub(crate) fn method_not_allowed(allow: &'static str, message: &str) -> Response {
    let mut r = transport_error(StatusCode::METHOD_NOT_ALLOWED, message);
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    r
}
