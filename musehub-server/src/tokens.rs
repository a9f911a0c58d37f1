//! Agent tokens (`mha_…`): static Bearer tokens an AI agent's MCP client sends as
//! `Authorization: Bearer mha_…` to act for a user, minted by `musehub_create_agent_token` or
//! `musehub-server tokens create`.
//!
//! A token is 32 random bytes (64 hex digits after the prefix). The hub stores only its
//! SHA-256 with the owner's handle, the agent's name, its scopes and its expiry; revoked
//! tokens stay, marked, so that they are refused as revoked (not unknown) and still listed.
//! [`DbTokenStore`] is the [`OpaqueTokenStore`] the Bearer verifier reads them from, so every
//! instance sharing the database accepts and refuses the same tokens.

use futures::future::BoxFuture;
use musehub_mcp::ToolError;
use musehub_mcp::auth::bearer::{OpaqueToken, OpaqueTokenStore, TokenError, TokenInfo, token_hash};
use rand::RngCore;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{Db, new_id, now};
use crate::keys::valid_handle;
use crate::scopes;

/// The prefix of every agent token.
pub const AGENT_TOKEN_PREFIX: &str = "mha_";
/// Validity when none is asked for, in days.
pub const DEFAULT_DAYS: i64 = 90;
/// The longest validity, in days.
pub const MAX_DAYS: i64 = 365;

/// What can go wrong managing agent tokens.
#[derive(Debug, thiserror::Error)]
pub enum AgentTokenError {
    /// The handle does not match the handle grammar.
    #[error("invalid handle `{0}`: use 1-64 of A-Z a-z 0-9 _ . -")]
    InvalidHandle(String),
    /// The agent name is empty, too long or has control characters.
    #[error("invalid agent name: use 1-64 characters without control characters")]
    InvalidAgentName,
    /// A scope the hub does not define.
    #[error("unknown scope `{0}`: the hub's scopes are {known}", known = scopes::ALL.join(", "))]
    UnknownScope(String),
    /// The validity is out of range.
    #[error("invalid validity: use 1-{MAX_DAYS} days")]
    InvalidDays,
    /// The handle has no token with this id.
    #[error("`{handle}` has no agent token `{id}`")]
    UnknownToken {
        /// The handle.
        handle: String,
        /// The token id.
        id: String,
    },
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// The tool error for `e`: database failures are logged and opaque, the rest say what to fix.
pub fn tool_error(e: AgentTokenError) -> ToolError {
    match e {
        AgentTokenError::Database(e) => crate::db::dberr(e),
        AgentTokenError::UnknownToken { .. } => ToolError::new("not_found", e.to_string()),
        other => ToolError::invalid_argument(other.to_string()),
    }
}

/// A freshly minted token: the only time the secret exists outside the agent's client.
#[derive(Debug, Clone)]
pub struct MintedToken {
    /// The token itself (`mha_…`).
    pub token: String,
    /// Its id (for `tokens revoke`).
    pub id: String,
    /// The owner.
    pub handle: String,
    /// The agent's name.
    pub agent_name: String,
    /// Its scopes.
    pub scopes: Vec<String>,
    /// Validity in days.
    pub days: i64,
    /// Expiry (RFC 3339).
    pub expires_at: String,
}

/// A stored token, as `tokens list` shows it (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentTokenInfo {
    /// The token id.
    pub id: String,
    /// The owner.
    pub handle: String,
    /// The agent's name.
    pub agent_name: String,
    /// Its scopes.
    pub scopes: Vec<String>,
    /// Expiry (RFC 3339).
    pub expires_at: String,
    /// When it was minted.
    pub created_at: String,
    /// When it was revoked, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

fn check_agent(name: &str) -> Result<String, AgentTokenError> {
    let name = name.trim();
    let name = if name.is_empty() { "mcp-agent" } else { name };
    if name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(AgentTokenError::InvalidAgentName);
    }
    Ok(name.to_string())
}

/// The scopes of a space-separated list, each one the hub defines (`None` or empty: the
/// default [`scopes::AGENT_DEFAULT`]).
pub fn parse_scopes(text: Option<&str>) -> Result<Vec<String>, AgentTokenError> {
    let list: Vec<String> = match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => scopes::AGENT_DEFAULT
            .iter()
            .map(|s| s.to_string())
            .collect(),
        Some(t) => t.split_whitespace().map(str::to_string).collect(),
    };
    for s in &list {
        if !scopes::ALL.contains(&s.as_str()) {
            return Err(AgentTokenError::UnknownScope(s.chars().take(64).collect()));
        }
    }
    let mut unique = Vec::new();
    for s in list {
        if !unique.contains(&s) {
            unique.push(s);
        }
    }
    Ok(unique)
}

/// A new random token: the prefix and 64 lower-case hex digits.
fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{AGENT_TOKEN_PREFIX}{hex}")
}

/// Mints a token for the agent `agent_name` acting for `handle` (whose user row is created
/// when missing), valid `days` (default [`DEFAULT_DAYS`], at most [`MAX_DAYS`]) with `scopes`.
pub async fn mint(
    db: &Db,
    handle: &str,
    agent_name: &str,
    days: Option<i64>,
    scopes: &[String],
) -> Result<MintedToken, AgentTokenError> {
    if !valid_handle(handle) {
        return Err(AgentTokenError::InvalidHandle(
            handle.chars().take(80).collect(),
        ));
    }
    let agent_name = check_agent(agent_name)?;
    let days = days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(AgentTokenError::InvalidDays);
    }
    for s in scopes {
        if !scopes::ALL.contains(&s.as_str()) {
            return Err(AgentTokenError::UnknownScope(s.chars().take(64).collect()));
        }
    }
    let token = new_token();
    let id = new_id();
    let expires = chrono::Utc::now() + chrono::Duration::days(days);
    let expires_at = expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let created = now();
    sqlx::query(
        "INSERT INTO users (id, handle, display_name, bio, is_agent, created_at) \
         VALUES ($1, $2, $3, '', 0, $4) ON CONFLICT (handle) DO NOTHING",
    )
    .bind(new_id())
    .bind(handle)
    .bind(handle)
    .bind(&created)
    .execute(db.pool())
    .await?;
    sqlx::query(
        "INSERT INTO agent_tokens (id, handle, agent_name, token_hash, expires_at, created_at, scopes, expires_unix) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(handle)
    .bind(&agent_name)
    .bind(token_hash(&token))
    .bind(&expires_at)
    .bind(&created)
    .bind(scopes.join(" "))
    .bind(expires.timestamp())
    .execute(db.pool())
    .await?;
    Ok(MintedToken {
        token,
        id,
        handle: handle.into(),
        agent_name,
        scopes: scopes.to_vec(),
        days,
        expires_at,
    })
}

const COLUMNS: &str = "id, handle, agent_name, scopes, expires_at, created_at, revoked_at";

fn info(row: &AnyRow) -> Result<AgentTokenInfo, sqlx::Error> {
    let scopes: String = row.try_get("scopes")?;
    Ok(AgentTokenInfo {
        id: row.try_get("id")?,
        handle: row.try_get("handle")?,
        agent_name: row.try_get("agent_name")?,
        scopes: scopes.split_whitespace().map(str::to_string).collect(),
        expires_at: row.try_get("expires_at")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

/// The tokens of `handle`, newest first, expired and revoked ones included.
pub async fn list(db: &Db, handle: &str) -> Result<Vec<AgentTokenInfo>, AgentTokenError> {
    if !valid_handle(handle) {
        return Err(AgentTokenError::InvalidHandle(
            handle.chars().take(80).collect(),
        ));
    }
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM agent_tokens WHERE handle = $1 ORDER BY created_at DESC, id"
    ))
    .bind(handle)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.iter().map(info).collect::<Result<_, _>>()?)
}

/// Revokes the token `id` of `handle`: it is refused from now on, by every instance.
pub async fn revoke(db: &Db, handle: &str, id: &str) -> Result<AgentTokenInfo, AgentTokenError> {
    sqlx::query(
        "UPDATE agent_tokens SET revoked_at = $1 WHERE handle = $2 AND id = $3 AND revoked_at IS NULL",
    )
    .bind(now())
    .bind(handle)
    .bind(id)
    .execute(db.pool())
    .await?;
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM agent_tokens WHERE handle = $1 AND id = $2"
    ))
    .bind(handle)
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    match row {
        Some(r) => Ok(info(&r)?),
        None => Err(AgentTokenError::UnknownToken {
            handle: handle.chars().take(80).collect(),
            id: id.chars().take(80).collect(),
        }),
    }
}

/// Agent tokens in the database, for the Bearer verifier.
#[derive(Clone)]
pub struct DbTokenStore {
    db: Db,
}

impl DbTokenStore {
    /// The store over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

fn stored(row: &AnyRow) -> Result<OpaqueToken, sqlx::Error> {
    let handle: String = row.try_get("handle")?;
    let agent: String = row.try_get("agent_name")?;
    let scopes: String = row.try_get("scopes")?;
    let id: String = row.try_get("id")?;
    let unix: Option<i64> = row.try_get("expires_unix")?;
    // Tokens minted before migration 0004 have only the RFC 3339 expiry.
    let expires = match unix {
        Some(u) => u,
        None => {
            let text: String = row.try_get("expires_at")?;
            chrono::DateTime::parse_from_rfc3339(&text)
                .map(|t| t.timestamp())
                .unwrap_or(0)
        }
    };
    let info = TokenInfo::new(handle)
        .with_scopes(scopes.split_whitespace())
        .with_agent(agent)
        .with_expires_at(u64::try_from(expires).unwrap_or(0))
        .with_token_id(id);
    let revoked: Option<String> = row.try_get("revoked_at")?;
    Ok(if revoked.is_some() {
        OpaqueToken::revoked(info)
    } else {
        OpaqueToken::new(info)
    })
}

impl OpaqueTokenStore for DbTokenStore {
    fn lookup<'a>(
        &'a self,
        hash: &'a str,
    ) -> BoxFuture<'a, Result<Option<OpaqueToken>, TokenError>> {
        Box::pin(async move {
            let row = sqlx::query(
                "SELECT id, handle, agent_name, scopes, expires_at, expires_unix, revoked_at \
                 FROM agent_tokens WHERE token_hash = $1",
            )
            .bind(hash)
            .fetch_optional(self.db.pool())
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "agent token lookup failed");
                TokenError::Unavailable("the token store did not answer".into())
            })?;
            row.as_ref().map(stored).transpose().map_err(|e| {
                tracing::error!(error = %e, "agent token row unreadable");
                TokenError::Unavailable("the token store did not answer".into())
            })
        })
    }
}
