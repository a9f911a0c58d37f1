//! Shared fixtures for the integration tests: a set of tools, resources and prompts declared
//! in this crate (a second crate, `musehub-fixture-crate`, declares more), and helpers that
//! start a real server on a loopback port.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::{Value, json};

/// Echo the message back.
#[tool(read_only, title = "Echo", category = "read")]
pub fn echo(
    #[arg(desc = "What to echo")] message: String,
    #[arg(desc = "How many times (default once)")] times: Option<u32>,
) -> String {
    message.repeat(times.unwrap_or(1) as usize)
}

/// A sum.
#[schema(no_deserialize)]
pub struct Sum {
    /// a + b.
    pub sum: i64,
}

/// Add two integers.
#[tool(read_only, category = "read")]
pub async fn add(a: i64, b: i64) -> Json<Sum> {
    Json(Sum { sum: a + b })
}

/// List the first `n` square numbers.
#[tool(read_only, category = "read")]
pub fn squares(#[arg(desc = "How many", default = 3u32)] n: u32) -> Json<Vec<u64>> {
    Json((1..=n as u64).map(|i| i * i).collect())
}

/// Count down, reporting progress at each step.
#[tool(read_only, category = "interactive")]
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
#[tool(read_only, category = "interactive")]
pub async fn ask_name(elicit: Elicitation) -> Result<String, ToolError> {
    match elicit.form::<NameForm>("What is your name?").await? {
        ElicitResult::Accept(f) => Ok(format!("hello {}", f.name)),
        ElicitResult::Decline => Ok("declined".into()),
        ElicitResult::Cancel => Ok("cancelled".into()),
    }
}

/// How many `wait_for_cancel` calls ended early: their token fired, or the engine dropped
/// them on cancellation.
pub static CANCELLED_CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

struct CountUnlessFinished(bool);

impl Drop for CountUnlessFinished {
    fn drop(&mut self) {
        if !self.0 {
            CANCELLED_CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

/// Wait until cancelled (or 30 s).
#[tool(read_only)]
pub async fn wait_for_cancel(cancel: CancellationToken) -> String {
    let mut finished = CountUnlessFinished(false);
    tokio::select! {
        _ = cancel.cancelled() => "cancelled".into(),
        _ = tokio::time::sleep(Duration::from_secs(30)) => {
            finished.0 = true;
            "timed out".into()
        }
    }
}

/// Run a query in a region (the region is mirrored into the `Mcp-Param-Region` header).
#[tool(read_only)]
pub fn regional(
    #[arg(desc = "Region to run in", header = "Region")] region: String,
    #[arg(desc = "The query")] query: String,
) -> String {
    format!("{query} in {region}")
}

/// A favourite colour.
#[schema]
pub struct ColourForm {
    /// Your favourite colour.
    pub colour: String,
}

/// Ask two questions in turn: a name, then a colour.
#[tool(read_only, category = "interactive")]
pub async fn two_questions(elicit: Elicitation) -> Result<String, ToolError> {
    let ElicitResult::Accept(name) = elicit.key("name").form::<NameForm>("Your name?").await?
    else {
        return Ok("no name".into());
    };
    let ElicitResult::Accept(c) = elicit
        .key("colour")
        .form::<ColourForm>("Your colour?")
        .await?
    else {
        return Ok("no colour".into());
    };
    Ok(format!("{} likes {}", name.name, c.colour))
}

/// Log three messages at different levels.
#[tool(read_only)]
pub async fn chatty(log: Logger) -> String {
    log.log(LogLevel::Debug, "debug detail").await;
    log.info("info note").await;
    log.error("error report").await;
    "done".into()
}

/// Ask the user to connect an account in their browser (URL-mode elicitation).
#[tool(read_only)]
pub async fn connect_account(elicit: Elicitation) -> Result<String, ToolError> {
    let r = elicit
        .url(
            "Connect your account",
            "https://accounts.example.invalid/connect?session=abc",
            "connect-1",
        )
        .await?;
    Ok(match r {
        ElicitResult::Accept(()) => "connected".into(),
        ElicitResult::Decline => "declined".into(),
        ElicitResult::Cancel => "cancelled".into(),
    })
}

/// Sleep for a while, then answer (for shutdown and timeout tests).
#[tool(read_only)]
pub async fn sleepy(#[arg(desc = "Milliseconds")] ms: u64) -> String {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    format!("slept {ms} ms")
}

/// Announce that the tool list changed.
#[tool(read_only)]
pub fn announce(ctx: &Ctx) -> String {
    ctx.notify_list_changed("tools");
    "announced".into()
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
#[tool(write, destructive = false, idempotent = true, category = "write")]
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

impl TestServer {
    /// Starts a graceful shutdown: no new connections, in-flight calls finish.
    pub fn shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
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
    build_with(config, |b| b)
}

/// Builds the test server with these settings and extra builder steps (auth, rate limits).
pub fn build_with(
    config: ServerConfig,
    extra: impl FnOnce(musehub_mcp::ServerBuilder) -> musehub_mcp::ServerBuilder,
) -> Arc<Server> {
    musehub_fixture_crate::link();
    extra(
        Server::builder("musehub-tests")
            .title("MuseHub test server")
            .instructions("Test instructions.")
            .config(config),
    )
    .build()
    .expect("registry builds")
}

/// Starts a server on a free loopback port.
pub async fn start(config: ServerConfig) -> TestServer {
    serve(build(config)).await
}

/// Serves a built server on a free loopback port.
pub async fn serve(server: Arc<Server>) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let s = server.clone();
    tokio::spawn(async move {
        let _ = musehub_mcp::serve_listener(s, listener, async {
            let _ = rx.await;
        })
        .await;
    });
    // With a shared store, an instance hears the others only once its bus is subscribed.
    for _ in 0..500 {
        if server.is_ready() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        server.is_ready(),
        "the server's bus did not connect within 5 s"
    );
    TestServer {
        url: format!("http://{addr}/mcp"),
        addr,
        server,
        shutdown: Some(tx),
    }
}

/// A private `redis-server` on a free loopback port, for the multi-instance tests (no
/// persistence; killed on drop). Needs the `redis-server` binary on `PATH` (Debian's
/// `redis-server` package; `tests/run-all.sh` installs it) or in `MUSEHUB_REDIS_SERVER`.
pub struct RedisServer {
    /// The port it listens on.
    pub port: u16,
    child: Option<std::process::Child>,
    dir: std::path::PathBuf,
}

impl RedisServer {
    /// The `redis-server` binary to run, if one is installed.
    pub fn binary() -> Option<std::path::PathBuf> {
        if let Ok(p) = std::env::var("MUSEHUB_REDIS_SERVER") {
            return Some(p.into());
        }
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("redis-server"))
                .find(|p| p.is_file())
        })
    }

    /// Starts one on a free port and waits until it answers `PING`.
    pub fn start() -> std::io::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let dir = std::env::temp_dir().join(format!("musehub-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let mut r = Self {
            port,
            child: None,
            dir,
        };
        r.restart()?;
        Ok(r)
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (as a crash would: no shutdown handshake).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port (empty: nothing was persisted) and waits for `PING`.
    pub fn restart(&mut self) -> std::io::Result<()> {
        self.stop();
        let bin = Self::binary().ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "redis-server not found: apt-get install -y redis-server",
            )
        })?;
        let child = std::process::Command::new(bin)
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        self.child = Some(child);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if self.ping() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "redis-server did not answer PING within 10 s",
        ))
    }

    fn ping(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
        let mut buf = [0u8; 7];
        s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
