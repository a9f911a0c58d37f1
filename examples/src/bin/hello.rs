//! The smallest useful MuseHub MCP server: two tools, one resource, one prompt, and the
//! documentation surfaces every framework server gets (`/mcp/docs`, `/mcp/docs.json`).
//!
//! ```text
//! cargo run -p musehub-examples --bin hello -- --bind 127.0.0.1:8080
//! cargo run -p musehub-examples --bin hello -- --stdio
//! ```

use std::net::SocketAddr;

use clap::Parser;
use musehub_mcp::DocsOptions;
use musehub_mcp::prelude::*;

/// Say hello to someone.
#[tool(read_only, title = "Say hello", category = "greetings")]
async fn hello(#[arg(desc = "Who to greet")] name: String) -> String {
    format!("Hello, {name}!")
}

/// The sum of two numbers.
#[schema(no_deserialize)]
struct Sum {
    /// `a + b`.
    sum: f64,
}

/// Add two numbers.
#[tool(read_only, category = "math")]
fn add(#[arg(desc = "First addend")] a: f64, #[arg(desc = "Second addend")] b: f64) -> Json<Sum> {
    Json(Sum { sum: a + b })
}

/// A friendly greeting.
#[resource(uri = "hello://greeting", mime_type = "text/plain")]
fn greeting() -> String {
    "Hello from MuseHub MCP!".to_string()
}

/// Ask the model to greet someone warmly.
#[prompt(title = "Greet")]
fn greet(#[arg(desc = "Who to greet")] name: String) -> String {
    format!("Write a warm, one-line greeting for {name}.")
}

#[derive(Parser)]
#[command(about = "A hello-world MCP server built on musehub-mcp")]
struct Cli {
    /// Address to serve `/mcp` on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Speak MCP on stdin/stdout instead of HTTP.
    #[arg(long)]
    stdio: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    // The docs routes come with the HTTP router; the options only describe the groups.
    let docs = DocsOptions::new()
        .description("A hello-world server built on musehub-mcp: greet someone, add numbers.")
        .category("greetings", "Greetings", "Friendly words.")
        .category("math", "Math", "Small calculations with structured output.");
    let server = Server::builder("hello")
        .title("Hello, MCP")
        .docs(docs)
        .build()?;
    if cli.stdio {
        musehub_mcp::transport::stdio::serve_stdio(server).await?;
    } else {
        eprintln!(
            "serving http://{0}/mcp (docs: http://{0}/mcp/docs)",
            cli.bind
        );
        musehub_mcp::serve(server, cli.bind).await?;
    }
    Ok(())
}
