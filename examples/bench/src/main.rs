//! Side-by-side benchmarks (issue 9): our `bench-server`, the official Rust SDK (`rmcp`) in its
//! fastest and default configurations, and the floor (a bare axum handler), started one after
//! the other on loopback and driven by the same load generator. Writes `BENCHMARKS.md`.
//!
//! ```text
//! cargo run --release -p musehub-bench --features bench --bin bench -- all
//! cargo run --release -p musehub-bench --features bench --bin bench -- all --quick
//! ```
//!
//! The same binary serves the peers (`serve-rmcp`, `serve-floor`), so every server is its own
//! process whose CPU time and RSS are read from `/proc`.

mod allocs;
mod floor;
mod load;
mod memory;
mod peer_rmcp;
mod procs;
mod report;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::{Parser, Subcommand};

use load::Scenario;
use procs::{Kind, Proc};

/// Command line.
#[derive(Parser)]
#[command(about = "Side-by-side MCP server benchmarks: musehub, rmcp and the floor")]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    #[command(flatten)]
    opts: RunOpts,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run every benchmark and write the report.
    All(RunOpts),
    /// Serve the rmcp peer (used by `all`).
    ServeRmcp {
        /// rmcp configuration.
        #[arg(long, value_enum)]
        mode: peer_rmcp::Mode,
        /// Address to listen on.
        #[arg(long)]
        bind: SocketAddr,
    },
    /// Serve the floor (used by `all`).
    ServeFloor {
        /// Address to listen on.
        #[arg(long)]
        bind: SocketAddr,
    },
    /// Load a server that is already running (for profiling it, e.g. under callgrind).
    Load {
        /// The server's address (`/mcp` is requested).
        #[arg(long)]
        addr: SocketAddr,
        /// initialize, tools-list, call-json, call-sse or call-2026.
        #[arg(long, default_value = "call-json")]
        scenario: String,
        /// Connections.
        #[arg(long, default_value_t = 8)]
        conns: usize,
        /// Measured seconds (after one second of warm-up).
        #[arg(long, default_value_t = 5.0)]
        secs: f64,
    },
}

/// Options of a benchmark run.
#[derive(clap::Args, Clone)]
struct RunOpts {
    /// Smoke mode: short windows, fewer connection counts, 100/1,000 sessions and streams.
    #[arg(long)]
    quick: bool,
    /// Where to write the report (default: BENCHMARKS.md at the workspace root, or
    /// target/bench/BENCHMARKS.quick.md with --quick).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Do not build `bench-server` (and `bench-tools1k`) first: they must be next to this
    /// binary already.
    #[arg(long)]
    no_build: bool,
}

/// Durations and sizes of a run.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Smoke mode?
    pub quick: bool,
    /// Connection counts.
    pub conns: Vec<usize>,
    /// Warm-up before each measured window.
    pub warmup: Duration,
    /// Measured window.
    pub window: Duration,
    /// Idle-session steps.
    pub sessions: Vec<usize>,
    /// Open-stream steps.
    pub streams: Vec<usize>,
    /// Cold-start repetitions.
    pub reps: usize,
}

impl Plan {
    fn new(quick: bool) -> Self {
        if quick {
            Self {
                quick,
                conns: vec![1, 8],
                warmup: Duration::from_millis(200),
                window: Duration::from_millis(800),
                sessions: vec![100, 1_000],
                streams: vec![100, 1_000],
                reps: 2,
            }
        } else {
            Self {
                quick,
                conns: vec![1, 8, 64],
                warmup: Duration::from_secs(1),
                window: Duration::from_secs(5),
                sessions: vec![1_000, 10_000],
                streams: vec![1_000, 10_000],
                reps: 5,
            }
        }
    }
}

/// Everything measured in one run.
#[derive(Default)]
pub struct Results {
    /// (scenario, connections, server) → figures, or why there are none.
    pub load: Vec<(Scenario, usize, Kind, Result<load::LoadResult, String>)>,
    /// Idle sessions per server.
    pub sessions: Vec<(Kind, Result<memory::Sessions, String>)>,
    /// Open streams per server.
    pub streams: Vec<(Kind, Result<memory::Streams, String>)>,
    /// Cold start per server, µs (median).
    pub cold: Vec<(Kind, Result<f64, String>)>,
    /// The 1,000-tool server: documentation surfaces on (default), then off.
    pub tools1k: Option<Result<(memory::Tools1k, memory::Tools1k), String>>,
    /// (scenario, server) → one connection's figures with allocations counted.
    pub allocs: Vec<(Scenario, Kind, Result<load::LoadResult, String>)>,
}

/// A load run as the report takes it: a run in which no request completed is a failure.
fn settle(r: anyhow::Result<load::LoadResult>) -> Result<load::LoadResult, String> {
    match r {
        Ok(r) if r.requests == 0 => Err(r
            .first_error
            .unwrap_or_else(|| "no request completed".into())),
        Ok(r) => Ok(r),
        Err(e) => Err(format!("{e:#}")),
    }
}

/// The workspace root (this package is `examples/bench`).
pub(crate) fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .nth(2)
        .map(PathBuf::from)
        .unwrap_or(manifest)
}

/// Builds our servers next to this binary (same profile). `bench-server` is built with
/// `musehub-examples`' default features, as CI's conformance build, so `musehub-mcp` is shared;
/// the 1,000-tool server (minutes of compilation) only for a full run.
fn build_servers(tools1k: bool) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut builds = vec![vec!["--bin", "bench-server"]];
    if tools1k {
        builds.push(vec!["--features", "tools1k", "--bin", "bench-tools1k"]);
    }
    for extra in builds {
        eprintln!(
            "== cargo build --release -p musehub-examples {}",
            extra.join(" ")
        );
        let status = Command::new(&cargo)
            .current_dir(workspace_root())
            .args(["build", "--release", "-p", "musehub-examples"])
            .args(&extra)
            .status()
            .context("running cargo build")?;
        if !status.success() {
            bail!("cargo build of the bench servers failed: {status}");
        }
    }
    Ok(())
}

async fn run_all(opts: RunOpts) -> anyhow::Result<()> {
    let started = Instant::now();
    if !opts.no_build {
        build_servers(!opts.quick)?;
    }
    let plan = Plan::new(opts.quick);
    let mut results = Results::default();

    for scenario in Scenario::ALL {
        for kind in Kind::ALL {
            // A fresh process per server and scenario: no leftovers (sessions created by the
            // `initialize` runs) from one measurement in the next.
            let mut server = Proc::spawn(kind)?;
            server.ready().await?;
            for &c in &plan.conns {
                let r = settle(load::run(&server, scenario, c, plan.warmup, plan.window).await);
                match &r {
                    Ok(x) => eprintln!(
                        "{:<46} {:>2} conns  {:<20} {:>9.0} req/s  p50 {:>8.3} ms  p99 {:>8.3} ms  cpu {:>6.1} µs/req{}",
                        scenario.label(),
                        c,
                        kind.label(),
                        x.rps,
                        x.p50_us / 1000.0,
                        x.p99_us / 1000.0,
                        x.cpu_us,
                        if x.errors > 0 {
                            format!("  ({} errors)", x.errors)
                        } else {
                            String::new()
                        }
                    ),
                    Err(e) => eprintln!(
                        "{:<46} {:>2} conns  {:<20} n/a: {e}",
                        scenario.label(),
                        c,
                        kind.label()
                    ),
                }
                let failed = r.is_err();
                results.load.push((scenario, c, kind, r));
                if failed {
                    // Unsupported here: the other connection counts would fail the same way.
                    for &c2 in plan.conns.iter().filter(|&&c2| c2 > c) {
                        results.load.push((
                            scenario,
                            c2,
                            kind,
                            Err("unsupported (see above)".into()),
                        ));
                    }
                    break;
                }
            }
        }
    }

    // Allocations per call: every server again, counting, on one connection (the count per
    // call does not depend on concurrency, and the counting's atomic adds are kept out of the
    // throughput runs above).
    for scenario in [Scenario::CallJson, Scenario::CallModern] {
        for kind in Kind::ALL {
            let r = settle(
                async {
                    let mut server = Proc::spawn_counting(kind)?;
                    server.ready().await?;
                    let window = plan.window.min(Duration::from_secs(2));
                    load::run(&server, scenario, 1, plan.warmup, window).await
                }
                .await,
            );
            match &r {
                Ok(x) => eprintln!(
                    "== allocations: {:<38} {:<20} {:>7.1} allocs/call, {:>8.0} bytes/call",
                    scenario.label(),
                    kind.label(),
                    x.allocs,
                    x.alloc_bytes
                ),
                Err(e) => eprintln!(
                    "== allocations: {:<38} {:<20} n/a: {e}",
                    scenario.label(),
                    kind.label()
                ),
            }
            results.allocs.push((scenario, kind, r));
        }
    }

    for kind in Kind::ALL {
        eprintln!("== memory: {}", kind.label());
        let sessions = if kind == Kind::RmcpFast {
            Err("stateless: no sessions".to_string())
        } else {
            memory::sessions(kind, &plan.sessions)
                .await
                .map_err(|e| format!("{e:#}"))
        };
        eprintln!("   sessions: {sessions:?}");
        results.sessions.push((kind, sessions));
        let streams = if kind == Kind::RmcpFast {
            Err("stateless: no GET stream".to_string())
        } else {
            memory::streams(kind, &plan.streams)
                .await
                .map_err(|e| format!("{e:#}"))
        };
        eprintln!("   streams: {streams:?}");
        results.streams.push((kind, streams));
    }

    for kind in Kind::ALL {
        let mut v = Vec::new();
        let mut err = None;
        for _ in 0..plan.reps {
            match memory::cold_start(kind).await {
                Ok(us) => v.push(us),
                Err(e) => {
                    err = Some(format!("{e:#}"));
                    break;
                }
            }
        }
        let r = match err {
            Some(e) => Err(e),
            None => Ok(memory::median(&mut v)),
        };
        eprintln!("== cold start {}: {r:?}", kind.label());
        results.cold.push((kind, r));
    }
    let t1k = if plan.quick {
        Err(
            "skipped in --quick mode (the 1,000-tool server takes minutes to compile in release)"
                .into(),
        )
    } else {
        async {
            let docs = memory::tools1k(3, false).await?;
            let bare = memory::tools1k(3, true).await?;
            anyhow::Ok((docs, bare))
        }
        .await
        .map_err(|e| format!("{e:#}"))
    };
    eprintln!("== 1,000 tools: {t1k:?}");
    results.tools1k = Some(t1k);

    let elapsed = started.elapsed();
    let md = report::render(&plan, &results, elapsed);
    println!("{md}");
    let out = opts.out.unwrap_or_else(|| {
        if plan.quick {
            workspace_root().join("target/bench/BENCHMARKS.quick.md")
        } else {
            workspace_root().join("BENCHMARKS.md")
        }
    });
    report::write(&out, &md)?;
    eprintln!(
        "report written to {} in {:.0} s",
        out.display(),
        elapsed.as_secs_f64()
    );
    Ok(())
}

#[global_allocator]
static ALLOC: allocs::Counting = allocs::Counting;

fn main() -> anyhow::Result<()> {
    allocs::init();
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.cmd {
        Some(Cmd::ServeRmcp { mode, bind }) => rt.block_on(peer_rmcp::serve(bind, mode)),
        Some(Cmd::ServeFloor { bind }) => rt.block_on(floor::serve(bind)),
        Some(Cmd::All(opts)) => rt.block_on(run_all(opts)),
        Some(Cmd::Load {
            addr,
            scenario,
            conns,
            secs,
        }) => rt.block_on(async move {
            let Some(s) = Scenario::ALL.into_iter().find(|s| s.key() == scenario) else {
                bail!("unknown scenario {scenario}");
            };
            let window = Duration::try_from_secs_f64(secs)?;
            let r = load::run_at(addr, None, s, conns, Duration::from_secs(1), window).await?;
            println!(
                "{}: {} conns, {:.0} req/s, p50 {:.3} ms, p99 {:.3} ms, {} errors {}",
                s.label(),
                conns,
                r.rps,
                r.p50_us / 1000.0,
                r.p99_us / 1000.0,
                r.errors,
                r.first_error.unwrap_or_default()
            );
            Ok(())
        }),
        None => rt.block_on(run_all(cli.opts)),
    }
}
