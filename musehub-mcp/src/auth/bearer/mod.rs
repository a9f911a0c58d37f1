//! OAuth 2.1 bearer tokens for a resource server (the MCP authorization specification, both
//! the 2025-11-25 and 2026-07-28 revisions): reading the token from the request, the
//! `WWW-Authenticate` challenges, Protected Resource Metadata (RFC 9728), and the verifiers
//! that turn a token into a [`TokenInfo`].
//!
//! A verifier is anything implementing [`TokenVerifier`]:
//!
//! - [`JwtVerifier`]: self-contained JWT access tokens (RFC 9068 style) signed by an
//!   authorization server whose keys come from a [`JwksSource`] (a JWKS URL, fetched and
//!   cached, or keys held in-process). Only RS256, ES256 and EdDSA verify; `none` and the
//!   HMAC algorithms are refused whatever the key set holds.
//! - [`IntrospectionVerifier`]: opaque tokens checked at the authorization server's RFC 7662
//!   introspection endpoint, with a short cache of positive answers.
//! - [`StoreVerifier`]: opaque tokens the resource server issued itself and keeps, by their
//!   SHA-256 only, in an [`OpaqueTokenStore`] (MuseHub's `mha_…` agent tokens).
//! - [`RoutedVerifier`]: several of them side by side, chosen by the token's shape.
//!
//! Every verifier checks the audience: a token is accepted only when it was issued for this
//! resource (RFC 8707, the resource's canonical URL), and refused when expired, not yet
//! valid, revoked, or signed by a key the verifier does not trust. A refusal is a
//! [`TokenError`], whose [`TokenError::reason`] is a fixed code safe to show (it never
//! contains the token) and whose [`TokenError::status`] separates an invalid token (401) from
//! a verifier that could not decide (503).

mod header;
mod introspection;
mod jwks;
mod jwt;
mod metadata;
mod routed;
mod scheme;
mod store;

use std::time::{SystemTime, UNIX_EPOCH};

use futures::future::BoxFuture;
use http::StatusCode;

pub use header::{
    bearer_token, challenge, insufficient_scope, invalid_token, query_has_access_token,
};
pub use introspection::{IntrospectionVerifier, IntrospectionVerifierBuilder};
pub use jwks::{JwkSet, JwksFetcher, JwksSource, RemoteJwksBuilder};
pub use jwt::{JwtAlgorithm, JwtVerifier, JwtVerifierBuilder};
pub use metadata::{
    PROTECTED_RESOURCE_WELL_KNOWN, ProtectedResourceMetadata, canonical_resource,
    protected_resource_metadata_paths, protected_resource_metadata_url,
};
pub use routed::RoutedVerifier;
pub use scheme::{BearerAuth, ScopeImplications};
pub use store::{OpaqueToken, OpaqueTokenStore, StoreVerifier, token_hash};

/// What a verified bearer token says about its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenInfo {
    /// The caller's handle (the token's subject, mapped to a user of this resource).
    pub subject: String,
    /// The scopes granted to the token.
    pub scopes: Vec<String>,
    /// The OAuth client the token was issued to, when the token says.
    pub client_id: Option<String>,
    /// The audiences (resource identifiers) the token was issued for.
    pub audience: Vec<String>,
    /// When the token expires (Unix seconds), when it does.
    pub expires_at: Option<u64>,
    /// True when the caller is an AI agent acting for `subject`.
    pub is_agent: bool,
    /// The agent's name, for agents.
    pub agent_name: Option<String>,
    /// The token's own identifier (a JWT's `jti`, a stored token's id), for revocation lists
    /// and audit logs.
    pub token_id: Option<String>,
}

impl TokenInfo {
    /// A token for `subject` with no scopes, client, audience or expiry yet.
    pub fn new(subject: impl Into<String>) -> Self {
        Self {
            subject: subject.into(),
            scopes: Vec::new(),
            client_id: None,
            audience: Vec::new(),
            expires_at: None,
            is_agent: false,
            agent_name: None,
            token_id: None,
        }
    }
    /// With these scopes.
    pub fn with_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
    /// Issued to this OAuth client.
    pub fn with_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }
    /// Issued for these audiences.
    pub fn with_audience<I, S>(mut self, audience: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audience = audience.into_iter().map(Into::into).collect();
        self
    }
    /// Expiring at this Unix time (seconds).
    pub fn with_expires_at(mut self, expires_at: u64) -> Self {
        self.expires_at = Some(expires_at);
        self
    }
    /// Held by the AI agent `name` acting for the subject.
    pub fn with_agent(mut self, name: impl Into<String>) -> Self {
        self.is_agent = true;
        self.agent_name = Some(name.into());
        self
    }
    /// With this token identifier.
    pub fn with_token_id(mut self, id: impl Into<String>) -> Self {
        self.token_id = Some(id.into());
        self
    }
    /// The token identifier, if known.
    pub fn token_id(&self) -> Option<&str> {
        self.token_id.as_deref()
    }
    /// The caller's handle.
    pub fn subject(&self) -> &str {
        &self.subject
    }
    /// The granted scopes.
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }
    /// The OAuth client, if known.
    pub fn client_id(&self) -> Option<&str> {
        self.client_id.as_deref()
    }
    /// The audiences.
    pub fn audience(&self) -> &[String] {
        &self.audience
    }
    /// The expiry (Unix seconds), if any.
    pub fn expires_at(&self) -> Option<u64> {
        self.expires_at
    }
    /// True for an agent's token.
    pub fn is_agent(&self) -> bool {
        self.is_agent
    }
    /// The agent's name, for agents.
    pub fn agent_name(&self) -> Option<&str> {
        self.agent_name.as_deref()
    }
    /// True when the token grants `scope` exactly.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
    /// The scopes of `required` this token lacks, in order (empty when it has them all).
    /// `implied` lists, for a required scope, the broader scopes that grant it too (the
    /// specification asks resource servers to honour scope hierarchies: a token with
    /// `repo:write` may also read).
    pub fn missing_scopes<'r>(
        &self,
        required: &[&'r str],
        implied: impl Fn(&str) -> Vec<String>,
    ) -> Vec<&'r str> {
        required
            .iter()
            .copied()
            .filter(|r| !self.has_scope(r) && !implied(r).iter().any(|b| self.has_scope(b)))
            .collect()
    }
}

/// Why a bearer token was refused, or why it could not be checked.
///
/// The messages and [`reason`](Self::reason) codes never contain the token or any secret:
/// they can go into `error_description` and logs as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The request itself is malformed: a broken `Authorization: Bearer` header, several of
    /// them, or a token in the URI query (RFC 6750 `invalid_request`, 400).
    #[error("invalid request: {0}")]
    InvalidRequest(&'static str),
    /// The token is not a well-formed token of the kind the verifier reads.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// The token names an algorithm this resource does not accept (`none`, HMAC, ...).
    #[error("unsupported token algorithm `{0}`")]
    UnsupportedAlgorithm(String),
    /// The signature does not verify.
    #[error("bad token signature")]
    BadSignature,
    /// The token has expired.
    #[error("token expired")]
    Expired,
    /// The token is not valid yet (`nbf` in the future).
    #[error("token not yet valid")]
    NotYetValid,
    /// The token was issued for another resource (RFC 8707 audience).
    #[error("token issued for another resource")]
    WrongAudience,
    /// The token was issued by an authorization server this resource does not trust.
    #[error("token from an untrusted issuer")]
    WrongIssuer,
    /// The token is signed with a key the authorization server does not publish.
    #[error("token signed with an unknown key")]
    UnknownKey,
    /// The token was revoked.
    #[error("token revoked")]
    Revoked,
    /// The authorization server says the token is not active (RFC 7662), or the store does
    /// not know it.
    #[error("token not active")]
    Inactive,
    /// The verifier could not decide: the JWKS or introspection endpoint, or the token
    /// store, did not answer. Not the token's fault: 503, and the client may retry.
    #[error("token verification unavailable: {0}")]
    Unavailable(String),
}

impl TokenError {
    /// A fixed, machine-readable code for `error_description` and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            TokenError::InvalidRequest(_) => "invalid_request",
            TokenError::Malformed(_) => "malformed",
            TokenError::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            TokenError::BadSignature => "bad_signature",
            TokenError::Expired => "expired",
            TokenError::NotYetValid => "not_yet_valid",
            TokenError::WrongAudience => "wrong_audience",
            TokenError::WrongIssuer => "wrong_issuer",
            TokenError::UnknownKey => "unknown_key",
            TokenError::Revoked => "revoked",
            TokenError::Inactive => "inactive",
            TokenError::Unavailable(_) => "unavailable",
        }
    }

    /// True when the verifier could not decide (the answer is 503, not 401).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, TokenError::Unavailable(_))
    }

    /// The HTTP status of the answer: 400 for a malformed request, 503 when the verifier is
    /// unavailable, 401 for every invalid token.
    pub fn status(&self) -> StatusCode {
        match self {
            TokenError::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            TokenError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// The RFC 6750 error code for the `WWW-Authenticate` challenge: `invalid_request` or
    /// `invalid_token`; `None` when the verifier was unavailable (no challenge is due).
    pub fn oauth_error(&self) -> Option<&'static str> {
        match self {
            TokenError::InvalidRequest(_) => Some("invalid_request"),
            TokenError::Unavailable(_) => None,
            _ => Some("invalid_token"),
        }
    }
}

/// Checks a bearer token and says who holds it.
///
/// Implementations must check everything that makes the token acceptable to *this*
/// resource (signature or authority, expiry, audience, revocation) and return
/// [`TokenError::Unavailable`] only when they could not find out.
pub trait TokenVerifier: Send + Sync + 'static {
    /// Verifies `token` (the credential of `Authorization: Bearer <token>`).
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<TokenInfo, TokenError>>;
}

impl<T: TokenVerifier + ?Sized> TokenVerifier for std::sync::Arc<T> {
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<TokenInfo, TokenError>> {
        (**self).verify(token)
    }
}

/// The current Unix time in seconds.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// True when `token` has the shape of a compact JWS (three base64url parts).
pub fn looks_like_jwt(token: &str) -> bool {
    let mut parts = token.split('.');
    let ok = |p: Option<&str>| {
        p.is_some_and(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
    };
    ok(parts.next()) && ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_separate_invalid_from_unavailable() {
        assert_eq!(TokenError::Expired.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(TokenError::Expired.oauth_error(), Some("invalid_token"));
        let down = TokenError::Unavailable("jwks endpoint: connection refused".into());
        assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(down.is_unavailable());
        assert_eq!(down.oauth_error(), None);
        let query = TokenError::InvalidRequest("token in the query");
        assert_eq!(query.status(), StatusCode::BAD_REQUEST);
        assert_eq!(query.oauth_error(), Some("invalid_request"));
        assert_eq!(TokenError::WrongAudience.reason(), "wrong_audience");
    }

    #[test]
    fn missing_scopes_honour_implied_scopes() {
        let info = TokenInfo::new("alice").with_scopes(["repo:write"]);
        let implied = |s: &str| {
            if s == "repo:read" {
                vec!["repo:write".to_string()]
            } else {
                vec![]
            }
        };
        assert!(info.missing_scopes(&["repo:read"], implied).is_empty());
        assert_eq!(
            info.missing_scopes(&["repo:read", "admin"], implied),
            vec!["admin"]
        );
    }

    #[test]
    fn jwt_shape() {
        assert!(looks_like_jwt("aGVh.cGF5.c2ln"));
        assert!(!looks_like_jwt("mha_0123"));
        assert!(!looks_like_jwt("a.b"));
        assert!(!looks_like_jwt("a.b.c.d"));
        assert!(!looks_like_jwt("a..c"));
        assert!(!looks_like_jwt("a.b=.c"));
    }
}
