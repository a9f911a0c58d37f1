//! Replays the hostile-input corpus (`tests/corpus/`) against the HTTP and stdio transports:
//! every case gets its expected status and error code, and a normal request is served right
//! after each one.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use musehub_mcp::ServerConfig;
use musehub_mcp::auth::{MSignSigner, MSignVerifier, MemoryKeyStore};
use musehub_mcp::serde_json::{Value, json};
use musehub_tests::{TestServer, build_with, serve};
use reqwest::{Client, Method, StatusCode};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

fn cases(dir: &str) -> Vec<(String, Value)> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/");
    let mut files: Vec<_> = std::fs::read_dir(format!("{root}{dir}"))
        .expect("corpus folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("readable");
        let list: Vec<Value> = musehub_mcp::serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        for case in list {
            let name = format!(
                "{} / {}",
                f.file_name().unwrap().to_string_lossy(),
                case["name"].as_str().unwrap_or("?")
            );
            out.push((name, case));
        }
    }
    out
}

fn body_of(case: &Value) -> Vec<u8> {
    if let Some(b) = case.get("body").and_then(Value::as_str) {
        return b.as_bytes().to_vec();
    }
    if let Some(b) = case.get("body_b64").and_then(Value::as_str) {
        return base64::engine::general_purpose::STANDARD
            .decode(b)
            .expect("base64");
    }
    if let Some(r) = case.get("body_repeat").and_then(Value::as_array) {
        return r[0]
            .as_str()
            .unwrap()
            .repeat(r[1].as_u64().unwrap() as usize)
            .into_bytes();
    }
    if let Some(r) = case.get("body_repeat_json").and_then(Value::as_array) {
        let middle = r[1]
            .as_str()
            .unwrap()
            .repeat(r[2].as_u64().unwrap() as usize);
        return format!(
            "{}{}{}",
            r[0].as_str().unwrap(),
            middle,
            r[3].as_str().unwrap()
        )
        .into_bytes();
    }
    match case.get("body_json") {
        Some(v) => v.to_string().into_bytes(),
        None => Vec::new(),
    }
}

async fn session(s: &TestServer) -> String {
    let r = Client::new().post(&s.url).header("accept", "application/json, text/event-stream").header("content-type", "application/json")
        .body(json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}).to_string())
        .send().await.unwrap();
    r.headers()["mcp-session-id"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn http_corpus() {
    let store = MemoryKeyStore::new();
    store.add(
        "ada",
        MSignSigner::from_seed("ada", &std::array::from_fn(|i| i as u8)).public_key(),
        None,
    );
    let verifier = MSignVerifier::new(Arc::new(store));
    let s = serve(build_with(ServerConfig::default(), |b| b.auth(verifier))).await;
    let stranger = MSignSigner::new("ada", MSignSigner::generate_key());
    let mut failures = Vec::new();
    let all = cases("http");
    assert!(all.len() >= 80, "the corpus has {} cases", all.len());
    for (name, case) in &all {
        let sid = session(&s).await;
        let method = Method::from_bytes(
            case.get("method")
                .and_then(Value::as_str)
                .unwrap_or("POST")
                .as_bytes(),
        )
        .unwrap();
        let mut headers = vec![
            (
                "accept".to_string(),
                Some("application/json, text/event-stream".to_string()),
            ),
            (
                "content-type".to_string(),
                Some("application/json".to_string()),
            ),
        ];
        if let Some(Value::Object(extra)) = case.get("headers") {
            for (k, v) in extra {
                headers.retain(|(hk, _)| hk != k);
                let v = match v.as_str() {
                    Some("$msign_unknown_key") => {
                        Some(stranger.sign_parts("POST", "/mcp", &body_of(case), Some(&sid)))
                    }
                    Some(text) => Some(text.to_string()),
                    None => None,
                };
                headers.push((k.clone(), v));
            }
        }
        match case.get("session").and_then(Value::as_str) {
            Some("valid") => headers.push(("mcp-session-id".into(), Some(sid.clone()))),
            Some("$long") => headers.push(("mcp-session-id".into(), Some("s".repeat(4000)))),
            Some(literal) => headers.push(("mcp-session-id".into(), Some(literal.to_string()))),
            None => {}
        }
        let mut rb = Client::new()
            .request(method, &s.url)
            .timeout(Duration::from_secs(10));
        for (k, v) in headers.into_iter() {
            if let Some(v) = v {
                if k == "host" {
                    rb = rb.header(reqwest::header::HOST, v);
                } else {
                    rb = rb.header(k, v);
                }
            }
        }
        let r = match rb.body(body_of(case)).send().await {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{name}: request failed: {e}"));
                continue;
            }
        };
        let status = r.status().as_u16();
        let body = r.bytes().await.unwrap_or_default();
        let parsed: Value = musehub_mcp::serde_json::from_slice(&body).unwrap_or(Value::Null);
        let expect = &case["expect"];
        if expect["status"].as_u64() != Some(u64::from(status)) {
            failures.push(format!(
                "{name}: status {status}, expected {}: {}",
                expect["status"],
                String::from_utf8_lossy(&body[..body.len().min(300)])
            ));
        }
        if let Some(code) = expect.get("code").and_then(Value::as_i64)
            && parsed["error"]["code"].as_i64() != Some(code)
        {
            failures.push(format!(
                "{name}: error code {}, expected {code}",
                parsed["error"]["code"]
            ));
        }
        if expect.get("is_error") == Some(&Value::Bool(true))
            && parsed["result"]["isError"] != Value::Bool(true)
        {
            failures.push(format!("{name}: expected an isError result, got {parsed}"));
        }
        // Nothing attacker-controlled comes back unbounded.
        if body.len() > 8 * 1024 {
            failures.push(format!("{name}: the answer is {} bytes", body.len()));
        }
        // And the server still serves a normal request.
        let ok = Client::new()
            .post(&s.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-session-id", &sid)
            .body(r#"{"jsonrpc":"2.0","id":99,"method":"ping"}"#)
            .send()
            .await;
        if !matches!(ok.map(|r| r.status()), Ok(StatusCode::OK)) {
            failures.push(format!("{name}: the next normal request was not served"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn stdio_corpus() {
    let server = musehub_tests::build(ServerConfig::default());
    let (client_side, server_side) = tokio::io::duplex(1 << 20);
    let (server_read, server_write) = tokio::io::split(server_side);
    tokio::spawn(musehub_mcp::transport::stdio::serve_io(
        server,
        server_read,
        server_write,
    ));
    let (client_read, mut client_write) = tokio::io::split(client_side);
    let mut lines = BufReader::new(client_read).lines();
    let mut failures = Vec::new();
    let all = cases("stdio");
    for (i, (name, case)) in all.iter().enumerate() {
        let mut line = match (
            case.get("line"),
            case.get("line_b64"),
            case.get("line_repeat"),
        ) {
            (Some(Value::String(l)), _, _) => l.as_bytes().to_vec(),
            (_, Some(Value::String(b)), _) => {
                base64::engine::general_purpose::STANDARD.decode(b).unwrap()
            }
            (_, _, Some(Value::Array(r))) => r[0]
                .as_str()
                .unwrap()
                .repeat(r[1].as_u64().unwrap() as usize)
                .into_bytes(),
            _ => panic!("{name}: no line"),
        };
        line.push(b'\n');
        client_write.write_all(&line).await.unwrap();
        // A ping with a unique id follows every case: it must be answered.
        let ping_id = format!("ping-{i}");
        client_write
            .write_all(
                format!("{{\"jsonrpc\":\"2.0\",\"id\":\"{ping_id}\",\"method\":\"ping\"}}\n")
                    .as_bytes(),
            )
            .await
            .unwrap();
        let mut answers = Vec::new();
        loop {
            let next = tokio::time::timeout(Duration::from_secs(5), lines.next_line()).await;
            let Ok(Ok(Some(l))) = next else {
                failures.push(format!("{name}: no answer to the following ping"));
                break;
            };
            let v: Value = musehub_mcp::serde_json::from_str(&l).unwrap_or(Value::Null);
            if v["id"] == json!(ping_id) {
                break;
            }
            answers.push(v);
        }
        let expect = &case["expect"];
        if expect.get("silent") == Some(&Value::Bool(true)) {
            if !answers.is_empty() {
                failures.push(format!("{name}: expected no answer, got {answers:?}"));
            }
        } else if let Some(code) = expect["code"].as_i64()
            && !answers
                .iter()
                .any(|a| a["error"]["code"].as_i64() == Some(code))
        {
            failures.push(format!("{name}: expected error {code}, got {answers:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}
