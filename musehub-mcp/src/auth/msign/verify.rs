//! Verifying a signed request: key lookup, timestamp window, replay cache, signature.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Verifier as _};

use super::header::MSignHeader;
use super::keys::{KeyStore, KeyStoreError};
use super::signing::canonical_string;
use crate::handler::ctx::{Identity, Scheme};
use crate::shared::{MemoryNonceStore, NonceStore};

/// Why a signed request was refused. Each reason helps an honest caller fix its request and
/// says nothing about other users or keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The header does not follow the grammar (docs/msign.md).
    #[error("{0}")]
    Malformed(String),
    /// No such key for this handle (or no such handle).
    #[error("unknown key: no key with this id is registered for this handle")]
    UnknownKey,
    /// The key was revoked.
    #[error("revoked key: this key has been revoked")]
    RevokedKey,
    /// `ts` is outside the accepted window.
    #[error(
        "expired timestamp: ts must be within {window} s of the server's clock (server time {now})"
    )]
    ExpiredTimestamp {
        /// The allowed skew in seconds.
        window: u64,
        /// The server's Unix time.
        now: u64,
    },
    /// This nonce was already used.
    #[error("replayed nonce: sign every request with a fresh nonce")]
    ReplayedNonce,
    /// The signature does not verify against the canonical string.
    #[error("bad signature: the signature does not match this request")]
    BadSignature,
    /// The key store or the replay cache cannot be used right now (HTTP 503, not 401).
    #[error("authentication temporarily unavailable: {0}")]
    Unavailable(String),
}

impl AuthError {
    /// A short machine-readable reason.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::Malformed(_) => "malformed_header",
            AuthError::UnknownKey => "unknown_key",
            AuthError::RevokedKey => "revoked_key",
            AuthError::ExpiredTimestamp { .. } => "expired_timestamp",
            AuthError::ReplayedNonce => "replayed_nonce",
            AuthError::BadSignature => "bad_signature",
            AuthError::Unavailable(_) => "unavailable",
        }
    }
}

impl From<KeyStoreError> for AuthError {
    fn from(e: KeyStoreError) -> Self {
        AuthError::Unavailable(e.to_string())
    }
}

/// The verifier: a key store, a nonce store, a skew window and a clock.
pub struct MSignVerifier {
    keys: Arc<dyn KeyStore>,
    nonces: Arc<dyn NonceStore>,
    custom_nonces: bool,
    skew: Duration,
    clock: Arc<dyn Fn() -> u64 + Send + Sync>,
}

/// What the transport passes to the verifier.
pub struct SignedRequest<'a> {
    /// The `Authorization` header value.
    pub authorization: &'a str,
    /// The HTTP method.
    pub method: &'a str,
    /// Path and query as sent.
    pub target: &'a str,
    /// The exact body bytes.
    pub body: &'a [u8],
    /// The `Mcp-Session-Id` header, if any.
    pub session_id: Option<&'a str>,
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl MSignVerifier {
    /// A verifier over `keys`, with a ±300 s window and an in-memory replay cache of
    /// 100,000 nonces.
    pub fn new(keys: Arc<dyn KeyStore>) -> Self {
        Self {
            keys,
            nonces: Arc::new(MemoryNonceStore::new(100_000)),
            custom_nonces: false,
            skew: Duration::from_secs(300),
            clock: Arc::new(unix_now),
        }
    }

    /// Sets the accepted clock skew (each side).
    pub fn skew(mut self, skew: Duration) -> Self {
        self.skew = skew;
        self
    }

    /// Replaces the nonce store (for example with a shared one).
    pub fn nonces(mut self, nonces: Arc<dyn NonceStore>) -> Self {
        self.nonces = nonces;
        self.custom_nonces = true;
        self
    }

    /// Uses the shared store's nonces, unless a store was chosen with [`Self::nonces`].
    pub(crate) fn share_nonces(&mut self, nonces: Arc<dyn NonceStore>) {
        if !self.custom_nonces {
            self.nonces = nonces;
        }
    }

    /// Replaces the clock (Unix seconds), for tests.
    pub fn clock(mut self, clock: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Checks one request, cheapest step first: grammar, window, key, signature, then the
    /// nonce (recorded only for genuine requests, so forgeries cannot fill the cache).
    pub async fn verify(&self, req: &SignedRequest<'_>) -> Result<Identity, AuthError> {
        let header = MSignHeader::parse(req.authorization)
            .map_err(|e| AuthError::Malformed(e.to_string()))?;
        let now = (self.clock)();
        let window = self.skew.as_secs();
        if header.ts.abs_diff(now) > window {
            return Err(AuthError::ExpiredTimestamp { window, now });
        }
        let key = self
            .keys
            .key(&header.handle, &header.kid)
            .await?
            .ok_or(AuthError::UnknownKey)?;
        if key.revoked {
            return Err(AuthError::RevokedKey);
        }
        let sig_bytes = URL_SAFE_NO_PAD
            .decode(&header.sig)
            .map_err(|_| AuthError::BadSignature)?;
        let sig_bytes: [u8; 64] = sig_bytes.try_into().map_err(|_| AuthError::BadSignature)?;
        let text = canonical_string(
            req.method,
            req.target,
            header.ts,
            &header.nonce,
            req.body,
            req.session_id,
        );
        key.key
            .verify(text.as_bytes(), &Signature::from_bytes(&sig_bytes))
            .map_err(|_| AuthError::BadSignature)?;
        // A request with this `ts` is accepted until `ts + window`; the nonce must be
        // remembered that long, and no longer.
        let expires_at = header.ts + window;
        if !self
            .nonces
            .insert(&header.handle, &header.nonce, now, expires_at)
            .await
            .map_err(|e| AuthError::Unavailable(e.to_string()))?
        {
            return Err(AuthError::ReplayedNonce);
        }
        let identity = Identity::new(header.handle, Scheme::MSign);
        Ok(if key.is_agent {
            identity.agent(key.agent_name)
        } else {
            identity
        })
    }
}
