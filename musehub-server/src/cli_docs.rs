//! The binary's `docs` command: the catalogue's manifest or Markdown reference, written
//! without serving, and the documentation lint (compiled into the binary only).

use std::path::PathBuf;

use anyhow::Context;
use musehub_server::{AuthSettings, Db, HubSettings};

/// What `docs` writes.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum DocsFormat {
    /// The docs.json manifest.
    Json,
    /// A Markdown reference.
    Markdown,
}

/// `musehub-server docs`: the manifest or the Markdown reference of the catalogue, written
/// without serving (an in-memory database backs the shared state), and the lint.
pub async fn run(format: DocsFormat, out: Option<PathBuf>, check: bool) -> anyhow::Result<()> {
    crate::init_logging("text", "warn");
    let db = Db::connect("sqlite::memory:", HubSettings::default()).await?;
    let server = musehub_server::build_server(
        db,
        musehub_mcp::ServerConfig::default(),
        &AuthSettings::default(),
    )?;
    let text = match format {
        DocsFormat::Json => musehub_mcp::docs::manifest_json(&server),
        DocsFormat::Markdown => musehub_mcp::docs::markdown(&server),
    };
    match &out {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?
        }
        None => {
            use std::io::Write;
            // A reader that stops early (`| head`) is not an error.
            match std::io::stdout().lock().write_all(text.as_bytes()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
                other => other.context("writing to stdout")?,
            }
        }
    }
    if check {
        let issues = musehub_mcp::docs::lint(server.registry());
        for issue in &issues {
            eprintln!("{issue}");
        }
        anyhow::ensure!(
            issues.is_empty(),
            "{} documentation problem(s) in the catalogue",
            issues.len()
        );
        eprintln!(
            "docs check: {} tools, no problems",
            server.registry().tools.len()
        );
    }
    Ok(())
}
