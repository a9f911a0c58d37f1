//! MSign: per-request Ed25519 signatures (the scheme is specified in `docs/msign.md`), and
//! per-identity rate limits.
//!
//! Every request carries `Authorization: MSign handle="…", kid="…", ts=…, nonce="…",
//! sig="…"`: a signature over the method, path, time, nonce, the SHA-256 of the body and the
//! session id. Nothing secret is shared with the server and nothing replayable is stored by
//! the client: a stolen header is useless for another request, and a stolen session id gives
//! no write access because every write needs a fresh signature.
//!
//! Servers built on the framework enable it with `ServerBuilder::auth` (their own
//! [`KeyStore`]); [`msign_layer`] offers the same verification to any other axum app.

#[cfg(feature = "bearer")]
pub mod bearer;
pub mod header;
pub mod keys;
pub mod rate;
pub mod signing;
pub mod verify;

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header as http_header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub use header::MSignHeader;
pub use keys::{KeyStore, KeyStoreError, MemoryKeyStore, RegisteredKey, key_id, parse_public_key};
pub use rate::{Limited, RateLimitConfig, RateLimits};
pub use signing::{MSignSigner, canonical_string};
pub use verify::{AuthError, MSignVerifier, MemoryNonceStore, NonceStore, SignedRequest};

use crate::context::Caller;
use crate::error::{McpError, codes};
use crate::protocol::jsonrpc::encode_error_without_id;

/// The HTTP answer to a failed authentication: 401 with the `WWW-Authenticate` challenge
/// (503 when the key or nonce store is unavailable), and a JSON-RPC error whose message and
/// `data.reason` say what to fix.
pub fn unauthorized(realm: &str, error: &AuthError) -> Response {
    let status = match error {
        AuthError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::UNAUTHORIZED,
    };
    let body = encode_error_without_id(
        &McpError::new(codes::UNAUTHORIZED, format!("Unauthorized: {error}"))
            .with_data(serde_json::json!({ "reason": error.reason() })),
    );
    let mut r = (
        status,
        [(http_header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut()
            .insert(http_header::WWW_AUTHENTICATE, challenge(realm));
    }
    r
}

/// `MSign realm="<realm>"`.
pub fn challenge(realm: &str) -> HeaderValue {
    let safe: String = realm
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\')
        .collect();
    HeaderValue::from_str(&format!("MSign realm=\"{safe}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("MSign"))
}

/// Verifies the request if it carries `Authorization`, and returns it with its body restored
/// and the [`Caller`] in its extensions; unsigned requests pass as anonymous.
pub async fn authenticate(
    verifier: &MSignVerifier,
    realm: &str,
    max_body: usize,
    req: Request,
) -> Result<Request, Response> {
    let Some(auth) = req.headers().get(http_header::AUTHORIZATION) else {
        let mut req = req;
        req.extensions_mut().insert(Caller::anonymous());
        return Ok(req);
    };
    let Ok(auth) = auth.to_str().map(str::to_string) else {
        return Err(unauthorized(
            realm,
            &AuthError::Malformed("malformed MSign header: not visible ASCII".into()),
        ));
    };
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, max_body).await.map_err(|_| {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Payload Too Large: the body exceeds {max_body} bytes"),
        )
            .into_response()
    })?;
    let target = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let session = parts
        .headers
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok());
    let signed = SignedRequest {
        authorization: &auth,
        method: parts.method.as_str(),
        target,
        body: &bytes,
        session_id: session,
    };
    let identity = verifier
        .verify(&signed)
        .await
        .map_err(|e| unauthorized(realm, &e))?;
    let mut req = Request::from_parts(parts, Body::from(bytes));
    req.extensions_mut().insert(Caller {
        identity: Some(identity),
    });
    Ok(req)
}

/// An axum middleware verifying MSign for any router:
/// `router.layer(axum::middleware::from_fn(musehub_mcp::auth::msign_layer(verifier, "realm")))`.
/// Handlers read the [`Caller`] from the request extensions.
pub fn msign_layer(
    verifier: Arc<MSignVerifier>,
    realm: impl Into<String>,
) -> impl Fn(Request, Next) -> futures::future::BoxFuture<'static, Response> + Clone + Send + 'static
{
    let realm: Arc<str> = realm.into().into();
    move |req: Request, next: Next| {
        let verifier = verifier.clone();
        let realm = realm.clone();
        Box::pin(async move {
            match authenticate(&verifier, &realm, 4 * 1024 * 1024, req).await {
                Ok(req) => next.run(req).await,
                Err(r) => r,
            }
        })
    }
}
