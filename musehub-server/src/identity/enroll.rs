//! Enrolling a signing key from another machine. The hub's operator runs
//! `musehub-server keys invite --handle H`, which prints a one-time code; on the new machine
//! `muse auth enroll URL --handle H --code C` makes a key pair and registers its public half
//! with `musehub_enroll_key`. The secret never leaves that machine, and the code (random,
//! 192 bits) is the proof: only its SHA-256 is stored, it expires, and it works once.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use musehub_mcp::auth::{KeyStoreError, parse_public_key};
use musehub_mcp::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::{Db, DbResultExt, new_id, now};
use crate::keys::{self, KeyError};

/// The prefix of every enrollment code (so a leaked one is recognisable in a scanner).
pub const CODE_PREFIX: &str = "mhe_";

/// How long an invitation is valid by default (`keys invite --ttl-secs`): 24 hours.
pub const DEFAULT_INVITE_TTL: Duration = Duration::from_secs(24 * 3600);

/// A new invitation: the code is shown once.
#[derive(Debug, Clone)]
pub struct Invite {
    /// The handle the key will belong to.
    pub handle: String,
    /// The one-time code (secret).
    pub code: String,
    /// When it stops working (RFC 3339).
    pub expires_at: String,
}

fn code_hash(code: &str) -> String {
    format!("{:x}", Sha256::digest(code.trim().as_bytes()))
}

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Creates a one-time enrollment code for `handle`, valid for `ttl`.
pub async fn invite(db: &Db, handle: &str, ttl: Duration) -> Result<Invite, KeyError> {
    if !keys::valid_handle(handle) {
        return Err(KeyError::InvalidHandle(handle.chars().take(80).collect()));
    }
    use rand::RngCore;
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    let code = format!("{CODE_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(1));
    let expires_at = rfc3339(chrono::Utc::now() + ttl);
    sqlx::query(
        "INSERT INTO enrollment_codes (id, handle, code_hash, created_at, expires_at, used_at, kid) \
         VALUES ($1, $2, $3, $4, $5, NULL, NULL)",
    )
    .bind(new_id())
    .bind(handle)
    .bind(code_hash(&code))
    .bind(now())
    .bind(&expires_at)
    .execute(db.pool())
    .await?;
    Ok(Invite {
        handle: handle.into(),
        code,
        expires_at,
    })
}

/// A key registered by enrollment.
#[schema(no_deserialize)]
pub struct EnrolledKey {
    /// The handle it belongs to.
    pub handle: String,
    /// Its key id (the `kid` of MSign headers).
    pub kid: String,
    /// The public key, base64url.
    pub public_key: String,
    /// The label given.
    pub label: String,
    /// When it was registered.
    pub created_at: String,
}

fn invalid_code() -> ToolError {
    ToolError::new(
        "invalid_enrollment_code",
        "This enrollment code is unknown, expired or already used; ask the hub's operator for a \
         new one (musehub-server keys invite --handle YOU).",
    )
}

/// Register a signing key from a new machine with a one-time enrollment code (from
/// `musehub-server keys invite`). Needs no signature: the code is the proof. It works once,
/// for the handle it was made for, before it expires; the key can sign at once. `muse auth
/// enroll` makes the key pair and calls this.
#[tool(
    destructive = false,
    idempotent = false,
    title = "Enroll a signing key",
    category = "keys"
)]
pub async fn musehub_enroll_key(
    State(db): State<Db>,
    #[arg(desc = "The handle the code was made for.")] handle: String,
    #[arg(desc = "The one-time enrollment code (mhe_...).")] code: String,
    #[arg(desc = "The Ed25519 public key to register, base64url (or base64) of its 32 bytes.")]
    public_key: String,
    #[arg(desc = "A label for the key, such as the machine's name (default 'enrolled').")]
    label: Option<String>,
) -> Result<Json<EnrolledKey>, ToolError> {
    if !keys::valid_handle(&handle) {
        return Err(ToolError::invalid_argument(
            KeyError::InvalidHandle(handle.chars().take(80).collect()).to_string(),
        ));
    }
    let label = label
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| "enrolled".into());
    if label.chars().count() > 64 || label.chars().any(char::is_control) {
        return Err(ToolError::invalid_argument(
            "`label` must be 1-64 characters without control characters",
        ));
    }
    let key = parse_public_key(&public_key).map_err(|e| {
        let why = match e {
            KeyStoreError::InvalidKey(m) => m,
            other => other.to_string(),
        };
        ToolError::invalid_argument(format!("invalid public key: {why}"))
    })?;
    let kid = musehub_mcp::auth::key_id(&key);
    // Spending the code and registering the key land together or not at all.
    let mut tx = db.pool().begin().await.db()?;
    let spent = sqlx::query(
        "UPDATE enrollment_codes SET used_at = $1, kid = $2 \
         WHERE code_hash = $3 AND handle = $4 AND used_at IS NULL AND expires_at > $1",
    )
    .bind(now())
    .bind(&kid)
    .bind(code_hash(&code))
    .bind(&handle)
    .execute(&mut *tx)
    .await
    .db()?;
    if spent.rows_affected() != 1 {
        return Err(invalid_code());
    }
    let info = match keys::register_in(&mut tx, &handle, &key, None, &label).await {
        Ok(info) => info,
        Err(KeyError::Duplicate { .. }) => {
            return Err(ToolError::new(
                "already_exists",
                format!("The key {kid} is already registered for '{handle}'."),
            ));
        }
        Err(KeyError::Database(e)) => return Err(crate::db::dberr(e)),
        Err(e) => return Err(ToolError::invalid_argument(e.to_string())),
    };
    tx.commit().await.db()?;
    tracing::info!(handle = %info.handle, kid = %info.kid, "key enrolled with a one-time code");
    Ok(Json(EnrolledKey {
        handle: info.handle,
        kid: info.kid,
        public_key: info.public_key,
        label: info.label,
        created_at: info.created_at,
    }))
}
