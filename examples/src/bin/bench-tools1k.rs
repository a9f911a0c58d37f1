//! The start-up benchmark's server: 1,000 generated tools (see `examples/build.rs`), served like
//! `bench-server`. Prints how long building the registry and the server, then the router
//! (which renders the documentation surfaces), took.
//!
//! ```text
//! cargo run --release -p musehub-examples --features tools1k --bin bench-tools1k -- --bind 127.0.0.1:3004
//! ```

use std::net::SocketAddr;
use std::time::Instant;

use clap::Parser;
use musehub_mcp::DocsOptions;
use musehub_mcp::prelude::*;

include!(concat!(env!("OUT_DIR"), "/tools1k.rs"));

/// Command line.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3004")]
    bind: SocketAddr,
    /// Turn the documentation surfaces (`/mcp/docs`...) off, to see their start-up cost.
    #[arg(long)]
    no_docs: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let started = Instant::now();
    let mut builder = Server::builder("musehub-bench-tools1k");
    if args.no_docs {
        builder = builder.docs(DocsOptions::disabled());
    }
    let server = builder.build()?;
    let built = started.elapsed();
    // The router renders the documentation surfaces (when on): part of the start-up too.
    let app = musehub_mcp::router(server.clone());
    let routed = started.elapsed();
    let listener = tokio::net::TcpListener::bind(args.bind).await?;
    println!(
        "build_us={} router_us={} tools={} listening={}",
        built.as_micros(),
        routed.as_micros(),
        server.registry().tools.len(),
        listener.local_addr()?
    );
    musehub_mcp::transport::http::serve_router(
        server,
        app,
        listener,
        musehub_mcp::transport::http::shutdown_signal(),
    )
    .await?;
    Ok(())
}
