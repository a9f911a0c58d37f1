//! MSign on the MuseHub server: keys in the database (the key store, registration, listing,
//! revocation), and the HTTP application verifying signatures against them, gating write
//! tools, binding sessions and applying the push limit.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use musehub_mcp::auth::{KeyStore, MSignSigner};
use musehub_mcp::serde_json::{Value, json};
use musehub_mcp::{Server, ServerConfig};
use musehub_server::keys::{self, DbKeyStore, KeyError};
use musehub_server::{AuthSettings, Db};
use reqwest::{Client, StatusCode};

const BOTH: &str = "application/json, text/event-stream";

#[tokio::test]
async fn the_key_store_reads_registered_keys() {
    let db = common::test_db().await;
    let store = DbKeyStore::new(db.clone());
    let human = keys::generate().verifying_key();
    let agent = keys::generate().verifying_key();
    let h = keys::register(&db, "ada", &human, None, "laptop")
        .await
        .unwrap();
    let a = keys::register(&db, "ada", &agent, Some("ada's agent"), "bot")
        .await
        .unwrap();
    assert_eq!(h.kid, musehub_mcp::auth::key_id(&human));
    assert_eq!(h.kid.len(), 22);
    assert!(!h.is_agent);

    let k = store.key("ada", &h.kid).await.unwrap().expect("human key");
    assert_eq!(k.key, human);
    assert!(!k.is_agent && !k.revoked && k.agent_name.is_none());
    let k = store.key("ada", &a.kid).await.unwrap().expect("agent key");
    assert!(k.is_agent);
    assert_eq!(k.agent_name.as_deref(), Some("ada's agent"));
    // Keys belong to their handle.
    assert_eq!(store.key("bob", &h.kid).await.unwrap(), None);
    assert_eq!(store.key("ada", "no-such-kid").await.unwrap(), None);

    // The handle got a user row; listing shows both keys, oldest first.
    let list = keys::list(&db, "ada").await.unwrap();
    assert_eq!(
        list.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(),
        [h.kid.as_str(), a.kid.as_str()]
    );

    // Revoked keys are returned, marked, so the verifier can say so; revoking twice is fine.
    let r = keys::revoke(&db, "ada", &h.kid).await.unwrap();
    assert!(r.revoked_at.is_some());
    let again = keys::revoke(&db, "ada", &h.kid).await.unwrap();
    assert_eq!(again.revoked_at, r.revoked_at);
    assert!(store.key("ada", &h.kid).await.unwrap().unwrap().revoked);
    assert!(!store.key("ada", &a.kid).await.unwrap().unwrap().revoked);
}

#[tokio::test]
async fn key_management_errors_are_typed() {
    let db = common::test_db().await;
    let key = keys::generate().verifying_key();
    keys::register(&db, "ada", &key, None, "x").await.unwrap();
    assert!(matches!(
        keys::register(&db, "ada", &key, None, "x").await,
        Err(KeyError::Duplicate { .. })
    ));
    // The same public key may belong to another handle (its kid is per handle).
    keys::register(&db, "bob", &key, None, "x").await.unwrap();
    assert!(matches!(
        keys::register(&db, "a da", &key, None, "x").await,
        Err(KeyError::InvalidHandle(_))
    ));
    assert!(matches!(
        keys::register(&db, "carol", &key, Some(" "), "x").await,
        Err(KeyError::InvalidAgentName)
    ));
    assert!(matches!(
        keys::add(&db, "ada", "bm90IGEga2V5", None).await,
        Err(KeyError::InvalidKey(_))
    ));
    assert!(matches!(
        keys::list(&db, "nobody").await,
        Err(KeyError::UnknownUser(_))
    ));
    assert!(matches!(
        keys::revoke(&db, "ada", "nope").await,
        Err(KeyError::UnknownKey { .. })
    ));
    // The documented key, added by its text form, gets the documented kid.
    let info = keys::add(
        &db,
        "ada2",
        "A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg",
        None,
    )
    .await
    .unwrap();
    assert_eq!(info.kid, "Vkdap1RjR0wChd9dvyvKtw");
}

#[test]
fn secret_key_files_round_trip_with_mode_0600() {
    let dir = common::temp_dir("keyfile");
    let path = dir.join("k.key");
    let key = keys::generate();
    keys::write_secret_key(&path, &key).unwrap();
    assert_eq!(
        keys::read_secret_key(&path).unwrap().to_bytes(),
        key.to_bytes()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(matches!(
        keys::write_secret_key(&path, &key),
        Err(KeyError::KeyFile { .. })
    ));
    // Hex is accepted too (the doc's test-vector seed).
    let hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    let k = keys::parse_secret_key(hex).unwrap();
    assert_eq!(k.to_bytes(), std::array::from_fn::<u8, 32, _>(|i| i as u8));
    assert!(keys::parse_secret_key("short").is_err());
}

#[test]
fn the_log_summary_names_method_and_tool() {
    use musehub_server::http::summarize;
    let s = summarize(
        br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"muse_push"}}"#,
    );
    assert_eq!(
        (s.method.as_str(), s.tool.as_str()),
        ("tools/call", "muse_push")
    );
    let s = summarize(br#"{"jsonrpc":"2.0","id":1,"method":"resources/read"}"#);
    assert_eq!((s.method.as_str(), s.tool.as_str()), ("resources/read", ""));
    let s = summarize(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#);
    assert_eq!(s.method, "response");
    let s = summarize(
        br#"[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}},{"jsonrpc":"2.0","method":"x"}]"#,
    );
    assert_eq!((s.method.as_str(), s.tool.as_str()), ("batch(2)", "a"));
    assert_eq!(summarize(b"not json"), Default::default());
}

// --- over HTTP ------------------------------------------------------------------------------

struct Served {
    url: String,
    db: Db,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

async fn serve(auth: AuthSettings) -> Served {
    let db = common::test_db().await;
    musehub_server::seed::seed_demo(&db).await.unwrap();
    let server = musehub_server::build_server(db.clone(), ServerConfig::default(), &auth).unwrap();
    serve_server(server, db).await
}

async fn serve_server(server: Arc<Server>, db: Db) -> Served {
    let app = musehub_server::http::app(server.clone(), db.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = musehub_mcp::transport::http::serve_router(server, app, listener, async {
            let _ = rx.await;
        })
        .await;
    });
    Served {
        url: format!("http://{addr}/mcp"),
        db,
        _shutdown: tx,
    }
}

async fn post(
    s: &Served,
    signer: Option<&MSignSigner>,
    session: Option<&str>,
    body: &Value,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let text = body.to_string();
    let mut rb = Client::new()
        .post(&s.url)
        .header("accept", BOTH)
        .header("content-type", "application/json");
    if let Some(id) = session {
        rb = rb.header("mcp-session-id", id);
    }
    if let Some(k) = signer {
        rb = rb.header(
            "authorization",
            k.sign_parts("POST", "/mcp", text.as_bytes(), session),
        );
    }
    let r = rb.body(text).send().await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let bytes = r.bytes().await.unwrap();
    let v = musehub_mcp::serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, headers, v)
}

async fn init(s: &Served, signer: Option<&MSignSigner>) -> String {
    let body = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let (status, headers, _) = post(s, signer, None, &body).await;
    assert_eq!(status, StatusCode::OK);
    headers["mcp-session-id"].to_str().unwrap().to_string()
}

fn call(id: i64, tool: &str, args: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": args}})
}

async fn signer_for(db: &Db, handle: &str, agent: Option<&str>) -> MSignSigner {
    let key = keys::generate();
    keys::register(db, handle, &key.verifying_key(), agent, "test")
        .await
        .unwrap();
    MSignSigner::new(handle, key)
}

/// Every `WWW-Authenticate` value, in order.
fn challenges_of(headers: &reqwest::header::HeaderMap) -> Vec<String> {
    headers
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn writes_need_a_key_registered_in_the_database() {
    let s = serve(AuthSettings::default()).await;
    let ada = signer_for(&s.db, "ada", None).await;
    let sid = init(&s, None).await;
    let create = call(1, "musehub_create_repo", json!({"name": "Signed Songs"}));

    // Unsigned: 401 with the challenge of the realm "musehub" (after Bearer's, which OAuth
    // clients look for first).
    let (status, headers, v) = post(&s, None, Some(&sid), &create).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let challenges = challenges_of(&headers);
    assert_eq!(challenges.len(), 2, "{challenges:?}");
    assert!(
        challenges[0].starts_with("Bearer resource_metadata="),
        "{challenges:?}"
    );
    assert_eq!(challenges[1], "MSign realm=\"musehub\"");
    assert_eq!(v["error"]["code"], -32001);
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("musehub_create_repo")
    );

    // Reads work anonymously.
    let (status, _, v) = post(
        &s,
        None,
        Some(&sid),
        &call(2, "musehub_search_repos", json!({"query": "jazz"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(v["result"]["isError"], json!(true));

    // Signed with a registered key: created, owned by the signer.
    let (status, _, v) = post(&s, Some(&ada), Some(&sid), &create).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(
        v["result"]["structuredContent"]["repo"]["owner"], "ada",
        "{v}"
    );

    // A key the database does not know: 401 unknown_key.
    let stranger = MSignSigner::new("ada", keys::generate());
    let (status, headers, v) = post(&s, Some(&stranger), Some(&sid), &create).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let challenges = challenges_of(&headers);
    assert_eq!(challenges[1], "MSign realm=\"musehub\"");
    assert!(
        !challenges[0].contains("error="),
        "the refused credential was MSign, not a token: {challenges:?}"
    );
    assert_eq!(v["error"]["data"]["reason"], "unknown_key");

    // Revoked in the database: refused at once.
    keys::revoke(&s.db, "ada", ada.key_id()).await.unwrap();
    let (status, _, v) = post(
        &s,
        Some(&ada),
        Some(&sid),
        &call(3, "musehub_create_repo", json!({"name": "Other"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(v["error"]["data"]["reason"], "revoked_key");
}

#[tokio::test]
async fn agents_sessions_and_replays() {
    let s = serve(AuthSettings::default()).await;
    let bot = signer_for(&s.db, "alice", Some("alice's assistant")).await;
    let bob = signer_for(&s.db, "bob", None).await;

    // The agent key makes the caller an agent.
    let sid = init(&s, Some(&bot)).await;
    let (status, _, v) = post(
        &s,
        Some(&bot),
        Some(&sid),
        &call(1, "musehub_whoami", json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let who = &v["result"]["structuredContent"];
    assert_eq!(who["handle"], "alice", "{v}");
    assert_eq!(who["is_agent"], true, "{v}");

    // The session belongs to alice: bob's signature on it is 403.
    let (status, _, _) = post(
        &s,
        Some(&bob),
        Some(&sid),
        &call(2, "musehub_whoami", json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The same signed request twice: the second is a replay.
    let body = call(
        3,
        "musehub_star_repo",
        json!({"owner": "bob", "slug": "lofi-beats"}),
    );
    let text = body.to_string();
    let header = bot.sign_parts("POST", "/mcp", text.as_bytes(), Some(&sid));
    let send = || {
        Client::new()
            .post(&s.url)
            .header("accept", BOTH)
            .header("content-type", "application/json")
            .header("mcp-session-id", &sid)
            .header("authorization", &header)
            .body(text.clone())
            .send()
    };
    assert_eq!(send().await.unwrap().status(), StatusCode::OK);
    let r = send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["data"]["reason"], "replayed_nonce");
}

#[tokio::test]
async fn pushes_have_their_own_limit() {
    let mut limits = musehub_server::default_rate_limits();
    assert_eq!(limits.tools_per_minute["muse_push"], 30);
    assert_eq!(
        (
            limits.agent_per_minute,
            limits.human_per_minute,
            limits.anonymous_per_minute
        ),
        (600, 300, 120)
    );
    limits.tools_per_minute.insert("muse_push".into(), 2);
    let s = serve(AuthSettings {
        rate_limits: Some(limits),
        ..AuthSettings::default()
    })
    .await;
    let alice = signer_for(&s.db, "alice", None).await;
    let sid = init(&s, Some(&alice)).await;
    let push = |id: i64| {
        call(
            id,
            "muse_push",
            // The call's own outcome does not matter here (a tool error is still HTTP 200).
            json!({"owner": "alice", "slug": "jazz-session", "branch": format!("limit-{id}"),
                   "head_commit_id": format!("c{id}")}),
        )
    };
    for id in 1..=2 {
        let (status, _, v) = post(&s, Some(&alice), Some(&sid), &push(id)).await;
        assert_eq!(status, StatusCode::OK, "{v}");
    }
    let (status, headers, v) = post(&s, Some(&alice), Some(&sid), &push(3)).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{v}");
    assert!(headers.contains_key("retry-after"));
    assert_eq!(headers["ratelimit-limit"], "2");
    // Other calls of the same caller still pass (their own bucket is 300/min).
    let (status, _, _) = post(
        &s,
        Some(&alice),
        Some(&sid),
        &call(4, "musehub_whoami", json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn anonymous_callers_are_limited_per_address() {
    let s = serve(AuthSettings {
        rate_limits: Some({
            let mut c = musehub_server::default_rate_limits();
            c.anonymous_per_minute = 2;
            c
        }),
        ..AuthSettings::default()
    })
    .await;
    let sid = init(&s, None).await;
    let (status, _, _) = post(
        &s,
        None,
        Some(&sid),
        &call(1, "musehub_list_domains", json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, v) = post(
        &s,
        None,
        Some(&sid),
        &call(2, "musehub_list_domains", json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{v}");
    // A signed caller is not affected.
    let ada = signer_for(&s.db, "ada", None).await;
    let (status, _, _) = post(
        &s,
        Some(&ada),
        Some(&sid),
        &call(3, "musehub_list_domains", json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn one_ordinary_anonymous_session_is_not_limited_by_the_defaults() {
    // What a client does when it connects and looks around: initialize, the lists, then a
    // few dozen reads. The original hub's 20/min answered 429 within the first minute.
    let s = serve(AuthSettings::default()).await;
    let sid = init(&s, None).await;
    let mut id = 1;
    for method in ["tools/list", "resources/list", "prompts/list"] {
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method});
        let (status, _, v) = post(&s, None, Some(&sid), &body).await;
        assert_eq!(status, StatusCode::OK, "{method}: {v}");
        id += 1;
    }
    for _ in 0..40 {
        let (status, _, v) = post(
            &s,
            None,
            Some(&sid),
            &call(id, "musehub_search_repos", json!({"query": "jazz"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "read {id}: {v}");
        id += 1;
    }
}

#[tokio::test]
async fn health_checks_answer() {
    let s = serve(AuthSettings::default()).await;
    let base = s.url.trim_end_matches("/mcp");
    let r = Client::new()
        .get(format!("{base}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = Client::new()
        .get(format!("{base}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "ready");
}
