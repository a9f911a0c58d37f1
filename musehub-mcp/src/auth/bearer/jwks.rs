//! Where a [`JwtVerifier`](super::JwtVerifier) finds the authorization server's public keys:
//! a JWK Set held in-process, or one fetched (from a JWKS URL, or any [`JwksFetcher`]) and
//! cached.
//!
//! A fetched set is kept for a TTL, and fetched again early when a token names a key id the
//! set lacks (the authorization server rotated its keys), but never twice within the minimum
//! refetch interval: a stream of tokens with made-up key ids costs the authorization server
//! at most one request per interval. When a refresh fails, the previous set keeps serving;
//! with no set at all, verification is [`TokenError::Unavailable`] (503), not a refusal.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
pub use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use parking_lot::Mutex;

use super::TokenError;
use super::jwt::JwtAlgorithm;

/// Fetches a JWK Set: the JWKS URL client, or any other origin (a database the
/// authorization server writes its keys to).
pub trait JwksFetcher: Send + Sync + 'static {
    /// The current key set. Failures are [`TokenError::Unavailable`].
    fn fetch(&self) -> BoxFuture<'_, Result<JwkSet, TokenError>>;
}

/// The keys a JWT verifier trusts (cheap to clone; clones share one cache).
#[derive(Clone)]
pub struct JwksSource {
    inner: Arc<Kind>,
}

enum Kind {
    Static(JwkSet),
    Cached(Cache),
}

struct Cache {
    fetcher: Box<dyn JwksFetcher>,
    ttl: Duration,
    min_refetch: Duration,
    state: Mutex<CacheState>,
    /// One fetch at a time; the others wait for its result.
    refresh: tokio::sync::Mutex<()>,
    fetches: AtomicU64,
}

#[derive(Default)]
struct CacheState {
    set: Option<Arc<JwkSet>>,
    fetched_at: Option<Instant>,
    last_attempt: Option<Instant>,
}

/// The outcome of looking a key up in one set.
enum Lookup {
    Found(Box<Jwk>),
    /// Several keys and the token names none.
    NeedKid,
    /// A key with the token's id exists but cannot verify the token's algorithm.
    WrongType,
    NotFound,
}

impl JwksSource {
    /// Keys held in-process (they never change unless the source is rebuilt).
    pub fn from_set(set: JwkSet) -> Self {
        Self {
            inner: Arc::new(Kind::Static(set)),
        }
    }

    /// Keys from a JWK Set document; members this crate cannot read (other key types,
    /// encryption keys with unknown algorithms) are skipped.
    pub fn from_json(text: &str) -> Result<Self, TokenError> {
        Ok(Self::from_set(parse_jwks(text.as_bytes())?))
    }

    /// Keys fetched from a JWKS URL (`jwks_uri`): see [`RemoteJwksBuilder`].
    pub fn url(url: impl Into<String>) -> RemoteJwksBuilder {
        RemoteJwksBuilder {
            url: url.into(),
            client: None,
            ttl: Duration::from_secs(300),
            min_refetch: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
            max_bytes: 256 * 1024,
        }
    }

    /// Keys from any fetcher, cached for `ttl` and refetched for an unknown key id at most
    /// once per `min_refetch_interval`.
    pub fn fetched(
        fetcher: impl JwksFetcher,
        ttl: Duration,
        min_refetch_interval: Duration,
    ) -> Self {
        Self {
            inner: Arc::new(Kind::Cached(Cache {
                fetcher: Box::new(fetcher),
                ttl,
                min_refetch: min_refetch_interval,
                state: Mutex::new(CacheState::default()),
                refresh: tokio::sync::Mutex::new(()),
                fetches: AtomicU64::new(0),
            })),
        }
    }

    /// How many fetches this source has made (0 for in-process keys).
    pub fn fetch_count(&self) -> u64 {
        match &*self.inner {
            Kind::Static(_) => 0,
            Kind::Cached(c) => c.fetches.load(Ordering::Relaxed),
        }
    }

    /// The key that verifies a token signed with `alg` and naming `kid`.
    pub(crate) async fn key(
        &self,
        kid: Option<&str>,
        alg: JwtAlgorithm,
    ) -> Result<Jwk, TokenError> {
        match &*self.inner {
            Kind::Static(set) => resolve(lookup(set, kid, alg)),
            Kind::Cached(cache) => {
                let set = cache.current().await?;
                match lookup(&set, kid, alg) {
                    Lookup::NotFound if kid.is_some() => {
                        // Perhaps the authorization server rotated its keys.
                        match cache.refresh_if_allowed().await? {
                            Some(fresh) => resolve(lookup(&fresh, kid, alg)),
                            None => Err(TokenError::UnknownKey),
                        }
                    }
                    other => resolve(other),
                }
            }
        }
    }
}

fn resolve(lookup: Lookup) -> Result<Jwk, TokenError> {
    match lookup {
        Lookup::Found(k) => Ok(*k),
        Lookup::NeedKid => Err(TokenError::Malformed(
            "the token names no key (kid) and the key set has several".into(),
        )),
        Lookup::WrongType => Err(TokenError::BadSignature),
        Lookup::NotFound => Err(TokenError::UnknownKey),
    }
}

/// True for a key that may verify signatures (not an encryption key).
fn signing_key(k: &Jwk) -> bool {
    !matches!(
        k.common.public_key_use,
        Some(PublicKeyUse::Encryption) | Some(PublicKeyUse::Other(_))
    )
}

/// True when `k` can verify `alg`: the key type and curve match, and the key's own `alg`
/// (when it states one) is `alg`.
fn fits(k: &Jwk, alg: JwtAlgorithm) -> bool {
    let type_ok = match (&k.algorithm, alg) {
        (AlgorithmParameters::RSA(_), JwtAlgorithm::RS256) => true,
        (AlgorithmParameters::EllipticCurve(p), JwtAlgorithm::ES256) => {
            p.curve == EllipticCurve::P256
        }
        (AlgorithmParameters::OctetKeyPair(p), JwtAlgorithm::EdDSA) => {
            p.curve == EllipticCurve::Ed25519
        }
        _ => false,
    };
    let alg_ok = match &k.common.key_algorithm {
        None => true,
        Some(a) => a.to_string() == alg.name(),
    };
    type_ok && alg_ok
}

fn lookup(set: &JwkSet, kid: Option<&str>, alg: JwtAlgorithm) -> Lookup {
    let usable: Vec<&Jwk> = set.keys.iter().filter(|k| signing_key(k)).collect();
    match kid {
        Some(kid) => {
            let named: Vec<&&Jwk> = usable
                .iter()
                .filter(|k| k.common.key_id.as_deref() == Some(kid))
                .collect();
            match named.iter().find(|k| fits(k, alg)) {
                Some(k) => Lookup::Found(Box::new((**k).clone())),
                None if named.is_empty() => Lookup::NotFound,
                None => Lookup::WrongType,
            }
        }
        None => match usable.as_slice() {
            [] => Lookup::NotFound,
            [only] if fits(only, alg) => Lookup::Found(Box::new((*only).clone())),
            [_] => Lookup::WrongType,
            _ => Lookup::NeedKid,
        },
    }
}

impl Cache {
    /// The cached set while fresh; otherwise a refetch (at most once per minimum interval),
    /// falling back to the stale set when it fails.
    async fn current(&self) -> Result<Arc<JwkSet>, TokenError> {
        let (stale, may_fetch) = {
            let st = self.state.lock();
            let fresh = st.fetched_at.is_some_and(|t| t.elapsed() < self.ttl);
            if let (true, Some(set)) = (fresh, &st.set) {
                return Ok(set.clone());
            }
            let may = st
                .last_attempt
                .is_none_or(|t| t.elapsed() >= self.min_refetch);
            (st.set.clone(), may)
        };
        if !may_fetch {
            return stale.ok_or_else(|| {
                TokenError::Unavailable("the key set could not be fetched recently".into())
            });
        }
        match self.refresh(None).await {
            Ok(set) => Ok(set),
            Err(e) => match stale {
                Some(set) => {
                    tracing::warn!(reason = %e, "JWKS refresh failed; using the previous key set");
                    Ok(set)
                }
                None => Err(e),
            },
        }
    }

    /// A refetch for an unknown key id, unless one happened within the minimum interval
    /// (then `None`).
    async fn refresh_if_allowed(&self) -> Result<Option<Arc<JwkSet>>, TokenError> {
        let asked = Instant::now();
        {
            let st = self.state.lock();
            if st
                .last_attempt
                .is_some_and(|t| t.elapsed() < self.min_refetch)
            {
                return Ok(None);
            }
        }
        self.refresh(Some(asked)).await.map(Some)
    }

    /// Fetches the set (one fetch at a time: a caller that waited for another's fetch, made
    /// after it asked, takes that result).
    async fn refresh(&self, asked: Option<Instant>) -> Result<Arc<JwkSet>, TokenError> {
        let asked = asked.unwrap_or_else(Instant::now);
        let _one = self.refresh.lock().await;
        {
            let st = self.state.lock();
            if let (Some(at), Some(set)) = (st.fetched_at, &st.set)
                && at >= asked
            {
                return Ok(set.clone());
            }
            if st.last_attempt.is_some_and(|t| t >= asked) {
                // Another caller's fetch, made after we asked, failed: do not repeat it.
                return Err(TokenError::Unavailable(
                    "the key set could not be fetched".into(),
                ));
            }
        }
        self.state.lock().last_attempt = Some(Instant::now());
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let set = Arc::new(self.fetcher.fetch().await?);
        let mut st = self.state.lock();
        st.set = Some(set.clone());
        st.fetched_at = Some(Instant::now());
        Ok(set)
    }
}

/// Reads a JWK Set document, skipping members that do not parse as keys this crate knows.
pub(crate) fn parse_jwks(body: &[u8]) -> Result<JwkSet, TokenError> {
    #[derive(serde::Deserialize)]
    struct Raw {
        keys: Vec<serde_json::Value>,
    }
    let raw: Raw = serde_json::from_slice(body)
        .map_err(|_| TokenError::Unavailable("the JWKS document is not a JWK Set".into()))?;
    let keys = raw
        .keys
        .into_iter()
        .filter_map(|k| serde_json::from_value::<Jwk>(k).ok())
        .collect();
    Ok(JwkSet { keys })
}

/// Settings of a JWKS URL source ([`JwksSource::url`]).
#[must_use]
pub struct RemoteJwksBuilder {
    url: String,
    client: Option<reqwest::Client>,
    ttl: Duration,
    min_refetch: Duration,
    timeout: Duration,
    max_bytes: usize,
}

impl RemoteJwksBuilder {
    /// How long a fetched set is used before it is fetched again (default 300 s).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }
    /// The least time between two fetches, whatever the tokens ask (default 30 s).
    pub fn min_refetch_interval(mut self, interval: Duration) -> Self {
        self.min_refetch = interval;
        self
    }
    /// The timeout of one fetch (default 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// The largest JWKS document accepted (default 256 KiB).
    pub fn max_bytes(mut self, max: usize) -> Self {
        self.max_bytes = max;
        self
    }
    /// The HTTP client to fetch with (default: a new one without redirects).
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }
    /// The source; fails when the URL is not an absolute http(s) URL.
    pub fn build(self) -> Result<JwksSource, TokenError> {
        let url = reqwest::Url::parse(&self.url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| TokenError::Malformed("the JWKS URL is not an http(s) URL".into()))?;
        let client = match self.client {
            Some(c) => c,
            None => default_client()?,
        };
        Ok(JwksSource::fetched(
            UrlFetcher {
                client,
                url,
                timeout: self.timeout,
                max_bytes: self.max_bytes,
            },
            self.ttl,
            self.min_refetch,
        ))
    }
}

/// A client that follows no redirects (a JWKS or introspection endpoint that redirects is
/// misconfigured, and following could leak credentials elsewhere).
pub(crate) fn default_client() -> Result<reqwest::Client, TokenError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|_| TokenError::Unavailable("could not build the HTTP client".into()))
}

struct UrlFetcher {
    client: reqwest::Client,
    url: reqwest::Url,
    timeout: Duration,
    max_bytes: usize,
}

impl JwksFetcher for UrlFetcher {
    fn fetch(&self) -> BoxFuture<'_, Result<JwkSet, TokenError>> {
        Box::pin(async move {
            let response = self
                .client
                .get(self.url.clone())
                .header(reqwest::header::ACCEPT, "application/json")
                .timeout(self.timeout)
                .send()
                .await
                .map_err(|e| TokenError::Unavailable(format!("JWKS endpoint: {}", kind_of(&e))))?;
            let body = read_limited(response, self.max_bytes, "JWKS endpoint").await?;
            parse_jwks(&body)
        })
    }
}

/// What kind of transport failure `e` is, without its URL (which may carry credentials).
pub(crate) fn kind_of(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_decode() || e.is_body() {
        "unreadable answer"
    } else {
        "request failed"
    }
}

/// The body of a 200 answer, at most `max` bytes; anything else is unavailable.
pub(crate) async fn read_limited(
    mut response: reqwest::Response,
    max: usize,
    what: &str,
) -> Result<Vec<u8>, TokenError> {
    if !response.status().is_success() {
        return Err(TokenError::Unavailable(format!(
            "{what} answered HTTP {}",
            response.status().as_u16()
        )));
    }
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Err(TokenError::Unavailable(format!("{what}: answer too large")));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| TokenError::Unavailable(format!("{what}: {}", kind_of(&e))))?
    {
        if body.len() + chunk.len() > max {
            return Err(TokenError::Unavailable(format!("{what}: answer too large")));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn okp(kid: &str) -> serde_json::Value {
        serde_json::json!({"kty": "OKP", "crv": "Ed25519", "kid": kid, "alg": "EdDSA",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})
    }

    fn set(keys: Vec<serde_json::Value>) -> JwkSet {
        parse_jwks(serde_json::json!({ "keys": keys }).to_string().as_bytes()).unwrap()
    }

    #[test]
    fn unreadable_members_are_skipped() {
        let s = set(vec![
            okp("a"),
            serde_json::json!({"kty": "weird", "kid": "b"}),
            serde_json::json!("not a key"),
        ]);
        // The string is dropped; the unknown key type is kept (as `Other`) but verifies nothing.
        assert_eq!(s.keys.len(), 2);
        assert!(matches!(
            lookup(&s, Some("b"), JwtAlgorithm::EdDSA),
            Lookup::WrongType
        ));
        assert!(matches!(
            lookup(&s, Some("a"), JwtAlgorithm::EdDSA),
            Lookup::Found(_)
        ));
    }

    #[test]
    fn lookup_rules() {
        let one = set(vec![okp("a")]);
        assert!(matches!(
            lookup(&one, None, JwtAlgorithm::EdDSA),
            Lookup::Found(_)
        ));
        assert!(matches!(
            lookup(&one, Some("a"), JwtAlgorithm::EdDSA),
            Lookup::Found(_)
        ));
        assert!(matches!(
            lookup(&one, Some("b"), JwtAlgorithm::EdDSA),
            Lookup::NotFound
        ));
        assert!(matches!(
            lookup(&one, Some("a"), JwtAlgorithm::RS256),
            Lookup::WrongType
        ));
        let two = set(vec![okp("a"), okp("b")]);
        assert!(matches!(
            lookup(&two, None, JwtAlgorithm::EdDSA),
            Lookup::NeedKid
        ));
        assert!(matches!(
            lookup(&two, Some("b"), JwtAlgorithm::EdDSA),
            Lookup::Found(_)
        ));
        let mut enc = okp("e");
        enc["use"] = serde_json::json!("enc");
        let enc = set(vec![enc]);
        assert!(matches!(
            lookup(&enc, Some("e"), JwtAlgorithm::EdDSA),
            Lookup::NotFound
        ));
    }

    struct Failing;
    impl JwksFetcher for Failing {
        fn fetch(&self) -> BoxFuture<'_, Result<JwkSet, TokenError>> {
            Box::pin(async { Err(TokenError::Unavailable("down".into())) })
        }
    }

    #[tokio::test]
    async fn no_set_and_no_fetch_is_unavailable_and_rate_limited() {
        let source = JwksSource::fetched(Failing, Duration::from_secs(60), Duration::from_secs(60));
        let e = source
            .key(Some("a"), JwtAlgorithm::EdDSA)
            .await
            .unwrap_err();
        assert!(e.is_unavailable());
        let e = source
            .key(Some("a"), JwtAlgorithm::EdDSA)
            .await
            .unwrap_err();
        assert!(e.is_unavailable());
        assert_eq!(
            source.fetch_count(),
            1,
            "the second failure did not fetch again"
        );
    }
}
