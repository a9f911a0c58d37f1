//! Shared helpers: a seeded hub and in-process calls, on a fresh database per test.
//!
//! The database is an in-memory SQLite one, or, when `MUSEHUB_TEST_DATABASE_URL` names a
//! PostgreSQL server (`postgres://USER@HOST:PORT/DB`), a new database `musehub_test_<uuid>`
//! created on that server for the test (use a throwaway server: they are not dropped).
#![allow(dead_code)]

pub mod commits;

use std::sync::Arc;

use musehub_mcp::Identity;
use musehub_mcp::serde_json::{Value, json};
use musehub_mcp::{Caller, Server, ServerConfig};
use musehub_server::{Db, HubSettings};

pub struct Hub {
    pub server: Arc<Server>,
    pub db: Db,
}

pub fn user(handle: &str) -> Caller {
    Caller {
        identity: Some(Identity::new(handle, musehub_mcp::Scheme::Trusted)),
    }
}

pub fn anon() -> Caller {
    Caller::anonymous()
}

/// The PostgreSQL server the tests run against, if any.
pub fn postgres_url() -> Option<String> {
    std::env::var("MUSEHUB_TEST_DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres:") || u.starts_with("postgresql:"))
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let authority_end = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// The URL of a fresh, empty database for one test: `sqlite::memory:`, or a new PostgreSQL
/// database when `MUSEHUB_TEST_DATABASE_URL` is set.
pub async fn fresh_database_url() -> String {
    match postgres_url() {
        None => "sqlite::memory:".into(),
        Some(url) => {
            use sqlx::Connection;
            sqlx::any::install_default_drivers();
            let name = format!("musehub_test_{}", uuid::Uuid::new_v4().simple());
            let mut conn = sqlx::AnyConnection::connect(&url)
                .await
                .expect("MUSEHUB_TEST_DATABASE_URL: connecting");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("CREATE DATABASE");
            let _ = conn.close().await;
            with_database(&url, &name)
        }
    }
}

/// A fresh database with the schema and no data.
pub async fn test_db() -> Db {
    test_db_with(HubSettings::default()).await
}

/// A fresh database with the schema and no data, with these settings.
pub async fn test_db_with(mut settings: HubSettings) -> Db {
    let url = fresh_database_url().await;
    if settings.objects_dir.is_none() {
        settings.objects_dir = objects_dir();
    }
    Db::connect(&url, settings).await.expect("database")
}

/// Where a test's objects go: a PostgreSQL database has no file to keep them next to (the
/// default would be `./musehub-objects` in the source tree), so each test gets its own
/// directory; SQLite's default (next to the file, or temporary for `:memory:`) is kept.
pub fn objects_dir() -> Option<std::path::PathBuf> {
    postgres_url().map(|_| temp_dir("objects"))
}

/// A new directory under the system temp dir.
pub fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("musehub-{tag}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A fresh database with the demo hub.
pub async fn hub() -> Hub {
    hub_with(HubSettings::default()).await
}

pub async fn hub_with(settings: HubSettings) -> Hub {
    let db = test_db_with(settings).await;
    assert!(musehub_server::seed::seed_demo(&db).await.expect("seed"));
    let server = musehub_server::build_server(
        db.clone(),
        ServerConfig::default(),
        &musehub_server::AuthSettings::default(),
    )
    .expect("server");
    Hub { server, db }
}

/// A fresh database without demo data.
pub async fn empty_hub() -> Hub {
    let db = test_db().await;
    let server = musehub_server::build_server(
        db.clone(),
        ServerConfig::default(),
        &musehub_server::AuthSettings::default(),
    )
    .expect("server");
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
