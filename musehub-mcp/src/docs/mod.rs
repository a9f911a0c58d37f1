//! Documentation generated from the registry, for any server built on the framework.
//!
//! Three surfaces, all computed once from what the server really serves, so they cannot drift:
//!
//! | route | what |
//! |---|---|
//! | `GET /mcp/docs.json` | the public manifest: server info, protocol revisions, auth scheme, and every tool, resource, template and prompt as clients see them ([`manifest_json`]) |
//! | `GET /mcp/docs.schema.json` | the manifest's own JSON Schema ([`MANIFEST_SCHEMA`]) |
//! | `GET /mcp/docs` | an HTML page rendered from embedded templates, with its CSS and JS served under `/mcp/docs/assets/` |
//! | `GET /mcp/docs.md` | the Markdown reference ([`markdown`]) |
//!
//! **The one way to get them:** [`crate::router`] (and so [`crate::serve`]) mounts them next
//! to `/mcp`. Configure them on the
//! builder:
//!
//! ```no_run
//! use musehub_mcp::{AuthScheme, DocsOptions, Server};
//!
//! let server = Server::builder("hello")
//!     .title("Hello, MCP")
//!     .docs(
//!         DocsOptions::new()
//!             .public_url("https://hello.example")
//!             .auth(AuthScheme::new("Bearer", "Authorization").description("An API token."))
//!             .category("read", "Read", "Look things up."),
//!     )
//!     .build()?;
//! # Ok::<(), musehub_mcp::BuildError>(())
//! ```
//!
//! Offline, without serving: [`manifest_json`], [`markdown`], [`html`] and [`lint`] take the
//! same built [`Server`] (or its [`Registry`]); a binary can write them to files or fail CI on
//! lint issues. Tools are grouped by `#[tool(category = "...")]`; [`DocsOptions::category`]
//! orders and describes the groups.

mod http;
mod lint;
mod manifest;
mod markdown;
mod page;
mod schema_view;

use std::sync::Arc;

use crate::registry::Registry;
use crate::server::Server;

pub use crate::config::docs::{AuthScheme, CategoryInfo, DocsOptions};
pub use lint::{LintIssue, LintKind, lint};
pub use manifest::{MANIFEST_SCHEMA, MANIFEST_VERSION, manifest, manifest_json};
pub use markdown::markdown;
pub use page::html;

/// Path of the manifest.
pub const MANIFEST_PATH: &str = "/mcp/docs.json";
/// Path of the manifest's JSON Schema.
pub const SCHEMA_PATH: &str = "/mcp/docs.schema.json";
/// Path of the HTML page.
pub const PAGE_PATH: &str = "/mcp/docs";
/// Path of the Markdown reference.
pub const MARKDOWN_PATH: &str = "/mcp/docs.md";
/// The MCP endpoint the HTTP transport serves.
pub const ENDPOINT_PATH: &str = "/mcp";

/// Why a documentation surface could not be produced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocsError {
    /// The page template failed to render (a bug in the embedded template).
    #[error("docs page template: {0}")]
    Template(#[from] minijinja::Error),
}

/// One group of tools, in page order.
pub(crate) struct Group<'a> {
    /// The category id (`None` for uncategorised tools).
    pub id: Option<&'a str>,
    /// Heading.
    pub title: String,
    /// Sentence under the heading.
    pub description: Option<String>,
    /// Tools, by name.
    pub tools: Vec<&'a crate::registry::ToolEntry>,
}

/// Tools grouped by category: described categories in the order given, then the others
/// alphabetically, then uncategorised tools.
pub(crate) fn groups<'a>(registry: &'a Registry, options: &'a DocsOptions) -> Vec<Group<'a>> {
    let mut ids: Vec<&str> = registry
        .tools
        .iter()
        .filter_map(|t| t.def.category)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let rank = |id: &str| {
        options
            .categories
            .iter()
            .position(|c| c.id == id)
            .unwrap_or(usize::MAX)
    };
    ids.sort_by_key(|id| (rank(id), *id));
    let mut out: Vec<Group<'a>> = ids
        .into_iter()
        .map(|id| {
            let info = options.categories.iter().find(|c| c.id == id);
            Group {
                id: Some(id),
                title: info
                    .map(|c| c.title.clone())
                    .unwrap_or_else(|| title_case(id)),
                description: info.and_then(|c| c.description.clone()),
                tools: registry
                    .tools
                    .iter()
                    .filter(|t| t.def.category == Some(id))
                    .collect(),
            }
        })
        .collect();
    let rest: Vec<_> = registry
        .tools
        .iter()
        .filter(|t| t.def.category.is_none())
        .collect();
    if !rest.is_empty() {
        out.push(Group {
            id: None,
            title: if out.is_empty() {
                options.default_category.clone()
            } else {
                format!("Other {}", options.default_category.to_lowercase())
            },
            description: None,
            tools: rest,
        });
    }
    out
}

/// `muse-cli` → `Muse cli`: a readable heading for an undescribed category id.
fn title_case(id: &str) -> String {
    let words = id.replace(['-', '_'], " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The documentation routes for `server` (what [`crate::transport::http::router`] mounts):
/// every body is rendered here, once, and served as pre-serialised bytes with an `ETag`.
/// Use it directly only to mount the docs on a router of your own.
pub fn router(server: &Arc<Server>) -> axum::Router {
    http::router(server)
}
