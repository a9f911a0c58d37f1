//! The Bearer scheme on the authentication seam: a [`TokenVerifier`] turns the token into the
//! caller, and the resource's Protected Resource Metadata (RFC 9728) is named in every
//! challenge and served at its well-known URLs, so a client with no setup can find the
//! authorization server (the MCP authorization specification's discovery).

use std::sync::Arc;

use futures::future::BoxFuture;

use super::{
    ProtectedResourceMetadata, TokenError, TokenVerifier, challenge,
    protected_resource_metadata_paths, protected_resource_metadata_url,
};
use crate::auth::{Authenticator, Credentials, Refusal};
use crate::handler::ctx::{Identity, Scheme};

/// Which scopes a granted scope implies (a broader scope includes narrower ones, which the
/// 2026-07-28 specification asks servers to honour): `repo:write` → `["repo:read"]`.
pub type ScopeImplications = fn(&str) -> Vec<String>;

/// `Authorization: Bearer` for a resource server: give it to
/// [`ServerBuilder::authenticator`](crate::ServerBuilder::authenticator), and the HTTP
/// transport accepts the tokens `verifier` accepts, answers anonymous calls to items that need
/// a caller with `401` and a challenge naming the metadata, answers a token without an item's
/// `scopes` with `403 insufficient_scope`, and serves the metadata at its well-known URLs.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use musehub_mcp::Server;
/// use musehub_mcp::auth::bearer::{BearerAuth, JwksSource, JwtVerifier, ProtectedResourceMetadata};
///
/// let jwks = JwksSource::url("https://idp.example/.well-known/jwks.json").build()?;
/// let verifier = JwtVerifier::builder(jwks)
///     .issuer("https://idp.example")
///     .audience("https://notes.example/mcp")
///     .build()?;
/// let metadata = ProtectedResourceMetadata::new("https://notes.example/mcp", "https://idp.example");
/// let server = Server::builder("notes")
///     .authenticator(Arc::new(BearerAuth::new(Arc::new(verifier), metadata)?))
///     .build()?;
/// # let _ = server;
/// # Ok(())
/// # }
/// ```
pub struct BearerAuth {
    verifier: Arc<dyn TokenVerifier>,
    metadata: ProtectedResourceMetadata,
    metadata_url: String,
    implied: Option<ScopeImplications>,
}

impl BearerAuth {
    /// Bearer tokens checked by `verifier` for the resource `metadata` describes (its
    /// `resource` is the canonical URL tokens must be issued for). Fails when that is not an
    /// absolute http(s) URL.
    pub fn new(
        verifier: Arc<dyn TokenVerifier>,
        metadata: ProtectedResourceMetadata,
    ) -> Result<Self, TokenError> {
        let metadata_url = protected_resource_metadata_url(&metadata.resource)?;
        Ok(Self {
            verifier,
            metadata,
            metadata_url,
            implied: None,
        })
    }

    /// Grants, with each scope of a token, the narrower scopes it implies.
    pub fn implying(mut self, implied: ScopeImplications) -> Self {
        self.implied = Some(implied);
        self
    }

    /// The Protected Resource Metadata URL named in challenges.
    pub fn metadata_url(&self) -> &str {
        &self.metadata_url
    }

    /// The metadata document, with `scopes_supported` filled from `scopes` when the
    /// configuration named none.
    pub fn metadata(&self, scopes: &[&str]) -> ProtectedResourceMetadata {
        let mut m = self.metadata.clone();
        if m.scopes_supported.is_empty() {
            m.scopes_supported = scopes.iter().map(|s| s.to_string()).collect();
        }
        m
    }
}

impl Authenticator for BearerAuth {
    fn scheme(&self) -> Scheme {
        Scheme::Bearer
    }

    fn authenticate<'a>(
        &'a self,
        c: &'a Credentials<'a>,
    ) -> BoxFuture<'a, Result<Identity, Refusal>> {
        Box::pin(async move {
            let token = c
                .authorization
                .get(6..)
                .map(|t| t.trim_start_matches(' '))
                .filter(|t| !t.is_empty())
                .ok_or_else(|| Refusal::invalid("invalid_request", "empty bearer token"))?;
            let info = self.verifier.verify(token).await.map_err(|e| {
                if e.is_unavailable() {
                    Refusal::unavailable(e.reason())
                } else {
                    Refusal::invalid(
                        e.reason(),
                        format!("the bearer token was refused ({})", e.reason()),
                    )
                }
            })?;
            let mut scopes = info.scopes.clone();
            if let Some(implied) = self.implied {
                for s in &info.scopes {
                    for extra in implied(s) {
                        if !scopes.contains(&extra) {
                            scopes.push(extra);
                        }
                    }
                }
            }
            let identity = Identity::new(info.subject.clone(), Scheme::Bearer).with_scopes(scopes);
            Ok(if info.is_agent {
                identity.agent(info.agent_name.clone())
            } else {
                identity
            })
        })
    }

    fn challenge(&self, _realm: &str, refusal: Option<&Refusal>, scope: Option<&str>) -> String {
        let value = match refusal {
            // A 403 step-up: the scopes the call needs.
            Some(r) if r.reason == "insufficient_scope" => challenge(
                &self.metadata_url,
                scope,
                Some(("insufficient_scope", &r.message)),
            ),
            // A refused token: RFC 6750's error, with the reason (never the token).
            Some(r) => {
                let code = if r.reason == "invalid_request" {
                    "invalid_request"
                } else {
                    "invalid_token"
                };
                challenge(&self.metadata_url, scope, Some((code, r.reason)))
            }
            // No token yet: where to get one, and which scopes to ask for.
            None => challenge(&self.metadata_url, scope, None),
        };
        value.to_str().unwrap_or("Bearer").to_string()
    }

    fn well_known(&self, scopes: &[&str]) -> Vec<(String, serde_json::Value)> {
        let doc = serde_json::to_value(self.metadata(scopes)).unwrap_or_default();
        protected_resource_metadata_paths(&self.metadata.resource)
            .unwrap_or_default()
            .into_iter()
            .map(|p| (p, doc.clone()))
            .collect()
    }
}
