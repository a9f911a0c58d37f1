//! The authorization server's state in the database (migration 0004): clients, pending
//! authorizations, codes, grants, refresh tokens, revocations and login codes. Every secret
//! is stored as its SHA-256 only; "use once" is an `UPDATE … WHERE used_at IS NULL` whose
//! affected-row count decides, so two instances redeeming the same code cannot both win.

use musehub_mcp::auth::bearer::token_hash;
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::unix_now;
use crate::db::{Db, new_id, now};

/// A registered client (dynamic registration or a fetched metadata document).
#[derive(Debug, Clone)]
pub struct Client {
    /// The client id (opaque for registered clients, the document URL for CIMD).
    pub client_id: String,
    /// `dcr` or `cimd`.
    pub kind: String,
    /// The SHA-256 of its secret, for confidential clients.
    pub secret_hash: Option<String>,
    /// Its name, shown on the consent page.
    pub client_name: String,
    /// The registered redirect URIs.
    pub redirect_uris: Vec<String>,
    /// The grant types it may use.
    pub grant_types: Vec<String>,
    /// `none`, `client_secret_basic` or `client_secret_post`.
    pub auth_method: String,
    /// When a CIMD document was fetched (Unix seconds).
    pub fetched_at: i64,
}

fn json_list(text: &str) -> Vec<String> {
    serde_json::from_str::<Vec<String>>(text).unwrap_or_default()
}

fn client(row: &AnyRow) -> Result<Client, sqlx::Error> {
    Ok(Client {
        client_id: row.try_get("client_id")?,
        kind: row.try_get("kind")?,
        secret_hash: row.try_get("client_secret_hash")?,
        client_name: row.try_get("client_name")?,
        redirect_uris: json_list(&row.try_get::<String, _>("redirect_uris")?),
        grant_types: json_list(&row.try_get::<String, _>("grant_types")?),
        auth_method: row.try_get("token_endpoint_auth_method")?,
        fetched_at: row.try_get("fetched_at")?,
    })
}

/// The client `client_id`, if registered.
pub async fn get_client(db: &Db, client_id: &str) -> Result<Option<Client>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT client_id, kind, client_secret_hash, client_name, redirect_uris, grant_types, \
         token_endpoint_auth_method, fetched_at FROM oauth_clients WHERE client_id = $1",
    )
    .bind(client_id)
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(client).transpose()
}

/// How many clients are registered.
pub async fn count_clients(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM oauth_clients")
        .fetch_one(db.pool())
        .await?
        .try_get("n")
}

/// Stores (or, for a refetched metadata document, replaces) a client.
pub async fn put_client(db: &Db, c: &Client, metadata: &Value) -> Result<(), sqlx::Error> {
    let uris = serde_json::to_string(&c.redirect_uris).unwrap_or_else(|_| "[]".into());
    let grants = serde_json::to_string(&c.grant_types).unwrap_or_else(|_| "[]".into());
    let mut tx = db.pool().begin().await?;
    sqlx::query("DELETE FROM oauth_clients WHERE client_id = $1")
        .bind(&c.client_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO oauth_clients (client_id, kind, client_secret_hash, client_name, redirect_uris, \
         grant_types, token_endpoint_auth_method, metadata, fetched_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&c.client_id)
    .bind(&c.kind)
    .bind(c.secret_hash.clone())
    .bind(&c.client_name)
    .bind(uris)
    .bind(grants)
    .bind(&c.auth_method)
    .bind(metadata.to_string())
    .bind(c.fetched_at)
    .bind(now())
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

/// An authorization request waiting on the consent page.
#[derive(Debug, Clone)]
pub struct Pending {
    /// The client.
    pub client_id: String,
    /// The validated redirect URI.
    pub redirect_uri: String,
    /// The client's `state`, echoed back.
    pub state: Option<String>,
    /// The scopes asked for (space-separated).
    pub scope: String,
    /// The resource the tokens will be bound to.
    pub resource: String,
    /// The PKCE S256 challenge.
    pub code_challenge: String,
    /// The SHA-256 of the page's CSRF token.
    pub csrf_hash: String,
    /// The text an MSign signature must cover.
    pub challenge: String,
    /// Failed sign-ins so far.
    pub failures: i64,
}

/// Stores a pending authorization under the hash of its id.
pub async fn put_pending(db: &Db, id: &str, p: &Pending, ttl_secs: i64) -> Result<(), sqlx::Error> {
    // Expired requests are swept on the way (they hold nothing secret, only clutter).
    sqlx::query("DELETE FROM oauth_pending WHERE expires_at < $1")
        .bind(unix_now())
        .execute(db.pool())
        .await?;
    sqlx::query(
        "INSERT INTO oauth_pending (id_hash, client_id, redirect_uri, state, scope, resource, \
         code_challenge, csrf_hash, challenge, failures, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11)",
    )
    .bind(token_hash(id))
    .bind(&p.client_id)
    .bind(&p.redirect_uri)
    .bind(p.state.clone())
    .bind(&p.scope)
    .bind(&p.resource)
    .bind(&p.code_challenge)
    .bind(&p.csrf_hash)
    .bind(&p.challenge)
    .bind(unix_now() + ttl_secs)
    .bind(now())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// How many pending authorizations have not expired.
pub async fn count_pending(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM oauth_pending WHERE expires_at >= $1")
        .bind(unix_now())
        .fetch_one(db.pool())
        .await?
        .try_get("n")
}

/// The pending authorization `id`, while it has not expired.
pub async fn get_pending(db: &Db, id: &str) -> Result<Option<Pending>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT client_id, redirect_uri, state, scope, resource, code_challenge, csrf_hash, \
         challenge, failures FROM oauth_pending WHERE id_hash = $1 AND expires_at >= $2",
    )
    .bind(token_hash(id))
    .bind(unix_now())
    .fetch_optional(db.pool())
    .await?;
    row.map(|r| {
        Ok(Pending {
            client_id: r.try_get("client_id")?,
            redirect_uri: r.try_get("redirect_uri")?,
            state: r.try_get("state")?,
            scope: r.try_get("scope")?,
            resource: r.try_get("resource")?,
            code_challenge: r.try_get("code_challenge")?,
            csrf_hash: r.try_get("csrf_hash")?,
            challenge: r.try_get("challenge")?,
            failures: r.try_get("failures")?,
        })
    })
    .transpose()
}

/// Counts a failed sign-in; the request is closed when it reaches `max`.
pub async fn fail_pending(db: &Db, id: &str, max: i64) -> Result<bool, sqlx::Error> {
    let h = token_hash(id);
    sqlx::query("UPDATE oauth_pending SET failures = failures + 1 WHERE id_hash = $1")
        .bind(&h)
        .execute(db.pool())
        .await?;
    let closed = sqlx::query("DELETE FROM oauth_pending WHERE id_hash = $1 AND failures >= $2")
        .bind(&h)
        .bind(max)
        .execute(db.pool())
        .await?
        .rows_affected()
        > 0;
    Ok(closed)
}

/// Removes the pending authorization; true for the one caller that removed it.
pub async fn take_pending(db: &Db, id: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM oauth_pending WHERE id_hash = $1")
        .bind(token_hash(id))
        .execute(db.pool())
        .await?
        .rows_affected()
        == 1)
}

/// Opens a grant (one authorization of `client_id` by `handle`) and returns its id.
pub async fn new_grant(
    db: &Db,
    client_id: &str,
    handle: &str,
    scope: &str,
    resource: &str,
) -> Result<String, sqlx::Error> {
    let id = new_id().replace('-', "");
    sqlx::query(
        "INSERT INTO oauth_grants (id, client_id, handle, scope, resource, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(client_id)
    .bind(handle)
    .bind(scope)
    .bind(resource)
    .bind(now())
    .execute(db.pool())
    .await?;
    Ok(id)
}

/// A grant.
#[derive(Debug, Clone)]
pub struct Grant {
    /// Its id.
    pub id: String,
    /// The client.
    pub client_id: String,
    /// The user.
    pub handle: String,
    /// Granted scopes.
    pub scope: String,
    /// The bound resource.
    pub resource: String,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
}

/// The grant `id`.
pub async fn get_grant(db: &Db, id: &str) -> Result<Option<Grant>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, client_id, handle, scope, resource, revoked_at FROM oauth_grants WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    row.map(|r| {
        Ok(Grant {
            id: r.try_get("id")?,
            client_id: r.try_get("client_id")?,
            handle: r.try_get("handle")?,
            scope: r.try_get("scope")?,
            resource: r.try_get("resource")?,
            revoked_at: r.try_get("revoked_at")?,
        })
    })
    .transpose()
}

/// Revokes a grant: its refresh tokens stop working and its access tokens are refused.
pub async fn revoke_grant(db: &Db, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE oauth_grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(unix_now())
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Stores an authorization code (by hash) for a grant.
pub async fn put_code(
    db: &Db,
    code: &str,
    grant_id: &str,
    client_id: &str,
    redirect_uri: &str,
    code_challenge: &str,
    ttl_secs: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO oauth_codes (code_hash, grant_id, client_id, redirect_uri, code_challenge, \
         expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(token_hash(code))
    .bind(grant_id)
    .bind(client_id)
    .bind(redirect_uri)
    .bind(code_challenge)
    .bind(unix_now() + ttl_secs)
    .bind(now())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// A stored authorization code.
#[derive(Debug, Clone)]
pub struct Code {
    /// Its grant.
    pub grant_id: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The redirect URI of the authorization request.
    pub redirect_uri: String,
    /// The PKCE challenge.
    pub code_challenge: String,
    /// Expiry (Unix seconds).
    pub expires_at: i64,
}

/// What redeeming a code found.
pub enum Redeemed {
    /// First use: the code.
    Fresh(Code),
    /// Already used: a replay (the code, to revoke its grant).
    Replayed(Code),
    /// No such code.
    Unknown,
}

/// Marks the code used, once.
pub async fn redeem_code(db: &Db, code: &str) -> Result<Redeemed, sqlx::Error> {
    let h = token_hash(code);
    let row = sqlx::query(
        "SELECT grant_id, client_id, redirect_uri, code_challenge, expires_at FROM oauth_codes \
         WHERE code_hash = $1",
    )
    .bind(&h)
    .fetch_optional(db.pool())
    .await?;
    let Some(r) = row else {
        return Ok(Redeemed::Unknown);
    };
    let c = Code {
        grant_id: r.try_get("grant_id")?,
        client_id: r.try_get("client_id")?,
        redirect_uri: r.try_get("redirect_uri")?,
        code_challenge: r.try_get("code_challenge")?,
        expires_at: r.try_get("expires_at")?,
    };
    let first =
        sqlx::query("UPDATE oauth_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL")
            .bind(unix_now())
            .bind(&h)
            .execute(db.pool())
            .await?
            .rows_affected()
            == 1;
    Ok(if first {
        Redeemed::Fresh(c)
    } else {
        Redeemed::Replayed(c)
    })
}

/// Stores a refresh token (by hash) of a grant.
pub async fn put_refresh(
    db: &Db,
    token: &str,
    grant_id: &str,
    client_id: &str,
    scope: &str,
    ttl_secs: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO oauth_refresh_tokens (token_hash, grant_id, client_id, scope, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token_hash(token))
    .bind(grant_id)
    .bind(client_id)
    .bind(scope)
    .bind(unix_now() + ttl_secs)
    .bind(now())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// A stored refresh token.
#[derive(Debug, Clone)]
pub struct Refresh {
    /// Its grant.
    pub grant_id: String,
    /// The client.
    pub client_id: String,
    /// Its scopes.
    pub scope: String,
    /// Expiry.
    pub expires_at: i64,
}

/// What using a refresh token found.
pub enum Rotated {
    /// First use.
    Fresh(Refresh),
    /// Used before: reuse of a rotated token (a leak), the grant must go.
    Reused(Refresh),
    /// No such token.
    Unknown,
}

/// Marks the refresh token used, once (rotation: each use yields a new one).
pub async fn use_refresh(db: &Db, token: &str) -> Result<Rotated, sqlx::Error> {
    let h = token_hash(token);
    let row = sqlx::query(
        "SELECT grant_id, client_id, scope, expires_at FROM oauth_refresh_tokens WHERE token_hash = $1",
    )
    .bind(&h)
    .fetch_optional(db.pool())
    .await?;
    let Some(r) = row else {
        return Ok(Rotated::Unknown);
    };
    let t = Refresh {
        grant_id: r.try_get("grant_id")?,
        client_id: r.try_get("client_id")?,
        scope: r.try_get("scope")?,
        expires_at: r.try_get("expires_at")?,
    };
    let first = sqlx::query(
        "UPDATE oauth_refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
    )
    .bind(unix_now())
    .bind(&h)
    .execute(db.pool())
    .await?
    .rows_affected()
        == 1;
    Ok(if first {
        Rotated::Fresh(t)
    } else {
        Rotated::Reused(t)
    })
}

/// The grant of a refresh token, without using it (for revocation).
pub async fn refresh_grant(db: &Db, token: &str) -> Result<Option<(String, String)>, sqlx::Error> {
    let row =
        sqlx::query("SELECT grant_id, client_id FROM oauth_refresh_tokens WHERE token_hash = $1")
            .bind(token_hash(token))
            .fetch_optional(db.pool())
            .await?;
    row.map(|r| Ok((r.try_get("grant_id")?, r.try_get("client_id")?)))
        .transpose()
}

/// Records a revoked access token until it would have expired.
pub async fn revoke_jti(db: &Db, jti: &str, expires_at: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM oauth_revoked_tokens WHERE expires_at < $1")
        .bind(unix_now())
        .execute(db.pool())
        .await?;
    sqlx::query("INSERT INTO oauth_revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING")
        .bind(jti)
        .bind(expires_at)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Stores a one-time login code for `handle` (creating its user row when missing).
pub async fn put_login_code(
    db: &Db,
    code: &str,
    handle: &str,
    ttl_secs: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO users (id, handle, display_name, bio, is_agent, created_at) \
         VALUES ($1, $2, $3, '', 0, $4) ON CONFLICT (handle) DO NOTHING",
    )
    .bind(new_id())
    .bind(handle)
    .bind(handle)
    .bind(now())
    .execute(db.pool())
    .await?;
    sqlx::query("DELETE FROM oauth_login_codes WHERE expires_at < $1")
        .bind(unix_now())
        .execute(db.pool())
        .await?;
    sqlx::query(
        "INSERT INTO oauth_login_codes (code_hash, handle, expires_at, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash(&normalize_login_code(code)))
    .bind(handle)
    .bind(unix_now() + ttl_secs)
    .bind(now())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// A new one-time login code: 12 characters of an alphabet without look-alikes (60 bits),
/// shown as `XXXX-XXXX-XXXX`.
pub fn new_login_code() -> String {
    use rand::Rng;
    const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let chars: Vec<char> = (0..12)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Login codes are typed by people: case and separators do not matter.
pub fn normalize_login_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Uses a login code: the handle when it is valid, unused and unexpired (then it is spent).
pub async fn use_login_code(db: &Db, code: &str) -> Result<Option<String>, sqlx::Error> {
    let h = token_hash(&normalize_login_code(code));
    let now = unix_now();
    let spent = sqlx::query(
        "UPDATE oauth_login_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL AND expires_at >= $1",
    )
    .bind(now)
    .bind(&h)
    .execute(db.pool())
    .await?
    .rows_affected()
        == 1;
    if !spent {
        return Ok(None);
    }
    let row = sqlx::query("SELECT handle FROM oauth_login_codes WHERE code_hash = $1")
        .bind(&h)
        .fetch_optional(db.pool())
        .await?;
    row.map(|r| r.try_get("handle")).transpose()
}
