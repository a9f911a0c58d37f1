//! JWT access tokens: signature against the authorization server's JWKS, then issuer,
//! audience (RFC 8707), expiry and not-before, with `jsonwebtoken` doing the JOSE.
//!
//! The algorithm is read from the token's header before anything else and must be one of
//! the configured asymmetric algorithms (RS256, ES256, EdDSA). `none` and the HMAC family are
//! refused outright: accepting HS256 from a verifier that only holds public keys is the
//! classic key-confusion attack (the public key used as the HMAC secret).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::future::BoxFuture;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::jwks::JwksSource;
use super::{TokenError, TokenInfo, TokenVerifier, looks_like_jwt};

/// The signature algorithms a [`JwtVerifier`] can accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JwtAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// Ed25519.
    EdDSA,
}

impl JwtAlgorithm {
    /// All three.
    pub const ALL: [JwtAlgorithm; 3] = [
        JwtAlgorithm::RS256,
        JwtAlgorithm::ES256,
        JwtAlgorithm::EdDSA,
    ];

    /// The JOSE name (`RS256`, `ES256`, `EdDSA`).
    pub fn name(self) -> &'static str {
        match self {
            JwtAlgorithm::RS256 => "RS256",
            JwtAlgorithm::ES256 => "ES256",
            JwtAlgorithm::EdDSA => "EdDSA",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The `jsonwebtoken` algorithm.
    pub fn jose(self) -> Algorithm {
        match self {
            JwtAlgorithm::RS256 => Algorithm::RS256,
            JwtAlgorithm::ES256 => Algorithm::ES256,
            JwtAlgorithm::EdDSA => Algorithm::EdDSA,
        }
    }
}

/// Verifies JWT access tokens against a [`JwksSource`].
pub struct JwtVerifier {
    jwks: JwksSource,
    issuer: Option<String>,
    audiences: Vec<String>,
    algorithms: Vec<JwtAlgorithm>,
    leeway: Duration,
    subject_claim: String,
    agent_claim: Option<String>,
    max_token_bytes: usize,
}

/// Settings of a [`JwtVerifier`] ([`JwtVerifier::builder`]).
#[must_use]
pub struct JwtVerifierBuilder {
    inner: JwtVerifier,
}

impl JwtVerifier {
    /// A verifier trusting the keys of `jwks`; name the audience (and the issuer) before
    /// [`build`](JwtVerifierBuilder::build).
    pub fn builder(jwks: JwksSource) -> JwtVerifierBuilder {
        JwtVerifierBuilder {
            inner: JwtVerifier {
                jwks,
                issuer: None,
                audiences: Vec::new(),
                algorithms: JwtAlgorithm::ALL.to_vec(),
                leeway: Duration::from_secs(60),
                subject_claim: "sub".into(),
                agent_claim: None,
                max_token_bytes: 8 * 1024,
            },
        }
    }

    /// The key source (to read its fetch count).
    pub fn jwks(&self) -> &JwksSource {
        &self.jwks
    }
}

impl JwtVerifierBuilder {
    /// The `iss` every token must carry: the authorization server's issuer identifier. Without
    /// one, any issuer whose keys are in the set is accepted.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.inner.issuer = Some(issuer.into());
        self
    }
    /// An accepted audience: this resource's canonical URL (RFC 8707). At least one is
    /// required; a token must name one of them in `aud`.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.inner.audiences.push(audience.into());
        self
    }
    /// The accepted algorithms (default all of [`JwtAlgorithm::ALL`]).
    pub fn algorithms(mut self, algorithms: &[JwtAlgorithm]) -> Self {
        self.inner.algorithms = algorithms.to_vec();
        self
    }
    /// The clock skew allowed on `exp` and `nbf` (default 60 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.inner.leeway = leeway;
        self
    }
    /// The claim holding the caller's handle (default `sub`; `preferred_username` for
    /// Keycloak, a namespaced custom claim for Auth0).
    pub fn subject_claim(mut self, claim: impl Into<String>) -> Self {
        self.inner.subject_claim = claim.into();
        self
    }
    /// A string claim naming the AI agent that holds the token; its presence marks the
    /// caller as an agent (default: none, every caller is the subject itself).
    pub fn agent_claim(mut self, claim: impl Into<String>) -> Self {
        self.inner.agent_claim = Some(claim.into());
        self
    }
    /// The largest token accepted, in bytes (default 8 KiB).
    pub fn max_token_bytes(mut self, max: usize) -> Self {
        self.inner.max_token_bytes = max;
        self
    }
    /// The verifier; fails without an audience or without an algorithm.
    pub fn build(self) -> Result<JwtVerifier, TokenError> {
        if self.inner.audiences.is_empty() {
            return Err(TokenError::Malformed(
                "a JWT verifier needs the resource's audience".into(),
            ));
        }
        if self.inner.algorithms.is_empty() {
            return Err(TokenError::Malformed(
                "a JWT verifier needs at least one algorithm".into(),
            ));
        }
        Ok(self.inner)
    }
}

/// The JOSE header members the verifier reads before choosing a key.
struct PeekedHeader {
    alg: JwtAlgorithm,
    kid: Option<String>,
}

fn clip(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(24)
        .collect()
}

fn peek_header(token: &str, accepted: &[JwtAlgorithm]) -> Result<PeekedHeader, TokenError> {
    let first = token.split('.').next().unwrap_or("");
    let bytes = URL_SAFE_NO_PAD
        .decode(first)
        .map_err(|_| TokenError::Malformed("the JWT header is not base64url".into()))?;
    let header: Map<String, Value> = serde_json::from_slice(&bytes)
        .map_err(|_| TokenError::Malformed("the JWT header is not a JSON object".into()))?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or_else(|| TokenError::Malformed("the JWT header has no alg".into()))?;
    let alg = JwtAlgorithm::from_name(alg)
        .filter(|a| accepted.contains(a))
        .ok_or_else(|| TokenError::UnsupportedAlgorithm(clip(alg)))?;
    if header.contains_key("crit") {
        // RFC 7515 section 4.1.11: extensions we do not implement must make the token invalid.
        return Err(TokenError::Malformed(
            "the JWT header has critical extensions".into(),
        ));
    }
    if let Some(typ) = header.get("typ") {
        let typ = typ.as_str().unwrap_or("").to_ascii_lowercase();
        let typ = typ.strip_prefix("application/").unwrap_or(&typ);
        if !matches!(typ, "jwt" | "at+jwt") {
            return Err(TokenError::Malformed(
                "the JWT is not an access token (typ)".into(),
            ));
        }
    }
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => return Err(TokenError::Malformed("the JWT kid is not a string".into())),
    };
    Ok(PeekedHeader { alg, kid })
}

fn map_error(e: jsonwebtoken::errors::Error) -> TokenError {
    match e.kind() {
        ErrorKind::InvalidSignature => TokenError::BadSignature,
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::InvalidAudience => TokenError::WrongAudience,
        ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
        ErrorKind::MissingRequiredClaim(c) if c == "aud" => TokenError::WrongAudience,
        ErrorKind::MissingRequiredClaim(c) if c == "iss" => TokenError::WrongIssuer,
        ErrorKind::MissingRequiredClaim(c) => {
            TokenError::Malformed(format!("the JWT lacks the claim {}", clip(c)))
        }
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
            TokenError::UnsupportedAlgorithm("mismatch".into())
        }
        ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidEddsaKey
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidKeyFormat => TokenError::UnknownKey,
        _ => TokenError::Malformed("the JWT could not be decoded".into()),
    }
}

/// `scope` (space-separated, RFC 9068) or `scp` (an array, or a string, as some IdPs send).
fn scopes(claims: &Map<String, Value>) -> Vec<String> {
    let split = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    match (claims.get("scope"), claims.get("scp")) {
        (Some(Value::String(s)), _) => split(s),
        (_, Some(Value::Array(items))) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        (_, Some(Value::String(s))) => split(s),
        _ => Vec::new(),
    }
}

fn audience(claims: &Map<String, Value>) -> Vec<String> {
    match claims.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

fn string_claim(claims: &Map<String, Value>, name: &str) -> Option<String> {
    claims
        .get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl JwtVerifier {
    async fn check(&self, token: &str) -> Result<TokenInfo, TokenError> {
        if token.len() > self.max_token_bytes {
            return Err(TokenError::Malformed("the token is too large".into()));
        }
        if !looks_like_jwt(token) {
            return Err(TokenError::Malformed("not a JWT".into()));
        }
        let header = peek_header(token, &self.algorithms)?;
        let jwk = self.jwks.key(header.kid.as_deref(), header.alg).await?;
        let key = DecodingKey::from_jwk(&jwk).map_err(|_| TokenError::UnknownKey)?;
        let mut validation = Validation::new(header.alg.jose());
        validation.leeway = self.leeway.as_secs();
        validation.validate_nbf = true;
        validation.set_audience(&self.audiences);
        let mut required = vec!["exp", "aud"];
        if let Some(iss) = &self.issuer {
            validation.set_issuer(&[iss]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(map_error)?;
        let claims = data.claims;
        let subject = string_claim(&claims, &self.subject_claim).ok_or_else(|| {
            TokenError::Malformed(format!(
                "the JWT has no {} claim",
                clip(&self.subject_claim)
            ))
        })?;
        let mut info = TokenInfo::new(subject)
            .with_scopes(scopes(&claims))
            .with_audience(audience(&claims));
        info.client_id =
            string_claim(&claims, "client_id").or_else(|| string_claim(&claims, "azp"));
        info.expires_at = claims.get("exp").and_then(Value::as_u64);
        info.token_id = string_claim(&claims, "jti");
        if let Some(agent) = self
            .agent_claim
            .as_deref()
            .and_then(|c| string_claim(&claims, c))
        {
            info = info.with_agent(agent);
        }
        Ok(info)
    }
}

impl TokenVerifier for JwtVerifier {
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<TokenInfo, TokenError>> {
        Box::pin(self.check(token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(json: &str) -> String {
        format!("{}.e30.c2ln", URL_SAFE_NO_PAD.encode(json))
    }

    #[test]
    fn only_the_configured_asymmetric_algorithms_pass_the_header() {
        let all = JwtAlgorithm::ALL;
        for alg in ["none", "HS256", "HS512", "PS256", "RS512", "ES384", "nOnE"] {
            let e = peek_header(&header(&format!(r#"{{"alg":"{alg}"}}"#)), &all)
                .err()
                .unwrap();
            assert_eq!(e.reason(), "unsupported_algorithm", "{alg}");
        }
        let e = peek_header(&header(r#"{"alg":"RS256"}"#), &[JwtAlgorithm::EdDSA])
            .err()
            .unwrap();
        assert_eq!(e, TokenError::UnsupportedAlgorithm("RS256".into()));
        let ok = peek_header(
            &header(r#"{"alg":"EdDSA","kid":"k1","typ":"at+jwt"}"#),
            &all,
        )
        .unwrap();
        assert_eq!(ok.alg, JwtAlgorithm::EdDSA);
        assert_eq!(ok.kid.as_deref(), Some("k1"));
    }

    #[test]
    fn odd_headers_are_malformed() {
        let all = JwtAlgorithm::ALL;
        for h in [
            r#"{"alg":"EdDSA","crit":["exp"]}"#,
            r#"{"alg":"EdDSA","typ":"dpop+jwt"}"#,
            r#"{"alg":"EdDSA","kid":7}"#,
            r#"{"typ":"JWT"}"#,
            r#"[1]"#,
        ] {
            let e = peek_header(&header(h), &all).err().unwrap();
            assert_eq!(e.reason(), "malformed", "{h}");
        }
    }

    #[test]
    fn scopes_from_scope_or_scp() {
        let c = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(
            scopes(&c(serde_json::json!({"scope": "a  b"}))),
            vec!["a", "b"]
        );
        assert_eq!(
            scopes(&c(serde_json::json!({"scp": ["a", 1, "b"]}))),
            vec!["a", "b"]
        );
        assert_eq!(
            scopes(&c(serde_json::json!({"scp": "a b"}))),
            vec!["a", "b"]
        );
        assert!(scopes(&c(serde_json::json!({}))).is_empty());
    }
}
