//! Opaque tokens the resource server issued itself and keeps in its own store (a database
//! table shared by every instance), looked up by the token's SHA-256: the store never holds
//! a token that could be replayed if it leaked.

use std::sync::Arc;

use futures::future::BoxFuture;
use sha2::{Digest, Sha256};

use super::{TokenError, TokenInfo, TokenVerifier, unix_now};

/// The lower-case hex SHA-256 of a token: the key an [`OpaqueTokenStore`] looks tokens up by
/// (and the form a store keeps them in).
pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// A stored token, as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpaqueToken {
    /// Who it is for, its scopes and expiry.
    pub info: TokenInfo,
    /// True when it was revoked (stores keep revoked tokens so they are told apart from
    /// unknown ones).
    pub revoked: bool,
}

impl OpaqueToken {
    /// A live token.
    pub fn new(info: TokenInfo) -> Self {
        Self {
            info,
            revoked: false,
        }
    }
    /// A revoked token.
    pub fn revoked(info: TokenInfo) -> Self {
        Self {
            info,
            revoked: true,
        }
    }
}

/// Where a [`StoreVerifier`] finds tokens.
pub trait OpaqueTokenStore: Send + Sync + 'static {
    /// The token whose [`token_hash`] is `hash`, if any. A store that cannot answer returns
    /// [`TokenError::Unavailable`].
    fn lookup<'a>(
        &'a self,
        hash: &'a str,
    ) -> BoxFuture<'a, Result<Option<OpaqueToken>, TokenError>>;
}

/// Verifies opaque tokens against an [`OpaqueTokenStore`]: unknown tokens are inactive,
/// revoked and expired ones refused, and a token whose stored audience does not name one of
/// the verifier's audiences is refused too (a token stored without an audience is the
/// store owner's own and valid for it).
pub struct StoreVerifier {
    store: Arc<dyn OpaqueTokenStore>,
    prefix: Option<String>,
    audiences: Vec<String>,
    max_token_bytes: usize,
}

impl StoreVerifier {
    /// A verifier over `store`.
    pub fn new(store: Arc<dyn OpaqueTokenStore>) -> Self {
        Self {
            store,
            prefix: None,
            audiences: Vec::new(),
            max_token_bytes: 512,
        }
    }
    /// Accept only tokens starting with `prefix` (`mha_`), without asking the store for
    /// others.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }
    /// An accepted audience, checked against tokens stored with one.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }
    /// The largest token looked up, in bytes (default 512).
    pub fn max_token_bytes(mut self, max: usize) -> Self {
        self.max_token_bytes = max;
        self
    }

    async fn check(&self, token: &str) -> Result<TokenInfo, TokenError> {
        if token.is_empty() || token.len() > self.max_token_bytes {
            return Err(TokenError::Malformed(
                "the token is empty or too large".into(),
            ));
        }
        if let Some(p) = &self.prefix
            && !token.starts_with(p.as_str())
        {
            return Err(TokenError::Malformed("not a token of this store".into()));
        }
        let Some(stored) = self.store.lookup(&token_hash(token)).await? else {
            return Err(TokenError::Inactive);
        };
        if stored.revoked {
            return Err(TokenError::Revoked);
        }
        if stored.info.expires_at.is_some_and(|exp| exp <= unix_now()) {
            return Err(TokenError::Expired);
        }
        if !stored.info.audience.is_empty()
            && !self.audiences.is_empty()
            && !stored
                .info
                .audience
                .iter()
                .any(|a| self.audiences.contains(a))
        {
            return Err(TokenError::WrongAudience);
        }
        Ok(stored.info)
    }
}

impl TokenVerifier for StoreVerifier {
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<TokenInfo, TokenError>> {
        Box::pin(self.check(token))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    struct Memory(HashMap<String, OpaqueToken>);
    impl OpaqueTokenStore for Memory {
        fn lookup<'a>(
            &'a self,
            hash: &'a str,
        ) -> BoxFuture<'a, Result<Option<OpaqueToken>, TokenError>> {
            Box::pin(async move { Ok(self.0.get(hash).cloned()) })
        }
    }

    #[test]
    fn hash_is_lowercase_hex_sha256() {
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[tokio::test]
    async fn live_revoked_expired_unknown_and_foreign_tokens() {
        let now = unix_now();
        let mut m = HashMap::new();
        let live = TokenInfo::new("alice")
            .with_agent("bot")
            .with_expires_at(now + 60);
        m.insert(token_hash("mha_live"), OpaqueToken::new(live.clone()));
        m.insert(
            token_hash("mha_revoked"),
            OpaqueToken::revoked(TokenInfo::new("alice")),
        );
        m.insert(
            token_hash("mha_old"),
            OpaqueToken::new(TokenInfo::new("alice").with_expires_at(now - 1)),
        );
        m.insert(
            token_hash("mha_foreign"),
            OpaqueToken::new(TokenInfo::new("alice").with_audience(["https://other/mcp"])),
        );
        let v = StoreVerifier::new(Arc::new(Memory(m)))
            .prefix("mha_")
            .audience("https://hub/mcp");
        assert_eq!(v.verify("mha_live").await.unwrap(), live);
        assert_eq!(v.verify("mha_revoked").await, Err(TokenError::Revoked));
        assert_eq!(v.verify("mha_old").await, Err(TokenError::Expired));
        assert_eq!(v.verify("mha_nope").await, Err(TokenError::Inactive));
        assert_eq!(
            v.verify("mha_foreign").await,
            Err(TokenError::WrongAudience)
        );
        assert_eq!(v.verify("xyz").await.unwrap_err().reason(), "malformed");
    }
}
