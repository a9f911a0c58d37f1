//! The canonical string and the signer (what a client runs), shared with the verifier.
//!
//! The signature covers, one per line, joined by `\n` with no trailing newline:
//!
//! ```text
//! MSIGN-V1
//! <HTTP method, upper case>
//! <request target: path and query exactly as sent>
//! <ts>
//! <nonce>
//! <SHA-256 of the exact body bytes, lower-case hex>
//! <Mcp-Session-Id header value, or the empty string>
//! ```

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use super::header::MSignHeader;
use super::keys::key_id;

/// The version tag on the first line of the canonical string.
pub const VERSION_TAG: &str = "MSIGN-V1";

/// The string a request's signature covers.
pub fn canonical_string(
    method: &str,
    target: &str,
    ts: u64,
    nonce: &str,
    body: &[u8],
    session_id: Option<&str>,
) -> String {
    let body_hash: String = Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{VERSION_TAG}\n{}\n{target}\n{ts}\n{nonce}\n{body_hash}\n{}",
        method.to_ascii_uppercase(),
        session_id.unwrap_or("")
    )
}

/// Signs requests for one handle with one key.
#[derive(Clone)]
pub struct MSignSigner {
    handle: String,
    key: SigningKey,
    kid: String,
}

impl MSignSigner {
    /// A signer for `handle` with its Ed25519 key.
    pub fn new(handle: impl Into<String>, key: SigningKey) -> Self {
        let kid = key_id(&key.verifying_key());
        Self {
            handle: handle.into(),
            key,
            kid,
        }
    }

    /// A signer from the 32-byte secret key (seed).
    pub fn from_seed(handle: impl Into<String>, seed: &[u8; 32]) -> Self {
        Self::new(handle, SigningKey::from_bytes(seed))
    }

    /// A fresh random key (to register its public half).
    pub fn generate_key() -> SigningKey {
        use rand::RngCore;
        let mut seed = [0u8; 32];
        rand::rng().fill_bytes(&mut seed);
        SigningKey::from_bytes(&seed)
    }

    /// The public key to register.
    pub fn public_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The key id the header carries.
    pub fn key_id(&self) -> &str {
        &self.kid
    }

    /// The `Authorization` value for a request, at time `ts` with `nonce`.
    pub fn sign_with(
        &self,
        method: &str,
        target: &str,
        body: &[u8],
        session_id: Option<&str>,
        ts: u64,
        nonce: &str,
    ) -> String {
        let text = canonical_string(method, target, ts, nonce, body, session_id);
        let sig = self.key.sign(text.as_bytes());
        MSignHeader {
            handle: self.handle.clone(),
            kid: self.kid.clone(),
            ts,
            nonce: nonce.to_string(),
            sig: URL_SAFE_NO_PAD.encode(sig.to_bytes()),
        }
        .to_header_value()
    }

    /// The `Authorization` value for a request, now, with a fresh random nonce.
    pub fn sign_parts(
        &self,
        method: &str,
        target: &str,
        body: &[u8],
        session_id: Option<&str>,
    ) -> String {
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.sign_with(
            method,
            target,
            body,
            session_id,
            ts,
            &crate::util::random_id(18),
        )
    }

    /// Signs an `http::Request` (as built for reqwest or hyper): the value for its
    /// `Authorization` header.
    pub fn sign<B: AsRef<[u8]>>(&self, request: &http::Request<B>) -> String {
        let target = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let session = request
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok());
        self.sign_parts(
            request.method().as_str(),
            target,
            request.body().as_ref(),
            session,
        )
    }
}
