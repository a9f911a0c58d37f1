//! Hostile and slow clients meet configurable limits with clear errors, and the server keeps
//! serving everyone else: JSON nesting, requests in flight per session and per address, open
//! streams per session, pending client requests per session, and the header read timeout.

use std::time::Duration;

use futures::StreamExt;
use musehub_mcp::ServerConfig;
use musehub_mcp::serde_json::{Value, json};
use musehub_tests::{TestServer, start};
use reqwest::{Client, Response, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BOTH: &str = "application/json, text/event-stream";

async fn post(s: &TestServer, session: Option<&str>, body: String) -> Response {
    let mut rb = Client::new()
        .post(&s.url)
        .header("accept", BOTH)
        .header("content-type", "application/json");
    if let Some(id) = session {
        rb = rb.header("mcp-session-id", id);
    }
    rb.body(body).send().await.unwrap()
}

async fn init(s: &TestServer, caps: Value) -> String {
    let r = post(s, None, json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": caps, "clientInfo": {"name": "t", "version": "1"}}}).to_string()).await;
    r.headers()["mcp-session-id"].to_str().unwrap().to_string()
}

async fn json_of(r: Response) -> Value {
    musehub_mcp::serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
}

fn ping(id: i64) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "ping"}).to_string()
}

fn sleepy(id: i64, ms: u64) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "sleepy", "arguments": {"ms": ms}}}).to_string()
}

/// A 500 ms call on `sid`, in the background; resolves to its HTTP status.
fn spawn_slow_call(s: &TestServer, sid: &str) -> tokio::task::JoinHandle<StatusCode> {
    let (url, id) = (s.url.clone(), sid.to_string());
    tokio::spawn(async move {
        Client::new()
            .post(&url)
            .header("accept", BOTH)
            .header("content-type", "application/json")
            .header("mcp-session-id", id)
            .body(sleepy(1, 500))
            .send()
            .await
            .unwrap()
            .status()
    })
}

#[tokio::test]
async fn deep_nesting_is_refused_before_parsing() {
    let s = start({
        let mut c = ServerConfig::default();
        c.max_json_depth = 16;
        c
    })
    .await;
    let sid = init(&s, json!({})).await;
    let deep = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{{\"x\":{}1{}}}}}",
        "[".repeat(40),
        "]".repeat(40)
    );
    let r = post(&s, Some(&sid), deep).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        json_of(r).await,
        json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32600, "message": "Invalid Request: JSON nested deeper than 16 levels"}})
    );
    assert_eq!(post(&s, Some(&sid), ping(2)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn requests_in_flight_per_session_are_capped() {
    let s = start({
        let mut c = ServerConfig::default();
        c.max_in_flight_per_session = 1;
        c
    })
    .await;
    let sid = init(&s, json!({})).await;
    let slow = spawn_slow_call(&s, &sid);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let r = post(&s, Some(&sid), ping(2)).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(
        json_of(r).await["error"]["message"],
        "Too Many Requests: 1 requests are already in flight on this session"
    );
    // Another session is not affected, and this one recovers.
    let other = init(&s, json!({})).await;
    assert_eq!(
        post(&s, Some(&other), ping(3)).await.status(),
        StatusCode::OK
    );
    assert_eq!(slow.await.unwrap(), StatusCode::OK);
    assert_eq!(post(&s, Some(&sid), ping(4)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn requests_in_flight_per_address_are_capped() {
    let s = start({
        let mut c = ServerConfig::default();
        c.max_in_flight_per_ip = 1;
        c
    })
    .await;
    let sid = init(&s, json!({})).await;
    let slow = spawn_slow_call(&s, &sid);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let r = post(&s, Some(&sid), ping(2)).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        json_of(r).await["error"]["message"],
        "Too Many Requests: too many requests in flight from this address"
    );
    assert_eq!(slow.await.unwrap(), StatusCode::OK);
    assert_eq!(post(&s, Some(&sid), ping(3)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn open_streams_per_session_are_capped() {
    let s = start({
        let mut c = ServerConfig::default();
        c.max_streams_per_session = 1;
        c
    })
    .await;
    let sid = init(&s, json!({})).await;
    let get = || {
        Client::new()
            .get(&s.url)
            .header("accept", "text/event-stream")
            .header("mcp-session-id", &sid)
            .send()
    };
    let first = get().await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let mut body = first.bytes_stream();
    let _priming = body.next().await;
    let second = get().await.unwrap();
    assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        json_of(second).await["error"]["message"],
        "Too Many Requests: this session already has 1 open streams; close one first"
    );
    drop(body);
    // The slot frees when the connection goes; the server notices on its next write.
    let mut ok = false;
    for _ in 0..40 {
        s.server.notify_list_changed("tools");
        tokio::time::sleep(Duration::from_millis(50)).await;
        if get().await.unwrap().status() == StatusCode::OK {
            ok = true;
            break;
        }
    }
    assert!(ok, "a closed stream gives its slot back");
}

#[tokio::test]
async fn pending_client_requests_per_session_are_capped() {
    let s = start({
        let mut c = ServerConfig::default();
        c.max_pending_requests_per_session = 1;
        c
    })
    .await;
    let sid = init(&s, json!({"elicitation": {}})).await;
    let ask = |id: i64| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "ask_name"}})
            .to_string()
    };
    let first = post(&s, Some(&sid), ask(1)).await;
    assert_eq!(first.headers()["content-type"], "text/event-stream");
    let mut body = first.bytes_stream();
    let _ = body.next().await;
    let second = post(&s, Some(&sid), ask(2)).await;
    let text = second.text().await.unwrap();
    let last = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .rfind(|d| !d.trim().is_empty())
        .unwrap_or(&text)
        .to_string();
    let v: Value = musehub_mcp::serde_json::from_str(&last).unwrap();
    assert_eq!(
        v["result"]["structuredContent"]["error"]["code"],
        "too_many_pending_requests"
    );
}

#[tokio::test]
async fn slow_headers_are_cut_off() {
    let s = start({
        let mut c = ServerConfig::default();
        c.header_read_timeout = Duration::from_millis(300);
        c
    })
    .await;
    let mut tcp = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    tcp.write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut buf = [0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
        .await
        .expect("closed in time")
        .unwrap_or(0);
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "not before the timeout"
    );
    // Either a plain close or a 408 before the close.
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(n == 0 || head.starts_with("HTTP/1.1 408"), "{head}");
    // Everyone else is still served.
    let sid = init(&s, json!({})).await;
    assert_eq!(post(&s, Some(&sid), ping(1)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_call_past_its_timeout_is_stopped() {
    let s = start({
        let mut c = ServerConfig::default();
        c.call_timeout = Duration::from_millis(200);
        c
    })
    .await;
    let sid = init(&s, json!({})).await;
    let started = std::time::Instant::now();
    let v = json_of(post(&s, Some(&sid), sleepy(1, 5_000)).await).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(v["result"]["isError"], true);
    assert_eq!(
        v["result"]["structuredContent"]["error"],
        json!({"code": "timeout", "message": "tool `sleepy` did not finish within 0.2 s and was stopped"})
    );
    assert_eq!(post(&s, Some(&sid), ping(2)).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_oversize_request_head_is_431_and_a_larger_bound_admits_it() {
    let padding = "x".repeat(10 * 1024);
    let s = start(ServerConfig::default()).await;
    let r = Client::new()
        .post(&s.url)
        .header("accept", BOTH)
        .header("content-type", "application/json")
        .header("x-padding", padding.as_str())
        .body(ping(1))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    // The server goes on serving; a large body is no request head and still streams through.
    let big = json!({"jsonrpc": "2.0", "id": 2, "method": "ping", "params": {"_meta": {"pad": "y".repeat(64 * 1024)}}});
    let r = post(&s, None, big.to_string()).await;
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "no session, but read and parsed"
    );

    let roomy = start({
        let mut c = ServerConfig::default();
        c.http1_max_buf_bytes = 64 * 1024;
        c
    })
    .await;
    let r = Client::new()
        .post(&roomy.url)
        .header("accept", BOTH)
        .header("content-type", "application/json")
        .header("x-padding", padding.as_str())
        .body(
            json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
