//! Streamable HTTP behaviour, status code by status code, with exact bodies, against a real
//! server on a loopback port.

use std::time::Duration;

use futures::StreamExt;
use musehub_mcp::ServerConfig;
use musehub_mcp::serde_json::{Value, json};
use musehub_tests::{TestServer, start};
use reqwest::{Client, Response, StatusCode};

const BOTH: &str = "application/json, text/event-stream";

fn client() -> Client {
    Client::builder().build().expect("client")
}

async fn post(s: &TestServer, session: Option<&str>, body: Value) -> Response {
    match session {
        Some(id) => post_with(s, &[("mcp-session-id", id)], body.to_string()).await,
        None => post_with(s, &[], body.to_string()).await,
    }
}

/// A POST with the usual Accept and Content-Type plus `extra` headers.
async fn post_with(s: &TestServer, extra: &[(&str, &str)], body: String) -> Response {
    let mut headers = vec![("accept", BOTH), ("content-type", "application/json")];
    headers.extend_from_slice(extra);
    post_raw(s, &headers, body).await
}

/// A POST with exactly `headers`, for the checks on Accept and Content-Type themselves.
async fn post_raw(s: &TestServer, headers: &[(&str, &str)], body: String) -> Response {
    let mut req = client().post(&s.url).body(body);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.expect("post")
}

async fn json_of(r: Response) -> Value {
    serde_json_from(&r.bytes().await.expect("body"))
}

fn serde_json_from(b: &[u8]) -> Value {
    musehub_mcp::serde_json::from_slice(b).expect("json body")
}

async fn initialize(s: &TestServer, version: &str, caps: Value) -> String {
    let r = post(
        s,
        None,
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": version, "capabilities": caps,
            "clientInfo": {"name": "test", "version": "1"}}}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let id = r.headers()["mcp-session-id"].to_str().unwrap().to_string();
    assert!(
        id.bytes().all(|c| (0x21..=0x7e).contains(&c)),
        "visible ASCII: {id}"
    );
    let n = post(
        s,
        Some(&id),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    assert_eq!(n.status(), StatusCode::ACCEPTED);
    id
}

/// Reads SSE `data:` payloads until the response with `id` arrives.
async fn sse_until_response(r: Response, id: i64) -> Vec<Value> {
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let mut body = r.bytes_stream();
    let mut buf = String::new();
    let mut out = Vec::new();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(10), body.next())
        .await
        .expect("event in time")
    {
        buf.push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
        while let Some(end) = buf.find("\n\n") {
            let event: String = buf.drain(..end + 2).collect();
            for line in event.lines() {
                if let Some(data) = line.strip_prefix("data: ")
                    && !data.trim().is_empty()
                {
                    let v = serde_json_from(data.as_bytes());
                    let done = v.get("id") == Some(&json!(id))
                        && (v.get("result").is_some() || v.get("error").is_some());
                    out.push(v);
                    if done {
                        return out;
                    }
                }
            }
        }
    }
    panic!("stream ended before response {id}: {out:?}");
}

#[tokio::test]
async fn initialize_negotiates_and_issues_a_session() {
    let s = start(ServerConfig::default()).await;
    let r = post(
        &s,
        None,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert!(r.headers().contains_key("mcp-session-id"));
    let v = json_of(r).await;
    assert_eq!(v["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(
        v["result"]["serverInfo"],
        json!({"name": "musehub-tests", "version": env!("CARGO_PKG_VERSION"), "title": "MuseHub test server"})
    );
    assert_eq!(v["result"]["instructions"], "Test instructions.");
    assert_eq!(
        v["result"]["capabilities"],
        json!({"tools": {"listChanged": true}, "resources": {"subscribe": true, "listChanged": true},
               "prompts": {"listChanged": true}, "logging": {}, "completions": {}})
    );
    // An unknown revision is answered with the latest one.
    let r = post(
        &s,
        None,
        json!({"jsonrpc": "2.0", "id": 2, "method": "initialize", "params": {
            "protocolVersion": "1999-01-01", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}),
    )
    .await;
    assert_eq!(json_of(r).await["result"]["protocolVersion"], "2025-11-25");
}

#[tokio::test]
async fn header_checks_give_exact_statuses_and_bodies() {
    let s = start({
        let mut c = ServerConfig::default();
        c.max_body_bytes = 1024;
        c
    })
    .await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});

    let r = post_raw(
        &s,
        &[
            ("accept", "application/json"),
            ("content-type", "application/json"),
        ],
        init.to_string(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_ACCEPTABLE);
    assert_eq!(
        json_of(r).await,
        json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32000, "message": "Not Acceptable: the client must accept both application/json and text/event-stream"}})
    );

    let r = post_raw(
        &s,
        &[("accept", BOTH), ("content-type", "text/plain")],
        init.to_string(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        json_of(r).await["error"]["message"],
        "Unsupported Media Type: Content-Type must be application/json"
    );

    let r = post_with(&s, &[], "x".repeat(2048)).await;
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        json_of(r).await["error"]["message"],
        "Payload Too Large: the body exceeds 1024 bytes"
    );

    let r = post_with(&s, &[], "{not json".to_string()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v = json_of(r).await;
    assert_eq!(v["id"], Value::Null);
    assert_eq!(v["error"]["code"], -32700);

    let r = post_with(&s, &[("host", "evil.example.com")], init.to_string()).await;
    assert_eq!(r.status(), StatusCode::MISDIRECTED_REQUEST);
    assert_eq!(
        json_of(r).await["error"]["message"],
        "Invalid Host header: this server only answers to its configured host names"
    );

    let r = post_with(
        &s,
        &[("origin", "https://evil.example.com")],
        init.to_string(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        json_of(r).await["error"]["message"],
        "Forbidden: this Origin is not allowed"
    );

    let r = post_with(
        &s,
        &[("mcp-protocol-version", "2099-01-01")],
        init.to_string(),
    )
    .await;
    // A revision we do not speak is answered in the modern era, whose error lists ours.
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        json_of(r).await,
        json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32022, "message": "Unsupported protocol version",
        "data": {"supported": ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"], "requested": "2099-01-01"}}})
    );

    let r = client().put(&s.url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(r.headers()["allow"], "GET, POST, DELETE");
}

#[tokio::test]
async fn origins_from_the_allow_list_and_localhost_pass() {
    let s = start({
        let mut c = ServerConfig::default();
        c.allowed_origins = vec!["https://app.example.com".into()];
        c
    })
    .await;
    for origin in [
        "http://localhost:3000",
        "https://app.example.com",
        "http://127.0.0.1",
    ] {
        let r = client().post(&s.url).header("accept", BOTH).header("content-type", "application/json").header("origin", origin)
            .body(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}).to_string())
            .send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{origin}");
    }
}

#[tokio::test]
async fn sessions_are_required_and_end_with_delete() {
    let s = start(ServerConfig::default()).await;
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    let r = post(&s, None, ping.clone()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        json_of(r).await["error"]["message"],
        "Bad Request: Mcp-Session-Id header is required"
    );
    let r = post(&s, Some("no-such-session"), ping.clone()).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        json_of(r).await,
        json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32001, "message": "Session not found"}})
    );

    let id = initialize(&s, "2025-11-25", json!({})).await;
    let r = post(&s, Some(&id), ping.clone()).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.text().await.unwrap(),
        r#"{"jsonrpc":"2.0","id":1,"result":{}}"#
    );
    assert_eq!(s.server.session_count(), 1);

    let del = client()
        .delete(&s.url)
        .header("mcp-session-id", &id)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), StatusCode::OK);
    assert_eq!(s.server.session_count(), 0);
    assert_eq!(
        post(&s, Some(&id), ping).await.status(),
        StatusCode::NOT_FOUND
    );
    let del = client()
        .delete(&s.url)
        .header("mcp-session-id", &id)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn capacity_and_idle_expiry() {
    let s = start({
        let mut c = ServerConfig::default();
        c.max_sessions = 1;
        c.session_idle_timeout = Duration::from_millis(300);
        c.session_sweep_interval = Duration::from_millis(50);
        c
    })
    .await;
    let id = initialize(&s, "2025-11-25", json!({})).await;
    let r = post(&s, None, json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["retry-after"], "5");
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        s.server.session_count(),
        0,
        "the sweeper ended the idle session"
    );
    let r = post(
        &s,
        Some(&id),
        json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    initialize(&s, "2025-11-25", json!({})).await;
}

#[tokio::test]
async fn json_rpc_errors_and_tool_errors() {
    let s = start(ServerConfig::default()).await;
    let id = initialize(&s, "2025-11-25", json!({})).await;
    let call = |n: i64, method: &str, params: Value| json!({"jsonrpc": "2.0", "id": n, "method": method, "params": params});

    let v = json_of(post(&s, Some(&id), call(1, "no/such", json!({}))).await).await;
    assert_eq!(
        v,
        json!({"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "Method not found: no/such"}})
    );
    let v = json_of(
        post(
            &s,
            Some(&id),
            call(2, "tools/call", json!({"name": "nope"})),
        )
        .await,
    )
    .await;
    assert_eq!(
        v["error"],
        json!({"code": -32602, "message": "Unknown tool: nope"})
    );
    let v = json_of(
        post(
            &s,
            Some(&id),
            call(
                3,
                "tools/call",
                json!({"name": "add", "arguments": {"a": 1, "b": "two"}}),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(v["result"]["isError"], true);
    let text = v["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.starts_with("invalid argument `b`:"), "{text}");
    let v = json_of(
        post(
            &s,
            Some(&id),
            call(
                4,
                "tools/call",
                json!({"name": "add", "arguments": {"a": 1}}),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(v["result"]["isError"], true);
    assert!(
        v["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("missing required argument `b`"),
        "{v}"
    );
    let v = json_of(
        post(
            &s,
            Some(&id),
            call(
                5,
                "tools/call",
                json!({"name": "add", "arguments": {"a": 2, "b": 3}}),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(
        v["result"],
        json!({"content": [{"type": "text", "text": "{\"sum\":5}"}], "structuredContent": {"sum": 5}})
    );
    let v = json_of(
        post(
            &s,
            Some(&id),
            call(6, "tools/call", json!({"name": "squares"})),
        )
        .await,
    )
    .await;
    assert_eq!(
        v["result"]["structuredContent"],
        json!({"result": [1, 4, 9]})
    );
    let v = json_of(
        post(
            &s,
            Some(&id),
            call(7, "tools/call", json!({"name": "always_fails"})),
        )
        .await,
    )
    .await;
    assert_eq!(
        v["result"],
        json!({"content": [{"type": "text", "text": "no such thing"}],
        "structuredContent": {"error": {"code": "not_found", "message": "no such thing"}}, "isError": true})
    );
    let v = json_of(
        post(
            &s,
            Some(&id),
            call(8, "tools/call", json!({"name": "panics"})),
        )
        .await,
    )
    .await;
    assert_eq!(
        v["error"],
        json!({"code": -32603, "message": "tool `panics` failed unexpectedly"})
    );
    let v = json_of(post(&s, Some(&id), call(9, "ping", json!({}))).await).await;
    assert_eq!(v["result"], json!({}), "still serving after a panic");
    let v = json_of(
        post(
            &s,
            Some(&id),
            call(10, "resources/read", json!({"uri": "mem://nothing"})),
        )
        .await,
    )
    .await;
    assert_eq!(
        v["error"],
        json!({"code": -32002, "message": "Resource not found", "data": {"uri": "mem://nothing"}})
    );
    let v = json_of(
        post(
            &s,
            Some(&id),
            call(11, "resources/read", json!({"uri": "mem://notes/7"})),
        )
        .await,
    )
    .await;
    assert_eq!(
        v["result"],
        json!({"contents": [{"uri": "mem://notes/7", "mimeType": "application/json", "text": "{\"id\":7}"}]})
    );
    let v = json_of(
        post(
            &s,
            Some(&id),
            call(12, "prompts/get", json!({"name": "summarize"})),
        )
        .await,
    )
    .await;
    assert_eq!(
        v["error"],
        json!({"code": -32602, "message": "missing required argument `topic`"})
    );
    let v = json_of(
        post(
            &s,
            Some(&id),
            call(
                13,
                "prompts/get",
                json!({"name": "summarize", "arguments": {"topic": "rhythm"}}),
            ),
        )
        .await,
    )
    .await;
    assert_eq!(
        v["result"],
        json!({"messages": [{"role": "user", "content": {"type": "text", "text": "Summarise rhythm in a plain style."}}]})
    );
    let v = json_of(post(&s, Some(&id), call(14, "completion/complete", json!({"ref": {"type": "ref/prompt", "name": "summarize"}, "argument": {"name": "topic", "value": "m"}}))).await).await;
    assert_eq!(
        v["result"],
        json!({"completion": {"values": ["melody"], "total": 1, "hasMore": false}})
    );
    let v = json_of(
        post(
            &s,
            Some(&id),
            call(15, "logging/setLevel", json!({"level": "loud"})),
        )
        .await,
    )
    .await;
    assert_eq!(v["error"]["code"], -32602);
    let v = json_of(
        post(
            &s,
            Some(&id),
            call(16, "tools/list", json!({"cursor": "bogus"})),
        )
        .await,
    )
    .await;
    assert_eq!(
        v["error"],
        json!({"code": -32602, "message": "invalid cursor"})
    );
    let v = json_of(
        post(
            &s,
            Some(&id),
            json!({"jsonrpc": "2.0", "id": 17, "method": 5}),
        )
        .await,
    )
    .await;
    assert_eq!(
        v,
        json!({"jsonrpc": "2.0", "id": 17, "error": {"code": -32600, "message": "`method` must be a string"}})
    );
}

#[tokio::test]
async fn lists_paginate_with_opaque_cursors() {
    let s = start({
        let mut c = ServerConfig::default();
        c.page_size = 4;
        c
    })
    .await;
    let id = initialize(&s, "2025-11-25", json!({})).await;
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    for n in 0..10 {
        let params = match &cursor {
            Some(c) => json!({"cursor": c}),
            None => json!({}),
        };
        let v = json_of(
            post(
                &s,
                Some(&id),
                json!({"jsonrpc": "2.0", "id": n, "method": "tools/list", "params": params}),
            )
            .await,
        )
        .await;
        for t in v["result"]["tools"].as_array().unwrap() {
            names.push(t["name"].as_str().unwrap().to_string());
        }
        match v["result"]["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(names.len(), 16);
    assert_eq!(names[0], "add");
    assert_eq!(names[15], "write_note");
}

#[tokio::test]
async fn progress_switches_the_response_to_sse() {
    let s = start(ServerConfig::default()).await;
    let id = initialize(&s, "2025-11-25", json!({})).await;
    let r = post(&s, Some(&id), json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call",
        "params": {"name": "count_down", "arguments": {"from": 3}, "_meta": {"progressToken": 42}}})).await;
    let events = sse_until_response(r, 5).await;
    let progress: Vec<&Value> = events
        .iter()
        .filter(|e| e["method"] == "notifications/progress")
        .collect();
    assert_eq!(progress.len(), 3);
    assert_eq!(
        progress[0]["params"],
        json!({"progressToken": 42, "progress": 1.0, "total": 3.0})
    );
    assert_eq!(
        events.last().unwrap()["result"]["content"][0]["text"],
        "liftoff"
    );
    // Without a token the same tool answers plain JSON.
    let r = post(&s, Some(&id), json!({"jsonrpc": "2.0", "id": 6, "method": "tools/call", "params": {"name": "count_down", "arguments": {"from": 3}}})).await;
    assert_eq!(r.headers()["content-type"], "application/json");
}

#[tokio::test]
async fn elicitation_round_trip_over_a_second_post() {
    let s = start(ServerConfig::default()).await;
    let id = initialize(&s, "2025-11-25", json!({"elicitation": {}})).await;
    let r = post(
        &s,
        Some(&id),
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "ask_name"}}),
    )
    .await;
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let mut body = r.bytes_stream();
    let mut buf = String::new();
    let request = loop {
        buf.push_str(&String::from_utf8_lossy(
            &body.next().await.unwrap().unwrap(),
        ));
        if let Some(line) = buf.lines().find(|l| l.starts_with("data: {")) {
            break serde_json_from(&line.as_bytes()["data: ".len()..]);
        }
    };
    assert_eq!(request["method"], "elicitation/create");
    assert_eq!(request["params"]["mode"], "form");
    assert_eq!(
        request["params"]["requestedSchema"],
        json!({"description": "The answer of the name form.", "type": "object", "properties": {"name": {"description": "Your name.", "type": "string"}}, "required": ["name"]})
    );
    let answer = post(&s, Some(&id), json!({"jsonrpc": "2.0", "id": request["id"], "result": {"action": "accept", "content": {"name": "Ada"}}})).await;
    assert_eq!(answer.status(), StatusCode::ACCEPTED);
    let mut rest = buf;
    while !rest.contains("\"id\":1,\"result\"") {
        rest.push_str(&String::from_utf8_lossy(
            &body.next().await.unwrap().unwrap(),
        ));
    }
    let last = rest
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .next_back()
        .unwrap();
    assert_eq!(
        serde_json_from(last.as_bytes()),
        json!({"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": "hello Ada"}]}})
    );
}

#[tokio::test]
async fn elicitation_without_the_capability_is_a_tool_error() {
    let s = start(ServerConfig::default()).await;
    let id = initialize(&s, "2025-11-25", json!({})).await;
    let v = json_of(post(&s, Some(&id), json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "ask_name"}})).await).await;
    assert_eq!(v["result"]["isError"], true);
    assert_eq!(
        v["result"]["structuredContent"]["error"]["code"],
        "missing_capability"
    );
}

#[tokio::test]
async fn cancellation_fires_the_token() {
    let s = start(ServerConfig::default()).await;
    let id = initialize(&s, "2025-11-25", json!({})).await;
    let url = s.url.clone();
    let sid = id.clone();
    let pending = tokio::spawn(async move {
        client().post(&url).header("accept", BOTH).header("content-type", "application/json").header("mcp-session-id", &sid)
            .body(json!({"jsonrpc": "2.0", "id": "slow-1", "method": "tools/call", "params": {"name": "wait_for_cancel"}}).to_string())
            .send().await.unwrap().text().await.unwrap()
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = post(&s, Some(&id), json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "slow-1", "reason": "user"}})).await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let body = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .expect("answered")
        .unwrap();
    assert_eq!(
        body,
        r#"{"jsonrpc":"2.0","id":"slow-1","error":{"code":-32800,"message":"Request cancelled"}}"#
    );
}

#[tokio::test]
async fn get_stream_primes_carries_notifications_and_resumes() {
    let s = start(ServerConfig::default()).await;
    let id = initialize(&s, "2025-11-25", json!({})).await;
    let r = client()
        .get(&s.url)
        .header("accept", "application/json")
        .header("mcp-session-id", &id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::METHOD_NOT_ALLOWED,
        "GET needs Accept: text/event-stream"
    );
    let r = client()
        .get(&s.url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &id)
        .header("last-event-id", "garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let r = client()
        .get(&s.url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &id)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let mut body = r.bytes_stream();
    let first = String::from_utf8_lossy(&body.next().await.unwrap().unwrap()).to_string();
    assert!(
        first.starts_with("id: ") && first.contains("\nretry: 1000\ndata: \n\n"),
        "priming event: {first:?}"
    );
    s.server.notify_list_changed("tools");
    let mut buf = String::new();
    while !buf.contains("list_changed") {
        buf.push_str(&String::from_utf8_lossy(
            &body.next().await.unwrap().unwrap(),
        ));
    }
    assert!(
        buf.contains(
            r#"data: {"jsonrpc":"2.0","method":"notifications/tools/list_changed","params":{}}"#
        ),
        "{buf}"
    );
    let event_id = buf
        .lines()
        .find_map(|l| l.strip_prefix("id: "))
        .unwrap()
        .to_string();
    drop(body);

    // Two more notifications while disconnected, then resume after the one seen.
    s.server.notify_list_changed("prompts");
    s.server.notify_list_changed("resources");
    let r = client()
        .get(&s.url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &id)
        .header("last-event-id", &event_id)
        .send()
        .await
        .unwrap();
    let mut body = r.bytes_stream();
    let mut buf = String::new();
    while !buf.contains("resources/list_changed") {
        buf.push_str(&String::from_utf8_lossy(
            &body.next().await.unwrap().unwrap(),
        ));
    }
    assert!(
        !buf.contains("tools/list_changed"),
        "nothing seen is replayed: {buf}"
    );
    assert!(
        buf.find("prompts/list_changed").unwrap() < buf.find("resources/list_changed").unwrap()
    );
}

#[tokio::test]
async fn batches_only_in_2025_03_26() {
    let s = start(ServerConfig::default()).await;
    let new = initialize(&s, "2025-11-25", json!({})).await;
    let batch = json!([{"jsonrpc": "2.0", "id": 1, "method": "ping"}, {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "echo", "arguments": {"message": "hi"}}}]);
    let r = post(&s, Some(&new), batch.clone()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        json_of(r).await["error"],
        json!({"code": -32600, "message": "JSON-RPC batches are not part of protocol revision 2025-11-25"})
    );

    let old = initialize(&s, "2025-03-26", json!({})).await;
    let v = json_of(post(&s, Some(&old), batch).await).await;
    assert_eq!(
        v,
        json!([
            {"jsonrpc": "2.0", "id": 1, "result": {}},
            {"jsonrpc": "2.0", "id": 2, "result": {"content": [{"type": "text", "text": "hi"}]}}
        ])
    );
    let r = post(&s, Some(&old), json!([])).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = post(
        &s,
        Some(&old),
        json!([{"jsonrpc": "2.0", "method": "notifications/initialized"}]),
    )
    .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn any_supported_version_header_is_accepted_within_a_session() {
    let s = start(ServerConfig::default()).await;
    let id = initialize(&s, "2025-11-25", json!({})).await;
    let r = post_with(
        &s,
        &[
            ("mcp-session-id", &id),
            ("mcp-protocol-version", "2025-03-26"),
        ],
        json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string(),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn resource_updates_reach_subscribers_only() {
    let s = start(ServerConfig::default()).await;
    let id = initialize(&s, "2025-11-25", json!({})).await;
    let v = json_of(post(&s, Some(&id), json!({"jsonrpc": "2.0", "id": 1, "method": "resources/subscribe", "params": {"uri": "mem://readme"}})).await).await;
    assert_eq!(v["result"], json!({}));
    let r = client()
        .get(&s.url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &id)
        .send()
        .await
        .unwrap();
    let mut body = r.bytes_stream();
    let _priming = body.next().await;
    s.server.notify_resource_updated("mem://other");
    s.server.notify_resource_updated("mem://readme");
    let mut buf = String::new();
    while !buf.contains("resources/updated") {
        buf.push_str(&String::from_utf8_lossy(
            &body.next().await.unwrap().unwrap(),
        ));
    }
    assert!(buf.contains(r#"data: {"jsonrpc":"2.0","method":"notifications/resources/updated","params":{"uri":"mem://readme"}}"#), "{buf}");
    assert!(!buf.contains("mem://other"), "{buf}");
}

#[tokio::test]
async fn write_tools_refuse_anonymous_callers_and_in_process_calls_work() {
    use musehub_mcp::{Caller, Identity};
    let s = start(ServerConfig::default()).await;
    let id = initialize(&s, "2025-11-25", json!({})).await;
    let v = json_of(post(&s, Some(&id), json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "write_note", "arguments": {"text": "hi"}}})).await).await;
    assert_eq!(v["result"]["isError"], true);
    assert_eq!(
        v["result"]["structuredContent"]["error"],
        json!({"code": "unauthenticated", "message": "tool `write_note` changes data and needs an authenticated caller"})
    );
    let ada = Caller {
        identity: Some(Identity::new("ada", musehub_mcp::Scheme::Trusted)),
    };
    let v = s
        .server
        .call(
            ada,
            "tools/call",
            json!({"name": "write_note", "arguments": {"text": "hi"}}),
        )
        .await
        .unwrap();
    assert_eq!(
        v,
        json!({"content": [{"type": "text", "text": "stored 2 bytes"}]})
    );
}

#[tokio::test]
async fn in_process_clients_answer_elicitations_and_collect_progress() {
    use musehub_mcp::Caller;
    let server = musehub_tests::build(ServerConfig::default());
    let out = server
        .call_as_client(
            Caller::anonymous(),
            json!({"elicitation": {}}),
            "tools/call",
            json!({"name": "ask_name"}),
            |method, params| {
                assert_eq!(method, "elicitation/create");
                assert_eq!(params["message"], "What is your name?");
                json!({"action": "accept", "content": {"name": "Lin"}})
            },
        )
        .await;
    assert_eq!(out.result.unwrap()["content"][0]["text"], "hello Lin");
    let out = server
        .call_as_client(
            Caller::anonymous(),
            json!({}),
            "tools/call",
            json!({"name": "count_down", "arguments": {"from": 2}, "_meta": {"progressToken": 5}}),
            |_, _| json!({}),
        )
        .await;
    assert_eq!(out.notifications.len(), 2);
    assert_eq!(
        out.notifications[1]["params"],
        json!({"progressToken": 5, "progress": 2.0, "total": 2.0})
    );
    assert_eq!(server.session_count(), 0);
}

#[tokio::test]
async fn url_mode_elicitation_needs_its_capability() {
    use musehub_mcp::Caller;
    let server = musehub_tests::build(ServerConfig::default());
    let out = server
        .call_as_client(Caller::anonymous(), json!({"elicitation": {"form": {}, "url": {}}}), "tools/call", json!({"name": "connect_account"}), |method, params| {
            assert_eq!(method, "elicitation/create");
            assert_eq!(params, &json!({"mode": "url", "message": "Connect your account",
                "url": "https://accounts.example.invalid/connect?session=abc", "elicitationId": "connect-1"}));
            json!({"action": "accept"})
        })
        .await;
    assert_eq!(out.result.unwrap()["content"][0]["text"], "connected");
    // Form-only clients (an empty `elicitation: {}`) cannot do URL mode.
    let out = server
        .call_as_client(
            Caller::anonymous(),
            json!({"elicitation": {}}),
            "tools/call",
            json!({"name": "connect_account"}),
            |_, _| json!({}),
        )
        .await;
    let r = out.result.unwrap();
    assert_eq!(r["isError"], true);
    assert_eq!(
        r["structuredContent"]["error"]["code"],
        "missing_capability"
    );
}

#[tokio::test]
async fn an_unanswered_elicitation_times_out() {
    let s = start({
        let mut c = ServerConfig::default();
        c.elicitation_timeout = Duration::from_millis(200);
        c
    })
    .await;
    let id = initialize(&s, "2025-11-25", json!({"elicitation": {}})).await;
    let r = post(
        &s,
        Some(&id),
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "ask_name"}}),
    )
    .await;
    let events = sse_until_response(r, 1).await;
    assert_eq!(events[0]["method"], "elicitation/create");
    let result = &events.last().unwrap()["result"];
    assert_eq!(result["isError"], true);
    assert_eq!(
        result["structuredContent"]["error"],
        json!({"code": "peer_timeout", "message": "the client did not answer `elicitation/create` within 200 ms"})
    );
}

#[tokio::test]
async fn shutdown_lets_in_flight_calls_finish() {
    let mut s = start(ServerConfig::default()).await;
    let id = initialize(&s, "2025-11-25", json!({})).await;
    let url = s.url.clone();
    let sid = id.clone();
    let in_flight = tokio::spawn(async move {
        client().post(&url).header("accept", BOTH).header("content-type", "application/json").header("mcp-session-id", &sid)
            .body(json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "sleepy", "arguments": {"ms": 400}}}).to_string())
            .send().await.unwrap().text().await.unwrap()
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    s.shutdown();
    let body: Value = musehub_mcp::serde_json::from_str(&in_flight.await.unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"jsonrpc": "2.0", "id": 9, "result": {"content": [{"type": "text", "text": "slept 400 ms"}]}})
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        client().post(&s.url).body("{}").send().await.is_err(),
        "no new connections after shutdown"
    );
}

#[tokio::test]
async fn null_for_an_optional_argument_is_accepted_as_absent() {
    use musehub_mcp::Caller;
    let server = musehub_tests::build(ServerConfig::default());
    let call = |args: Value| {
        server.call(
            Caller::anonymous(),
            "tools/call",
            json!({"name": "echo", "arguments": args}),
        )
    };
    assert_eq!(
        call(json!({"message": "ab", "times": null})).await.unwrap()["content"][0]["text"],
        "ab"
    );
    assert_eq!(
        call(json!({"message": "ab", "times": 2})).await.unwrap()["content"][0]["text"],
        "abab"
    );
    let v = call(json!({"message": "ab", "times": "two"}))
        .await
        .unwrap();
    assert_eq!(v["isError"], true);
    // The listed schema shows the plain type, not `[integer, null]`.
    let listed = &server.registry().tool("echo").unwrap().input_schema;
    assert_eq!(
        listed["properties"]["times"],
        json!({"description": "How many times (default once)", "type": "integer", "minimum": 0})
    );
}

#[tokio::test]
async fn idle_streams_get_heartbeat_comments() {
    let s = start({
        let mut c = ServerConfig::default();
        c.sse_heartbeat = Duration::from_millis(100);
        c
    })
    .await;
    let id = initialize(&s, "2025-11-25", json!({})).await;
    let r = client()
        .get(&s.url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &id)
        .send()
        .await
        .unwrap();
    let mut body = r.bytes_stream();
    let mut seen = String::new();
    let started = std::time::Instant::now();
    while !seen.contains(": keep-alive\n\n") {
        let chunk = tokio::time::timeout(Duration::from_secs(2), body.next())
            .await
            .expect("a heartbeat in time")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        started.elapsed() >= Duration::from_millis(80),
        "not before the interval"
    );
}

#[tokio::test]
async fn shutdown_releases_get_streams_at_once() {
    let mut s = start(ServerConfig::default()).await;
    let id = initialize(&s, "2025-11-25", json!({})).await;
    let r = client()
        .get(&s.url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &id)
        .send()
        .await
        .unwrap();
    let mut body = r.bytes_stream();
    let _priming = body.next().await;
    let started = std::time::Instant::now();
    s.shutdown();
    // The stream ends well before the 10 s grace period.
    let ended = tokio::time::timeout(Duration::from_secs(3), async {
        while let Some(chunk) = body.next().await {
            if chunk.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the GET stream was held for the grace period"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}
