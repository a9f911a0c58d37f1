//! The embedded OAuth 2.1 authorization server, so that an MCP client with no setup can sign
//! in (the MCP authorization specification, 2025-11-25 and 2026-07-28), and the token
//! verifier the resource server (`/mcp`) uses for every Bearer token.
//!
//! - [`metadata`] — RFC 8414 authorization-server metadata at
//!   `/.well-known/oauth-authorization-server`, and the RFC 9728 document the resource server
//!   publishes.
//! - [`registration`] — dynamic client registration (RFC 7591) at `/oauth/register`, and Client
//!   ID Metadata Documents (an https `client_id` whose JSON document the hub fetches).
//! - [`authorize`] — `/oauth/authorize`, the server-rendered sign-in/consent page (a one-time
//!   code from `musehub-server login-code`, or an MSign signature over a challenge), PKCE S256
//!   only, exact redirect-URI matching, no open redirect.
//! - [`token`] — `/oauth/token` (authorization code, refresh with rotation and reuse detection)
//!   and `/oauth/revoke` (RFC 7009).
//! - [`keys`] — the hub's Ed25519 signing key (in the database, generated on first start), the
//!   JWKS at `/oauth/jwks`, and the verifier of the hub's own access tokens, which reads the
//!   keys through the same JWKS path it would use with an external identity provider.
//! - [`storage`] — every piece of state, in the database, so that any instance verifies and
//!   redeems what another issued.

pub mod authorize;
pub mod config;
pub mod keys;
pub mod metadata;
mod page;
pub mod registration;
pub mod storage;
pub mod token;

use std::sync::Arc;

use axum::Router;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use musehub_mcp::auth::MSignVerifier;
use musehub_mcp::auth::bearer::{
    JwksSource, JwtAlgorithm, JwtVerifier, RoutedVerifier, StoreVerifier, TokenError,
    TokenVerifier, canonical_resource,
};
use rand::RngCore;

pub use config::{FileOAuth, OAuthArgs, OAuthSettings};

use crate::db::Db;
use crate::tokens::{AGENT_TOKEN_PREFIX, DbTokenStore};

/// The path of the MCP endpoint, whose URL is the resource identifier (RFC 8707).
pub const MCP_PATH: &str = "/mcp";

/// The authorization server and resource-server verification of one hub (cheap to clone).
#[derive(Clone)]
pub struct OAuth {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    settings: OAuthSettings,
    issuer: String,
    resource: String,
    msign: MSignVerifier,
    http: reqwest::Client,
    signing: tokio::sync::OnceCell<keys::SigningKey>,
}

impl OAuth {
    /// The OAuth side of the hub over `db`: issuer = the hub's public URL
    /// (`HubSettings::public_url`), resource = that URL with `/mcp`. Cheap: the signing key is
    /// loaded (or generated) on first use.
    pub fn new(db: Db, settings: OAuthSettings, auth: &crate::AuthSettings) -> Self {
        let public = db.settings().public_url.trim_end_matches('/').to_string();
        let issuer = canonical_resource(&public).unwrap_or(public);
        let resource = format!("{issuer}{MCP_PATH}");
        let msign = crate::verifier(&db, auth);
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            inner: Arc::new(Inner {
                db,
                settings,
                issuer,
                resource,
                msign,
                http,
                signing: tokio::sync::OnceCell::new(),
            }),
        }
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }
    /// The settings.
    pub fn settings(&self) -> &OAuthSettings {
        &self.inner.settings
    }
    /// The issuer identifier of the embedded authorization server (the hub's public URL,
    /// without a trailing slash).
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }
    /// The resource identifier of `/mcp`: the audience every accepted token carries.
    pub fn resource(&self) -> &str {
        &self.inner.resource
    }
    /// The issuer tokens come from: the external one when configured, else the hub.
    pub fn authorization_server(&self) -> &str {
        self.inner
            .settings
            .external_issuer
            .as_deref()
            .unwrap_or(&self.inner.issuer)
    }
    /// An absolute URL on this hub.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.inner.issuer)
    }

    pub(crate) fn msign(&self) -> &MSignVerifier {
        &self.inner.msign
    }
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// The hub's signing key (loaded from the database, generated there on first use).
    pub(crate) async fn signing_key(&self) -> Result<&keys::SigningKey, sqlx::Error> {
        self.inner
            .signing
            .get_or_try_init(|| keys::ensure_signing_key(&self.inner.db))
            .await
    }

    /// The verifier of every Bearer token `/mcp` accepts: agent tokens (`mha_…`, from the
    /// database) and JWT access tokens — the hub's own (its JWKS, read from the database, and
    /// its revocations) or, with an external issuer, that issuer's (its JWKS URL).
    pub fn token_verifier(&self) -> Result<Arc<dyn TokenVerifier>, TokenError> {
        let store = StoreVerifier::new(Arc::new(DbTokenStore::new(self.inner.db.clone())))
            .prefix(AGENT_TOKEN_PREFIX)
            .audience(self.resource());
        let jwt: Arc<dyn TokenVerifier> = match &self.inner.settings.external_issuer {
            None => Arc::new(keys::HubJwtVerifier::new(self)?),
            Some(issuer) => {
                let url = self
                    .inner
                    .settings
                    .external_jwks_url
                    .clone()
                    .unwrap_or_else(|| {
                        format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/'))
                    });
                let source = JwksSource::url(url).build()?;
                Arc::new(
                    JwtVerifier::builder(source)
                        .issuer(issuer.clone())
                        .audience(self.resource())
                        .algorithms(&JwtAlgorithm::ALL)
                        .subject_claim(self.inner.settings.external_subject_claim.clone())
                        .build()?,
                )
            }
        };
        Ok(Arc::new(
            RoutedVerifier::new()
                .prefix(AGENT_TOKEN_PREFIX, Arc::new(store))
                .jwt(jwt),
        ))
    }
}

/// The authorization server's routes (none with an external issuer or `--no-oauth`; the
/// JWKS is served whenever the embedded server is).
pub fn routes(oauth: &OAuth) -> Router {
    if !oauth.settings().embedded() {
        return Router::new();
    }
    Router::new()
        .merge(metadata::routes())
        .merge(registration::routes())
        .merge(authorize::routes())
        .merge(token::routes())
        .merge(keys::routes())
        .with_state(oauth.clone())
}

/// A new random secret: `bytes` random bytes, base64url without padding.
pub(crate) fn random_secret(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// The current Unix time in seconds.
pub(crate) fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Compares two secrets' hashes without leaking where they differ.
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
