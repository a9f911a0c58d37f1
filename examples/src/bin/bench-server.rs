//! The benchmark's server (see `BENCHMARKS.md`): `echo`, `add` and `echo_progress` declared with
//! our macros, served on `/mcp` in both protocol eras. Its limits are flags so that the memory
//! benchmark can hold 10,000 sessions and streams.
//!
//! ```text
//! cargo run --release -p musehub-examples --bin bench-server -- --bind 127.0.0.1:3003
//! ```

use std::net::SocketAddr;

use clap::Parser;
use musehub_mcp::prelude::*;

// The harness's counting allocator, shared with its rmcp peer and floor so that all three
// count allocations the same way (off unless MUSEHUB_BENCH_COUNT_ALLOCS=1).
#[path = "../../bench/src/allocs.rs"]
mod allocs;

#[global_allocator]
static ALLOC: allocs::Counting = allocs::Counting;

/// Returns the message as text.
#[tool(read_only)]
fn echo(#[arg(desc = "Text to echo")] message: String) -> String {
    message
}

/// Adds two numbers.
#[tool(read_only)]
fn add(#[arg(desc = "First term")] a: f64, #[arg(desc = "Second term")] b: f64) -> String {
    (a + b).to_string()
}

/// Reports progress once, then returns the message as text (the SSE case).
#[tool(read_only)]
async fn echo_progress(
    progress: Progress,
    #[arg(desc = "Text to echo")] message: String,
) -> String {
    progress.report(1.0, Some(1.0), None).await;
    message
}

/// Command line.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3003")]
    bind: SocketAddr,
    /// Most concurrent sessions (`ServerConfig::max_sessions`).
    #[arg(long, default_value_t = 10_000)]
    max_sessions: usize,
    /// Open SSE streams per session (`ServerConfig::max_streams_per_session`).
    #[arg(long, default_value_t = 8)]
    max_streams_per_session: usize,
    /// Requests in flight per client address (`ServerConfig::max_in_flight_per_ip`).
    #[arg(long, default_value_t = 256)]
    max_in_flight_per_ip: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let config = {
        let mut c = ServerConfig::default();
        c.max_sessions = args.max_sessions;
        c.max_streams_per_session = args.max_streams_per_session;
        c.max_in_flight_per_ip = args.max_in_flight_per_ip;
        c
    };
    allocs::init();
    let server = Server::builder("musehub-bench").config(config).build()?;
    let app = musehub_mcp::router(server.clone()).route(
        allocs::PATH,
        axum::routing::get(|| async { allocs::report() }),
    );
    let listener = tokio::net::TcpListener::bind(args.bind).await?;
    println!("listening={}", listener.local_addr()?);
    musehub_mcp::transport::http::serve_router(
        server,
        app,
        listener,
        musehub_mcp::transport::http::shutdown_signal(),
    )
    .await?;
    Ok(())
}
