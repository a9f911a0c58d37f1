//! Hostile registrations (RFC 7591 metadata the hub refuses, with the exact status and
//! error code) and hostile access tokens at the hub's own verifier: changed claims, `alg:
//! none`, HS256, an unknown key id, and tokens the hub signed itself but for another resource,
//! expired, from another issuer, or of a grant that does not exist.

mod common;
mod oauth_support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use musehub_mcp::auth::bearer::TokenError;
use musehub_mcp::serde_json::{Value, json};
use oauth_support::*;

fn err(v: &Value) -> &str {
    v["error"].as_str().unwrap_or("")
}

#[tokio::test]
async fn bad_registrations_are_refused() {
    let hub = hub().await;
    let cases = [
        (
            json!({"redirect_uris": ["http://evil.example/cb"]}),
            400,
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["javascript:alert(1)"]}),
            400,
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["https://app.example/cb#f"]}),
            400,
            "invalid_redirect_uri",
        ),
        (json!({"redirect_uris": []}), 400, "invalid_redirect_uri"),
        (json!({"client_name": "x"}), 400, "invalid_redirect_uri"),
        (
            json!({"redirect_uris": (0..11).map(|i| format!("https://a.example/{i}")).collect::<Vec<_>>()}),
            400,
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "grant_types": ["client_credentials"]}),
            400,
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "grant_types": ["implicit"]}),
            400,
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "response_types": ["token"]}),
            400,
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt"}),
            400,
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": [REDIRECT], "client_name": "a\nb"}),
            400,
            "invalid_client_metadata",
        ),
        (json!([1, 2]), 400, "invalid_client_metadata"),
    ];
    for (body, status, code) in cases {
        let (s, v) = hub.register_raw(&body).await;
        assert_eq!((s, err(&v)), (status, code), "{body}");
    }
    let big = json!({"redirect_uris": [REDIRECT], "client_name": "x".repeat(20_000)});
    let (s, v) = hub.register_raw(&big).await;
    assert_eq!((s, err(&v)), (413, "invalid_client_metadata"));
}

#[tokio::test]
async fn forged_foreign_expired_and_revoked_tokens_are_refused_by_the_hub_verifier() {
    let hub = hub().await;
    let client = hub.public_client().await;
    let v = hub.oauth.token_verifier().unwrap();
    let t = hub.tokens_for(&client, "alice").await;
    let good = t["access_token"].as_str().unwrap().to_string();
    assert!(v.verify(&good).await.is_ok());
    let parts: Vec<&str> = good.split('.').collect();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let reencode = |h: &Value, c: &Value, sig: &str| {
        format!(
            "{}.{}.{sig}",
            URL_SAFE_NO_PAD.encode(h.to_string()),
            URL_SAFE_NO_PAD.encode(c.to_string())
        )
    };
    // Changed claims with the old signature.
    let mut c = claims.clone();
    c["sub"] = json!("mallory");
    assert_eq!(
        v.verify(&reencode(&header, &c, parts[2])).await,
        Err(TokenError::BadSignature)
    );
    // alg none.
    let mut h = header.clone();
    h["alg"] = json!("none");
    assert_eq!(
        v.verify(&reencode(&h, &claims, "AA")).await,
        Err(TokenError::UnsupportedAlgorithm("none".into()))
    );
    // HS256 (any secret).
    h["alg"] = json!("HS256");
    assert_eq!(
        v.verify(&reencode(&h, &claims, "AA")).await,
        Err(TokenError::UnsupportedAlgorithm("HS256".into()))
    );
    // An unknown kid.
    let mut h = header.clone();
    h["kid"] = json!("not-a-hub-key");
    assert_eq!(
        v.verify(&reencode(&h, &claims, parts[2])).await,
        Err(TokenError::UnknownKey)
    );

    // Properly signed by the hub, but for another resource, or expired: the hub signs test
    // tokens with its own key through the same code path it issues with.
    let signed = |c: Value| {
        let hub = &hub;
        async move {
            let key = musehub_server::oauth::keys::ensure_signing_key(&hub.db)
                .await
                .unwrap();
            key.sign_claims(&c).unwrap()
        }
    };
    let mut foreign = claims.clone();
    foreign["aud"] = json!("https://other.example/mcp");
    assert_eq!(
        v.verify(&signed(foreign).await).await,
        Err(TokenError::WrongAudience)
    );
    let mut old = claims.clone();
    old["exp"] = json!(1_000_000);
    assert_eq!(v.verify(&signed(old).await).await, Err(TokenError::Expired));
    let mut elsewhere = claims.clone();
    elsewhere["iss"] = json!("https://idp.example");
    assert_eq!(
        v.verify(&signed(elsewhere).await).await,
        Err(TokenError::WrongIssuer)
    );
    let mut orphan = claims.clone();
    orphan["jti"] = json!("no-such-grant.x");
    assert_eq!(
        v.verify(&signed(orphan).await).await,
        Err(TokenError::Revoked)
    );
}
