//! MSign public keys in the database: the [`KeyStore`] the verifier reads, and the key
//! management behind `musehub-server keys generate|add|list|revoke`.
//!
//! A key belongs to a user (the `signing_keys` table joined with `users` by handle) and is
//! found by its key id (`kid`, see [`key_id`]). Registering a key for a handle that has no
//! user row yet creates the user (display name = handle), so `keys generate --handle H`
//! bootstraps a new account. Revoked keys stay in the table with `revoked_at` set: they never
//! verify again, and `keys list` still shows them.
//!
//! Secret keys never touch the database. `keys generate` writes the 32-byte seed to a file
//! ([`write_secret_key`], mode 0600) as one line of base64url without padding;
//! [`read_secret_key`] reads that format, standard base64 and 64 hex digits.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::{SigningKey, VerifyingKey};
use futures::future::BoxFuture;
use musehub_mcp::auth::{KeyStore, KeyStoreError, RegisteredKey, key_id, parse_public_key};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{Db, is_unique_violation, new_id, now};

/// What can go wrong managing keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The handle does not match the MSign grammar (1-64 of `A-Z a-z 0-9 _ . -`).
    #[error("invalid handle `{0}`: use 1-64 of A-Z a-z 0-9 _ . -")]
    InvalidHandle(String),
    /// The agent name is empty, too long or has control characters.
    #[error("invalid agent name: use 1-64 characters without control characters")]
    InvalidAgentName,
    /// The public key could not be read.
    #[error("invalid public key: {0}")]
    InvalidKey(String),
    /// The secret key file could not be read or written.
    #[error("key file {path}: {reason}")]
    KeyFile {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The handle has no user row.
    #[error("no user `{0}`")]
    UnknownUser(String),
    /// The handle has no key with this id.
    #[error("`{handle}` has no key `{kid}`")]
    UnknownKey {
        /// The handle.
        handle: String,
        /// The key id.
        kid: String,
    },
    /// The key is already registered for this handle.
    #[error("the key {kid} is already registered for `{handle}`")]
    Duplicate {
        /// The handle.
        handle: String,
        /// The key id.
        kid: String,
    },
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// A registered key, as `keys list` shows it (never a secret).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeyInfo {
    /// The owner's handle.
    pub handle: String,
    /// The key id (22 base64url characters).
    pub kid: String,
    /// The public key, base64url of its 32 bytes.
    pub public_key: String,
    /// True for an agent's key.
    pub is_agent: bool,
    /// The agent's name, for agent keys.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    /// A label (`generated`, `added`, ...).
    pub label: String,
    /// When it was registered (RFC 3339).
    pub created_at: String,
    /// When it was revoked, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// True when `handle` matches the MSign header grammar.
pub fn valid_handle(handle: &str) -> bool {
    !handle.is_empty()
        && handle.len() <= 64
        && handle
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn check_handle(handle: &str) -> Result<(), KeyError> {
    if valid_handle(handle) {
        Ok(())
    } else {
        Err(KeyError::InvalidHandle(handle.chars().take(80).collect()))
    }
}

fn check_agent(name: Option<&str>) -> Result<Option<String>, KeyError> {
    match name {
        None => Ok(None),
        Some(n) => {
            let n = n.trim();
            if n.is_empty() || n.chars().count() > 64 || n.chars().any(char::is_control) {
                Err(KeyError::InvalidAgentName)
            } else {
                Ok(Some(n.to_string()))
            }
        }
    }
}

/// The text form of a public key: base64url of its 32 bytes, without padding.
pub fn encode_public_key(key: &VerifyingKey) -> String {
    URL_SAFE_NO_PAD.encode(key.as_bytes())
}

const KEY_COLUMNS: &str = "u.handle, k.kid, k.public_key, k.is_agent, k.agent_name, k.label, \
     k.created_at, k.revoked_at";

fn key_info(row: &AnyRow) -> Result<KeyInfo, sqlx::Error> {
    Ok(KeyInfo {
        handle: row.try_get("handle")?,
        kid: row.try_get("kid")?,
        public_key: row.try_get("public_key")?,
        is_agent: row.try_get::<i64, _>("is_agent")? != 0,
        agent_name: row.try_get("agent_name")?,
        label: row.try_get("label")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

/// Registers `key` for `handle` (creating the user row when the handle has none), as an
/// agent's key when `agent_name` is given.
pub async fn register(
    db: &Db,
    handle: &str,
    key: &VerifyingKey,
    agent_name: Option<&str>,
    label: &str,
) -> Result<KeyInfo, KeyError> {
    let mut tx = db.pool().begin().await?;
    let info = register_in(&mut tx, handle, key, agent_name, label).await?;
    tx.commit().await?;
    Ok(info)
}

/// [`register`] inside the caller's transaction (for changes that must land together with
/// the key, such as spending an enrollment code).
pub async fn register_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    handle: &str,
    key: &VerifyingKey,
    agent_name: Option<&str>,
    label: &str,
) -> Result<KeyInfo, KeyError> {
    check_handle(handle)?;
    let agent_name = check_agent(agent_name)?;
    let kid = key_id(key);
    let created = now();
    sqlx::query(
        "INSERT INTO users (id, handle, display_name, bio, is_agent, created_at) \
         VALUES ($1, $2, $3, '', 0, $4) ON CONFLICT (handle) DO NOTHING",
    )
    .bind(new_id())
    .bind(handle)
    .bind(handle)
    .bind(&created)
    .execute(&mut **tx)
    .await?;
    let user_id: String = sqlx::query("SELECT id FROM users WHERE handle = $1")
        .bind(handle)
        .fetch_one(&mut **tx)
        .await?
        .try_get("id")?;
    let inserted = sqlx::query(
        "INSERT INTO signing_keys (id, user_id, label, algorithm, public_key, created_at, kid, is_agent, agent_name) \
         VALUES ($1, $2, $3, 'ed25519', $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(&user_id)
    .bind(label)
    .bind(encode_public_key(key))
    .bind(&created)
    .bind(&kid)
    .bind(i64::from(agent_name.is_some()))
    .bind(agent_name.clone())
    .execute(&mut **tx)
    .await;
    match inserted {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(KeyError::Duplicate {
                handle: handle.into(),
                kid,
            });
        }
        Err(e) => return Err(e.into()),
    }
    Ok(KeyInfo {
        handle: handle.into(),
        kid,
        public_key: encode_public_key(key),
        is_agent: agent_name.is_some(),
        agent_name,
        label: label.into(),
        created_at: created,
        revoked_at: None,
    })
}

/// Registers a public key given as text (base64url or base64 of its 32 bytes).
pub async fn add(
    db: &Db,
    handle: &str,
    public_key: &str,
    agent_name: Option<&str>,
) -> Result<KeyInfo, KeyError> {
    let key = parse_public_key(public_key).map_err(|e| match e {
        KeyStoreError::InvalidKey(m) | KeyStoreError::Unavailable(m) => KeyError::InvalidKey(m),
        other => KeyError::InvalidKey(other.to_string()),
    })?;
    register(db, handle, &key, agent_name, "added").await
}

/// True when a user with this handle exists.
pub async fn user_exists(db: &Db, handle: &str) -> Result<bool, KeyError> {
    Ok(sqlx::query("SELECT id FROM users WHERE handle = $1")
        .bind(handle)
        .fetch_optional(db.pool())
        .await?
        .is_some())
}

/// The keys of `handle`, oldest first, revoked ones included.
pub async fn list(db: &Db, handle: &str) -> Result<Vec<KeyInfo>, KeyError> {
    check_handle(handle)?;
    if !user_exists(db, handle).await? {
        return Err(KeyError::UnknownUser(handle.into()));
    }
    let rows = sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM signing_keys k JOIN users u ON u.id = k.user_id \
         WHERE u.handle = $1 ORDER BY k.created_at, k.kid"
    ))
    .bind(handle)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.iter().map(key_info).collect::<Result<_, _>>()?)
}

/// One key of `handle`, if registered.
pub async fn get(db: &Db, handle: &str, kid: &str) -> Result<Option<KeyInfo>, KeyError> {
    let row = sqlx::query(&format!(
        "SELECT {KEY_COLUMNS} FROM signing_keys k JOIN users u ON u.id = k.user_id \
         WHERE u.handle = $1 AND k.kid = $2"
    ))
    .bind(handle)
    .bind(kid)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.as_ref().map(key_info).transpose()?)
}

/// Revokes a key of `handle`. Revoking a revoked key changes nothing and succeeds.
pub async fn revoke(db: &Db, handle: &str, kid: &str) -> Result<KeyInfo, KeyError> {
    check_handle(handle)?;
    sqlx::query(
        "UPDATE signing_keys SET revoked_at = $1 \
         WHERE kid = $2 AND revoked_at IS NULL AND user_id = (SELECT id FROM users WHERE handle = $3)",
    )
    .bind(now())
    .bind(kid)
    .bind(handle)
    .execute(db.pool())
    .await?;
    get(db, handle, kid)
        .await?
        .ok_or_else(|| KeyError::UnknownKey {
            handle: handle.into(),
            kid: kid.into(),
        })
}

/// The key store the MSign verifier reads: the `signing_keys` table.
#[derive(Clone)]
pub struct DbKeyStore {
    db: Db,
}

impl DbKeyStore {
    /// A key store over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl KeyStore for DbKeyStore {
    fn key<'a>(
        &'a self,
        handle: &'a str,
        kid: &'a str,
    ) -> BoxFuture<'a, Result<Option<RegisteredKey>, KeyStoreError>> {
        Box::pin(async move {
            let info = get(&self.db, handle, kid).await.map_err(|e| {
                tracing::error!(error = %e, "key store");
                KeyStoreError::Unavailable("the key store is unavailable".into())
            })?;
            let Some(info) = info else { return Ok(None) };
            let key = parse_public_key(&info.public_key)?;
            Ok(Some(RegisteredKey {
                key,
                is_agent: info.is_agent,
                agent_name: info.agent_name,
                revoked: info.revoked_at.is_some(),
            }))
        })
    }
}

/// A fresh random secret key.
pub fn generate() -> SigningKey {
    musehub_mcp::auth::MSignSigner::generate_key()
}

/// Writes the 32-byte secret seed to a new file (never overwriting one) readable only by its
/// owner (mode 0600), as one line of base64url without padding.
pub fn write_secret_key(path: &Path, key: &SigningKey) -> Result<(), KeyError> {
    let err = |reason: String| KeyError::KeyFile {
        path: path.display().to_string(),
        reason,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            err("already exists; not overwriting a key".into())
        } else {
            err(e.to_string())
        }
    })?;
    writeln!(file, "{}", URL_SAFE_NO_PAD.encode(key.to_bytes()))
        .and_then(|_| file.sync_all())
        .map_err(|e| err(e.to_string()))
}

/// Parses a secret key seed: base64url or base64 of 32 bytes, or 64 hex digits.
pub fn parse_secret_key(text: &str) -> Result<SigningKey, KeyError> {
    let text = text.trim();
    let bad = |reason: &str| KeyError::InvalidKey(reason.into());
    let raw = if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
        (0..32)
            .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| bad("not hex"))?
    } else {
        URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .or_else(|_| STANDARD.decode(text))
            .map_err(|_| bad("a secret key is base64url, base64 or hex"))?
    };
    let seed: [u8; 32] = raw
        .try_into()
        .map_err(|_| bad("an Ed25519 secret key is 32 bytes"))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Reads a secret key file written by [`write_secret_key`] (or holding hex or base64).
pub fn read_secret_key(path: &Path) -> Result<SigningKey, KeyError> {
    let text = std::fs::read_to_string(path).map_err(|e| KeyError::KeyFile {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    parse_secret_key(&text).map_err(|e| KeyError::KeyFile {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}
