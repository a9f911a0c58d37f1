//! The hub's token-signing key and its JWKS.
//!
//! One Ed25519 key (EdDSA), generated on first use and kept in `oauth_signing_keys`, so every
//! instance signs with the same key and publishes the same set (when two instances start on a
//! fresh database at once, both keys are stored and published and all instances sign with the
//! older). The hub verifies its own access tokens exactly as it would an external identity
//! provider's: a [`JwtVerifier`] over a cached [`JwksSource`] whose fetcher reads the same set
//! `/oauth/jwks` serves, plus a look-up of the grant and token revocations.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::future::BoxFuture;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use musehub_mcp::auth::bearer::{
    JwkSet as BearerJwkSet, JwksFetcher, JwksSource, JwtAlgorithm, JwtVerifier, TokenError,
    TokenInfo, TokenVerifier,
};
use serde_json::json;
use sqlx::Row;

use super::{OAuth, unix_now};
use crate::db::{Db, is_unique_violation, now};

/// The JWKS path.
pub const JWKS_PATH: &str = "/oauth/jwks";

/// The key the hub signs access tokens with.
pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
}

impl SigningKey {
    /// The key id (`kid`) it is published under.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// A compact JWS (`typ: at+jwt`, EdDSA, this key's `kid`) over `claims`.
    pub fn sign_claims(
        &self,
        claims: &serde_json::Value,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        header.typ = Some("at+jwt".into());
        jsonwebtoken::encode(&header, claims, &self.encoding)
    }
}

/// PKCS#8 v1 wrapping of an Ed25519 seed (RFC 8410): the fixed 16-byte prefix, then the seed.
fn pkcs8_ed25519(seed: &[u8; 32]) -> Vec<u8> {
    const PREFIX: [u8; 16] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    let mut der = PREFIX.to_vec();
    der.extend_from_slice(seed);
    der
}

fn load(kid: String, secret: &str) -> Result<SigningKey, sqlx::Error> {
    let bytes = URL_SAFE_NO_PAD
        .decode(secret.trim())
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| sqlx::Error::Decode("oauth_signing_keys: unreadable secret key".into()))?;
    Ok(SigningKey {
        kid,
        encoding: EncodingKey::from_ed_der(&pkcs8_ed25519(&bytes)),
    })
}

async fn oldest_active(db: &Db) -> Result<Option<SigningKey>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT kid, secret_key FROM oauth_signing_keys WHERE retired_at IS NULL \
         ORDER BY created_at, kid LIMIT 1",
    )
    .fetch_optional(db.pool())
    .await?;
    row.map(|r| load(r.try_get("kid")?, &r.try_get::<String, _>("secret_key")?))
        .transpose()
}

/// The active signing key, generated and stored when there is none.
pub async fn ensure_signing_key(db: &Db) -> Result<SigningKey, sqlx::Error> {
    if let Some(k) = oldest_active(db).await? {
        return Ok(k);
    }
    let secret = crate::keys::generate();
    let public = secret.verifying_key();
    let kid = musehub_mcp::auth::key_id(&public);
    let mut jwk = Jwk::from_encoding_key(
        &EncodingKey::from_ed_der(&pkcs8_ed25519(secret.as_bytes())),
        Algorithm::EdDSA,
    )
    .map_err(|e| sqlx::Error::Protocol(format!("building the JWK: {e}")))?;
    jwk.common.key_id = Some(kid.clone());
    jwk.common.public_key_use = Some(jsonwebtoken::jwk::PublicKeyUse::Signature);
    let public_jwk = serde_json::to_string(&jwk)
        .map_err(|e| sqlx::Error::Protocol(format!("encoding the JWK: {e}")))?;
    let inserted = sqlx::query(
        "INSERT INTO oauth_signing_keys (kid, algorithm, secret_key, public_jwk, created_at) \
         VALUES ($1, 'EdDSA', $2, $3, $4)",
    )
    .bind(&kid)
    .bind(URL_SAFE_NO_PAD.encode(secret.as_bytes()))
    .bind(&public_jwk)
    .bind(now())
    .execute(db.pool())
    .await;
    match inserted {
        Ok(_) => tracing::info!(kid = %kid, "generated the OAuth token-signing key"),
        Err(e) if is_unique_violation(&e) => {}
        Err(e) => return Err(e),
    }
    oldest_active(db)
        .await?
        .ok_or_else(|| sqlx::Error::RowNotFound)
}

/// Every published key (retired ones too: tokens they signed may still be in use).
pub async fn jwks(db: &Db) -> Result<JwkSet, sqlx::Error> {
    let rows = sqlx::query("SELECT public_jwk FROM oauth_signing_keys ORDER BY created_at, kid")
        .fetch_all(db.pool())
        .await?;
    let keys = rows
        .iter()
        .filter_map(|r| r.try_get::<String, _>("public_jwk").ok())
        .filter_map(|j| serde_json::from_str::<Jwk>(&j).ok())
        .collect();
    Ok(JwkSet { keys })
}

pub(super) fn routes() -> Router<OAuth> {
    Router::new().route(JWKS_PATH, get(serve_jwks))
}

async fn serve_jwks(State(oauth): State<OAuth>) -> Response {
    // Make sure a key exists before the first token is asked for.
    if let Err(e) = oauth.signing_key().await {
        tracing::error!(error = %e, "loading the OAuth signing key");
        return super::page::json_error(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the key set is unavailable",
        );
    }
    match jwks(oauth.db()).await {
        Ok(set) => (
            [
                (header::CACHE_CONTROL, "public, max-age=300"),
                (header::CONTENT_TYPE, "application/jwk-set+json"),
            ],
            serde_json::to_string(&set).unwrap_or_else(|_| "{\"keys\":[]}".into()),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "reading the JWKS");
            super::page::json_error(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "the key set is unavailable",
            )
        }
    }
}

/// What an access token says (claims of an RFC 9068-style JWT).
pub struct AccessClaims<'a> {
    /// The user's handle.
    pub subject: &'a str,
    /// The OAuth client.
    pub client_id: &'a str,
    /// Granted scopes.
    pub scope: &'a str,
    /// The resource (audience).
    pub resource: &'a str,
    /// The grant it belongs to (the `jti` starts with it, so revoking the grant revokes it).
    pub grant_id: &'a str,
}

impl OAuth {
    /// A signed access token and its lifetime in seconds.
    pub async fn sign_access_token(
        &self,
        c: &AccessClaims<'_>,
    ) -> Result<(String, u64), sqlx::Error> {
        let key = self.signing_key().await?;
        let ttl = self.settings().access_token_ttl.as_secs().max(1);
        let iat = unix_now();
        let claims = json!({
            "iss": self.issuer(),
            "sub": c.subject,
            "aud": c.resource,
            "client_id": c.client_id,
            "scope": c.scope,
            "iat": iat,
            "exp": iat + ttl as i64,
            "jti": format!("{}.{}", c.grant_id, super::random_secret(12)),
        });
        let token = key
            .sign_claims(&claims)
            .map_err(|e| sqlx::Error::Protocol(format!("signing an access token: {e}")))?;
        Ok((token, ttl))
    }
}

/// Reads the JWKS from the database, for the hub's own [`JwksSource`].
struct DbJwksFetcher(Db);

impl JwksFetcher for DbJwksFetcher {
    fn fetch(&self) -> BoxFuture<'_, Result<BearerJwkSet, TokenError>> {
        Box::pin(async move {
            jwks(&self.0).await.map_err(|e| {
                tracing::error!(error = %e, "reading the JWKS");
                TokenError::Unavailable("the key set is unavailable".into())
            })
        })
    }
}

/// Verifies the hub's own access tokens: the JWT checks (issuer = the hub, audience = `/mcp`,
/// EdDSA only), then that neither the token nor its grant was revoked.
pub struct HubJwtVerifier {
    jwt: JwtVerifier,
    db: Db,
}

impl HubJwtVerifier {
    /// The verifier for `oauth`'s tokens.
    pub fn new(oauth: &OAuth) -> Result<Self, TokenError> {
        let source = JwksSource::fetched(
            DbJwksFetcher(oauth.db().clone()),
            Duration::from_secs(300),
            Duration::from_secs(5),
        );
        let jwt = JwtVerifier::builder(source)
            .issuer(oauth.issuer())
            .audience(oauth.resource())
            .algorithms(&[JwtAlgorithm::EdDSA])
            .build()?;
        Ok(Self {
            jwt,
            db: oauth.db().clone(),
        })
    }

    async fn check(&self, token: &str) -> Result<TokenInfo, TokenError> {
        let info = self.jwt.verify(token).await?;
        let jti = info
            .token_id()
            .ok_or_else(|| TokenError::Malformed("the token has no jti".into()))?;
        let grant = jti.split('.').next().unwrap_or("");
        let unavailable = |e: sqlx::Error| {
            tracing::error!(error = %e, "checking token revocation");
            TokenError::Unavailable("the revocation list did not answer".into())
        };
        let row = sqlx::query(
            "SELECT g.revoked_at AS grant_revoked, \
             (SELECT COUNT(*) FROM oauth_revoked_tokens r WHERE r.jti = $2) AS token_revoked \
             FROM oauth_grants g WHERE g.id = $1",
        )
        .bind(grant)
        .bind(jti)
        .fetch_optional(self.db.pool())
        .await
        .map_err(unavailable)?;
        let Some(row) = row else {
            return Err(TokenError::Revoked);
        };
        let grant_revoked: Option<i64> = row.try_get("grant_revoked").map_err(unavailable)?;
        let token_revoked: i64 = row.try_get("token_revoked").map_err(unavailable)?;
        if grant_revoked.is_some() || token_revoked > 0 {
            return Err(TokenError::Revoked);
        }
        Ok(info)
    }
}

impl TokenVerifier for HubJwtVerifier {
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<TokenInfo, TokenError>> {
        Box::pin(self.check(token))
    }
}
