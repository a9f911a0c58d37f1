//! `/mcp` as an OAuth 2.1 resource server: Bearer tokens (agent tokens and the embedded
//! authorization server's JWTs) authenticate tool calls, unauthenticated writes get a 401
//! whose challenge names the Protected Resource Metadata, a token without the scope a tool
//! needs gets a 403 `insufficient_scope`, and every kind of bad token is refused with
//! `invalid_token` — never accepted, never a 500.

mod common;
mod oauth_support;

use musehub_mcp::serde_json::{Value, json};
use oauth_support::Hub;

/// One 2026-07-28 request (no session) calling `tool`, with `authorization` when given:
/// status, `WWW-Authenticate`, body.
async fn call(
    hub: &Hub,
    authorization: Option<&str>,
    tool: &str,
    args: Value,
) -> (u16, String, Value) {
    call_at(hub, "/mcp", authorization, tool, args).await
}

async fn call_at(
    hub: &Hub,
    path: &str,
    authorization: Option<&str>,
    tool: &str,
    args: Value,
) -> (u16, String, Value) {
    let body = json!({
        "jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {
            "name": tool, "arguments": args,
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {}
            }
        }
    });
    let mut req = hub
        .http
        .post(hub.url(path))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", tool)
        .body(body.to_string());
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    let r = req.send().await.expect("call");
    let status = r.status().as_u16();
    let challenge = r
        .headers()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ");
    let text = r.text().await.unwrap_or_default();
    let v = musehub_mcp::serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, challenge, v)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn agent_token(
    hub: &Hub,
    handle: &str,
    scopes: &[&str],
) -> musehub_server::tokens::MintedToken {
    let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    musehub_server::tokens::mint(&hub.db, handle, "test-agent", Some(1), &scopes)
        .await
        .expect("mint")
}

fn create_repo_args(name: &str) -> Value {
    json!({ "name": name, "description": "bearer test", "visibility": "public" })
}

#[tokio::test]
async fn an_unauthenticated_write_is_told_where_to_get_a_token() {
    let hub = oauth_support::hub().await;
    let (status, challenge, body) =
        call(&hub, None, "musehub_create_repo", create_repo_args("a")).await;
    assert_eq!(status, 401, "{body}");
    let prm_url = format!("{}/.well-known/oauth-protected-resource/mcp", hub.base);
    assert!(
        challenge.contains(&format!("Bearer resource_metadata=\"{prm_url}\"")),
        "{challenge}"
    );
    assert!(challenge.contains("scope=\"repo:write\""), "{challenge}");
    assert!(
        challenge.contains("MSign"),
        "the MSign scheme is offered too: {challenge}"
    );
    assert_eq!(body["error"]["code"], -32001, "{body}");

    // The metadata it names: this resource, the hub as its authorization server.
    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ] {
        let r = hub.http.get(hub.url(path)).send().await.expect("prm");
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let m: Value = r.json().await.expect("json");
        assert_eq!(m["resource"], hub.resource(), "{path}: {m}");
        assert_eq!(m["authorization_servers"], json!([hub.base]), "{m}");
        assert_eq!(
            m["scopes_supported"],
            json!(["repo:read", "repo:write"]),
            "{m}"
        );
        assert_eq!(m["bearer_methods_supported"], json!(["header"]), "{m}");
    }
    // And the authorization server's own metadata is where that issuer says.
    let r = hub
        .http
        .get(hub.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .expect("as metadata");
    assert_eq!(r.status().as_u16(), 200);
    let m: Value = r.json().await.expect("json");
    assert_eq!(m["issuer"], hub.base);
}

#[tokio::test]
async fn an_agent_token_writes_as_its_agent() {
    let hub = oauth_support::hub().await;
    let t = agent_token(&hub, "alice", &["repo:read", "repo:write"]).await;
    let (status, _, body) = call(&hub, Some(&bearer(&t.token)), "musehub_whoami", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let who = &body["result"]["structuredContent"];
    assert_eq!(who["handle"], "alice", "{body}");
    assert_eq!(who["is_agent"], true, "{body}");

    let (status, _, body) = call(
        &hub,
        Some(&bearer(&t.token)),
        "musehub_create_repo",
        create_repo_args("bearer-made"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["result"]["isError"] != true, "{body}");
    assert_eq!(
        body["result"]["structuredContent"]["repo"]["owner"], "alice",
        "{body}"
    );
}

#[tokio::test]
async fn a_read_only_token_reads_but_gets_a_step_up_challenge_for_writes() {
    let hub = oauth_support::hub().await;
    let t = agent_token(&hub, "alice", &["repo:read"]).await;
    let (status, _, body) = call(&hub, Some(&bearer(&t.token)), "musehub_whoami", json!({})).await;
    assert_eq!(status, 200, "{body}");

    let (status, challenge, body) = call(
        &hub,
        Some(&bearer(&t.token)),
        "musehub_create_repo",
        create_repo_args("nope"),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(challenge.contains("scope=\"repo:write\""), "{challenge}");
    assert!(challenge.contains("resource_metadata="), "{challenge}");
    assert_eq!(
        body["error"]["data"]["error"], "insufficient_scope",
        "{body}"
    );
    // Nothing was created.
    let (status, _, list) = call(
        &hub,
        None,
        "musehub_search_repos",
        json!({ "query": "nope" }),
    )
    .await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["result"]["structuredContent"]["total"], 0, "{list}");
}

#[tokio::test]
async fn a_bearer_token_cannot_mint_another() {
    let hub = oauth_support::hub().await;
    let t = agent_token(&hub, "alice", &["repo:read", "repo:write"]).await;
    let (status, _, body) = call(
        &hub,
        Some(&bearer(&t.token)),
        "musehub_create_agent_token",
        json!({ "agent_name": "child" }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["isError"], true, "{body}");
    assert!(body.to_string().contains("cannot mint"), "{body}");
    let listed = musehub_server::tokens::list(&hub.db, "alice")
        .await
        .expect("list");
    assert_eq!(listed.len(), 1, "no second token exists");
}

#[tokio::test]
async fn a_signed_in_clients_access_token_writes_until_its_grant_is_revoked() {
    let hub = oauth_support::hub().await;
    let client = hub.public_client().await;
    let t = hub.tokens_for(&client, "bob").await;
    let access = t["access_token"]
        .as_str()
        .expect("access token")
        .to_string();

    let (status, _, body) = call(
        &hub,
        Some(&bearer(&access)),
        "musehub_create_repo",
        create_repo_args("oauth-made"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["result"]["structuredContent"]["repo"]["owner"], "bob",
        "{body}"
    );

    // RFC 7009 revocation of the refresh token revokes the grant and its access tokens.
    let refresh = t["refresh_token"].as_str().expect("refresh token");
    let r = hub
        .http
        .post(hub.url("/oauth/revoke"))
        .form(&[("token", refresh), ("client_id", client.id.as_str())])
        .send()
        .await
        .expect("revoke");
    assert_eq!(r.status().as_u16(), 200);
    let (status, challenge, body) =
        call(&hub, Some(&bearer(&access)), "musehub_whoami", json!({})).await;
    assert_eq!(status, 401, "{body}");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
}

/// The claims of a token the hub would issue to `sub` for `aud`, valid for `ttl` seconds
/// from `iat_offset` seconds from now.
fn claims(hub: &Hub, aud: &str, iat_offset: i64, ttl: i64) -> Value {
    let now = chrono::Utc::now().timestamp() + iat_offset;
    json!({
        "iss": hub.base, "sub": "mallory", "aud": aud, "client_id": "forged",
        "scope": "repo:read repo:write", "iat": now, "exp": now + ttl,
        "jti": format!("nogrant.{now}"),
    })
}

#[tokio::test]
async fn bad_tokens_are_refused_as_invalid_never_accepted() {
    let hub = oauth_support::hub().await;
    let key = musehub_server::oauth::keys::ensure_signing_key(&hub.db)
        .await
        .expect("key");
    let resource = hub.resource();

    // A good token, to tamper with.
    let client = hub.public_client().await;
    let good = hub.tokens_for(&client, "carol").await["access_token"]
        .as_str()
        .expect("token")
        .to_string();
    let (status, _, _) = call(&hub, Some(&bearer(&good)), "musehub_whoami", json!({})).await;
    assert_eq!(status, 200, "the untampered token works");
    let parts: Vec<&str> = good.split('.').collect();
    assert_eq!(parts.len(), 3);

    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let forged_payload = b64.encode(
        json!({"iss": hub.base, "sub": "mallory", "aud": resource, "scope": "repo:write",
               "exp": chrono::Utc::now().timestamp() + 600})
        .to_string(),
    );
    let none_header = b64.encode(r#"{"alg":"none","typ":"at+jwt"}"#);
    let hs_header = b64.encode(r#"{"alg":"HS256","typ":"at+jwt"}"#);
    let unknown_kid = b64.encode(r#"{"alg":"EdDSA","kid":"no-such-key","typ":"at+jwt"}"#);
    let cases: Vec<(&str, String)> = vec![
        ("garbage", "not-a-token".to_string()),
        (
            "a changed payload",
            format!("{}.{forged_payload}.{}", parts[0], parts[2]),
        ),
        ("alg none", format!("{none_header}.{forged_payload}.")),
        (
            "HS256 with the public key as secret",
            format!("{hs_header}.{forged_payload}.{}", parts[2]),
        ),
        (
            "another audience",
            key.sign_claims(&claims(&hub, "https://elsewhere.example/mcp", 0, 600))
                .expect("sign"),
        ),
        (
            "expired",
            key.sign_claims(&claims(&hub, &resource, -7200, 600))
                .expect("sign"),
        ),
        (
            "another issuer",
            key.sign_claims(&{
                let mut c = claims(&hub, &resource, 0, 600);
                c["iss"] = json!("https://evil.example");
                c
            })
            .expect("sign"),
        ),
        (
            "an unknown agent token",
            "mha_0000000000000000000000000000000000000000".to_string(),
        ),
        (
            "an unknown kid",
            format!("{unknown_kid}.{forged_payload}.{}", parts[2]),
        ),
    ];
    let secrets: Vec<String> = cases.iter().map(|(_, t)| t.clone()).collect();
    for (what, token) in cases {
        let (status, challenge, body) = call(
            &hub,
            Some(&bearer(&token)),
            "musehub_create_repo",
            create_repo_args("x"),
        )
        .await;
        assert_eq!(status, 401, "{what}: {body}");
        assert!(
            challenge.contains("error=\"invalid_token\""),
            "{what}: {challenge}"
        );
        assert!(
            !challenge.contains(&token),
            "{what}: the token is never echoed"
        );
        // Even a read is refused with a bad token: a credential that fails is an error, not
        // anonymity.
        let (status, _, body) =
            call(&hub, Some(&bearer(&token)), "musehub_whoami", json!({})).await;
        assert_eq!(status, 401, "{what} (read): {body}");
    }

    // Refused tokens are never written to the log (the good one neither).
    let log = oauth_support::global_log().text();
    for t in secrets.iter().chain([&good]).filter(|t| t.len() > 20) {
        assert!(!log.contains(t.as_str()), "a token reached the log");
    }

    // A revoked or expired agent token.
    let t = agent_token(&hub, "dave", &["repo:read", "repo:write"]).await;
    musehub_server::tokens::revoke(&hub.db, "dave", &t.id)
        .await
        .expect("revoke");
    let (status, _, body) = call(&hub, Some(&bearer(&t.token)), "musehub_whoami", json!({})).await;
    assert_eq!(status, 401, "revoked: {body}");
    let t = agent_token(&hub, "dave", &["repo:read", "repo:write"]).await;
    sqlx::query("UPDATE agent_tokens SET expires_unix = 1 WHERE id = $1")
        .bind(&t.id)
        .execute(hub.db.pool())
        .await
        .expect("expire");
    let (status, _, body) = call(&hub, Some(&bearer(&t.token)), "musehub_whoami", json!({})).await;
    assert_eq!(status, 401, "expired: {body}");
}

#[tokio::test]
async fn a_token_in_the_query_string_is_a_bad_request() {
    let hub = oauth_support::hub().await;
    let t = agent_token(&hub, "alice", &["repo:read", "repo:write"]).await;
    let (status, _, body) = call_at(
        &hub,
        &format!("/mcp?access_token={}", t.token),
        None,
        "musehub_create_repo",
        create_repo_args("q"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(!body.to_string().contains(&t.token), "{body}");
}

#[tokio::test]
async fn with_oauth_off_agent_tokens_still_work_and_no_authorization_server_is_named() {
    let settings = musehub_server::oauth::OAuthSettings {
        enabled: false,
        ..Default::default()
    };
    let hub = oauth_support::start(settings).await;
    let t = agent_token(&hub, "alice", &["repo:read", "repo:write"]).await;
    let (status, _, body) = call(
        &hub,
        Some(&bearer(&t.token)),
        "musehub_create_repo",
        create_repo_args("offline"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let m: Value = hub
        .http
        .get(hub.url("/.well-known/oauth-protected-resource/mcp"))
        .send()
        .await
        .expect("prm")
        .json()
        .await
        .expect("json");
    assert!(m.get("authorization_servers").is_none(), "{m}");
    let r = hub
        .http
        .get(hub.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .expect("as");
    assert_eq!(r.status().as_u16(), 404);
}

#[tokio::test]
async fn the_docs_name_both_schemes_and_each_tools_scopes() {
    let hub = oauth_support::hub().await;
    let m: Value = hub
        .http
        .get(hub.url("/mcp/docs.json"))
        .send()
        .await
        .expect("docs.json")
        .json()
        .await
        .expect("json");
    let schemes: Vec<&str> = m["server"]["authSchemes"]
        .as_array()
        .expect("authSchemes")
        .iter()
        .filter_map(|s| s["scheme"].as_str())
        .collect();
    assert_eq!(schemes, ["Bearer", "MSign"]);
    let tool = |name: &str| {
        m["tools"]
            .as_array()
            .and_then(|ts| ts.iter().find(|t| t["name"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("{name}"))
    };
    assert_eq!(
        tool("musehub_create_repo")["auth"],
        json!({"required": true, "scopes": ["repo:write"]})
    );
    assert_eq!(
        tool("musehub_search_repos")["auth"],
        json!({"required": false, "scopes": []})
    );
    let md = hub
        .http
        .get(hub.url("/mcp/docs.md"))
        .send()
        .await
        .expect("docs.md")
        .text()
        .await
        .expect("text");
    assert!(
        md.contains("`Bearer` or `MSign`"),
        "{}",
        &md[..md.len().min(3000)]
    );
    assert!(md.contains("scopes `repo:write`"));
}
