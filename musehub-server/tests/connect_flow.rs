//! The browser half of URL-mode elicitation: the connect tool hands out a URL, the page it
//! points to asks the user, confirming marks the connection `connected` and sends
//! `notifications/elicitation/complete` to the caller's sessions (`Server::notify_sessions_of`,
//! whose choice of sessions the framework's own tests check); the link works once.

mod common;

use common::*;
use musehub_mcp::serde_json::json;
use sqlx::Row;

#[tokio::test]
async fn the_connect_url_completes_the_elicitation() {
    let h = hub().await;
    let out = h
        .server
        .call_as_client(
            user("alice"),
            json!({"elicitation": {"form": {}, "url": {}}}),
            "tools/call",
            json!({"name": "musehub_connect_streaming_platform", "arguments": {"service": "Bandcamp", "confirm": true}}),
            |_, params| {
                if params["mode"] == "url" {
                    json!({"action": "accept"})
                } else {
                    json!({"action": "accept", "content": {"service": "Bandcamp", "confirm": true}})
                }
            },
        )
        .await;
    let c = out.result.expect("a result")["structuredContent"].clone();
    assert_eq!(c["status"], "pending_authorization", "{c}");
    let id = c["elicitation_id"].as_str().unwrap().to_string();
    let connect_url = c["connect_url"].as_str().unwrap();
    let path = &connect_url[connect_url.find("/mcp/connect").expect("a connect path")..];

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = musehub_server::http::app(h.server.clone(), h.db.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(musehub_mcp::transport::http::serve_router(
        h.server.clone(),
        app,
        listener,
        async {
            let _ = stopped.await;
        },
    ));

    let page = reqwest::get(format!("{base}{path}")).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("default-src 'none'")
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Authorise MuseHub to connect <strong>alice</strong>"),
        "{html}"
    );
    assert!(html.contains(&format!("value=\"{id}\"")));

    let complete = || {
        reqwest::Client::new()
            .post(format!("{base}/mcp/connect/complete"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("elicitation_id={id}"))
            .send()
    };
    let done = complete().await.unwrap();
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("Bandcamp connected"));
    let status: String = sqlx::query("SELECT status FROM connections WHERE elicitation_id = $1")
        .bind(&id)
        .fetch_one(h.db.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(status, "connected");

    // The link works once; a forged id finds nothing; a bad one is refused.
    assert_eq!(complete().await.unwrap().status(), 404);
    assert_eq!(
        reqwest::get(format!("{base}/mcp/connect/bandcamp?elicitation_id=nope"))
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        reqwest::get(format!(
            "{base}/mcp/connect/bandcamp?elicitation_id=%3Cscript%3E"
        ))
        .await
        .unwrap()
        .status(),
        400
    );
    let _ = stop.send(());
}
