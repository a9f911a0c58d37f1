//! Two instances of one server sharing a private Redis (issue 8): any instance serves any
//! request of any session, with no sticky sessions. Each test starts its own `redis-server`
//! on a free loopback port and two servers on that Redis with the same state key.
//!
//! Without `redis-server` installed the tests are skipped with a message, unless
//! `MUSEHUB_REQUIRE_REDIS=1` (as `tests/run-all.sh` sets), where they fail.

use std::time::Duration;

use futures::StreamExt;
use musehub_mcp::ServerConfig;
use musehub_mcp::auth::{RateLimitConfig, RateLimits};
use musehub_mcp::serde_json::{Value, json};
use musehub_mcp::shared::{Backplane, RedisBackplane};
use musehub_tests::{RedisServer, TestServer, build_with, serve, start};
use reqwest::{Client, Response, StatusCode};

const BOTH: &str = "application/json, text/event-stream";

fn redis() -> Option<RedisServer> {
    if RedisServer::binary().is_none() {
        assert!(
            std::env::var("MUSEHUB_REQUIRE_REDIS").as_deref() != Ok("1"),
            "redis-server is required (apt-get install -y redis-server)"
        );
        eprintln!("skipped: redis-server is not installed");
        return None;
    }
    Some(RedisServer::start().expect("redis-server starts"))
}

fn config(redis: &RedisServer) -> ServerConfig {
    {
        let mut c = ServerConfig::default();
        c.redis_url = Some(redis.url());
        c.state_key = Some("scale-out-test-key".into());
        c.redis_timeout = Duration::from_millis(500);
        c
    }
}

/// Two instances on one Redis.
async fn pair(redis: &RedisServer) -> (TestServer, TestServer) {
    (start(config(redis)).await, start(config(redis)).await)
}

fn client() -> Client {
    Client::builder().build().expect("client")
}

async fn post(s: &TestServer, session: Option<&str>, body: Value) -> Response {
    let mut req = client()
        .post(&s.url)
        .header("accept", BOTH)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(id) = session {
        req = req.header("mcp-session-id", id);
    }
    req.send().await.expect("post")
}

async fn get(s: &TestServer, session: &str, last_event_id: Option<&str>) -> Response {
    let mut req = client()
        .get(&s.url)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", session);
    if let Some(id) = last_event_id {
        req = req.header("last-event-id", id);
    }
    req.send().await.expect("get")
}

async fn initialize(s: &TestServer, caps: Value) -> String {
    let r = post(
        s,
        None,
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": caps,
            "clientInfo": {"name": "scale-out", "version": "1"}}}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let id = r.headers()["mcp-session-id"]
        .to_str()
        .expect("ascii")
        .to_string();
    let n = post(
        s,
        Some(&id),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await;
    assert_eq!(n.status(), StatusCode::ACCEPTED);
    id
}

fn body(b: &[u8]) -> Value {
    musehub_mcp::serde_json::from_slice(b).expect("json")
}

/// Reads SSE events (`id`, parsed `data`) from a response, skipping priming events and
/// comments.
struct Sse {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buf: String,
}

impl Sse {
    fn new(r: Response) -> Self {
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "text/event-stream");
        Self {
            body: r.bytes_stream().boxed(),
            buf: String::new(),
        }
    }

    /// The next event with data, or `None` when the stream ends.
    async fn next(&mut self) -> Option<(Option<String>, Value)> {
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let event: String = self.buf.drain(..end + 2).collect();
                let mut id = None;
                let mut data = None;
                for line in event.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        id = Some(v.to_string());
                    }
                    if let Some(v) = line.strip_prefix("data: ")
                        && !v.trim().is_empty()
                    {
                        data = Some(body(v.as_bytes()));
                    }
                }
                if let Some(d) = data {
                    return Some((id, d));
                }
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.body.next())
                .await
                .expect("an SSE event within 10 s")?;
            self.buf
                .push_str(&String::from_utf8_lossy(&chunk.expect("chunk")));
        }
    }

    /// Events until one satisfies `done` (included).
    async fn until(&mut self, done: impl Fn(&Value) -> bool) -> Vec<(Option<String>, Value)> {
        let mut out = Vec::new();
        while let Some(e) = self.next().await {
            let stop = done(&e.1);
            out.push(e);
            if stop {
                return out;
            }
        }
        panic!("stream ended early: {out:?}");
    }
}

fn call(id: i64, name: &str, args: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": name, "arguments": args}})
}

#[tokio::test]
async fn a_session_created_on_one_instance_is_used_on_the_other() {
    let Some(redis) = redis() else { return };
    let (a, b) = pair(&redis).await;
    let sid = initialize(&a, json!({})).await;
    let r = post(
        &b,
        Some(&sid),
        call(1, "echo", json!({"message": "hi", "times": 2})),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v = body(&r.bytes().await.expect("body"));
    assert_eq!(v["result"]["content"][0]["text"], "hihi");
    // And back on A, alternating request by request.
    for (i, s) in [&a, &b, &a].into_iter().enumerate() {
        let r = post(
            s,
            Some(&sid),
            json!({"jsonrpc": "2.0", "id": 10 + i, "method": "ping"}),
        )
        .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    // An unknown session is 404 on both.
    for s in [&a, &b] {
        let r = post(
            s,
            Some("no-such-session"),
            json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
        )
        .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn notifications_raised_on_b_reach_the_get_stream_held_on_a() {
    let Some(redis) = redis() else { return };
    let (a, b) = pair(&redis).await;
    let sid = initialize(&a, json!({})).await;
    let mut stream = Sse::new(get(&a, &sid, None).await);
    // Subscribed on B, for the resource notification below.
    let r = post(
        &b,
        Some(&sid),
        json!({"jsonrpc": "2.0", "id": 2, "method": "resources/subscribe",
               "params": {"uri": "mem://readme"}}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    // A tool on B announces a tools list change.
    let r = post(&b, Some(&sid), call(3, "announce", json!({}))).await;
    assert_eq!(r.status(), StatusCode::OK);
    let events = stream
        .until(|v| v["method"] == "notifications/tools/list_changed")
        .await;
    let (id, _) = events.last().expect("event");
    let id = id.clone().expect("the event has an id");
    // A resource update raised on B.
    b.server.notify_resource_updated("mem://readme");
    let events = stream
        .until(|v| v["method"] == "notifications/resources/updated")
        .await;
    assert_eq!(
        events.last().expect("event").1["params"]["uri"],
        "mem://readme"
    );
    // The GET stream can be resumed on B from the first notification: the second comes again.
    drop(stream);
    let mut resumed = Sse::new(get(&b, &sid, Some(&id)).await);
    let events = resumed
        .until(|v| v["method"] == "notifications/resources/updated")
        .await;
    assert_eq!(events.len(), 1, "only what followed the cursor: {events:?}");
}

#[tokio::test]
async fn last_event_id_on_b_replays_what_a_sent() {
    let Some(redis) = redis() else { return };
    let (a, b) = pair(&redis).await;
    let sid = initialize(&a, json!({})).await;
    let mut req = call(5, "count_down", json!({"from": 3}));
    req["params"]["_meta"] = json!({"progressToken": "p1"});
    let mut on_a = Sse::new(post(&a, Some(&sid), req).await);
    let (first_id, first) = on_a.next().await.expect("first progress");
    assert_eq!(first["method"], "notifications/progress");
    let first_id = first_id.expect("id");
    let rest_on_a = on_a.until(|v| v["id"] == 5).await;
    // The client lost A after the first event and resumes on B.
    let mut on_b = Sse::new(get(&b, &sid, Some(&first_id)).await);
    let mut replayed = Vec::new();
    while let Some(e) = on_b.next().await {
        replayed.push(e);
    }
    assert_eq!(
        replayed, rest_on_a,
        "B replays exactly what A sent after the cursor, with the same ids, then ends"
    );
    assert_eq!(
        replayed.last().expect("result").1["result"]["content"][0]["text"],
        "liftoff"
    );
    // A cursor naming no stream of the session is still 400.
    let r = get(&b, &sid, Some("nostream_1")).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_elicitation_answer_posted_to_b_resumes_the_call_on_a() {
    let Some(redis) = redis() else { return };
    let (a, b) = pair(&redis).await;
    let sid = initialize(&a, json!({"elicitation": {}})).await;
    let mut on_a = Sse::new(post(&a, Some(&sid), call(7, "ask_name", json!({}))).await);
    let events = on_a.until(|v| v["method"] == "elicitation/create").await;
    let request = &events.last().expect("request").1;
    let request_id = request["id"].clone();
    let r = post(
        &b,
        Some(&sid),
        json!({"jsonrpc": "2.0", "id": request_id,
               "result": {"action": "accept", "content": {"name": "Ada"}}}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let events = on_a.until(|v| v["id"] == 7).await;
    assert_eq!(
        events.last().expect("result").1["result"]["content"][0]["text"],
        "hello Ada"
    );
}

#[tokio::test]
async fn a_session_deleted_on_a_is_gone_on_b() {
    let Some(redis) = redis() else { return };
    let (a, b) = pair(&redis).await;
    let sid = initialize(&a, json!({})).await;
    // B holds a replica, and a GET stream, before the deletion.
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    assert_eq!(
        post(&b, Some(&sid), ping.clone()).await.status(),
        StatusCode::OK
    );
    let mut stream_on_b = Sse::new(get(&b, &sid, None).await);
    let r = client()
        .delete(&a.url)
        .header("mcp-session-id", &sid)
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        post(&b, Some(&sid), ping.clone()).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post(&a, Some(&sid), ping).await.status(),
        StatusCode::NOT_FOUND
    );
    // B's GET stream ends with the session.
    assert!(stream_on_b.next().await.is_none());
}

#[tokio::test]
async fn redis_down_is_503_and_the_instances_recover_when_it_returns() {
    let Some(mut redis) = redis() else { return };
    let (a, b) = pair(&redis).await;
    let sid = initialize(&a, json!({})).await;
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    redis.stop();
    for s in [&a, &b] {
        let started = std::time::Instant::now();
        let r = post(s, Some(&sid), ping.clone()).await;
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()["retry-after"], "1");
        let v = body(&r.bytes().await.expect("body"));
        let message = v["error"]["message"].as_str().expect("message");
        assert!(
            message.contains("shared session store is unavailable"),
            "{message}"
        );
        assert!(started.elapsed() < Duration::from_secs(3), "fails fast");
    }
    let r = post(
        &a,
        None,
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"}}}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    // The 2026-07-28 era has no session: it keeps working without Redis.
    let r = client()
        .post(&b.url)
        .header("accept", BOTH)
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/list")
        .body(
            json!({"jsonrpc": "2.0", "id": 9, "method": "tools/list", "params": {"_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
                "io.modelcontextprotocol/clientCapabilities": {}}}})
            .to_string(),
        )
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::OK);
    redis.restart().expect("redis restarts");
    // This test Redis persists nothing: the old session is gone (404), new ones work.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let r = post(&b, Some(&sid), ping.clone()).await;
        if r.status() == StatusCode::NOT_FOUND {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no recovery: {}",
            r.status()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sid = initialize(&a, json!({})).await;
    let r = post(&b, Some(&sid), call(2, "echo", json!({"message": "back"}))).await;
    assert_eq!(r.status(), StatusCode::OK);
    // The bus is back too: a list change on B reaches A's GET stream.
    let mut stream = Sse::new(get(&a, &sid, None).await);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let r = post(&b, Some(&sid), call(3, "announce", json!({}))).await;
        assert_eq!(r.status(), StatusCode::OK);
        let got = tokio::time::timeout(Duration::from_millis(500), stream.next()).await;
        if let Ok(Some((_, v))) = got
            && v["method"] == "notifications/tools/list_changed"
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "bus did not recover");
    }
}

#[tokio::test]
async fn msign_nonces_are_shared_between_instances() {
    let Some(redis) = redis() else { return };
    let make = || {
        RedisBackplane::new(
            &redis.url(),
            "nonce-test",
            Duration::from_secs(60),
            10,
            Duration::from_millis(500),
        )
        .expect("backplane")
    };
    let (a, b) = (make(), make());
    let now = 1_000;
    assert!(
        a.nonces()
            .insert("ada", "n-1", now, now + 300)
            .await
            .expect("insert")
    );
    assert!(
        !b.nonces()
            .insert("ada", "n-1", now, now + 300)
            .await
            .expect("insert")
    );
    assert!(
        b.nonces()
            .insert("bob", "n-1", now, now + 300)
            .await
            .expect("insert")
    );
    drop(redis);
    let e = a.nonces().insert("ada", "n-2", now, now + 300).await;
    assert!(
        matches!(e, Err(musehub_mcp::shared::SharedError::Unavailable(_))),
        "{e:?}"
    );
}

/// The same sharing without Redis: two servers of one process on a `MemoryBackplane`.
#[tokio::test]
async fn the_in_process_backplane_shares_sessions_and_answers() {
    let store = musehub_mcp::shared::MemoryBackplane::new(Duration::from_secs(60), 100);
    let on = |b: musehub_mcp::shared::MemoryBackplane| {
        musehub_tests::build_with(ServerConfig::default(), move |builder| {
            builder.backplane(std::sync::Arc::new(b))
        })
    };
    let a = musehub_tests::serve(on(store.instance_handle())).await;
    let b = musehub_tests::serve(on(store.instance_handle())).await;
    let sid = initialize(&a, json!({"elicitation": {}})).await;
    let mut on_a = Sse::new(post(&a, Some(&sid), call(7, "ask_name", json!({}))).await);
    let events = on_a.until(|v| v["method"] == "elicitation/create").await;
    let request_id = events.last().expect("request").1["id"].clone();
    let r = post(
        &b,
        Some(&sid),
        json!({"jsonrpc": "2.0", "id": request_id,
               "result": {"action": "accept", "content": {"name": "Grace"}}}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let events = on_a.until(|v| v["id"] == 7).await;
    assert_eq!(
        events.last().expect("result").1["result"]["content"][0]["text"],
        "hello Grace"
    );
    let r = client()
        .delete(&b.url)
        .header("mcp-session-id", &sid)
        .send()
        .await
        .expect("delete");
    assert_eq!(r.status(), StatusCode::OK);
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    assert_eq!(
        post(&a, Some(&sid), ping).await.status(),
        StatusCode::NOT_FOUND
    );
}

/// A 2026-07-28 request: the envelope in `_meta`, the headers mirrored from the body.
async fn modern(s: &TestServer, id: i64, method: &str, mut params: Value, caps: Value) -> Response {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "scale-out", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": caps
    });
    let mut req = client()
        .post(&s.url)
        .header("accept", BOTH)
        .header("content-type", "application/json")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method);
    if let Some(name) = params.get("name").and_then(Value::as_str) {
        req = req.header("mcp-name", name.to_string());
    }
    req.body(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string())
        .send()
        .await
        .expect("post")
}

async fn discover(s: &TestServer, id: i64) -> Response {
    modern(s, id, "server/discover", json!({}), json!({})).await
}

#[tokio::test]
async fn rate_limits_are_shared_and_fall_back_to_each_instance_while_redis_is_down() {
    let Some(mut redis) = redis() else { return };
    let limited = |redis: &RedisServer| {
        build_with(config(redis), |b| {
            b.rate_limits(RateLimits::new(&{
                let mut c = RateLimitConfig::default();
                c.anonymous_per_minute = 4;
                c
            }))
        })
    };
    let a = serve(limited(&redis)).await;
    let b = serve(limited(&redis)).await;
    // Four requests a minute from this address, across both instances: not four each.
    for (i, s) in [&a, &b, &a, &b].into_iter().enumerate() {
        assert_eq!(
            discover(s, i as i64).await.status(),
            StatusCode::OK,
            "request {i}"
        );
    }
    for s in [&a, &b] {
        let r = discover(s, 9).await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()["ratelimit-limit"], "4");
        let wait: u64 = r.headers()["retry-after"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert!((1..=15).contains(&wait), "one request every 15 s: {wait}");
    }
    // Redis down: requests that need no session still get through, each instance applying
    // the limit on its own, instead of failing or going unlimited.
    redis.stop();
    for s in [&a, &b] {
        for i in 0..4 {
            assert_eq!(discover(s, i).await.status(), StatusCode::OK);
        }
        assert_eq!(discover(s, 5).await.status(), StatusCode::TOO_MANY_REQUESTS);
    }
}

#[tokio::test]
async fn a_request_state_sealed_on_a_opens_on_b_without_a_configured_key() {
    let Some(redis) = redis() else { return };
    let unkeyed = || {
        start({
            let mut c = config(&redis);
            c.state_key = None;
            c
        })
    };
    let (a, b) = (unkeyed().await, unkeyed().await);
    let caps = json!({"elicitation": {}});
    let r = modern(
        &a,
        1,
        "tools/call",
        json!({"name": "ask_name"}),
        caps.clone(),
    )
    .await;
    let v = body(&r.bytes().await.expect("body"));
    assert_eq!(v["result"]["resultType"], "input_required", "{v}");
    let state = v["result"]["requestState"].clone();
    let answer = json!({"elicitation-1": {"action": "accept", "content": {"name": "Ada"}}});
    let r = modern(
        &b,
        2,
        "tools/call",
        json!({"name": "ask_name", "inputResponses": answer, "requestState": state}),
        caps,
    )
    .await;
    let v = body(&r.bytes().await.expect("body"));
    assert_eq!(v["result"]["content"][0]["text"], "hello Ada", "{v}");
}

#[tokio::test]
async fn a_listen_stream_on_a_hears_changes_raised_on_b() {
    let Some(redis) = redis() else { return };
    let (a, b) = pair(&redis).await;
    let mut listen = Sse::new(
        modern(
            &a,
            42,
            "subscriptions/listen",
            json!({"notifications": {"toolsListChanged": true, "resourceSubscriptions": ["mem://readme"]}}),
            json!({}),
        )
        .await,
    );
    listen
        .until(|v| v["method"] == "notifications/subscriptions/acknowledged")
        .await;
    let r = modern(&b, 1, "tools/call", json!({"name": "announce"}), json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let events = listen.until(|v| v["method"].is_string()).await;
    assert_eq!(
        events.last().expect("event").1["method"],
        "notifications/tools/list_changed",
        "{events:?}"
    );
    b.server.notify_resource_updated("mem://readme");
    let events = listen.until(|v| v["method"].is_string()).await;
    let (_, updated) = events.last().expect("event");
    assert_eq!(
        updated["method"], "notifications/resources/updated",
        "{events:?}"
    );
    assert_eq!(updated["params"]["uri"], "mem://readme");
}
