//! MSign request signing end to end: the test vectors of docs/msign.md, every rejection with
//! its status and body, replay and clock-skew handling, write-tool gating, session binding,
//! both protocol eras, and rate limits on a controllable clock.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use musehub_mcp::ServerConfig;
use musehub_mcp::auth::{
    MSignHeader, MSignSigner, MSignVerifier, MemoryKeyStore, RateLimitConfig, RateLimits,
    SignedRequest, canonical_string,
};
use musehub_mcp::serde_json::{Value, json};
use musehub_tests::{TestServer, build_with, serve};
use reqwest::{Client, Response, StatusCode};

const BOTH: &str = "application/json, text/event-stream";

/// The vector blocks of docs/msign.md, as key → value maps.
fn doc_vectors() -> (HashMap<String, String>, Vec<HashMap<String, String>>) {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/msign.md"))
        .expect("docs/msign.md");
    let section = doc
        .split("## Test vectors")
        .nth(1)
        .expect("a test vectors section");
    let blocks: Vec<&str> = section
        .split("```text")
        .skip(1)
        .map(|b| b.split("```").next().unwrap_or(""))
        .collect();
    let parse = |text: &str| -> HashMap<String, String> {
        text.lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| {
                (
                    k.trim().to_string(),
                    v.strip_prefix(' ').unwrap_or(v).to_string(),
                )
            })
            .collect()
    };
    let key = parse(blocks[0]);
    let vectors = blocks[1]
        .split("\n\n")
        .map(parse)
        .filter(|m| m.contains_key("vector"))
        .collect();
    (key, vectors)
}

fn seed() -> [u8; 32] {
    std::array::from_fn(|i| i as u8)
}

#[test]
fn the_documented_vectors_hold() {
    let (key, vectors) = doc_vectors();
    assert_eq!(vectors.len(), 3);
    let signer = MSignSigner::from_seed("ada", &seed());
    assert_eq!(
        key["seed-hex"],
        seed()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    assert_eq!(
        musehub_mcp::auth::parse_public_key(&key["public-key"]).unwrap(),
        signer.public_key()
    );
    assert_eq!(key["kid"], signer.key_id());
    let store = MemoryKeyStore::new();
    store.add("ada", signer.public_key(), None);
    for v in vectors {
        let ts: u64 = v["ts"].parse().unwrap();
        let session = Some(v["session"].as_str()).filter(|s| !s.is_empty());
        let header = signer.sign_with(
            &v["method"],
            &v["target"],
            v["body"].as_bytes(),
            session,
            ts,
            &v["nonce"],
        );
        assert_eq!(header, v["header"], "vector {}", v["vector"]);
        assert_eq!(MSignHeader::parse(&header).unwrap().sig, v["sig"]);
        let canon = canonical_string(
            &v["method"],
            &v["target"],
            ts,
            &v["nonce"],
            v["body"].as_bytes(),
            session,
        );
        assert!(canon.contains(&v["body-sha256"]));
        // And the verifier accepts it at that time.
        let verifier = MSignVerifier::new(Arc::new(store.clone())).clock(move || ts + 10);
        let req = SignedRequest {
            authorization: &header,
            method: &v["method"],
            target: &v["target"],
            body: v["body"].as_bytes(),
            session_id: session,
        };
        let id = futures::executor::block_on(verifier.verify(&req)).expect("verifies");
        assert_eq!(id.handle, "ada");
    }
}

struct Hub {
    s: TestServer,
    ada: MSignSigner,
    bob: MSignSigner,
    bot: MSignSigner,
    store: MemoryKeyStore,
    clock: Arc<AtomicU64>,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn hub_with(limits: Option<Arc<RateLimits>>) -> Hub {
    let store = MemoryKeyStore::new();
    let ada = MSignSigner::new("ada", MSignSigner::generate_key());
    let bob = MSignSigner::new("bob", MSignSigner::generate_key());
    let bot = MSignSigner::new("ada", MSignSigner::generate_key());
    store.add("ada", ada.public_key(), None);
    store.add("bob", bob.public_key(), None);
    store.add("ada", bot.public_key(), Some("ada's agent"));
    let clock = Arc::new(AtomicU64::new(now()));
    let c = clock.clone();
    let verifier =
        MSignVerifier::new(Arc::new(store.clone())).clock(move || c.load(Ordering::SeqCst));
    let server = build_with(ServerConfig::default(), |b| {
        let b = b.auth(verifier);
        match limits {
            Some(l) => b.rate_limits(l),
            None => b,
        }
    });
    Hub {
        s: serve(server).await,
        ada,
        bob,
        bot,
        store,
        clock,
    }
}

async fn hub() -> Hub {
    hub_with(None).await
}

/// POSTs a body, signed by `signer` when given.
async fn post(
    h: &Hub,
    signer: Option<&MSignSigner>,
    session: Option<&str>,
    body: &Value,
) -> Response {
    let body = body.to_string();
    let mut rb = Client::new()
        .post(&h.s.url)
        .header("accept", BOTH)
        .header("content-type", "application/json");
    if let Some(id) = session {
        rb = rb.header("mcp-session-id", id);
    }
    if let Some(s) = signer {
        rb = rb.header(
            "authorization",
            s.sign_parts("POST", "/mcp", body.as_bytes(), session),
        );
    }
    rb.body(body).send().await.unwrap()
}

async fn json_of(r: Response) -> (StatusCode, Value) {
    let status = r.status();
    (
        status,
        musehub_mcp::serde_json::from_slice(&r.bytes().await.unwrap()).unwrap(),
    )
}

fn write_call(id: i64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "write_note", "arguments": {"text": "hi"}}})
}

async fn init(h: &Hub, signer: Option<&MSignSigner>) -> String {
    let r = post(h, signer, None, &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.headers()["mcp-session-id"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn write_tools_need_a_signature() {
    let h = hub().await;
    let sid = init(&h, None).await;
    let r = post(&h, None, Some(&sid), &write_call(1)).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.headers()["www-authenticate"],
        "MSign realm=\"musehub-tests\""
    );
    let (_, v) = json_of(r).await;
    assert_eq!(
        v,
        json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32001, "message": "Unauthorized: tool `write_note` changes data and needs a signed request (MSign)"}})
    );
    // Reads stay anonymous.
    let (status, v) = json_of(post(&h, None, Some(&sid), &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "echo", "arguments": {"message": "x"}}})).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["result"]["content"][0]["text"], "x");
    // A signed call on the same (anonymous) session works: the signature, not the session, authorises.
    let (status, v) = json_of(post(&h, Some(&h.ada), Some(&sid), &write_call(3)).await).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["result"]["content"][0]["text"], "stored 2 bytes");
}

#[tokio::test]
async fn each_failure_is_401_with_a_reason() {
    let h = hub().await;
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let text = body.to_string();
    let send = |auth: String, body: String| {
        Client::new()
            .post(&h.s.url)
            .header("accept", BOTH)
            .header("content-type", "application/json")
            .header("authorization", auth)
            .body(body)
            .send()
    };
    let reason = |v: &Value| v["error"]["data"]["reason"].as_str().unwrap().to_string();

    let (status, v) = json_of(
        send("MSign handle=\"ada\"".into(), text.clone())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        v,
        json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32001, "message": "Unauthorized: malformed MSign header: missing `kid`", "data": {"reason": "malformed_header"}}})
    );

    // The body changed after signing.
    let auth = h.ada.sign_parts("POST", "/mcp", text.as_bytes(), None);
    let (_, v) = json_of(send(auth, text.replace("\"t\"", "\"u\"")).await.unwrap()).await;
    assert_eq!(reason(&v), "bad_signature");
    assert_eq!(
        v["error"]["message"],
        "Unauthorized: bad signature: the signature does not match this request"
    );

    // Replay: the very same signed request twice.
    let auth = h.ada.sign_parts("POST", "/mcp", text.as_bytes(), None);
    assert_eq!(
        send(auth.clone(), text.clone()).await.unwrap().status(),
        StatusCode::OK
    );
    let (status, v) = json_of(send(auth, text.clone()).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(reason(&v), "replayed_nonce");

    // Clock skew: the server's clock is 10 minutes ahead.
    h.clock.fetch_add(600, Ordering::SeqCst);
    let auth = h.ada.sign_parts("POST", "/mcp", text.as_bytes(), None);
    let (_, v) = json_of(send(auth, text.clone()).await.unwrap()).await;
    assert_eq!(reason(&v), "expired_timestamp");
    assert!(v["error"]["message"].as_str().unwrap().starts_with("Unauthorized: expired timestamp: ts must be within 300 s of the server's clock (server time "));
    h.clock.fetch_sub(600, Ordering::SeqCst);

    // A key nobody registered, then a revoked key.
    let stranger = MSignSigner::new("ada", MSignSigner::generate_key());
    let (_, v) = json_of(
        send(
            stranger.sign_parts("POST", "/mcp", text.as_bytes(), None),
            text.clone(),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(reason(&v), "unknown_key");
    assert!(h.store.revoke("bob", h.bob.key_id()));
    let (_, v) = json_of(
        send(
            h.bob.sign_parts("POST", "/mcp", text.as_bytes(), None),
            text.clone(),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(reason(&v), "revoked_key");
}

#[tokio::test]
async fn sessions_belong_to_their_signer() {
    let h = hub().await;
    let sid = init(&h, Some(&h.ada)).await;
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    assert_eq!(
        post(&h, Some(&h.ada), Some(&sid), &ping).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        post(&h, Some(&h.bot), Some(&sid), &ping).await.status(),
        StatusCode::OK,
        "another key of the same handle"
    );
    let (status, v) = json_of(post(&h, Some(&h.bob), Some(&sid), &ping).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        v["error"]["message"],
        "Forbidden: this session belongs to another caller"
    );
    // A stolen session id reads as anonymous and cannot write.
    assert_eq!(
        post(&h, None, Some(&sid), &ping).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        post(&h, None, Some(&sid), &write_call(2)).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let get = |signer: Option<&MSignSigner>| {
        let mut rb = Client::new()
            .get(&h.s.url)
            .header("accept", "text/event-stream")
            .header("mcp-session-id", &sid);
        if let Some(s) = signer {
            rb = rb.header(
                "authorization",
                s.sign_parts("GET", "/mcp", b"", Some(&sid)),
            );
        }
        rb.send()
    };
    let r = get(None).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.headers()["www-authenticate"],
        "MSign realm=\"musehub-tests\""
    );
    assert_eq!(
        get(Some(&h.bob)).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(get(Some(&h.ada)).await.unwrap().status(), StatusCode::OK);

    let delete = |signer: Option<&MSignSigner>| {
        let mut rb = Client::new()
            .delete(&h.s.url)
            .header("mcp-session-id", &sid);
        if let Some(s) = signer {
            rb = rb.header(
                "authorization",
                s.sign_parts("DELETE", "/mcp", b"", Some(&sid)),
            );
        }
        rb.send()
    };
    assert_eq!(
        delete(None).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        delete(Some(&h.bob)).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        h.s.server.session_count(),
        1,
        "nobody but the owner ended it"
    );
    assert_eq!(delete(Some(&h.ada)).await.unwrap().status(), StatusCode::OK);
    assert_eq!(h.s.server.session_count(), 0);
}

#[tokio::test]
async fn the_modern_era_signs_every_request_the_same_way() {
    let h = hub().await;
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}});
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "write_note", "arguments": {"text": "abc"}, "_meta": meta}});
    let send = |signer: Option<&MSignSigner>| {
        let text = body.to_string();
        let mut rb = Client::new()
            .post(&h.s.url)
            .header("accept", BOTH)
            .header("content-type", "application/json")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/call")
            .header("mcp-name", "write_note");
        if let Some(s) = signer {
            rb = rb.header(
                "authorization",
                s.sign_parts("POST", "/mcp", text.as_bytes(), None),
            );
        }
        rb.body(text).send()
    };
    let r = send(None).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let (status, v) = json_of(send(Some(&h.ada)).await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["result"]["content"][0]["text"], "stored 3 bytes");
}

#[tokio::test]
async fn rate_limits_per_identity_on_a_controllable_clock() {
    let config = RateLimitConfig::new(4, 2, 1).tool("write_note", 1);
    let (limits, clock) = RateLimits::with_fake_clock(&config);
    let h = hub_with(Some(limits)).await;
    let discover = json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}}});
    let send = |signer: Option<&MSignSigner>, body: &Value| {
        let text = body.to_string();
        let method = body["method"].as_str().unwrap().to_string();
        let mut rb = Client::new()
            .post(&h.s.url)
            .header("accept", BOTH)
            .header("content-type", "application/json")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", method);
        if let Some(name) = body["params"]["name"].as_str() {
            rb = rb.header("mcp-name", name.to_string());
        }
        if let Some(s) = signer {
            rb = rb.header(
                "authorization",
                s.sign_parts("POST", "/mcp", text.as_bytes(), None),
            );
        }
        rb.body(text).send()
    };
    assert_eq!(
        send(None, &discover).await.unwrap().status(),
        StatusCode::OK
    );
    let r = send(None, &discover).await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "60");
    assert_eq!(r.headers()["ratelimit-limit"], "1");
    assert_eq!(r.headers()["ratelimit-remaining"], "0");
    let (_, v) = json_of(r).await;
    assert_eq!(
        v["error"]["message"],
        "Too Many Requests: the limit is 1 per minute; retry after 60 s"
    );
    // Humans and agents have their own buckets.
    assert_eq!(
        send(Some(&h.ada), &discover).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        send(Some(&h.ada), &discover).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        send(Some(&h.ada), &discover).await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // The agent key of the same handle is an agent: 4 per minute, and a separate tool limit.
    let mut call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "write_note", "arguments": {"text": "x"}, "_meta": discover["params"]["_meta"]}});
    assert_eq!(
        send(Some(&h.bot), &call).await.unwrap().status(),
        StatusCode::OK
    );
    call["id"] = 3.into();
    let r = send(Some(&h.bot), &call).await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the tool's own limit"
    );
    clock.advance(Duration::from_secs(60));
    assert_eq!(
        send(None, &discover).await.unwrap().status(),
        StatusCode::OK,
        "refilled"
    );
    assert_eq!(
        send(Some(&h.bot), &call).await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_verifier_layer_serves_any_axum_app() {
    use axum::extract::Extension;
    use axum::routing::post;
    let store = MemoryKeyStore::new();
    let ada = MSignSigner::new("ada", MSignSigner::generate_key());
    store.add("ada", ada.public_key(), None);
    let verifier = Arc::new(MSignVerifier::new(Arc::new(store)));
    async fn whoami(Extension(caller): Extension<musehub_mcp::Caller>) -> String {
        caller.handle().unwrap_or("anonymous").to_string()
    }
    let app = axum::Router::new()
        .route("/api/whoami", post(whoami))
        .layer(axum::middleware::from_fn(musehub_mcp::auth::msign_layer(
            verifier, "my-app",
        )));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/whoami", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let send = |auth: Option<String>| {
        let mut rb = Client::new().post(&url).body("hello");
        if let Some(a) = auth {
            rb = rb.header("authorization", a);
        }
        rb.send()
    };
    assert_eq!(send(None).await.unwrap().text().await.unwrap(), "anonymous");
    let signed = send(Some(ada.sign_parts("POST", "/api/whoami", b"hello", None)))
        .await
        .unwrap();
    assert_eq!(signed.text().await.unwrap(), "ada");
    let wrong_body = send(Some(ada.sign_parts("POST", "/api/whoami", b"other", None)))
        .await
        .unwrap();
    assert_eq!(wrong_body.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong_body.headers()["www-authenticate"],
        "MSign realm=\"my-app\""
    );
}
