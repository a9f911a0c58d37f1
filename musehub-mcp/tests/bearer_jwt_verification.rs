//! Bearer-token verification against a real identity provider double: an axum server on
//! 127.0.0.1 publishing a JWKS (which the tests rotate, break and take down) and answering
//! RFC 7662 introspection. Tokens are signed with the committed test keys in `tests/keys/`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use musehub_mcp::auth::bearer::{
    IntrospectionVerifier, JwksSource, JwtAlgorithm, JwtVerifier, TokenError, TokenVerifier,
};
use parking_lot::Mutex;
use serde_json::{Value, json};

const ISSUER: &str = "https://idp.test";
const AUDIENCE: &str = "https://hub.test/mcp";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A signing key with its JWK (public half) under a key id.
struct TestKey {
    alg: Algorithm,
    kid: String,
    encoding: EncodingKey,
    jwk: Jwk,
}

fn key(alg: Algorithm, kid: &str, pem: &[u8]) -> TestKey {
    let encoding = match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(pem),
        Algorithm::ES256 => EncodingKey::from_ec_pem(pem),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(pem),
        other => panic!("no test key for {other:?}"),
    }
    .expect("test key");
    let mut jwk = Jwk::from_encoding_key(&encoding, alg).expect("jwk");
    jwk.common.key_id = Some(kid.into());
    TestKey {
        alg,
        kid: kid.into(),
        encoding,
        jwk,
    }
}

fn rsa_a() -> TestKey {
    key(Algorithm::RS256, "rsa-a", include_bytes!("keys/rsa-a.pem"))
}
fn rsa_b(kid: &str) -> TestKey {
    key(Algorithm::RS256, kid, include_bytes!("keys/rsa-b.pem"))
}
fn p256() -> TestKey {
    key(Algorithm::ES256, "p256", include_bytes!("keys/p256.pem"))
}
fn ed25519() -> TestKey {
    key(Algorithm::EdDSA, "ed", include_bytes!("keys/ed25519.pem"))
}

fn claims() -> Value {
    json!({
        "iss": ISSUER,
        "sub": "alice",
        "aud": AUDIENCE,
        "exp": now() + 600,
        "iat": now(),
        "scope": "repo:read repo:write",
        "client_id": "client-1",
    })
}

fn sign(k: &TestKey, claims: &Value) -> String {
    let mut header = Header::new(k.alg);
    header.kid = Some(k.kid.clone());
    header.typ = Some("at+jwt".into());
    jsonwebtoken::encode(&header, claims, &k.encoding).expect("sign")
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn without(mut claims: Value, key: &str) -> Value {
    claims.as_object_mut().unwrap().remove(key);
    claims
}

/// The identity provider double.
#[derive(Clone, Default)]
struct Idp {
    jwks: Arc<Mutex<Vec<Jwk>>>,
    jwks_hits: Arc<AtomicUsize>,
    jwks_broken: Arc<AtomicBool>,
    introspection: Arc<Mutex<HashMap<String, Value>>>,
    introspection_hits: Arc<AtomicUsize>,
}

async fn jwks(State(idp): State<Idp>) -> Response {
    idp.jwks_hits.fetch_add(1, Ordering::SeqCst);
    if idp.jwks_broken.load(Ordering::SeqCst) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "broken").into_response();
    }
    let set = JwkSet {
        keys: idp.jwks.lock().clone(),
    };
    axum::Json(set).into_response()
}

async fn introspect(State(idp): State<Idp>, headers: HeaderMap, body: String) -> Response {
    idp.introspection_hits.fetch_add(1, Ordering::SeqCst);
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("rs:secret")
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let token = url_param(&body, "token").unwrap_or_default();
    let answer = idp
        .introspection
        .lock()
        .get(&token)
        .cloned()
        .unwrap_or_else(|| json!({"active": false}));
    axum::Json(answer).into_response()
}

fn url_param(body: &str, name: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| v.replace("%2E", ".").replace("%5F", "_"))
    })
}

async fn start(idp: Idp) -> SocketAddr {
    let app = Router::new()
        .route("/jwks", get(jwks))
        .route("/introspect", post(introspect))
        .with_state(idp);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// A JWT verifier over the double's JWKS URL.
fn verifier(addr: SocketAddr, ttl: Duration, min_refetch: Duration) -> JwtVerifier {
    let source = JwksSource::url(format!("http://{addr}/jwks"))
        .ttl(ttl)
        .min_refetch_interval(min_refetch)
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    JwtVerifier::builder(source)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .leeway(Duration::from_secs(5))
        .build()
        .unwrap()
}

async fn idp_with(keys: &[&TestKey]) -> (Idp, SocketAddr) {
    let idp = Idp::default();
    *idp.jwks.lock() = keys.iter().map(|k| k.jwk.clone()).collect();
    let addr = start(idp.clone()).await;
    (idp, addr)
}

#[tokio::test]
async fn rs256_es256_and_eddsa_tokens_are_accepted() {
    let (rsa, ec, ed) = (rsa_a(), p256(), ed25519());
    let (idp, addr) = idp_with(&[&rsa, &ec, &ed]).await;
    let v = verifier(addr, Duration::from_secs(300), Duration::from_secs(30));
    for k in [&rsa, &ec, &ed] {
        let info = v
            .verify(&sign(k, &claims()))
            .await
            .unwrap_or_else(|e| panic!("{:?}: {e}", k.alg));
        assert_eq!(info.subject(), "alice");
        assert_eq!(info.scopes(), ["repo:read", "repo:write"]);
        assert_eq!(info.client_id(), Some("client-1"));
        assert_eq!(info.audience(), [AUDIENCE]);
        assert!(info.expires_at().unwrap() > now());
        assert!(!info.is_agent());
    }
    // `scp` as an array, `azp` as the client, an audience list naming this resource.
    let other = json!({"iss": ISSUER, "sub": "bob", "aud": ["https://else", AUDIENCE],
        "exp": now() + 60, "scp": ["repo:read"], "azp": "client-2"});
    let info = v.verify(&sign(&ed, &other)).await.unwrap();
    assert_eq!(info.subject(), "bob");
    assert_eq!(info.scopes(), ["repo:read"]);
    assert_eq!(info.client_id(), Some("client-2"));
    assert_eq!(
        idp.jwks_hits.load(Ordering::SeqCst),
        1,
        "one fetch, then the cache"
    );
}

#[tokio::test]
async fn wrong_audience_issuer_and_times_are_refused() {
    let ed = ed25519();
    let (_idp, addr) = idp_with(&[&ed]).await;
    let v = verifier(addr, Duration::from_secs(300), Duration::from_secs(30));
    let cases = [
        (
            with(claims(), "aud", json!("https://other.test/mcp")),
            TokenError::WrongAudience,
        ),
        (
            with(claims(), "aud", json!(["https://a", "https://b"])),
            TokenError::WrongAudience,
        ),
        (without(claims(), "aud"), TokenError::WrongAudience),
        (
            with(claims(), "iss", json!("https://evil.test")),
            TokenError::WrongIssuer,
        ),
        (without(claims(), "iss"), TokenError::WrongIssuer),
        (
            with(claims(), "exp", json!(now() - 120)),
            TokenError::Expired,
        ),
        (
            with(claims(), "nbf", json!(now() + 120)),
            TokenError::NotYetValid,
        ),
    ];
    for (c, want) in cases {
        assert_eq!(v.verify(&sign(&ed, &c)).await, Err(want.clone()), "{c}");
        assert_eq!(want.status(), StatusCode::UNAUTHORIZED);
    }
    let e = v
        .verify(&sign(&ed, &without(claims(), "exp")))
        .await
        .unwrap_err();
    assert_eq!(e.reason(), "malformed");
    let e = v
        .verify(&sign(&ed, &without(claims(), "sub")))
        .await
        .unwrap_err();
    assert_eq!(e.reason(), "malformed");
    // Within the leeway an expired token still passes.
    assert!(
        v.verify(&sign(&ed, &with(claims(), "exp", json!(now() - 1))))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn bad_signatures_alg_none_and_key_confusion_are_refused() {
    let rsa = rsa_a();
    let (_idp, addr) = idp_with(&[&rsa]).await;
    let v = verifier(addr, Duration::from_secs(300), Duration::from_secs(30));

    // Signed by another key under the published kid.
    let forged = sign(&rsa_b("rsa-a"), &claims());
    assert_eq!(v.verify(&forged).await, Err(TokenError::BadSignature));

    // A valid token whose payload was changed.
    let good = sign(&rsa, &claims());
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    parts[1] = URL_SAFE_NO_PAD.encode(with(claims(), "sub", json!("mallory")).to_string());
    assert_eq!(
        v.verify(&parts.join(".")).await,
        Err(TokenError::BadSignature)
    );

    // alg none, with and without a signature part.
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT","kid":"rsa-a"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims().to_string());
    assert_eq!(
        v.verify(&format!("{header}.{payload}.c2ln")).await,
        Err(TokenError::UnsupportedAlgorithm("none".into()))
    );
    assert_eq!(
        v.verify(&format!("{header}.{payload}."))
            .await
            .unwrap_err()
            .reason(),
        "malformed"
    );

    // HS256 with the RSA public key (PEM) as the HMAC secret.
    let secret = EncodingKey::from_secret(include_bytes!("keys/rsa-a.pub.pem")).unwrap();
    let mut h = Header::new(Algorithm::HS256);
    h.kid = Some("rsa-a".into());
    let confused = jsonwebtoken::encode(&h, &claims(), &secret).unwrap();
    assert_eq!(
        v.verify(&confused).await,
        Err(TokenError::UnsupportedAlgorithm("HS256".into()))
    );

    // An RS256 token naming a key of another type.
    let ed = ed25519();
    let (_idp2, addr2) = idp_with(&[&ed]).await;
    let v2 = verifier(addr2, Duration::from_secs(300), Duration::from_secs(30));
    let mut h = Header::new(Algorithm::RS256);
    h.kid = Some("ed".into());
    let mismatched = jsonwebtoken::encode(&h, &claims(), &rsa.encoding).unwrap();
    assert_eq!(v2.verify(&mismatched).await, Err(TokenError::BadSignature));

    // Garbage.
    for junk in ["", "abc", "a.b.c", "eyJhbGciOiJFZERTQSJ9.bm90IGpzb24.c2ln"] {
        let e = v.verify(junk).await.unwrap_err();
        assert_eq!(e.status(), StatusCode::UNAUTHORIZED, "{junk}: {e:?}");
    }
}

#[tokio::test]
async fn an_unknown_kid_refetches_once_then_is_refused() {
    let (rsa, ed) = (rsa_a(), ed25519());
    // Every token is signed up front: RSA signing in a debug build is slow enough that doing
    // it inside the timed part could outlast the refetch interval on a loaded machine.
    let good = sign(&rsa, &claims());
    let stranger = sign(&rsa_b("nobody"), &claims());
    let burst: Vec<String> = (0..20)
        .map(|i| sign(&rsa_b(&format!("made-up-{i}")), &claims()))
        .collect();
    let rotated = sign(&ed, &claims());
    let interval = Duration::from_millis(1000);

    let (idp, addr) = idp_with(&[&rsa]).await;
    let v = verifier(addr, Duration::from_secs(3600), interval);
    v.verify(&good).await.unwrap();
    assert_eq!(idp.jwks_hits.load(Ordering::SeqCst), 1);

    tokio::time::sleep(interval + Duration::from_millis(100)).await;
    assert_eq!(v.verify(&stranger).await, Err(TokenError::UnknownKey));
    assert_eq!(
        idp.jwks_hits.load(Ordering::SeqCst),
        2,
        "one refetch for the unknown kid"
    );
    // A burst of made-up kids right after costs the IdP nothing more.
    for t in &burst {
        assert_eq!(v.verify(t).await, Err(TokenError::UnknownKey));
    }
    assert_eq!(idp.jwks_hits.load(Ordering::SeqCst), 2);

    // The IdP rotates in a new key: once the interval has passed, its tokens verify.
    idp.jwks.lock().push(ed.jwk.clone());
    tokio::time::sleep(interval + Duration::from_millis(100)).await;
    v.verify(&rotated).await.unwrap();
    assert_eq!(idp.jwks_hits.load(Ordering::SeqCst), 3);
    assert_eq!(v.jwks().fetch_count(), 3);
}

#[tokio::test]
async fn a_kid_is_required_when_the_set_has_several_keys() {
    let (rsa, rsa2) = (rsa_a(), rsa_b("rsa-b"));
    let (_idp, addr) = idp_with(&[&rsa, &rsa2]).await;
    let v = verifier(addr, Duration::from_secs(300), Duration::from_secs(30));
    let unnamed =
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims(), &rsa.encoding).unwrap();
    assert_eq!(v.verify(&unnamed).await.unwrap_err().reason(), "malformed");
    // With one key in the set, no kid is needed.
    let (_idp1, addr1) = idp_with(&[&rsa]).await;
    let v1 = verifier(addr1, Duration::from_secs(300), Duration::from_secs(30));
    assert!(v1.verify(&unnamed).await.is_ok());
}

#[tokio::test]
async fn a_jwks_endpoint_that_is_down_makes_verification_unavailable_not_invalid() {
    let ed = ed25519();
    // Nothing listens on this port any more.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let v = verifier(closed, Duration::from_secs(300), Duration::from_secs(30));
    let e = v.verify(&sign(&ed, &claims())).await.unwrap_err();
    assert!(e.is_unavailable(), "{e:?}");
    assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(e.oauth_error(), None);

    // An endpoint answering 500 is unavailable too.
    let (idp, addr) = idp_with(&[&ed]).await;
    idp.jwks_broken.store(true, Ordering::SeqCst);
    let v = verifier(addr, Duration::from_millis(0), Duration::from_millis(0));
    assert!(
        v.verify(&sign(&ed, &claims()))
            .await
            .unwrap_err()
            .is_unavailable()
    );

    // Once a set was fetched, an outage keeps serving the last good set.
    idp.jwks_broken.store(false, Ordering::SeqCst);
    v.verify(&sign(&ed, &claims())).await.unwrap();
    idp.jwks_broken.store(true, Ordering::SeqCst);
    let before = idp.jwks_hits.load(Ordering::SeqCst);
    v.verify(&sign(&ed, &claims())).await.unwrap();
    assert!(
        idp.jwks_hits.load(Ordering::SeqCst) > before,
        "it did try to refresh"
    );
}

#[tokio::test]
async fn in_process_keys_verify_without_any_fetch() {
    let ed = ed25519();
    let source = JwksSource::from_set(JwkSet {
        keys: vec![ed.jwk.clone()],
    });
    let v = JwtVerifier::builder(source)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .algorithms(&[JwtAlgorithm::EdDSA])
        .agent_claim("agent")
        .build()
        .unwrap();
    let info = v
        .verify(&sign(&ed, &with(claims(), "agent", json!("composer-bot"))))
        .await
        .unwrap();
    assert!(info.is_agent());
    assert_eq!(info.agent_name(), Some("composer-bot"));
    assert_eq!(v.jwks().fetch_count(), 0);
    assert_eq!(
        v.verify(&sign(&rsa_b("ed"), &claims())).await,
        Err(TokenError::UnsupportedAlgorithm("RS256".into()))
    );
    assert!(
        JwtVerifier::builder(JwksSource::from_set(JwkSet { keys: vec![] }))
            .build()
            .is_err(),
        "an audience is required"
    );
}

fn introspection(addr: SocketAddr, secret: &str) -> IntrospectionVerifier {
    IntrospectionVerifier::builder(format!("http://{addr}/introspect"), "rs", secret)
        .issuer(ISSUER)
        .audience(AUDIENCE)
        .cache_ttl(Duration::from_secs(30))
        .build()
        .unwrap()
}

#[tokio::test]
async fn introspection_accepts_active_tokens_and_refuses_inactive_ones() {
    let (idp, addr) = idp_with(&[]).await;
    idp.introspection.lock().insert(
        "opaque-good".into(),
        json!({"active": true, "sub": "carol", "scope": "repo:read", "aud": AUDIENCE,
            "exp": now() + 600, "iss": ISSUER, "client_id": "cli"}),
    );
    idp.introspection.lock().insert(
        "opaque-foreign".into(),
        json!({"active": true, "sub": "carol", "aud": "https://other/mcp", "exp": now() + 600}),
    );
    idp.introspection.lock().insert(
        "opaque-expired".into(),
        json!({"active": true, "sub": "carol", "aud": AUDIENCE, "exp": now() - 600}),
    );
    let v = introspection(addr, "secret");
    let info = v.verify("opaque-good").await.unwrap();
    assert_eq!(info.subject(), "carol");
    assert_eq!(info.scopes(), ["repo:read"]);
    assert_eq!(info.client_id(), Some("cli"));
    assert_eq!(v.verify("opaque-unknown").await, Err(TokenError::Inactive));
    assert_eq!(
        v.verify("opaque-foreign").await,
        Err(TokenError::WrongAudience)
    );
    assert_eq!(v.verify("opaque-expired").await, Err(TokenError::Expired));
    let hits = idp.introspection_hits.load(Ordering::SeqCst);
    assert_eq!(hits, 4);

    // A positive answer is reused; a negative one is asked again.
    v.verify("opaque-good").await.unwrap();
    assert_eq!(idp.introspection_hits.load(Ordering::SeqCst), hits);
    let _ = v.verify("opaque-unknown").await;
    assert_eq!(idp.introspection_hits.load(Ordering::SeqCst), hits + 1);

    // The IdP refusing our credentials is an outage on our side, not the token's fault.
    let wrong = introspection(addr, "wrong-secret");
    assert!(
        wrong
            .verify("opaque-good")
            .await
            .unwrap_err()
            .is_unavailable()
    );
}
