//! The stdio transport: one JSON-RPC message per line, notifications before the response,
//! errors for malformed lines, and the server keeps reading after each.

use std::time::Duration;

use musehub_mcp::ServerConfig;
use musehub_mcp::serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

#[tokio::test]
async fn lines_in_lines_out() {
    let server = musehub_tests::build(ServerConfig::default());
    let (client_side, server_side) = tokio::io::duplex(64 * 1024);
    let (server_read, server_write) = tokio::io::split(server_side);
    tokio::spawn(musehub_mcp::transport::stdio::serve_io(
        server,
        server_read,
        server_write,
    ));
    let (client_read, mut client_write) = tokio::io::split(client_side);
    let mut lines = BufReader::new(client_read).lines();
    let mut next = async || -> Value {
        let line = tokio::time::timeout(Duration::from_secs(5), lines.next_line())
            .await
            .expect("a line in time")
            .expect("read")
            .expect("not closed");
        musehub_mcp::serde_json::from_str(&line).expect("each line is one JSON message")
    };

    let send = |v: Value| format!("{v}\n");
    client_write
        .write_all(send(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}})).as_bytes())
        .await
        .unwrap();
    assert_eq!(next().await["result"]["protocolVersion"], "2024-11-05");

    client_write.write_all(b"{not json\n").await.unwrap();
    let v = next().await;
    assert_eq!(v["id"], Value::Null);
    assert_eq!(v["error"]["code"], -32700);

    client_write
        .write_all(
            send(
                json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
            "name": "count_down", "arguments": {"from": 2}, "_meta": {"progressToken": "p"}}}),
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let a = next().await;
    let b = next().await;
    let c = next().await;
    assert_eq!(a["method"], "notifications/progress");
    assert_eq!(
        b["params"],
        json!({"progressToken": "p", "progress": 2.0, "total": 2.0})
    );
    assert_eq!(
        c,
        json!({"jsonrpc": "2.0", "id": 2, "result": {"content": [{"type": "text", "text": "liftoff"}]}})
    );

    // A modern request on the same pipe: the envelope selects 2026-07-28 per request.
    let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}});
    client_write
        .write_all(send(json!({"jsonrpc": "2.0", "id": 3, "method": "server/discover", "params": {"_meta": meta}})).as_bytes())
        .await
        .unwrap();
    let v = next().await;
    assert_eq!(v["result"]["supportedVersions"][0], "2026-07-28");
    assert_eq!(v["result"]["resultType"], "complete");
    let mut bad = meta.clone();
    bad["io.modelcontextprotocol/protocolVersion"] = "1900-01-01".into();
    client_write
        .write_all(send(json!({"jsonrpc": "2.0", "id": 4, "method": "tools/list", "params": {"_meta": bad}})).as_bytes())
        .await
        .unwrap();
    assert_eq!(next().await["error"]["code"], -32022);

    client_write.write_all(b"[]\n").await.unwrap();
    assert_eq!(next().await["error"]["code"], -32600);
    client_write
        .write_all(send(json!({"jsonrpc": "2.0", "id": "last", "method": "ping"})).as_bytes())
        .await
        .unwrap();
    assert_eq!(
        next().await,
        json!({"jsonrpc": "2.0", "id": "last", "result": {}})
    );
}

#[tokio::test]
async fn a_trusted_local_caller_can_write() {
    use musehub_mcp::{Caller, Identity};
    let server = musehub_tests::build(ServerConfig::default());
    let (client_side, server_side) = tokio::io::duplex(64 * 1024);
    let (server_read, server_write) = tokio::io::split(server_side);
    let ada = Caller {
        identity: Some(Identity::new("ada", musehub_mcp::Scheme::Trusted)),
    };
    tokio::spawn(musehub_mcp::transport::stdio::serve_io_as(
        server,
        ada,
        server_read,
        server_write,
    ));
    let (client_read, mut client_write) = tokio::io::split(client_side);
    let mut lines = BufReader::new(client_read).lines();
    client_write
        .write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"write_note\",\"arguments\":{\"text\":\"abc\"}}}\n")
        .await
        .unwrap();
    let line = tokio::time::timeout(Duration::from_secs(5), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let v: Value = musehub_mcp::serde_json::from_str(&line).unwrap();
    assert_eq!(v["result"]["content"][0]["text"], "stored 3 bytes");
}
