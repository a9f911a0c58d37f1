//! Public keys: ids, the `KeyStore` trait servers implement over their own storage, and an
//! in-memory store.

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::VerifyingKey;
use futures::future::BoxFuture;
use parking_lot::RwLock;
use sha2::{Digest, Sha256};

/// A registered public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredKey {
    /// The Ed25519 public key.
    pub key: VerifyingKey,
    /// True for an AI agent's key.
    pub is_agent: bool,
    /// The agent's name, for agent keys.
    pub agent_name: Option<String>,
    /// Revoked keys never verify.
    pub revoked: bool,
}

/// The key id of a public key: the first 16 bytes of its SHA-256, base64url (22 characters).
/// Deterministic, so a signer derives it from the key alone.
pub fn key_id(key: &VerifyingKey) -> String {
    let digest = Sha256::digest(key.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// Parses a public key written as base64url (or standard base64) of its 32 bytes.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, KeyStoreError> {
    let raw = URL_SAFE_NO_PAD
        .decode(text.trim().trim_end_matches('='))
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(text.trim()))
        .map_err(|_| KeyStoreError::InvalidKey("not base64".into()))?;
    let bytes: [u8; 32] = raw
        .try_into()
        .map_err(|_| KeyStoreError::InvalidKey("an Ed25519 public key is 32 bytes".into()))?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|_| KeyStoreError::InvalidKey("not a valid Ed25519 point".into()))
}

/// A failure of the key store itself (not "no such key").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyStoreError {
    /// The backing storage could not be reached.
    #[error("key store unavailable: {0}")]
    Unavailable(String),
    /// A key could not be read.
    #[error("invalid key: {0}")]
    InvalidKey(String),
}

/// Where public keys live. MuseHub implements it over its database; any server can supply
/// its own.
pub trait KeyStore: Send + Sync + 'static {
    /// The key `kid` of `handle`, if registered (revoked keys are returned, marked).
    fn key<'a>(
        &'a self,
        handle: &'a str,
        kid: &'a str,
    ) -> BoxFuture<'a, Result<Option<RegisteredKey>, KeyStoreError>>;
}

/// Keys held in memory: for tests, examples and small servers.
#[derive(Default, Clone)]
pub struct MemoryKeyStore {
    keys: Arc<RwLock<HashMap<(String, String), RegisteredKey>>>,
}

impl MemoryKeyStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a key for a handle; returns its key id.
    pub fn add(&self, handle: &str, key: VerifyingKey, agent_name: Option<&str>) -> String {
        let kid = key_id(&key);
        self.keys.write().insert(
            (handle.to_string(), kid.clone()),
            RegisteredKey {
                key,
                is_agent: agent_name.is_some(),
                agent_name: agent_name.map(str::to_string),
                revoked: false,
            },
        );
        kid
    }

    /// Revokes a key; true when it existed.
    pub fn revoke(&self, handle: &str, kid: &str) -> bool {
        match self
            .keys
            .write()
            .get_mut(&(handle.to_string(), kid.to_string()))
        {
            Some(k) => {
                k.revoked = true;
                true
            }
            None => false,
        }
    }
}

impl KeyStore for MemoryKeyStore {
    fn key<'a>(
        &'a self,
        handle: &'a str,
        kid: &'a str,
    ) -> BoxFuture<'a, Result<Option<RegisteredKey>, KeyStoreError>> {
        let found = self
            .keys
            .read()
            .get(&(handle.to_string(), kid.to_string()))
            .cloned();
        Box::pin(async move { Ok(found) })
    }
}
