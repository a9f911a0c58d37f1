//! The token endpoint (`/oauth/token`: authorization code with PKCE, refresh with rotation)
//! and the revocation endpoint (`/oauth/revoke`, RFC 7009).
//!
//! - An authorization code works once, for the client and redirect URI it was issued to, with
//!   the verifier of its S256 challenge, before it expires (default 60 s). Presented again,
//!   it is refused and the grant it opened is revoked: every token it yielded stops working
//!   (RFC 6749 section 4.1.2, OAuth 2.1 section 4.1.3).
//! - A refresh token works once: each use returns a new one (rotation). Presenting a used
//!   one means it leaked; the whole grant is revoked (OAuth 2.1 section 4.3.1).
//! - `resource`, when sent, must be the one the grant is bound to (RFC 8707, `invalid_target`).
//! - Access tokens are JWTs signed with the hub's key ([`super::keys`]).

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use musehub_mcp::auth::bearer::{canonical_resource, token_hash};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::keys::AccessClaims;
use super::metadata::{REVOKE_PATH, TOKEN_PATH};
use super::page::{json_error, json_ok};
use super::registration::{ClientError, resolve_client};
use super::storage::{self, Client, Redeemed, Rotated};
use super::{OAuth, random_secret, same_secret, unix_now};

/// The largest token or revocation request, in bytes.
const MAX_FORM_BYTES: usize = 16 * 1024;

pub(super) fn routes() -> Router<OAuth> {
    Router::new()
        .route(TOKEN_PATH, post(token))
        .route(REVOKE_PATH, post(revoke))
}

/// An OAuth error answer of the token endpoint.
struct Refusal {
    status: StatusCode,
    error: &'static str,
    description: String,
    basic_challenge: bool,
}

fn refuse(error: &'static str, description: impl Into<String>) -> Refusal {
    Refusal {
        status: StatusCode::BAD_REQUEST,
        error,
        description: description.into(),
        basic_challenge: false,
    }
}

impl Refusal {
    fn into_response(self) -> Response {
        let mut r = json_error(self.status, self.error, &self.description);
        if self.basic_challenge {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"musehub\""),
            );
        }
        r
    }
}

fn unavailable(e: sqlx::Error) -> Refusal {
    tracing::error!(error = %e, "OAuth storage");
    Refusal {
        status: StatusCode::SERVICE_UNAVAILABLE,
        error: "temporarily_unavailable",
        description: "the authorization server is unavailable".into(),
        basic_challenge: false,
    }
}

fn form(headers: &HeaderMap, body: &[u8]) -> Result<HashMap<String, String>, Refusal> {
    if body.len() > MAX_FORM_BYTES {
        return Err(refuse("invalid_request", "the request is too large"));
    }
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(refuse(
            "invalid_request",
            "the request must be application/x-www-form-urlencoded",
        ));
    }
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        if out.insert(k.to_string(), v.to_string()).is_some() {
            return Err(refuse(
                "invalid_request",
                format!(
                    "the parameter {} is repeated",
                    k.chars().take(40).collect::<String>()
                ),
            ));
        }
    }
    Ok(out)
}

/// The `client_secret_basic` credentials, percent-decoded (RFC 6749 section 2.3.1).
fn basic_credentials(headers: &HeaderMap) -> Option<Result<(String, String), Refusal>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let bad = || Refusal {
        status: StatusCode::UNAUTHORIZED,
        error: "invalid_client",
        description: "unreadable client credentials".into(),
        basic_challenge: true,
    };
    let decoded = STANDARD
        .decode(rest.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    let Some((id, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
        return Some(Err(bad()));
    };
    let dec = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.to_string())
    };
    match (dec(id), dec(secret)) {
        (Some(i), Some(s)) => Some(Ok((i, s))),
        _ => Some(Err(bad())),
    }
}

/// Authenticates the client of a token or revocation request.
async fn authenticate(
    oauth: &OAuth,
    headers: &HeaderMap,
    p: &HashMap<String, String>,
) -> Result<Client, Refusal> {
    let basic = basic_credentials(headers).transpose()?;
    let (client_id, secret, via_basic) = match (&basic, p.get("client_id")) {
        (Some((id, s)), form_id) => {
            if form_id.is_some_and(|f| f != id) {
                return Err(refuse(
                    "invalid_request",
                    "client_id differs from the credentials",
                ));
            }
            (id.clone(), Some(s.clone()), true)
        }
        (None, Some(id)) => (id.clone(), p.get("client_secret").cloned(), false),
        (None, None) => {
            return Err(Refusal {
                status: StatusCode::UNAUTHORIZED,
                error: "invalid_client",
                description: "client authentication is required".into(),
                basic_challenge: true,
            });
        }
    };
    let invalid = |why: &str| Refusal {
        status: StatusCode::UNAUTHORIZED,
        error: "invalid_client",
        description: why.to_string(),
        basic_challenge: via_basic,
    };
    let client = match resolve_client(oauth, &client_id).await {
        Ok(c) => c,
        Err(ClientError::Invalid(_)) => return Err(invalid("unknown client")),
        Err(ClientError::Storage(e)) => return Err(unavailable(e)),
    };
    match (&client.secret_hash, secret) {
        (None, None) => Ok(client),
        (None, Some(_)) => Err(invalid("this client has no secret")),
        (Some(_), None) => Err(invalid("this client must authenticate with its secret")),
        (Some(h), Some(s)) if same_secret(h, &token_hash(&s)) => Ok(client),
        (Some(_), Some(_)) => Err(invalid("wrong client credentials")),
    }
}

/// The RFC 7636 verifier grammar: 43-128 of `A-Z a-z 0-9 - . _ ~`.
fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// `resource`, when sent, must name the grant's resource.
fn check_resource(p: &HashMap<String, String>, bound: &str) -> Result<(), Refusal> {
    match p.get("resource") {
        None => Ok(()),
        Some(r) if canonical_resource(r).is_ok_and(|c| c == bound) => Ok(()),
        Some(_) => Err(refuse(
            "invalid_target",
            "resource is not the one this grant is bound to",
        )),
    }
}

/// `POST /oauth/token`.
async fn token(State(oauth): State<OAuth>, headers: HeaderMap, body: Bytes) -> Response {
    match issue(&oauth, &headers, &body).await {
        Ok(r) => r,
        Err(refusal) => refusal.into_response(),
    }
}

async fn issue(oauth: &OAuth, headers: &HeaderMap, body: &[u8]) -> Result<Response, Refusal> {
    let p = form(headers, body)?;
    let client = authenticate(oauth, headers, &p).await?;
    match p.get("grant_type").map(String::as_str) {
        Some("authorization_code") => code_grant(oauth, &client, &p).await,
        Some("refresh_token") => refresh_grant(oauth, &client, &p).await,
        Some(_) => Err(refuse(
            "unsupported_grant_type",
            "use authorization_code or refresh_token",
        )),
        None => Err(refuse("invalid_request", "grant_type is missing")),
    }
}

async fn code_grant(
    oauth: &OAuth,
    client: &Client,
    p: &HashMap<String, String>,
) -> Result<Response, Refusal> {
    let db = oauth.db();
    let code = p
        .get("code")
        .ok_or_else(|| refuse("invalid_request", "code is missing"))?;
    let c = match storage::redeem_code(db, code).await.map_err(unavailable)? {
        Redeemed::Fresh(c) => c,
        Redeemed::Replayed(c) => {
            storage::revoke_grant(db, &c.grant_id)
                .await
                .map_err(unavailable)?;
            tracing::warn!(client_id = %c.client_id, "authorization code replayed; its grant is revoked");
            return Err(refuse(
                "invalid_grant",
                "the authorization code was already used",
            ));
        }
        Redeemed::Unknown => return Err(refuse("invalid_grant", "unknown authorization code")),
    };
    if c.client_id != client.client_id {
        return Err(refuse(
            "invalid_grant",
            "the code was issued to another client",
        ));
    }
    if c.expires_at < unix_now() {
        return Err(refuse(
            "invalid_grant",
            "the authorization code has expired",
        ));
    }
    if p.get("redirect_uri").is_some_and(|r| *r != c.redirect_uri) {
        return Err(refuse(
            "invalid_grant",
            "redirect_uri differs from the authorization request",
        ));
    }
    let Some(verifier) = p.get("code_verifier") else {
        return Err(refuse(
            "invalid_request",
            "code_verifier is missing (PKCE is required)",
        ));
    };
    if !valid_verifier(verifier) || !same_secret(&s256(verifier), &c.code_challenge) {
        return Err(refuse(
            "invalid_grant",
            "code_verifier does not match the code_challenge",
        ));
    }
    let grant = storage::get_grant(db, &c.grant_id)
        .await
        .map_err(unavailable)?
        .filter(|g| g.revoked_at.is_none())
        .ok_or_else(|| refuse("invalid_grant", "the authorization was revoked"))?;
    check_resource(p, &grant.resource)?;
    tokens(
        oauth,
        client,
        &grant.id,
        &grant.handle,
        &grant.scope,
        &grant.resource,
    )
    .await
}

async fn refresh_grant(
    oauth: &OAuth,
    client: &Client,
    p: &HashMap<String, String>,
) -> Result<Response, Refusal> {
    let db = oauth.db();
    if !client.grant_types.iter().any(|g| g == "refresh_token") {
        return Err(refuse(
            "unauthorized_client",
            "this client is not registered for refresh_token",
        ));
    }
    let presented = p
        .get("refresh_token")
        .ok_or_else(|| refuse("invalid_request", "refresh_token is missing"))?;
    let t = match storage::use_refresh(db, presented)
        .await
        .map_err(unavailable)?
    {
        Rotated::Fresh(t) => t,
        Rotated::Reused(t) => {
            storage::revoke_grant(db, &t.grant_id)
                .await
                .map_err(unavailable)?;
            tracing::warn!(client_id = %t.client_id, "refresh token reused; its grant is revoked");
            return Err(refuse(
                "invalid_grant",
                "the refresh token was already used",
            ));
        }
        Rotated::Unknown => return Err(refuse("invalid_grant", "unknown refresh token")),
    };
    if t.client_id != client.client_id {
        return Err(refuse(
            "invalid_grant",
            "the refresh token was issued to another client",
        ));
    }
    if t.expires_at < unix_now() {
        return Err(refuse("invalid_grant", "the refresh token has expired"));
    }
    let grant = storage::get_grant(db, &t.grant_id)
        .await
        .map_err(unavailable)?
        .filter(|g| g.revoked_at.is_none())
        .ok_or_else(|| refuse("invalid_grant", "the authorization was revoked"))?;
    check_resource(p, &grant.resource)?;
    // A refresh may narrow the scopes, never widen them.
    let granted: Vec<&str> = t.scope.split_whitespace().collect();
    let scope = match p.get("scope") {
        None => t.scope.clone(),
        Some(s) => {
            let asked: Vec<&str> = s
                .split_whitespace()
                .filter(|x| *x != crate::scopes::OFFLINE_ACCESS)
                .collect();
            if asked.is_empty() || asked.iter().any(|a| !granted.contains(a)) {
                return Err(refuse("invalid_scope", "a refresh cannot add scopes"));
            }
            asked.join(" ")
        }
    };
    tokens(
        oauth,
        client,
        &grant.id,
        &grant.handle,
        &scope,
        &grant.resource,
    )
    .await
}

/// The token response: an access token and, for clients allowed to refresh, a new refresh
/// token in the same grant.
async fn tokens(
    oauth: &OAuth,
    client: &Client,
    grant_id: &str,
    handle: &str,
    scope: &str,
    resource: &str,
) -> Result<Response, Refusal> {
    let claims = AccessClaims {
        subject: handle,
        client_id: &client.client_id,
        scope,
        resource,
        grant_id,
    };
    let (access, ttl) = oauth
        .sign_access_token(&claims)
        .await
        .map_err(unavailable)?;
    let mut answer = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": scope,
    });
    if client.grant_types.iter().any(|g| g == "refresh_token") {
        let refresh = format!("mhr_{}", random_secret(32));
        storage::put_refresh(
            oauth.db(),
            &refresh,
            grant_id,
            &client.client_id,
            scope,
            oauth.settings().refresh_token_ttl.as_secs() as i64,
        )
        .await
        .map_err(unavailable)?;
        answer["refresh_token"] = json!(refresh);
    }
    tracing::info!(client_id = %client.client_id, handle = %handle, scope = %scope, "issued OAuth tokens");
    Ok(json_ok(StatusCode::OK, &answer))
}

/// `POST /oauth/revoke` (RFC 7009): always 200 for an authenticated client, whether or not
/// the token was known, so the answer tells nothing about other clients' tokens.
async fn revoke(State(oauth): State<OAuth>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let p = form(&headers, &body)?;
        let client = authenticate(&oauth, &headers, &p).await?;
        let t = p
            .get("token")
            .ok_or_else(|| refuse("invalid_request", "token is missing"))?;
        let db = oauth.db();
        if let Some((grant, owner)) = storage::refresh_grant(db, t).await.map_err(unavailable)? {
            if owner == client.client_id {
                storage::revoke_grant(db, &grant)
                    .await
                    .map_err(unavailable)?;
            }
        } else if let Some((jti, exp, owner)) = own_access_token(&oauth, t).await
            && owner == client.client_id
        {
            storage::revoke_jti(db, &jti, exp)
                .await
                .map_err(unavailable)?;
        }
        Ok::<_, Refusal>(json_ok(StatusCode::OK, &json!({})))
    };
    result.await.unwrap_or_else(Refusal::into_response)
}

/// The `jti`, expiry and client of one of the hub's own access tokens (signature checked,
/// expiry not: an expired token needs no revoking, and a bad one is ignored).
async fn own_access_token(oauth: &OAuth, token: &str) -> Option<(String, i64, String)> {
    let set = super::keys::jwks(oauth.db()).await.ok()?;
    let header = jsonwebtoken::decode_header(token).ok()?;
    let jwk = set.find(header.kid.as_deref()?)?;
    let decoding = jsonwebtoken::DecodingKey::from_jwk(jwk).ok()?;
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    v.validate_exp = false;
    v.validate_aud = false;
    v.set_issuer(&[oauth.issuer()]);
    let data = jsonwebtoken::decode::<serde_json::Value>(token, &decoding, &v).ok()?;
    let c = data.claims;
    Some((
        c.get("jti")?.as_str()?.to_string(),
        c.get("exp")?.as_i64()?,
        c.get("client_id")?.as_str()?.to_string(),
    ))
}
