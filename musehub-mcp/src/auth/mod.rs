//! Who calls, and how often they may: the authentication seam ([`Authenticators`], one
//! [`Authenticator`] per scheme), the MSign scheme (`msign`, feature `msign`), and
//! per-identity rate limits (`rate`, feature `rate-limits`).
//!
//! Servers turn schemes on with `ServerBuilder::auth` (MSign over their own `KeyStore`) or
//! `ServerBuilder::authenticator` (any scheme); [`layer`] offers the same authentication to
//! any other axum route (MuseHub's HTTP remotes use it).

#[cfg(feature = "bearer")]
pub mod bearer;
#[cfg(feature = "msign")]
pub mod msign;
#[cfg(feature = "rate-limits")]
pub mod rate;
mod seam;

#[cfg(feature = "http")]
use axum::{
    body::Body,
    extract::Request,
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};

#[cfg(feature = "msign")]
pub use msign::{
    AuthError, KeyStore, KeyStoreError, MSignHeader, MSignSigner, MSignVerifier, MemoryKeyStore,
    RegisteredKey, SignedRequest, canonical_string, key_id, parse_public_key,
};
#[cfg(feature = "rate-limits")]
pub use rate::{Limited, RateLimitConfig, RateLimits};
pub use seam::{Authenticator, Authenticators, Credentials, Refusal, token_in_query};

pub use crate::shared::{MemoryNonceStore, NonceStore};

#[cfg(feature = "http")]
/// An axum middleware that authenticates any route with `auth`:
/// `router.layer(axum::middleware::from_fn(musehub_mcp::auth::layer(auth, max_body)))`.
/// Handlers read the [`crate::Caller`] from the request extensions; refused credentials get
/// the same 401/503 answers as `/mcp`. Bodies up to `max_body` bytes are read (to verify
/// signatures over them) and handed on unchanged; a larger body is 413.
pub fn layer(
    auth: Authenticators,
    max_body: usize,
) -> impl Fn(Request, Next) -> futures::future::BoxFuture<'static, Response> + Clone + Send + 'static
{
    move |req: Request, next: Next| {
        let auth = auth.clone();
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            let Ok(bytes) = axum::body::to_bytes(body, max_body).await else {
                return (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    crate::protocol::jsonrpc::encode_error(
                        None,
                        &crate::McpError::new(
                            crate::protocol::http::TRANSPORT_ERROR,
                            format!("Payload Too Large: the body exceeds {max_body} bytes"),
                        ),
                    ),
                )
                    .into_response();
            };
            let target = parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_string();
            match auth
                .authenticate(&parts.headers, parts.method.as_str(), &target, &bytes)
                .await
            {
                Ok(caller) => {
                    parts.extensions.insert(caller);
                    next.run(Request::from_parts(parts, Body::from(bytes)))
                        .await
                }
                Err(refusal) => auth.refused(&refusal),
            }
        })
    }
}

#[cfg(all(feature = "http", feature = "msign"))]
/// [`layer`] with MSign only, for a router of its own: the realm is named in challenges.
pub fn msign_layer(
    verifier: std::sync::Arc<MSignVerifier>,
    realm: impl Into<String>,
) -> impl Fn(Request, Next) -> futures::future::BoxFuture<'static, Response> + Clone + Send + 'static
{
    layer(Authenticators::new(realm).with(verifier), 4 * 1024 * 1024)
}
