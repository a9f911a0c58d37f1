//! Hostile requests against the embedded authorization server and the hub's token verifier,
//! each refused with its exact status and OAuth error code: replayed codes (which revoke what
//! they issued), PKCE mismatch, missing or `plain`, unregistered redirect URIs and open-redirect
//! attempts (shown on a page, never redirected), bad CSRF, expired and reused login codes,
//! foreign resources; and no secret in the log. Bad registrations and forged tokens:
//! `oauth_hostile_registrations_and_tokens.rs`.

mod common;
mod oauth_support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use musehub_mcp::auth::bearer::TokenError;
use musehub_mcp::serde_json::{Value, json};
use oauth_support::*;

/// Exchanges `code` with `verifier`: status and error code.
async fn exchange(hub: &Hub, client: &Client, code: &str, verifier: &str) -> (u16, Value) {
    hub.token(
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", &client.id),
            ("code_verifier", verifier),
        ],
        None,
    )
    .await
}

fn err(v: &Value) -> &str {
    v["error"].as_str().unwrap_or("")
}

#[tokio::test]
async fn a_replayed_code_is_refused_and_revokes_what_it_issued() {
    let hub = hub().await;
    let client = hub.public_client().await;
    let (verifier, challenge) = pkce();
    let code = hub.code_for(&client, "alice", &challenge).await;
    let (status, t) = exchange(&hub, &client, &code, &verifier).await;
    assert_eq!(status, 200, "{t}");
    let access = t["access_token"].as_str().unwrap().to_string();
    let refresh = t["refresh_token"].as_str().unwrap().to_string();
    let v = hub.oauth.token_verifier().unwrap();
    assert!(v.verify(&access).await.is_ok());

    let (status, e) = exchange(&hub, &client, &code, &verifier).await;
    assert_eq!((status, err(&e)), (400, "invalid_grant"));
    assert_eq!(v.verify(&access).await, Err(TokenError::Revoked));
    let (status, e) = hub
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh),
                ("client_id", &client.id),
            ],
            None,
        )
        .await;
    assert_eq!((status, err(&e)), (400, "invalid_grant"));
}

#[tokio::test]
async fn pkce_mismatch_missing_and_plain_are_refused() {
    let hub = hub().await;
    let client = hub.public_client().await;
    let (verifier, challenge) = pkce();

    // A wrong verifier, then none: the code is spent either way (single use).
    let code = hub.code_for(&client, "alice", &challenge).await;
    let (other, _) = pkce();
    let (status, e) = exchange(&hub, &client, &code, &other).await;
    assert_eq!((status, err(&e)), (400, "invalid_grant"));
    let code = hub.code_for(&client, "alice", &challenge).await;
    let (status, e) = hub
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_id", &client.id),
            ],
            None,
        )
        .await;
    assert_eq!((status, err(&e)), (400, "invalid_request"));
    // The verifier sent as the challenge ("plain" in disguise) does not match S256.
    let code = hub.code_for(&client, "alice", &challenge).await;
    let (status, e) = exchange(&hub, &client, &code, &challenge).await;
    assert_eq!((status, err(&e)), (400, "invalid_grant"));
    let code = hub.code_for(&client, "alice", &challenge).await;
    let (status, _) = exchange(&hub, &client, &code, &verifier).await;
    assert_eq!(status, 200);

    // At the authorization endpoint: no challenge, plain, a malformed challenge. These go
    // back to the (registered) redirect URI as invalid_request.
    let resource = hub.resource();
    for (method, ch) in [
        (None, None),
        (Some("plain"), Some(verifier.as_str())),
        (Some("S256"), Some("short")),
    ] {
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", client.id.as_str()),
            ("redirect_uri", REDIRECT),
            ("state", "s"),
            ("resource", resource.as_str()),
        ];
        if let Some(m) = method {
            params.push(("code_challenge_method", m));
        }
        if let Some(c) = ch {
            params.push(("code_challenge", c));
        }
        let r = hub.authorize(&params).await;
        assert_eq!(r.status().as_u16(), 303, "{method:?}");
        let loc = location(&r);
        assert!(loc.starts_with(REDIRECT));
        assert_eq!(
            query_param(&loc, "error").as_deref(),
            Some("invalid_request"),
            "{method:?}"
        );
        assert_eq!(query_param(&loc, "state").as_deref(), Some("s"));
        assert!(query_param(&loc, "code").is_none());
    }
}

#[tokio::test]
async fn unregistered_redirect_uris_and_open_redirect_attempts_are_shown_not_followed() {
    let hub = hub().await;
    let client = hub.public_client().await;
    let (_, challenge) = pkce();
    let attempts = [
        "https://evil.example/callback",
        "http://127.0.0.1:43210/other",
        "http://127.0.0.1:43210/callback/../../evil",
        "http://127.0.0.1:43210/callback?next=https://evil.example",
        "http://127.0.0.1:43210@evil.example/callback",
        "http://localhost:43210/callback",
        "//evil.example/callback",
        "javascript:alert(document.cookie)",
        "http://127.0.0.1:43210/callback#frag",
    ];
    for uri in attempts {
        let r = hub
            .authorize(&[
                ("response_type", "code"),
                ("client_id", &client.id),
                ("redirect_uri", uri),
                ("state", "s"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ])
            .await;
        assert_eq!(r.status().as_u16(), 400, "{uri}");
        assert!(r.headers().get("location").is_none(), "{uri} redirected");
        let body = r.text().await.unwrap();
        assert!(body.contains("not registered"), "{uri}: {body}");
    }
    // A loopback redirect on another port is fine (RFC 8252).
    let r = hub
        .authorize(&[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", "http://127.0.0.1:50001/callback"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ])
        .await;
    assert_eq!(r.status().as_u16(), 200);

    // Unknown client, a missing client_id, a repeated parameter: the page, never a redirect.
    for q in [
        vec![("client_id", "mhc_nope"), ("redirect_uri", REDIRECT)],
        vec![("redirect_uri", REDIRECT)],
        vec![
            ("client_id", client.id.as_str()),
            ("client_id", "x"),
            ("redirect_uri", REDIRECT),
        ],
    ] {
        let r = hub.authorize(&q).await;
        assert_eq!(r.status().as_u16(), 400, "{q:?}");
        assert!(r.headers().get("location").is_none());
    }
    // A response_type other than code goes back to the client as unsupported_response_type.
    let r = hub
        .authorize(&[
            ("response_type", "token"),
            ("client_id", &client.id),
            ("redirect_uri", REDIRECT),
        ])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        query_param(&location(&r), "error").as_deref(),
        Some("unsupported_response_type")
    );

    // The code is bound to the redirect URI of the request.
    let (verifier, challenge) = pkce();
    let code = hub.code_for(&client, "alice", &challenge).await;
    let (status, e) = hub
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", "http://127.0.0.1:43210/other"),
                ("client_id", &client.id),
                ("code_verifier", &verifier),
            ],
            None,
        )
        .await;
    assert_eq!((status, err(&e)), (400, "invalid_grant"));
}

#[tokio::test]
async fn a_bad_csrf_token_or_missing_cookie_is_refused() {
    let hub = hub().await;
    let client = hub.public_client().await;
    let (_, challenge) = pkce();
    let page = Page::read(hub.authorize_client(&client, &challenge, "s").await).await;
    let login = hub.login_code("alice", 600).await;
    let allow = [("decision", "allow"), ("login_code", login.as_str())];

    let forged = Page {
        csrf: URL_SAFE_NO_PAD.encode([7u8; 32]),
        ..Page {
            html: page.html.clone(),
            pending: page.pending.clone(),
            csrf: String::new(),
            cookie: page.cookie.clone(),
            csp: String::new(),
            set_cookie: String::new(),
        }
    };
    let r = hub.consent(&forged, &allow, Some(&page.cookie)).await;
    assert_eq!(r.status().as_u16(), 403);
    assert!(r.text().await.unwrap().contains("CSRF"));
    // The right token without the browser's cookie (a cross-site post).
    let r = hub.consent(&page, &allow, None).await;
    assert_eq!(r.status().as_u16(), 403);
    // The right token with another page's cookie.
    let other = Page::read(hub.authorize_client(&client, &challenge, "s").await).await;
    let r = hub.consent(&page, &allow, Some(&other.cookie)).await;
    assert_eq!(r.status().as_u16(), 403);
    // An unknown pending id.
    let ghost = Page {
        pending: "ghost".into(),
        ..other
    };
    let r = hub.consent(&ghost, &allow, Some(&ghost.cookie)).await;
    assert_eq!(r.status().as_u16(), 400);
    // The genuine form still works: the login code was not spent by the refusals.
    let r = hub.consent(&page, &allow, Some(&page.cookie)).await;
    assert_eq!(r.status().as_u16(), 303);
}

#[tokio::test]
async fn expired_reused_and_guessed_login_codes_are_refused() {
    let hub = start(musehub_server::oauth::OAuthSettings {
        consent_max_attempts: 3,
        ..musehub_server::oauth::OAuthSettings::default()
    })
    .await;
    let client = hub.public_client().await;
    let (_, challenge) = pkce();
    let page = Page::read(hub.authorize_client(&client, &challenge, "s").await).await;

    let expired = hub.login_code("alice", -1).await;
    let r = hub
        .consent(
            &page,
            &[("decision", "allow"), ("login_code", &expired)],
            Some(&page.cookie),
        )
        .await;
    assert_eq!(r.status().as_u16(), 401);
    let body = r.text().await.unwrap();
    assert!(body.contains("not accepted"), "{body}");
    assert!(
        body.contains(&page.pending),
        "the same page again, to retry"
    );

    // A code works once.
    let code = hub.login_code("alice", 600).await;
    let r = hub
        .consent(
            &page,
            &[("decision", "allow"), ("login_code", &code)],
            Some(&page.cookie),
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let page2 = Page::read(hub.authorize_client(&client, &challenge, "s").await).await;
    let r = hub
        .consent(
            &page2,
            &[("decision", "allow"), ("login_code", &code)],
            Some(&page2.cookie),
        )
        .await;
    assert_eq!(r.status().as_u16(), 401);

    // Guessing closes the page after the configured number of failures.
    let r = hub
        .consent(
            &page2,
            &[("decision", "allow"), ("login_code", "AAAA-BBBB-CCCC")],
            Some(&page2.cookie),
        )
        .await;
    assert_eq!(r.status().as_u16(), 401);
    let r = hub
        .consent(
            &page2,
            &[("decision", "allow"), ("login_code", "AAAA-BBBB-CCCD")],
            Some(&page2.cookie),
        )
        .await;
    assert_eq!(r.status().as_u16(), 401);
    assert!(r.text().await.unwrap().contains("Too many"));
    let fresh = hub.login_code("alice", 600).await;
    let r = hub
        .consent(
            &page2,
            &[("decision", "allow"), ("login_code", &fresh)],
            Some(&page2.cookie),
        )
        .await;
    assert_eq!(r.status().as_u16(), 400, "the page is closed");
}

#[tokio::test]
async fn foreign_resources_expired_codes_and_other_clients_codes_are_refused() {
    let hub = hub().await;
    let client = hub.public_client().await;
    let (verifier, challenge) = pkce();
    for resource in [
        "https://other.example/mcp",
        "not a url",
        "http://127.0.0.1:1/mcp",
    ] {
        let r = hub
            .authorize(&[
                ("response_type", "code"),
                ("client_id", &client.id),
                ("redirect_uri", REDIRECT),
                ("state", "s"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("resource", resource),
            ])
            .await;
        assert_eq!(r.status().as_u16(), 303, "{resource}");
        assert_eq!(
            query_param(&location(&r), "error").as_deref(),
            Some("invalid_target")
        );
    }
    let r = hub
        .authorize(&[
            ("response_type", "code"),
            ("client_id", &client.id),
            ("redirect_uri", REDIRECT),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("scope", "repo:read admin"),
        ])
        .await;
    assert_eq!(
        query_param(&location(&r), "error").as_deref(),
        Some("invalid_scope")
    );

    // A resource at the token endpoint that is not the grant's.
    let code = hub.code_for(&client, "alice", &challenge).await;
    let (status, e) = hub
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", REDIRECT),
                ("client_id", &client.id),
                ("code_verifier", &verifier),
                ("resource", "https://other.example/mcp"),
            ],
            None,
        )
        .await;
    assert_eq!((status, err(&e)), (400, "invalid_target"));

    // An expired code.
    let code = hub.code_for(&client, "alice", &challenge).await;
    sqlx::query("UPDATE oauth_codes SET expires_at = 0 WHERE used_at IS NULL")
        .execute(hub.db.pool())
        .await
        .unwrap();
    let (status, e) = exchange(&hub, &client, &code, &verifier).await;
    assert_eq!((status, err(&e)), (400, "invalid_grant"));

    // Another client's code.
    let thief = hub.public_client().await;
    let code = hub.code_for(&client, "alice", &challenge).await;
    let (status, e) = exchange(&hub, &thief, &code, &verifier).await;
    assert_eq!((status, err(&e)), (400, "invalid_grant"));
    // An unknown code, an unknown client, an unsupported grant, a non-form body.
    let (status, e) = exchange(&hub, &client, "made-up", &verifier).await;
    assert_eq!((status, err(&e)), (400, "invalid_grant"));
    let nobody = Client {
        id: "mhc_nobody".into(),
        secret: None,
    };
    let (status, e) = exchange(&hub, &nobody, "x", &verifier).await;
    assert_eq!((status, err(&e)), (401, "invalid_client"));
    let (status, e) = hub
        .token(
            &[("grant_type", "password"), ("client_id", &client.id)],
            None,
        )
        .await;
    assert_eq!((status, err(&e)), (400, "unsupported_grant_type"));
    let (status, e) = hub
        .token(
            &[
                ("grant_type", "refresh_token"),
                ("grant_type", "authorization_code"),
                ("client_id", &client.id),
            ],
            None,
        )
        .await;
    assert_eq!((status, err(&e)), (400, "invalid_request"));
    let r = hub
        .http
        .post(hub.url("/oauth/token"))
        .json(&json!({"grant_type": "authorization_code"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_request");
}

#[tokio::test]
async fn no_secret_reaches_the_log() {
    let log = global_log();
    let hub = hub().await;
    let (status, reg) = hub
        .register_raw(
            &json!({"client_name": "Secretive", "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"]}),
        )
        .await;
    assert_eq!(status, 201);
    let client = Client {
        id: reg["client_id"].as_str().unwrap().to_string(),
        secret: reg["client_secret"].as_str().map(str::to_string),
    };
    let secret = client.secret.clone().unwrap();
    let (verifier, challenge) = pkce();
    let page = Page::read(
        hub.authorize_client(&client, &challenge, "state-secret")
            .await,
    )
    .await;
    let login = hub.login_code("alice", 600).await;
    let r = hub
        .consent(
            &page,
            &[("decision", "allow"), ("login_code", &login)],
            Some(&page.cookie),
        )
        .await;
    let code = query_param(&location(&r), "code").unwrap();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, t) = hub.token(&form, Some((&client.id, &secret))).await;
    assert_eq!(status, 200, "{t}");
    // The hostile replays log warnings; they must not carry the secrets either.
    let (status, _) = hub.token(&form, Some((&client.id, &secret))).await;
    assert_eq!(status, 400);
    let (status, _) = hub.token(&form, Some((&client.id, "wrong-secret"))).await;
    assert_eq!(status, 401);
    let access = t["access_token"].as_str().unwrap();
    let refresh = t["refresh_token"].as_str().unwrap();
    let _ = hub.oauth.token_verifier().unwrap().verify(access).await;

    let text = log.text();
    assert!(
        text.contains(&client.id),
        "the log does have this test's lines"
    );
    for (what, s) in [
        ("client secret", secret.as_str()),
        ("authorization code", code.as_str()),
        ("code verifier", verifier.as_str()),
        ("login code", login.as_str()),
        ("csrf token", page.csrf.as_str()),
        ("pending id", page.pending.as_str()),
        ("access token", access),
        ("refresh token", refresh),
        ("access token signature", access.rsplit('.').next().unwrap()),
    ] {
        assert!(!text.contains(s), "the {what} is in the log");
    }
}

#[tokio::test]
async fn a_hostile_client_name_is_escaped_on_the_consent_page() {
    let hub = hub().await;
    let (status, reg) = hub
        .register_raw(&json!({
            "client_name": "<script>alert(1)</script>\"><img src=x onerror=alert(2)>",
            "redirect_uris": [REDIRECT],
            "token_endpoint_auth_method": "none",
        }))
        .await;
    assert_eq!(status, 201, "{reg}");
    let client = Client {
        id: reg["client_id"].as_str().unwrap().to_string(),
        secret: None,
    };
    let (_, challenge) = pkce();
    let page = Page::read(hub.authorize_client(&client, &challenge, "s").await).await;
    assert!(!page.html.contains("<script"), "{}", page.html);
    assert!(!page.html.contains("<img"), "{}", page.html);
    assert!(
        page.html
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img")
    );
}

#[tokio::test]
async fn sign_in_pages_are_bounded_hub_wide() {
    let hub = start(musehub_server::oauth::OAuthSettings {
        pending_max: 2,
        ..musehub_server::oauth::OAuthSettings::default()
    })
    .await;
    let client = hub.public_client().await;
    let (_, challenge) = pkce();
    for _ in 0..2 {
        let r = hub.authorize_client(&client, &challenge, "s").await;
        assert_eq!(r.status().as_u16(), 200);
    }
    let r = hub.authorize_client(&client, &challenge, "s").await;
    assert_eq!(r.status().as_u16(), 503);
    assert!(r.headers().get("location").is_none());
    // Expired pages do not count.
    sqlx::query("UPDATE oauth_pending SET expires_at = 0")
        .execute(hub.db.pool())
        .await
        .unwrap();
    let r = hub.authorize_client(&client, &challenge, "s").await;
    assert_eq!(r.status().as_u16(), 200);
}
