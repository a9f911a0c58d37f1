//! Opaque tokens checked at the authorization server: OAuth 2.0 Token Introspection
//! (RFC 7662). The resource server authenticates to the introspection endpoint with its own
//! client credentials (`client_secret_basic`) and learns whether the token is `active`, for
//! whom, with which scopes, for which audience and until when.
//!
//! Positive answers are cached for a short time (keyed by the token's SHA-256, never the
//! token), so a busy client does not cost one introspection per request; a revocation at the
//! authorization server then takes effect within that time. Negative answers are not cached.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use parking_lot::Mutex;
use serde_json::{Map, Value};

use super::jwks::{default_client, kind_of, read_limited};
use super::store::token_hash;
use super::{TokenError, TokenInfo, TokenVerifier, unix_now};

/// Verifies tokens at an RFC 7662 introspection endpoint.
pub struct IntrospectionVerifier {
    client: reqwest::Client,
    endpoint: reqwest::Url,
    client_id: String,
    client_secret: String,
    issuer: Option<String>,
    audiences: Vec<String>,
    subject_claim: String,
    leeway: u64,
    timeout: Duration,
    cache_ttl: Duration,
    cache_capacity: usize,
    max_token_bytes: usize,
    max_answer_bytes: usize,
    cache: Mutex<HashMap<String, (Instant, TokenInfo)>>,
}

/// Settings of an [`IntrospectionVerifier`] ([`IntrospectionVerifier::builder`]).
#[must_use]
pub struct IntrospectionVerifierBuilder {
    endpoint: String,
    client: Option<reqwest::Client>,
    client_id: String,
    client_secret: String,
    issuer: Option<String>,
    audiences: Vec<String>,
    subject_claim: String,
    leeway: Duration,
    timeout: Duration,
    cache_ttl: Duration,
    cache_capacity: usize,
    max_token_bytes: usize,
}

impl IntrospectionVerifier {
    /// A verifier asking `endpoint`, authenticated as `client_id` with `client_secret`.
    pub fn builder(
        endpoint: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> IntrospectionVerifierBuilder {
        IntrospectionVerifierBuilder {
            endpoint: endpoint.into(),
            client: None,
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            issuer: None,
            audiences: Vec::new(),
            subject_claim: "sub".into(),
            leeway: Duration::from_secs(60),
            timeout: Duration::from_secs(5),
            cache_ttl: Duration::from_secs(30),
            cache_capacity: 10_000,
            max_token_bytes: 8 * 1024,
        }
    }
}

impl IntrospectionVerifierBuilder {
    /// The `iss` an answer must carry, when it carries one.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }
    /// An accepted audience (this resource's canonical URL). At least one is required; the
    /// answer's `aud` must name one of them.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }
    /// The member holding the caller's handle (default `sub`, then `username`).
    pub fn subject_claim(mut self, claim: impl Into<String>) -> Self {
        self.subject_claim = claim.into();
        self
    }
    /// The clock skew allowed on `exp` and `nbf` (default 60 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }
    /// The timeout of one introspection (default 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// How long a positive answer is reused (default 30 s; zero disables the cache).
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }
    /// How many answers the cache holds (default 10,000).
    pub fn cache_capacity(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }
    /// The largest token sent for introspection, in bytes (default 8 KiB).
    pub fn max_token_bytes(mut self, max: usize) -> Self {
        self.max_token_bytes = max;
        self
    }
    /// The HTTP client (default: a new one without redirects).
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }
    /// The verifier; fails on a bad endpoint URL or without an audience.
    pub fn build(self) -> Result<IntrospectionVerifier, TokenError> {
        let endpoint = reqwest::Url::parse(&self.endpoint)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| {
                TokenError::Malformed("the introspection endpoint is not an http(s) URL".into())
            })?;
        if self.audiences.is_empty() {
            return Err(TokenError::Malformed(
                "an introspection verifier needs the resource's audience".into(),
            ));
        }
        Ok(IntrospectionVerifier {
            client: match self.client {
                Some(c) => c,
                None => default_client()?,
            },
            endpoint,
            client_id: self.client_id,
            client_secret: self.client_secret,
            issuer: self.issuer,
            audiences: self.audiences,
            subject_claim: self.subject_claim,
            leeway: self.leeway.as_secs(),
            timeout: self.timeout,
            cache_ttl: self.cache_ttl,
            cache_capacity: self.cache_capacity.max(1),
            max_token_bytes: self.max_token_bytes,
            max_answer_bytes: 64 * 1024,
            cache: Mutex::new(HashMap::new()),
        })
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

impl IntrospectionVerifier {
    fn cached(&self, key: &str) -> Option<TokenInfo> {
        let cache = self.cache.lock();
        let (at, info) = cache.get(key)?;
        let fresh = at.elapsed() < self.cache_ttl;
        let unexpired = info.expires_at.is_none_or(|exp| exp > unix_now());
        (fresh && unexpired).then(|| info.clone())
    }

    fn remember(&self, key: String, info: &TokenInfo) {
        if self.cache_ttl.is_zero() {
            return;
        }
        let mut cache = self.cache.lock();
        if cache.len() >= self.cache_capacity {
            let ttl = self.cache_ttl;
            cache.retain(|_, (at, _)| at.elapsed() < ttl);
            if cache.len() >= self.cache_capacity {
                cache.clear();
            }
        }
        cache.insert(key, (Instant::now(), info.clone()));
    }

    /// The introspection answer, as a JSON object.
    async fn ask(&self, token: &str) -> Result<Map<String, Value>, TokenError> {
        let response = self
            .client
            .post(self.endpoint.clone())
            .basic_auth(&self.client_id, Some(&self.client_secret))
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&[("token", token), ("token_type_hint", "access_token")])
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| {
                TokenError::Unavailable(format!("introspection endpoint: {}", kind_of(&e)))
            })?;
        let body = read_limited(response, self.max_answer_bytes, "introspection endpoint").await?;
        serde_json::from_slice(&body).map_err(|_| {
            TokenError::Unavailable("the introspection answer is not a JSON object".into())
        })
    }

    fn interpret(&self, answer: &Map<String, Value>) -> Result<TokenInfo, TokenError> {
        if answer.get("active") != Some(&Value::Bool(true)) {
            return Err(TokenError::Inactive);
        }
        let now = unix_now();
        let exp = answer.get("exp").and_then(Value::as_u64);
        if exp.is_some_and(|exp| exp + self.leeway <= now) {
            return Err(TokenError::Expired);
        }
        if answer
            .get("nbf")
            .and_then(Value::as_u64)
            .is_some_and(|nbf| nbf > now + self.leeway)
        {
            return Err(TokenError::NotYetValid);
        }
        if let (Some(want), Some(iss)) = (&self.issuer, answer.get("iss"))
            && iss.as_str() != Some(want.as_str())
        {
            return Err(TokenError::WrongIssuer);
        }
        let audience = strings(answer.get("aud"));
        if !audience.iter().any(|a| self.audiences.contains(a)) {
            return Err(TokenError::WrongAudience);
        }
        let subject = [self.subject_claim.as_str(), "sub", "username"]
            .iter()
            .find_map(|c| {
                answer
                    .get(*c)
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
            })
            .ok_or_else(|| {
                TokenError::Malformed("the introspection answer names no subject".into())
            })?;
        let scopes: Vec<String> = answer
            .get("scope")
            .and_then(Value::as_str)
            .map(|s| s.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
        let mut info = TokenInfo::new(subject)
            .with_scopes(scopes)
            .with_audience(audience);
        info.client_id = answer
            .get("client_id")
            .and_then(Value::as_str)
            .map(str::to_string);
        info.expires_at = exp;
        info.token_id = answer
            .get("jti")
            .and_then(Value::as_str)
            .map(str::to_string);
        Ok(info)
    }

    async fn check(&self, token: &str) -> Result<TokenInfo, TokenError> {
        if token.is_empty() || token.len() > self.max_token_bytes {
            return Err(TokenError::Malformed(
                "the token is empty or too large".into(),
            ));
        }
        let key = token_hash(token);
        if let Some(info) = self.cached(&key) {
            return Ok(info);
        }
        let answer = self.ask(token).await?;
        let info = self.interpret(&answer)?;
        self.remember(key, &info);
        Ok(info)
    }
}

impl TokenVerifier for IntrospectionVerifier {
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<TokenInfo, TokenError>> {
        Box::pin(self.check(token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier() -> IntrospectionVerifier {
        IntrospectionVerifier::builder("http://127.0.0.1:9/introspect", "rs", "secret")
            .audience("https://hub.example/mcp")
            .issuer("https://idp.example")
            .build()
            .unwrap()
    }

    fn answer(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn answers_are_interpreted_strictly() {
        let v = verifier();
        let now = unix_now();
        let good = serde_json::json!({"active": true, "sub": "alice", "scope": "repo:read repo:write",
            "aud": "https://hub.example/mcp", "exp": now + 300, "client_id": "c1", "iss": "https://idp.example"});
        let info = v.interpret(&answer(good.clone())).unwrap();
        assert_eq!(info.subject(), "alice");
        assert_eq!(info.scopes(), ["repo:read", "repo:write"]);
        assert_eq!(info.client_id(), Some("c1"));

        let with = |k: &str, val: Value| {
            let mut a = answer(good.clone());
            a.insert(k.into(), val);
            a
        };
        assert_eq!(
            v.interpret(&with("active", Value::Bool(false))),
            Err(TokenError::Inactive)
        );
        assert_eq!(
            v.interpret(&with("active", "true".into())),
            Err(TokenError::Inactive)
        );
        assert_eq!(
            v.interpret(&with("exp", (now - 3600).into())),
            Err(TokenError::Expired)
        );
        assert_eq!(
            v.interpret(&with("nbf", (now + 3600).into())),
            Err(TokenError::NotYetValid)
        );
        assert_eq!(
            v.interpret(&with("aud", "https://other.example".into())),
            Err(TokenError::WrongAudience)
        );
        assert_eq!(
            v.interpret(&with("iss", "https://evil.example".into())),
            Err(TokenError::WrongIssuer)
        );
        let mut no_aud = answer(good);
        no_aud.remove("aud");
        assert_eq!(v.interpret(&no_aud), Err(TokenError::WrongAudience));
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_is_unavailable() {
        let e = verifier().verify("opaque-token").await.unwrap_err();
        assert!(e.is_unavailable(), "{e:?}");
    }
}
