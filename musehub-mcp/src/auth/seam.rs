//! The one authentication seam: the schemes a server accepts, side by side, each an
//! [`Authenticator`]. A request's `Authorization` header names its scheme; the authenticator
//! of that scheme turns the credentials into an [`Identity`] (handle, agent or human, the
//! scheme, and the scopes the credential grants), which reaches tools as their `Caller`.
//! A request without credentials is anonymous; a refused one gets 401 (or 503 when the
//! verifier cannot answer), with one `WWW-Authenticate` challenge per scheme.

use std::sync::Arc;

#[cfg(feature = "http")]
use axum::response::{IntoResponse, Response};
use futures::future::BoxFuture;
use http::{HeaderMap, header};
#[cfg(feature = "http")]
use http::{HeaderValue, StatusCode};
#[cfg(feature = "http")]
use serde_json::json;

#[cfg(feature = "http")]
use crate::error::{McpError, codes};
use crate::handler::ctx::{Caller, Identity, Scheme};
use crate::protocol::http::SESSION_HEADER;
#[cfg(feature = "http")]
use crate::protocol::jsonrpc::{RequestId, encode_error};

/// What an authenticator sees of a request.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    /// The whole `Authorization` header value.
    pub authorization: &'a str,
    /// The HTTP method.
    pub method: &'a str,
    /// The path and query.
    pub target: &'a str,
    /// The body (empty for GET and DELETE).
    pub body: &'a [u8],
    /// `Mcp-Session-Id`, when sent.
    pub session_id: Option<&'a str>,
}

/// Why credentials were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Refusal {
    /// 401 for bad credentials, 503 when the verifier cannot answer now, 400 for a request
    /// that misuses the scheme (a token in the query string).
    pub status: u16,
    /// A short machine-readable reason (`bad_signature`, `invalid_token`, ...).
    pub reason: &'static str,
    /// What the caller should fix; never contains the credential itself.
    pub message: String,
    /// The scheme whose credentials were refused (set by [`Authenticators`]); the other
    /// schemes' challenges then carry no error, since nothing of theirs was wrong. `None`
    /// when the refusal concerns the request itself (a token in the URL, an unknown scheme).
    pub scheme: Option<Scheme>,
}

impl Refusal {
    /// 401: the credentials do not verify.
    pub fn invalid(reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: 401,
            reason,
            message: message.into(),
            scheme: None,
        }
    }

    /// 503: the verifier cannot answer right now (its store or its identity provider is
    /// down); the client retries.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self {
            status: 503,
            reason: "unavailable",
            message: message.into(),
            scheme: None,
        }
    }
}

/// One scheme a server accepts (MSign signatures, bearer tokens, ...).
pub trait Authenticator: Send + Sync + 'static {
    /// The scheme, as the first word of `Authorization` names it.
    fn scheme(&self) -> Scheme;

    /// Verifies credentials of this scheme.
    fn authenticate<'a>(
        &'a self,
        credentials: &'a Credentials<'a>,
    ) -> BoxFuture<'a, Result<Identity, Refusal>>;

    /// The `WWW-Authenticate` value of this scheme for a 401 (with the refusal, when the
    /// client sent credentials) or a 403 (with the `scope` a step-up needs).
    fn challenge(&self, realm: &str, refusal: Option<&Refusal>, scope: Option<&str>) -> String;

    /// Documents the scheme publishes, by path (a bearer scheme's Protected Resource
    /// Metadata under `/.well-known/`); `scopes` are every scope the server's items need.
    /// The HTTP transport serves them. None by default.
    fn well_known(&self, scopes: &[&str]) -> Vec<(String, serde_json::Value)> {
        let _ = scopes;
        Vec::new()
    }
}

/// Text safe inside a quoted header parameter.
#[cfg_attr(not(feature = "msign"), allow(dead_code))]
pub(crate) fn quoted_safe(s: &str) -> String {
    s.chars()
        .filter(|c| (c.is_ascii_graphic() || *c == ' ') && *c != '"' && *c != '\\')
        .collect()
}

/// The schemes of a server, and the answers it gives when they refuse.
#[derive(Clone, Default)]
pub struct Authenticators {
    list: Vec<Arc<dyn Authenticator>>,
    realm: String,
}

impl Authenticators {
    /// No scheme: every caller is anonymous.
    pub fn new(realm: impl Into<String>) -> Self {
        Self {
            list: Vec::new(),
            realm: realm.into(),
        }
    }

    /// Adds a scheme (a second authenticator of the same scheme replaces the first).
    pub fn with(mut self, a: Arc<dyn Authenticator>) -> Self {
        self.list.retain(|x| x.scheme() != a.scheme());
        self.list.push(a);
        self
    }

    /// True when no scheme is configured.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The schemes, in the order they were added.
    pub fn schemes(&self) -> Vec<Scheme> {
        self.list.iter().map(|a| a.scheme()).collect()
    }

    /// Every document the schemes publish, by path (see [`Authenticator::well_known`]).
    pub fn well_known(&self, scopes: &[&str]) -> Vec<(String, serde_json::Value)> {
        self.list
            .iter()
            .flat_map(|a| a.well_known(scopes))
            .collect()
    }

    /// The realm named in challenges.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// Turns a request's credentials into its caller. No `Authorization`: anonymous. A token
    /// in the query string is refused (RFC 6750 §5.3 and the MCP spec: tokens travel in the
    /// header only), whether or not the header is there too.
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        method: &str,
        target: &str,
        body: &[u8],
    ) -> Result<Caller, Refusal> {
        if token_in_query(target) {
            return Err(Refusal {
                status: 400,
                reason: "invalid_request",
                message:
                    "access tokens are accepted in the Authorization header only, never in the URL"
                        .into(),
                scheme: None,
            });
        }
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Ok(Caller::anonymous());
        };
        if self.list.is_empty() {
            // A server without authentication ignores credentials it cannot check.
            return Ok(Caller::anonymous());
        }
        let Ok(text) = value.to_str() else {
            return Err(Refusal::invalid(
                "malformed_header",
                "the Authorization header is not visible ASCII",
            ));
        };
        let scheme = text.split(' ').next().unwrap_or("");
        let Some(a) = self
            .list
            .iter()
            .find(|a| a.scheme().as_str().eq_ignore_ascii_case(scheme))
        else {
            return Err(Refusal::invalid(
                "unsupported_scheme",
                format!(
                    "this server accepts {} credentials",
                    self.schemes()
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            ));
        };
        let credentials = Credentials {
            authorization: text,
            method,
            target,
            body,
            session_id: headers.get(SESSION_HEADER).and_then(|v| v.to_str().ok()),
        };
        a.authenticate(&credentials)
            .await
            .map(Caller::authenticated)
            .map_err(|mut r| {
                r.scheme = Some(a.scheme());
                r
            })
    }

    #[cfg(feature = "http")]
    /// Every scheme's `WWW-Authenticate` challenge, for a 401 of a route of your own.
    pub fn challenges(&self, refusal: Option<&Refusal>, scope: Option<&str>) -> Vec<HeaderValue> {
        // Bearer first: OAuth clients look for its `resource_metadata` there.
        let mut list: Vec<&Arc<dyn Authenticator>> = self.list.iter().collect();
        list.sort_by_key(|a| a.scheme() != Scheme::Bearer);
        list.into_iter()
            .filter_map(|a| {
                let own = refusal.filter(|r| r.scheme.is_none_or(|s| s == a.scheme()));
                HeaderValue::from_str(&a.challenge(&self.realm, own, scope)).ok()
            })
            .collect()
    }

    #[cfg(feature = "http")]
    /// The answer to refused credentials: 401 with every scheme's challenge (503 when the
    /// verifier is unavailable; 400 for a misused scheme), and a JSON-RPC error whose message
    /// and `data.reason` say what to fix.
    pub fn refused(&self, refusal: &Refusal) -> Response {
        let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::UNAUTHORIZED);
        let body = encode_error(
            None,
            &McpError::new(
                codes::UNAUTHORIZED,
                format!("Unauthorized: {}", refusal.message),
            )
            .with_data(json!({ "reason": refusal.reason })),
        );
        let mut r = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::BAD_REQUEST {
            for c in self.challenges(Some(refusal), None) {
                r.headers_mut().append(header::WWW_AUTHENTICATE, c);
            }
        } else if status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        r
    }

    #[cfg(feature = "http")]
    /// 401 for a call that needs a signed-in caller, with every scheme's challenge (and the
    /// scopes the call needs, for bearer clients to request).
    pub fn required(&self, id: Option<&RequestId>, message: &str, scopes: &[&str]) -> Response {
        let body = encode_error(
            id,
            &McpError::new(codes::UNAUTHORIZED, format!("Unauthorized: {message}")),
        );
        let mut r = (
            StatusCode::UNAUTHORIZED,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
        let scope = scopes.join(" ");
        for c in self.challenges(None, (!scope.is_empty()).then_some(scope.as_str())) {
            r.headers_mut().append(header::WWW_AUTHENTICATE, c);
        }
        r
    }

    #[cfg(feature = "http")]
    /// 403 `insufficient_scope` (RFC 6750 §3.1) naming the scopes a step-up must request.
    pub fn insufficient_scope(&self, id: Option<&RequestId>, missing: &[&str]) -> Response {
        let scope = missing.join(" ");
        let body = encode_error(
            id,
            &McpError::new(
                codes::FORBIDDEN,
                format!("Forbidden: this call needs the scope(s) {scope}"),
            )
            .with_data(json!({ "error": "insufficient_scope", "scope": scope })),
        );
        let mut r = (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
        let refusal = Refusal {
            status: 403,
            reason: "insufficient_scope",
            message: format!("needs the scope(s) {scope}"),
            scheme: None,
        };
        for c in self.challenges(Some(&refusal), Some(&scope)) {
            r.headers_mut().append(header::WWW_AUTHENTICATE, c);
        }
        r
    }
}

/// Does the request target carry an OAuth access token in its query string?
pub fn token_in_query(target: &str) -> bool {
    let Some((_, query)) = target.split_once('?') else {
        return false;
    };
    query.split('&').any(|pair| {
        let key = pair.split('=').next().unwrap_or("");
        key.eq_ignore_ascii_case("access_token")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    struct Fixed(Scheme, &'static str);
    impl Authenticator for Fixed {
        fn scheme(&self) -> Scheme {
            self.0
        }
        fn authenticate<'a>(
            &'a self,
            c: &'a Credentials<'a>,
        ) -> BoxFuture<'a, Result<Identity, Refusal>> {
            let ok = c.authorization.ends_with(self.1);
            let scheme = self.0;
            Box::pin(async move {
                if ok {
                    Ok(Identity::new("ada", scheme))
                } else {
                    Err(Refusal::invalid("invalid_token", "no"))
                }
            })
        }
        fn challenge(&self, realm: &str, r: Option<&Refusal>, scope: Option<&str>) -> String {
            format!(
                "{} realm=\"{realm}\"{}{}",
                self.0.as_str(),
                r.map(|r| format!(", error=\"{}\"", r.reason))
                    .unwrap_or_default(),
                scope
                    .map(|s| format!(", scope=\"{s}\""))
                    .unwrap_or_default()
            )
        }
    }

    fn auths() -> Authenticators {
        Authenticators::new("hub")
            .with(Arc::new(Fixed(Scheme::MSign, "sig")))
            .with(Arc::new(Fixed(Scheme::Bearer, "tok")))
    }

    fn headers(auth: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(a) = auth {
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(a).unwrap());
        }
        h
    }

    #[tokio::test]
    async fn the_scheme_word_picks_the_authenticator() {
        let a = auths();
        let c = a
            .authenticate(&headers(Some("bearer tok")), "POST", "/mcp", b"")
            .await;
        let id = c.unwrap().identity.unwrap();
        assert_eq!((id.handle.as_str(), id.scheme), ("ada", Scheme::Bearer));
        let c = a
            .authenticate(&headers(Some("MSign sig")), "POST", "/mcp", b"")
            .await;
        assert_eq!(c.unwrap().identity.unwrap().scheme, Scheme::MSign);
        assert!(
            a.authenticate(&headers(None), "GET", "/mcp", b"")
                .await
                .unwrap()
                .identity
                .is_none()
        );
        let e = a
            .authenticate(&headers(Some("Basic x")), "POST", "/mcp", b"")
            .await
            .unwrap_err();
        assert_eq!((e.status, e.reason), (401, "unsupported_scheme"));
        assert!(e.message.contains("MSign or Bearer"), "{}", e.message);
    }

    #[cfg(feature = "http")]
    #[tokio::test]
    async fn only_the_refused_schemes_challenge_carries_the_error() {
        let a = auths();
        let refusal = a
            .authenticate(&headers(Some("MSign forged")), "POST", "/mcp", b"")
            .await
            .unwrap_err();
        assert_eq!(refusal.scheme, Some(Scheme::MSign));
        let c = a.challenges(Some(&refusal), None);
        assert_eq!(
            c[0], "Bearer realm=\"hub\"",
            "nothing of Bearer's was wrong"
        );
        assert_eq!(c[1], "MSign realm=\"hub\", error=\"invalid_token\"");
    }

    #[tokio::test]
    async fn tokens_in_the_query_string_are_refused() {
        let a = auths();
        for target in ["/mcp?access_token=abc", "/mcp?x=1&ACCESS_TOKEN=abc"] {
            let e = a
                .authenticate(&headers(Some("Bearer tok")), "POST", target, b"")
                .await
                .unwrap_err();
            assert_eq!((e.status, e.reason), (400, "invalid_request"), "{target}");
        }
        assert!(!token_in_query("/mcp?token_type=x"));
    }

    #[cfg(feature = "http")]
    #[test]
    fn refusals_carry_one_challenge_per_scheme() {
        let a = auths();
        let r = a.refused(&Refusal::invalid("invalid_token", "expired"));
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let c: Vec<_> = r
            .headers()
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .collect();
        assert_eq!(c.len(), 2);
        // Bearer first, where OAuth clients look for it.
        assert_eq!(c[0], "Bearer realm=\"hub\", error=\"invalid_token\"");
        assert!(
            c[1].to_str().unwrap_or("").starts_with("MSign"),
            "{:?}",
            c[1]
        );
        let r = a.insufficient_scope(Some(&json!(1)), &["repo:write"]);
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let c: Vec<_> = r
            .headers()
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .collect();
        assert_eq!(
            c[0],
            "Bearer realm=\"hub\", error=\"insufficient_scope\", scope=\"repo:write\""
        );
        let r = a.refused(&Refusal::unavailable("idp down"));
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(r.headers().get(header::WWW_AUTHENTICATE).is_none());
    }
}
