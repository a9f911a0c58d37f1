//! The embedded authorization server end to end over real HTTP: discovery, dynamic
//! registration, the authorization request and consent page, the code exchange with PKCE,
//! the access token verified by `JwtVerifier` against the hub's JWKS URL (audience = the MCP
//! endpoint, the granted scopes), refresh-token rotation and reuse detection, MSign sign-in,
//! confidential clients, Client ID Metadata Documents, denial and revocation.

mod common;
mod oauth_support;

use std::time::Duration;

use musehub_mcp::auth::MSignSigner;
use musehub_mcp::auth::bearer::{JwksSource, JwtAlgorithm, JwtVerifier, TokenError, TokenVerifier};
use musehub_mcp::serde_json::{Value, json};
use musehub_server::oauth::OAuthSettings;
use oauth_support::*;

#[tokio::test]
async fn discovery_documents_name_every_endpoint() {
    let hub = hub().await;
    let r = hub
        .http
        .get(hub.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let m: Value = r.json().await.unwrap();
    assert_eq!(m["issuer"], json!(hub.base));
    assert_eq!(
        m["authorization_endpoint"],
        json!(hub.url("/oauth/authorize"))
    );
    assert_eq!(m["token_endpoint"], json!(hub.url("/oauth/token")));
    assert_eq!(
        m["registration_endpoint"],
        json!(hub.url("/oauth/register"))
    );
    assert_eq!(m["revocation_endpoint"], json!(hub.url("/oauth/revoke")));
    assert_eq!(m["jwks_uri"], json!(hub.url("/oauth/jwks")));
    assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(m["response_types_supported"], json!(["code"]));
    assert_eq!(
        m["grant_types_supported"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(
        m["authorization_response_iss_parameter_supported"],
        json!(true)
    );
    assert_eq!(m["client_id_metadata_document_supported"], json!(true));
    assert_eq!(m["scopes_supported"], json!(["repo:read", "repo:write"]));

    // The issuer has no path: a path-inserted probe for another issuer finds nothing.
    let r = hub
        .http
        .get(hub.url("/.well-known/oauth-authorization-server/tenant1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);

    // The Protected Resource Metadata the transport will serve names this hub.
    let prm = serde_json::to_value(hub.oauth.protected_resource_metadata()).unwrap();
    assert_eq!(prm["resource"], json!(hub.resource()));
    assert_eq!(prm["authorization_servers"], json!([hub.base]));
    assert_eq!(prm["bearer_methods_supported"], json!(["header"]));
    assert_eq!(prm["scopes_supported"], json!(["repo:read", "repo:write"]));

    let jwks: Value = hub
        .http
        .get(hub.url("/oauth/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kty"], "OKP");
    assert_eq!(keys[0]["crv"], "Ed25519");
    assert_eq!(keys[0]["alg"], "EdDSA");
    assert!(keys[0].get("d").is_none(), "never the private half");
}

/// A JWT verifier over the hub's published JWKS URL, as any resource server would build it.
fn verifier_for(hub: &Hub) -> JwtVerifier {
    let source = JwksSource::url(hub.url("/oauth/jwks")).build().unwrap();
    JwtVerifier::builder(source)
        .issuer(hub.base.clone())
        .audience(hub.resource())
        .algorithms(&[JwtAlgorithm::EdDSA])
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_whole_code_flow_with_refresh_rotation_and_reuse_detection() {
    let hub = hub().await;
    let client = hub.public_client().await;
    let (verifier, challenge) = pkce();

    // The authorization request shows the sign-in/consent page.
    let r = hub.authorize_client(&client, &challenge, "state-123").await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let page = Page::read(r).await;
    assert!(page.html.contains("Test client"), "{}", page.html);
    assert!(page.csp.contains("frame-ancestors 'none'"), "{}", page.csp);
    assert!(page.csp.contains("default-src 'none'"), "{}", page.csp);
    assert!(!page.csp.contains("unsafe-inline"), "{}", page.csp);
    assert!(
        page.csp
            .contains("form-action 'self' http://127.0.0.1:43210"),
        "{}",
        page.csp
    );
    assert!(!page.html.contains("<script"), "no script on the page");
    assert!(!page.html.contains("style="), "no inline style");
    assert!(page.set_cookie.contains("HttpOnly"), "{}", page.set_cookie);
    assert!(
        page.set_cookie.contains("SameSite=Strict"),
        "{}",
        page.set_cookie
    );

    // Sign in with a one-time code and allow.
    let login = hub.login_code("alice", 600).await;
    let r = hub
        .consent(
            &page,
            &[("decision", "allow"), ("login_code", &login)],
            Some(&page.cookie),
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let loc = location(&r);
    assert!(loc.starts_with(REDIRECT), "{loc}");
    assert_eq!(query_param(&loc, "state").as_deref(), Some("state-123"));
    assert_eq!(query_param(&loc, "iss").as_deref(), Some(hub.base.as_str()));
    let code = query_param(&loc, "code").unwrap();

    // The code for tokens.
    let resource = hub.resource();
    let (status, t) = hub
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_id", &client.id),
                ("code_verifier", &verifier),
                ("resource", &resource),
            ],
            None,
        )
        .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 3600);
    assert_eq!(t["scope"], "repo:read repo:write");
    let access = t["access_token"].as_str().unwrap().to_string();
    let refresh1 = t["refresh_token"].as_str().unwrap().to_string();

    // The access token verifies against the JWKS URL, for this resource, with the scopes.
    let jwt = verifier_for(&hub);
    let info = jwt.verify(&access).await.unwrap();
    assert_eq!(info.subject(), "alice");
    assert_eq!(info.scopes(), ["repo:read", "repo:write"]);
    assert_eq!(info.audience(), [hub.resource()]);
    assert_eq!(info.client_id(), Some(client.id.as_str()));
    // And the hub's own verifier (what /mcp uses) accepts it.
    let hub_verifier = hub.oauth.token_verifier().unwrap();
    assert_eq!(
        hub_verifier.verify(&access).await.unwrap().subject(),
        "alice"
    );

    // Refresh: a new pair, the old refresh token spent.
    let (status, t2) = hub
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh1),
                ("client_id", &client.id),
            ],
            None,
        )
        .await;
    assert_eq!(status, 200, "{t2}");
    let refresh2 = t2["refresh_token"].as_str().unwrap().to_string();
    let access2 = t2["access_token"].as_str().unwrap().to_string();
    assert_ne!(refresh2, refresh1);
    assert_ne!(access2, access);
    assert!(hub_verifier.verify(&access2).await.is_ok());

    // A narrower refresh is allowed, a wider one is not.
    let (status, t3) = hub
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh2),
                ("client_id", &client.id),
                ("scope", "repo:read"),
            ],
            None,
        )
        .await;
    assert_eq!(status, 200, "{t3}");
    assert_eq!(t3["scope"], "repo:read");
    let refresh3 = t3["refresh_token"].as_str().unwrap().to_string();
    let (status, e) = hub
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh3),
                ("client_id", &client.id),
                ("scope", "repo:read repo:write"),
            ],
            None,
        )
        .await;
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_scope")));

    // Reusing the first (rotated) refresh token revokes the whole grant.
    let (status, e) = hub
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh1),
                ("client_id", &client.id),
            ],
            None,
        )
        .await;
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_grant")));
    let (status, e) = hub
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh3),
                ("client_id", &client.id),
            ],
            None,
        )
        .await;
    assert_eq!(
        (status, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "the newest refresh token went too"
    );
    assert_eq!(hub_verifier.verify(&access).await, Err(TokenError::Revoked));
    assert_eq!(
        hub_verifier.verify(&access2).await,
        Err(TokenError::Revoked)
    );
    // The signature is still good: only the revocation list knows.
    assert!(jwt.verify(&access).await.is_ok());
}

#[tokio::test]
async fn denying_sends_access_denied_back_with_state_and_issuer() {
    let hub = hub().await;
    let client = hub.public_client().await;
    let (_, challenge) = pkce();
    let page = Page::read(hub.authorize_client(&client, &challenge, "s-deny").await).await;
    let r = hub
        .consent(&page, &[("decision", "deny")], Some(&page.cookie))
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let loc = location(&r);
    assert_eq!(query_param(&loc, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(&loc, "state").as_deref(), Some("s-deny"));
    assert_eq!(query_param(&loc, "iss").as_deref(), Some(hub.base.as_str()));
    assert!(query_param(&loc, "code").is_none());
    // The page is spent.
    let r = hub
        .consent(&page, &[("decision", "allow")], Some(&page.cookie))
        .await;
    assert_eq!(r.status().as_u16(), 400);
}

#[tokio::test]
async fn signing_in_with_an_msign_key_on_the_consent_page() {
    let hub = hub().await;
    let secret = musehub_server::keys::generate();
    musehub_server::keys::register(&hub.db, "carol", &secret.verifying_key(), None, "test")
        .await
        .unwrap();
    let client = hub.public_client().await;
    let (verifier, challenge) = pkce();
    let page = Page::read(hub.authorize_client(&client, &challenge, "s").await).await;
    // What `musehub-server sign --path /oauth/authorize/consent --body CHALLENGE` prints.
    let header = MSignSigner::new("carol", secret.clone()).sign_parts(
        "POST",
        "/oauth/authorize/consent",
        page.challenge().as_bytes(),
        None,
    );
    // A signature over another text is refused, and the page stays open.
    let wrong = MSignSigner::new("carol", secret).sign_parts(
        "POST",
        "/oauth/authorize/consent",
        b"other",
        None,
    );
    let r = hub
        .consent(
            &page,
            &[("decision", "allow"), ("msign", &wrong)],
            Some(&page.cookie),
        )
        .await;
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.text().await.unwrap().contains("not accepted"));

    let r = hub
        .consent(
            &page,
            &[("decision", "allow"), ("msign", &header)],
            Some(&page.cookie),
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let code = query_param(&location(&r), "code").unwrap();
    let (status, t) = hub
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_id", &client.id),
                ("code_verifier", &verifier),
            ],
            None,
        )
        .await;
    assert_eq!(status, 200, "{t}");
    let info = verifier_for(&hub)
        .verify(t["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(info.subject(), "carol");
}

#[tokio::test]
async fn confidential_clients_authenticate_with_their_secret() {
    let hub = hub().await;
    let (status, reg) = hub
        .register_raw(&json!({"client_name": "Web app", "redirect_uris": [REDIRECT]}))
        .await;
    assert_eq!(status, 201, "{reg}");
    assert_eq!(reg["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(reg["grant_types"], json!(["authorization_code"]));
    let id = reg["client_id"].as_str().unwrap().to_string();
    let secret = reg["client_secret"].as_str().unwrap().to_string();
    let client = Client {
        id: id.clone(),
        secret: Some(secret.clone()),
    };
    let (verifier, challenge) = pkce();
    let code = hub.code_for(&client, "dave", &challenge).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.as_str()),
    ];
    // Without the secret, or with a wrong one: invalid_client, 401, a Basic challenge.
    let mut with_id = form.to_vec();
    with_id.push(("client_id", &id));
    let (status, e) = hub.token(&with_id, None).await;
    assert_eq!((status, e["error"].as_str()), (401, Some("invalid_client")));
    let r = hub
        .http
        .post(hub.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .basic_auth(&id, Some("wrong"))
        .body(serde_urlencoded::to_string(form).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Basic realm=\"musehub\"");
    // With it: tokens, and no refresh token (the client did not register that grant).
    let (status, t) = hub.token(&form, Some((&id, &secret))).await;
    assert_eq!(status, 200, "{t}");
    assert!(t.get("refresh_token").is_none());
}

/// Serves a Client ID Metadata Document on 127.0.0.1; returns its URL.
async fn serve_metadata_document(doc: impl Fn(&str) -> Value + Send + Sync + 'static) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/client.json", listener.local_addr().unwrap());
    let body = doc(&url).to_string();
    let app = axum::Router::new().route(
        "/client.json",
        axum::routing::get(move || {
            let body = body.clone();
            async move { ([("content-type", "application/json")], body) }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

#[tokio::test]
async fn client_id_metadata_documents_are_fetched_and_validated() {
    let hub = start(OAuthSettings {
        cimd_allow_http_loopback: true,
        ..OAuthSettings::default()
    })
    .await;
    let url = serve_metadata_document(|url| {
        json!({"client_id": url, "client_name": "Doc client", "redirect_uris": [REDIRECT],
               "grant_types": ["authorization_code"], "token_endpoint_auth_method": "none"})
    })
    .await;
    let client = Client {
        id: url.clone(),
        secret: None,
    };
    let (verifier, challenge) = pkce();
    let r = hub.authorize_client(&client, &challenge, "s").await;
    assert_eq!(r.status().as_u16(), 200);
    let page = Page::read(r).await;
    assert!(page.html.contains("Doc client"));
    let login = hub.login_code("erin", 600).await;
    let r = hub
        .consent(
            &page,
            &[("decision", "allow"), ("login_code", &login)],
            Some(&page.cookie),
        )
        .await;
    let code = query_param(&location(&r), "code").unwrap();
    let (status, t) = hub
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_id", &url),
                ("code_verifier", &verifier),
            ],
            None,
        )
        .await;
    assert_eq!(status, 200, "{t}");

    // A document whose client_id is not its own URL is refused on the page (no redirect).
    let liar = serve_metadata_document(|_| {
        json!({"client_id": "https://someone-else.example/client.json", "client_name": "Liar",
               "redirect_uris": [REDIRECT]})
    })
    .await;
    let r = hub
        .authorize_client(
            &Client {
                id: liar,
                secret: None,
            },
            &challenge,
            "s",
        )
        .await;
    assert_eq!(r.status().as_u16(), 400);
    assert!(r.headers().get("location").is_none());

    // Without the development setting, http documents are not fetched at all.
    let strict = hub_with_defaults().await;
    let r = strict.authorize_client(&client, &challenge, "s").await;
    assert_eq!(r.status().as_u16(), 400);
}

async fn hub_with_defaults() -> Hub {
    start(OAuthSettings::default()).await
}

#[tokio::test]
async fn revocation_ends_access_and_refresh_tokens() {
    let hub = hub().await;
    let client = hub.public_client().await;
    let verifier = hub.oauth.token_verifier().unwrap();

    // Revoking an access token: that token only.
    let t = hub.tokens_for(&client, "frank").await;
    let access = t["access_token"].as_str().unwrap();
    let refresh = t["refresh_token"].as_str().unwrap();
    let r = hub
        .http
        .post(hub.url("/oauth/revoke"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string([("token", access), ("client_id", &client.id)]).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(verifier.verify(access).await, Err(TokenError::Revoked));
    let (status, t2) = hub
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh),
                ("client_id", &client.id),
            ],
            None,
        )
        .await;
    assert_eq!(status, 200, "the refresh token still works: {t2}");

    // Revoking a refresh token: the whole grant.
    let refresh2 = t2["refresh_token"].as_str().unwrap();
    let access2 = t2["access_token"].as_str().unwrap();
    let r = hub
        .http
        .post(hub.url("/oauth/revoke"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            serde_urlencoded::to_string([("token", refresh2), ("client_id", &client.id)]).unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(verifier.verify(access2).await, Err(TokenError::Revoked));
    let (status, e) = hub
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh2),
                ("client_id", &client.id),
            ],
            None,
        )
        .await;
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_grant")));

    // An unknown token is "revoked" too (RFC 7009 answers 200).
    let r = hub
        .http
        .post(hub.url("/oauth/revoke"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            serde_urlencoded::to_string([("token", "nonsense"), ("client_id", &client.id)])
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test]
async fn another_instance_on_the_same_database_verifies_and_redeems() {
    let hub = hub().await;
    let client = hub.public_client().await;
    let (verifier, challenge) = pkce();
    let code = hub.code_for(&client, "gina", &challenge).await;
    // A second OAuth side over the same database (another instance behind the balancer).
    let twin = musehub_server::oauth::OAuth::new(
        hub.db.clone(),
        OAuthSettings::default(),
        &musehub_server::AuthSettings::default(),
    );
    let (status, t) = hub
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_id", &client.id),
                ("code_verifier", &verifier),
            ],
            None,
        )
        .await;
    assert_eq!(status, 200, "{t}");
    let info = twin
        .token_verifier()
        .unwrap()
        .verify(t["access_token"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(info.subject(), "gina");
    tokio::time::sleep(Duration::from_millis(1)).await;
}
