//! Protocol revision 2026-07-28 on the same `/mcp` endpoint: era routing, envelope and
//! header validation with exact statuses and bodies, discover, caching fields, MRTR rounds,
//! logging and progress on the request's stream, listen streams, and cancel-on-close.

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::StreamExt;
use musehub_mcp::ServerConfig;
use musehub_mcp::serde_json::{Value, json};
use musehub_tests::{TestServer, start};
use reqwest::{Client, RequestBuilder, Response, StatusCode};

const V: &str = "2026-07-28";

fn meta(caps: Value) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": V,
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": caps
    })
}

fn base(s: &TestServer) -> RequestBuilder {
    Client::new()
        .post(&s.url)
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
}

/// A well-formed modern request: the envelope for `caps` in `_meta`, headers mirrored from the
/// body.
fn modern(s: &TestServer, id: i64, method: &str, mut params: Value, caps: Value) -> RequestBuilder {
    params["_meta"] = meta(caps);
    enveloped(s, id, method, params)
}

/// A modern request whose `params` already carry their `_meta` envelope (with extra fields such
/// as a log level or a progress token): headers mirrored from the body.
fn enveloped(s: &TestServer, id: i64, method: &str, params: Value) -> RequestBuilder {
    let mut rb = base(s)
        .header("mcp-protocol-version", V)
        .header("mcp-method", method);
    if let Some(name) = params
        .get("name")
        .or(params.get("uri"))
        .and_then(Value::as_str)
    {
        rb = rb.header("mcp-name", name.to_string());
    }
    rb.body(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string())
}

async fn json_of(r: Response) -> (StatusCode, Value) {
    let status = r.status();
    let v = musehub_mcp::serde_json::from_slice(&r.bytes().await.unwrap()).expect("json body");
    (status, v)
}

async fn call(
    s: &TestServer,
    id: i64,
    method: &str,
    params: Value,
    caps: Value,
) -> (StatusCode, Value) {
    json_of(modern(s, id, method, params, caps).send().await.unwrap()).await
}

fn server_info() -> Value {
    json!({"io.modelcontextprotocol/serverInfo": {"name": "musehub-tests", "version": env!("CARGO_PKG_VERSION"), "title": "MuseHub test server"}})
}

#[tokio::test]
async fn discover_describes_both_eras() {
    let s = start(ServerConfig::default()).await;
    let r = modern(&s, 1, "server/discover", json!({}), json!({}))
        .send()
        .await
        .unwrap();
    assert!(
        !r.headers().contains_key("mcp-session-id"),
        "no session is minted in this era"
    );
    let (status, v) = json_of(r).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        v["result"],
        json!({
            "resultType": "complete",
            "supportedVersions": ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"],
            "capabilities": {"tools": {"listChanged": true}, "resources": {"subscribe": true, "listChanged": true},
                             "prompts": {"listChanged": true}, "logging": {}, "completions": {}},
            "instructions": "Test instructions.",
            "ttlMs": 3_600_000,
            "cacheScope": "public",
            "_meta": server_info()
        })
    );
    assert_eq!(s.server.session_count(), 0);
}

#[tokio::test]
async fn envelope_and_header_edge_cases() {
    let s = start(ServerConfig::default()).await;
    let body = |params: Value| {
        json!({"jsonrpc": "2.0", "id": 7, "method": "tools/list", "params": params}).to_string()
    };

    // Modern header, no envelope: -32602.
    let r = base(&s)
        .header("mcp-protocol-version", V)
        .header("mcp-method", "tools/list")
        .body(body(json!({})))
        .send()
        .await
        .unwrap();
    let (status, v) = json_of(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        v,
        json!({"jsonrpc": "2.0", "id": 7, "error": {"code": -32602, "message": "params._meta must carry `io.modelcontextprotocol/protocolVersion` and `io.modelcontextprotocol/clientCapabilities`"}})
    );

    // Envelope without capabilities: -32602.
    let r = base(&s)
        .header("mcp-protocol-version", V)
        .header("mcp-method", "tools/list")
        .body(body(
            json!({"_meta": {"io.modelcontextprotocol/protocolVersion": V}}),
        ))
        .send()
        .await
        .unwrap();
    let (status, v) = json_of(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["error"]["message"],
        "params._meta needs an object `io.modelcontextprotocol/clientCapabilities`"
    );

    // Envelope, no header: -32020.
    let r = base(&s)
        .header("mcp-method", "tools/list")
        .body(body(json!({"_meta": meta(json!({}))})))
        .send()
        .await
        .unwrap();
    let (status, v) = json_of(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["error"],
        json!({"code": -32020, "message": "Header mismatch: the MCP-Protocol-Version header is required"})
    );

    // Header and envelope disagree: -32020.
    let r = base(&s)
        .header("mcp-protocol-version", "2025-11-25")
        .header("mcp-method", "tools/list")
        .body(body(json!({"_meta": meta(json!({}))})))
        .send()
        .await
        .unwrap();
    let (status, v) = json_of(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["error"]["message"],
        "Header mismatch: MCP-Protocol-Version header value '2025-11-25' does not match body value '2026-07-28'"
    );

    // Both name a revision we lack: -32022 with the supported list.
    let mut m = meta(json!({}));
    m["io.modelcontextprotocol/protocolVersion"] = "1900-01-01".into();
    let r = base(&s)
        .header("mcp-protocol-version", "1900-01-01")
        .header("mcp-method", "tools/list")
        .body(body(json!({"_meta": m})))
        .send()
        .await
        .unwrap();
    let (status, v) = json_of(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["error"],
        json!({"code": -32022, "message": "Unsupported protocol version",
        "data": {"supported": ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"], "requested": "1900-01-01"}})
    );

    // Mcp-Method missing, then wrong.
    let r = base(&s)
        .header("mcp-protocol-version", V)
        .body(body(json!({"_meta": meta(json!({}))})))
        .send()
        .await
        .unwrap();
    let (_, v) = json_of(r).await;
    assert_eq!(
        v["error"],
        json!({"code": -32020, "message": "Header mismatch: the Mcp-Method header is required"})
    );
    let r = base(&s)
        .header("mcp-protocol-version", V)
        .header("mcp-method", "prompts/list")
        .body(body(json!({"_meta": meta(json!({}))})))
        .send()
        .await
        .unwrap();
    let (status, v) = json_of(r).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["error"]["message"],
        "Header mismatch: Mcp-Method header value does not match body value 'tools/list'"
    );

    // A stale session header is ignored, and nothing is minted.
    let r = modern(&s, 8, "tools/list", json!({}), json!({}))
        .header("mcp-session-id", "stale")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(!r.headers().contains_key("mcp-session-id"));
}

#[tokio::test]
async fn names_and_param_headers_must_match_the_body() {
    let s = start(ServerConfig::default()).await;
    let params = json!({"_meta": meta(json!({})), "name": "regional", "arguments": {"region": "us-west1", "query": "q"}});
    let req = |name: &str| {
        base(&s)
            .header("mcp-protocol-version", V)
            .header("mcp-method", "tools/call")
            .header("mcp-name", name.to_string())
            .body(
                json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": params})
                    .to_string(),
            )
    };
    let (status, v) = json_of(
        req("echo")
            .header("mcp-param-region", "us-west1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["error"],
        json!({"code": -32020, "message": "Header mismatch: Mcp-Name header value does not match body value 'regional'"})
    );
    let (status, v) = json_of(req("regional").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["error"]["message"],
        "Header mismatch: the Mcp-Param-Region header is required"
    );
    let (_, v) = json_of(
        req("regional")
            .header("mcp-param-region", "eu-west1")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        v["error"]["message"],
        "Header mismatch: Mcp-Param-Region header value does not match the body"
    );
    // Base64 sentinel for both headers ("regional", "us-west1").
    let (status, v) = json_of(
        req("=?base64?cmVnaW9uYWw=?=")
            .header("mcp-param-region", "=?base64?dXMtd2VzdDE=?=")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["result"]["content"][0]["text"], "q in us-west1");
    assert_eq!(v["result"]["resultType"], "complete");
    // The tool's schema marks the argument for clients.
    let (_, v) = call(&s, 4, "tools/list", json!({}), json!({})).await;
    let tool = v["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "regional")
        .unwrap()
        .clone();
    assert_eq!(
        tool["inputSchema"]["properties"]["region"]["x-mcp-header"],
        "Region"
    );
}

#[tokio::test]
async fn methods_lists_and_caching_fields() {
    let s = start(ServerConfig::default()).await;
    let (status, v) = call(&s, 1, "no/such", json!({}), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        v,
        json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "Method not found: no/such"}})
    );
    let (status, v) = call(&s, 2, "ping", json!({}), json!({})).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "ping is a handshake-era method"
    );
    assert_eq!(v["error"]["code"], -32601);

    for (method, key) in [
        ("tools/list", "tools"),
        ("prompts/list", "prompts"),
        ("resources/list", "resources"),
        ("resources/templates/list", "resourceTemplates"),
    ] {
        let (_, v) = call(&s, 3, method, json!({}), json!({})).await;
        let r = &v["result"];
        assert!(r[key].is_array(), "{method}: {v}");
        assert_eq!(r["resultType"], "complete");
        assert_eq!(r["ttlMs"], 60_000);
        assert_eq!(r["cacheScope"], "public");
        assert_eq!(r["_meta"], server_info());
    }
    let (_, v) = call(
        &s,
        4,
        "resources/read",
        json!({"uri": "mem://readme"}),
        json!({}),
    )
    .await;
    assert_eq!(
        v["result"],
        json!({"contents": [{"uri": "mem://readme", "mimeType": "text/markdown", "text": "# Notes"}],
        "ttlMs": 0, "cacheScope": "private", "resultType": "complete", "_meta": server_info()})
    );
    let (status, v) = call(
        &s,
        5,
        "resources/read",
        json!({"uri": "mem://missing"}),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        v["error"],
        json!({"code": -32602, "message": "Resource not found", "data": {"uri": "mem://missing"}})
    );
    let (_, v) = call(
        &s,
        6,
        "tools/call",
        json!({"name": "add", "arguments": {"a": 1, "b": 2}}),
        json!({}),
    )
    .await;
    assert_eq!(
        v["result"],
        json!({"content": [{"type": "text", "text": "{\"sum\":3}"}], "structuredContent": {"sum": 3}, "resultType": "complete", "_meta": server_info()})
    );
}

#[tokio::test]
async fn get_and_delete_are_handshake_only() {
    let s = start(ServerConfig::default()).await;
    for r in [
        Client::new()
            .get(&s.url)
            .header("accept", "text/event-stream")
            .header("mcp-protocol-version", V)
            .send()
            .await
            .unwrap(),
        Client::new()
            .delete(&s.url)
            .header("mcp-protocol-version", V)
            .send()
            .await
            .unwrap(),
    ] {
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.headers()["allow"], "POST");
    }
}

#[tokio::test]
async fn a_missing_capability_is_minus_32021() {
    let s = start(ServerConfig::default()).await;
    let (status, v) = call(&s, 1, "tools/call", json!({"name": "ask_name"}), json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["error"],
        json!({"code": -32021, "message": "Missing required client capability", "data": {"requiredCapabilities": {"elicitation": {}}}})
    );
}

#[tokio::test]
async fn input_required_rounds_resume_the_same_tool_code() {
    let s = start(ServerConfig::default()).await;
    let caps = json!({"elicitation": {}});
    let (_, v) = call(
        &s,
        1,
        "tools/call",
        json!({"name": "ask_name"}),
        caps.clone(),
    )
    .await;
    let r = &v["result"];
    assert_eq!(r["resultType"], "input_required");
    assert_eq!(
        r["inputRequests"],
        json!({"elicitation-1": {"method": "elicitation/create", "params": {
        "message": "What is your name?", "mode": "form",
        "requestedSchema": {"description": "The answer of the name form.", "type": "object", "properties": {"name": {"description": "Your name.", "type": "string"}}, "required": ["name"]}}}})
    );
    let state = r["requestState"].as_str().unwrap().to_string();

    let answer = json!({"elicitation-1": {"action": "accept", "content": {"name": "Ada"}}});
    let (_, v) = call(
        &s,
        2,
        "tools/call",
        json!({"name": "ask_name", "inputResponses": answer, "requestState": state}),
        caps.clone(),
    )
    .await;
    assert_eq!(v["result"]["content"][0]["text"], "hello Ada");
    assert_eq!(v["result"]["resultType"], "complete");

    // A tampered state, or one replayed into another call, is refused.
    let mut bad = state.clone().into_bytes();
    bad[5] = if bad[5] == b'A' { b'B' } else { b'A' };
    let (_, v) = call(&s, 3, "tools/call", json!({"name": "ask_name", "inputResponses": answer, "requestState": String::from_utf8(bad).unwrap()}), caps.clone()).await;
    assert_eq!(
        v["error"],
        json!({"code": -32602, "message": "invalid requestState: requestState failed verification"})
    );
    let (_, v) = call(
        &s,
        4,
        "tools/call",
        json!({"name": "two_questions", "requestState": state}),
        caps.clone(),
    )
    .await;
    assert_eq!(
        v["error"]["message"],
        "invalid requestState: requestState belongs to a different request"
    );
    // Malformed inputResponses are invalid params.
    let (_, v) = call(
        &s,
        5,
        "tools/call",
        json!({"name": "ask_name", "inputResponses": {"elicitation-1": "yes"}}),
        caps,
    )
    .await;
    assert_eq!(
        v["error"],
        json!({"code": -32602, "message": "inputResponses[elicitation-1] must be an object"})
    );
}

#[tokio::test]
async fn multi_round_answers_accumulate_in_the_state() {
    let s = start(ServerConfig::default()).await;
    let caps = json!({"elicitation": {}});
    let (_, v) = call(
        &s,
        1,
        "tools/call",
        json!({"name": "two_questions"}),
        caps.clone(),
    )
    .await;
    assert_eq!(
        v["result"]["inputRequests"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["name"]
    );
    let state = v["result"]["requestState"].clone();
    let (_, v) = call(
        &s,
        2,
        "tools/call",
        json!({"name": "two_questions", "requestState": state,
        "inputResponses": {"name": {"action": "accept", "content": {"name": "Ada"}}}}),
        caps.clone(),
    )
    .await;
    assert_eq!(
        v["result"]["inputRequests"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["colour"]
    );
    let state = v["result"]["requestState"].clone();
    // The client only answers the latest request; the first answer travels in the state.
    let (_, v) = call(&s, 3, "tools/call", json!({"name": "two_questions", "requestState": state,
        "inputResponses": {"colour": {"action": "accept", "content": {"colour": "teal"}}, "unknown": {"x": 1}}}), caps.clone()).await;
    assert_eq!(v["result"]["content"][0]["text"], "Ada likes teal");
    // A missing answer is asked for again, not an error.
    let (_, v) = call(
        &s,
        4,
        "tools/call",
        json!({"name": "two_questions", "inputResponses": {"wrong": {"action": "accept"}}}),
        caps,
    )
    .await;
    assert_eq!(v["result"]["resultType"], "input_required");
}

async fn sse_events(r: Response) -> Vec<Value> {
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let text = r.text().await.unwrap();
    assert!(
        !text.contains("id: "),
        "not resumable, so no event ids: {text}"
    );
    text.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|d| musehub_mcp::serde_json::from_str(d).unwrap())
        .collect()
}

#[tokio::test]
async fn logs_only_at_the_requested_level_and_progress_streams() {
    let s = start(ServerConfig::default()).await;
    let (_, v) = call(&s, 1, "tools/call", json!({"name": "chatty"}), json!({})).await;
    assert_eq!(
        v["result"]["content"][0]["text"], "done",
        "no logLevel: plain JSON, no log messages"
    );

    let mut params = json!({"name": "chatty", "_meta": meta(json!({}))});
    params["_meta"]["io.modelcontextprotocol/logLevel"] = "info".into();
    let r = enveloped(&s, 2, "tools/call", params).send().await.unwrap();
    let events = sse_events(r).await;
    let levels: Vec<&str> = events
        .iter()
        .filter(|e| e["method"] == "notifications/message")
        .map(|e| e["params"]["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["info", "error"]);
    assert_eq!(events.last().unwrap()["result"]["resultType"], "complete");

    let mut params =
        json!({"name": "count_down", "arguments": {"from": 2}, "_meta": meta(json!({}))});
    params["_meta"]["progressToken"] = "t1".into();
    let r = enveloped(&s, 3, "tools/call", params).send().await.unwrap();
    let events = sse_events(r).await;
    assert_eq!(events.len(), 3);
    assert_eq!(
        events[1]["params"],
        json!({"progressToken": "t1", "progress": 2.0, "total": 2.0})
    );
}

#[tokio::test]
async fn listen_streams_carry_opted_in_changes_from_both_eras() {
    let s = start(ServerConfig::default()).await;
    let r = modern(&s, 42, "subscriptions/listen", json!({"notifications": {"toolsListChanged": true, "resourceSubscriptions": ["mem://readme"], "bogus": 1}}), json!({}))
        .send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-accel-buffering"], "no");
    let mut body = r.bytes_stream();
    let mut next = async || -> Value {
        loop {
            let chunk = tokio::time::timeout(Duration::from_secs(5), body.next())
                .await
                .expect("event in time")
                .unwrap()
                .unwrap();
            let text = String::from_utf8_lossy(&chunk).to_string();
            if let Some(d) = text.lines().find_map(|l| l.strip_prefix("data: ")) {
                return musehub_mcp::serde_json::from_str(d).unwrap();
            }
        }
    };
    assert_eq!(
        next().await,
        json!({"jsonrpc": "2.0", "method": "notifications/subscriptions/acknowledged", "params": {
        "notifications": {"toolsListChanged": true, "resourceSubscriptions": ["mem://readme"]},
        "_meta": {"io.modelcontextprotocol/subscriptionId": 42}}})
    );
    // Not opted in: prompts, other resources. Opted in: tools (raised by a tool), the readme.
    s.server.notify_list_changed("prompts");
    s.server.notify_resource_updated("mem://other");
    let (_, v) = call(&s, 1, "tools/call", json!({"name": "announce"}), json!({})).await;
    assert_eq!(v["result"]["content"][0]["text"], "announced");
    s.server.notify_resource_updated("mem://readme");
    assert_eq!(
        next().await,
        json!({"jsonrpc": "2.0", "method": "notifications/tools/list_changed", "params": {"_meta": {"io.modelcontextprotocol/subscriptionId": 42}}})
    );
    assert_eq!(
        next().await,
        json!({"jsonrpc": "2.0", "method": "notifications/resources/updated", "params": {"uri": "mem://readme", "_meta": {"io.modelcontextprotocol/subscriptionId": 42}}})
    );
}

#[tokio::test]
async fn closing_the_response_cancels_the_call() {
    let s = start({
        let mut c = ServerConfig::default();
        c.stream_after = Duration::from_millis(50);
        c.sse_heartbeat = Duration::from_millis(50);
        c
    })
    .await;
    let before = musehub_tests::CANCELLED_CALLS.load(Ordering::SeqCst);
    let r = modern(
        &s,
        1,
        "tools/call",
        json!({"name": "wait_for_cancel"}),
        json!({}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        r.headers()["content-type"],
        "text/event-stream",
        "a slow call streams"
    );
    let mut body = r.bytes_stream();
    let opening = body.next().await.unwrap().unwrap();
    assert_eq!(&opening[..], b": working\n\n");
    drop(body);
    for _ in 0..50 {
        if musehub_tests::CANCELLED_CALLS.load(Ordering::SeqCst) > before {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the tool's cancellation token did not fire after the client closed the response");
}

#[tokio::test]
async fn initialize_still_selects_the_handshake_era() {
    let s = start(ServerConfig::default()).await;
    let r = base(&s).header("mcp-protocol-version", V)
        .body(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": V, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}).to_string())
        .send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers().contains_key("mcp-session-id"));
    let (_, v) = json_of(r).await;
    assert_eq!(
        v["result"]["protocolVersion"], "2025-11-25",
        "initialize negotiates a handshake revision"
    );
}

#[tokio::test]
async fn an_enveloped_initialize_is_a_removed_method() {
    let s = start(ServerConfig::default()).await;
    let (status, v) = call(&s, 9, "initialize", json!({"protocolVersion": V, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        v,
        json!({"jsonrpc": "2.0", "id": 9, "error": {"code": -32601, "message": "Method not found: initialize"}})
    );
    assert_eq!(s.server.session_count(), 0);
}

#[tokio::test]
async fn shutdown_ends_listen_streams_with_their_result() {
    let mut s = start(ServerConfig::default()).await;
    let r = modern(
        &s,
        77,
        "subscriptions/listen",
        json!({"notifications": {"toolsListChanged": true}}),
        json!({}),
    )
    .send()
    .await
    .unwrap();
    let mut body = r.bytes_stream();
    let mut seen = String::new();
    while !seen.contains("acknowledged") {
        seen.push_str(&String::from_utf8_lossy(
            &body.next().await.unwrap().unwrap(),
        ));
    }
    s.shutdown();
    let mut rest = String::new();
    let closing = tokio::time::timeout(Duration::from_secs(3), async {
        while let Some(chunk) = body.next().await {
            rest.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
            if rest.contains("\"result\"") {
                break;
            }
        }
        rest.clone()
    })
    .await
    .expect("closed promptly");
    let data = closing
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .expect("a final event");
    let v: Value = musehub_mcp::serde_json::from_str(data).unwrap();
    assert_eq!(v["id"], 77);
    assert_eq!(v["result"]["resultType"], "complete");
    assert_eq!(
        v["result"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        77
    );
}
