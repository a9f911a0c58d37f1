//! Shared fixtures for the integration tests: a set of tools, resources and prompts declared
//! in this crate (a second crate, `musehub-fixture-crate`, declares more), and helpers that
//! start a real server on a loopback port.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::{Value, json};

/// Echo the message back.
#[tool(read_only, title = "Echo")]
pub fn echo(#[arg(desc = "What to echo")] message: String) -> String {
    message
}

/// A sum.
#[schema(no_deserialize)]
pub struct Sum {
    /// a + b.
    pub sum: i64,
}

/// Add two integers.
#[tool(read_only)]
pub async fn add(a: i64, b: i64) -> Json<Sum> {
    Json(Sum { sum: a + b })
}

/// List the first `n` square numbers.
#[tool(read_only)]
pub fn squares(#[arg(desc = "How many", default = 3u32)] n: u32) -> Json<Vec<u64>> {
    Json((1..=n as u64).map(|i| i * i).collect())
}

/// Count down, reporting progress at each step.
#[tool(read_only)]
pub async fn count_down(progress: Progress, from: u32) -> String {
    for i in 0..from {
        progress
            .report(f64::from(i + 1), Some(f64::from(from)), None)
            .await;
    }
    "liftoff".into()
}

/// The answer of the name form.
#[schema]
pub struct NameForm {
    /// Your name.
    pub name: String,
}

/// Ask the user for their name.
#[tool(read_only)]
pub async fn ask_name(elicit: Elicitation) -> Result<String, ToolError> {
    match elicit.form::<NameForm>("What is your name?").await? {
        ElicitResult::Accept(f) => Ok(format!("hello {}", f.name)),
        ElicitResult::Decline => Ok("declined".into()),
        ElicitResult::Cancel => Ok("cancelled".into()),
    }
}

/// Wait until cancelled (or 30 s).
#[tool(read_only)]
pub async fn wait_for_cancel(cancel: CancellationToken) -> String {
    tokio::select! {
        _ = cancel.cancelled() => "cancelled".into(),
        _ = tokio::time::sleep(Duration::from_secs(30)) => "timed out".into(),
    }
}

/// Always fails.
#[tool(read_only)]
pub fn always_fails() -> Result<String, ToolError> {
    Err(ToolError::not_found("no such thing"))
}

/// Panics.
#[tool(read_only)]
pub fn panics() -> String {
    panic!("deliberate panic in a test tool")
}

/// Store a note (a write tool).
#[tool(write, destructive = false, idempotent = true)]
pub fn write_note(text: String) -> String {
    format!("stored {} bytes", text.len())
}

/// The notes' readme.
#[resource(uri = "mem://readme", mime_type = "text/markdown")]
pub fn readme() -> String {
    "# Notes".into()
}

/// One note by id.
#[resource(uri = "mem://notes/{id}", mime_type = "application/json")]
pub fn note(id: u32) -> Result<Json<Value>, ToolError> {
    if id == 0 {
        return Err(ToolError::not_found("note 0 does not exist"));
    }
    Ok(Json(json!({ "id": id })))
}

async fn complete_topic(c: Completion) -> Vec<String> {
    ["harmony", "melody", "rhythm"]
        .into_iter()
        .filter(|t| t.starts_with(&c.value))
        .map(String::from)
        .collect()
}

/// Summarise a topic.
#[prompt(title = "Summarise", complete(topic = complete_topic))]
pub fn summarize(#[arg(desc = "The topic")] topic: String, style: Option<String>) -> String {
    format!(
        "Summarise {topic} in a {} style.",
        style.as_deref().unwrap_or("plain")
    )
}

/// A running test server.
pub struct TestServer {
    /// `http://127.0.0.1:PORT/mcp`.
    pub url: String,
    /// Its address.
    pub addr: SocketAddr,
    /// The server, for inspecting sessions.
    pub server: Arc<Server>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Builds the test server with these settings.
pub fn build(config: ServerConfig) -> Arc<Server> {
    musehub_fixture_crate::link();
    Server::builder("musehub-tests")
        .title("MuseHub test server")
        .instructions("Test instructions.")
        .config(config)
        .build()
        .expect("registry builds")
}

/// Starts a server on a free loopback port.
pub async fn start(config: ServerConfig) -> TestServer {
    let server = build(config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let s = server.clone();
    tokio::spawn(async move {
        let _ = musehub_mcp::transport::http::serve_listener(s, listener, async {
            let _ = rx.await;
        })
        .await;
    });
    TestServer {
        url: format!("http://{addr}/mcp"),
        addr,
        server,
        shutdown: Some(tx),
    }
}
