//! MuseHub: the hub for Muse (version control for music) over MCP.
//!
//! The library holds the data layer ([`db`], [`model`]), the demo hub ([`seed`]) and the
//! whole catalogue: the tools ([`tools`]), resources ([`resources`]) and prompts
//! ([`prompts`]). The binary (`src/main.rs`) adds configuration and the transports.

// A tool's parameters are its MCP arguments: many tools legitimately take more than seven.
#![allow(clippy::too_many_arguments)]

pub mod completions;
pub mod db;
pub mod model;
pub mod prompts;
pub mod resources;
pub mod seed;
pub mod tools;

use std::sync::Arc;

pub use db::{Db, HubSettings};
use musehub_mcp::Server;

/// Instructions sent to clients in `initialize`.
pub const INSTRUCTIONS: &str = "MuseHub is the collaboration hub for Muse, version control for music and any other \
multi-dimensional state (MIDI, code, genomics, circuit design, custom domain plugins). Start with \
musehub_get_context to orient yourself in a repository, musehub_search_repos and musehub_list_domains to \
discover, and musehub_get_view to inspect the full state of a ref. Every repository-scoped tool accepts \
either repo_id or owner + slug. Write tools need a signed-in caller. Errors come as \
{\"error\": {\"code\", \"message\"}} in structuredContent.";

/// Keeps the catalogue's registrations in a binary that links this library: call it once.
pub fn link() {}

/// Builds the MCP server over a database.
pub fn build_server(
    db: Db,
    config: musehub_mcp::ServerConfig,
) -> Result<Arc<Server>, musehub_mcp::registry::RegistryError> {
    link();
    Server::builder("musehub")
        .title("MuseHub")
        .instructions(INSTRUCTIONS)
        .config(config)
        .state(db)
        .build()
}
