//! Shared helpers: a seeded in-memory hub and in-process calls.
#![allow(dead_code)]

use std::sync::Arc;

use musehub_mcp::context::Identity;
use musehub_mcp::serde_json::{Value, json};
use musehub_mcp::{Caller, Server, ServerConfig};
use musehub_server::{Db, HubSettings};

pub struct Hub {
    pub server: Arc<Server>,
    pub db: Db,
}

pub fn user(handle: &str) -> Caller {
    Caller {
        identity: Some(Identity {
            handle: handle.into(),
            is_agent: false,
            agent_name: None,
        }),
    }
}

pub fn anon() -> Caller {
    Caller::anonymous()
}

/// A fresh in-memory database with the demo hub.
pub async fn hub() -> Hub {
    hub_with(HubSettings::default()).await
}

pub async fn hub_with(settings: HubSettings) -> Hub {
    let db = Db::connect("sqlite::memory:", settings)
        .await
        .expect("database");
    assert!(musehub_server::seed::seed_demo(&db).await.expect("seed"));
    let server = musehub_server::build_server(db.clone(), ServerConfig::default()).expect("server");
    Hub { server, db }
}

/// A fresh in-memory database without demo data.
pub async fn empty_hub() -> Hub {
    let db = Db::memory().await.expect("database");
    let server = musehub_server::build_server(db.clone(), ServerConfig::default()).expect("server");
    Hub { server, db }
}

impl Hub {
    /// `tools/call`; returns the CallToolResult JSON.
    pub async fn call(&self, caller: &Caller, tool: &str, args: Value) -> Value {
        self.server
            .call(
                caller.clone(),
                "tools/call",
                json!({ "name": tool, "arguments": args }),
            )
            .await
            .unwrap_or_else(|e| panic!("{tool}: protocol error {e:?}"))
    }

    /// A successful call's structuredContent.
    pub async fn ok(&self, caller: &Caller, tool: &str, args: Value) -> Value {
        let r = self.call(caller, tool, args).await;
        assert_ne!(r["isError"], json!(true), "{tool} failed: {r}");
        r["structuredContent"].clone()
    }

    /// A failed call's error code (checks the error shape too).
    pub async fn err(&self, caller: &Caller, tool: &str, args: Value) -> String {
        let r = self.call(caller, tool, args).await;
        assert_eq!(
            r["isError"],
            json!(true),
            "{tool} unexpectedly succeeded: {r}"
        );
        let e = &r["structuredContent"]["error"];
        let message = e["message"].as_str().expect("error message");
        assert_eq!(
            r["content"][0]["text"].as_str(),
            Some(message),
            "text mirrors the message"
        );
        assert!(
            !message.contains("sqlx") && !message.contains("panicked"),
            "leak: {message}"
        );
        e["code"].as_str().expect("error code").to_string()
    }

    pub async fn read(&self, caller: &Caller, uri: &str) -> Result<Value, musehub_mcp::McpError> {
        let r = self
            .server
            .call(caller.clone(), "resources/read", json!({ "uri": uri }))
            .await?;
        let text = r["contents"][0]["text"].as_str().expect("text contents");
        assert_eq!(r["contents"][0]["mimeType"], json!("application/json"));
        Ok(musehub_mcp::serde_json::from_str(text).expect("JSON contents"))
    }

    pub async fn repo_id(&self, owner: &str, slug: &str) -> String {
        self.ok(
            &user(owner),
            "musehub_get_context",
            json!({"owner": owner, "slug": slug}),
        )
        .await["repo"]["repo_id"]
            .as_str()
            .unwrap()
            .to_string()
    }
}
