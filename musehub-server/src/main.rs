//! The MuseHub MCP server binary. The full catalogue lands with the server issue; for now it
//! serves the framework's endpoint with the items linked into it.

use std::net::SocketAddr;

use clap::Parser;
use musehub_mcp::Server;

#[derive(Parser)]
#[command(about = "MuseHub: the hub for Muse, version control for music, over MCP")]
struct Cli {
    /// Address to serve `/mcp` on.
    #[arg(long, env = "MUSEHUB_BIND", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Speak MCP on stdin/stdout instead of HTTP.
    #[arg(long)]
    stdio: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    let server = Server::builder("musehub")
        .title("MuseHub")
        .config(musehub_mcp::ServerConfig::default().with_env())
        .build()?;
    if cli.stdio {
        musehub_mcp::transport::stdio::serve_stdio(server).await?;
    } else {
        println!("MuseHub MCP on http://{}/mcp", cli.bind);
        musehub_mcp::transport::http::serve(server, cli.bind).await?;
    }
    Ok(())
}
