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
//! **The one way to get them:** [`crate::transport::http::router`] (and so
//! [`crate::transport::http::serve`]) mounts them next to `/mcp`. Configure them on the
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
//! # Ok::<(), musehub_mcp::registry::RegistryError>(())
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

use crate::engine::Server;
use crate::registry::Registry;

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
pub enum DocsError {
    /// The page template failed to render (a bug in the embedded template).
    #[error("docs page template: {0}")]
    Template(#[from] minijinja::Error),
}

/// How clients authenticate, shown in the manifest and on the page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthScheme {
    /// The scheme's name, e.g. `MSign` or `Bearer`.
    pub scheme: String,
    /// The HTTP header that carries the credentials, e.g. `Authorization`.
    pub header: String,
    /// What the scheme is and how to obtain credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A worked example (how to sign a request, the header to send), shown verbatim.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
    /// Where to read more.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docs_url: Option<String>,
}

impl AuthScheme {
    /// A scheme named `scheme`, carried in `header`.
    pub fn new(scheme: impl Into<String>, header: impl Into<String>) -> Self {
        Self {
            scheme: scheme.into(),
            header: header.into(),
            description: None,
            example: None,
            docs_url: None,
        }
    }
    /// What the scheme is and how to get credentials.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }
    /// A worked example, shown verbatim (for instance how to compute a signature).
    pub fn example(mut self, text: impl Into<String>) -> Self {
        self.example = Some(text.into());
        self
    }
    /// A link to the scheme's documentation.
    pub fn docs_url(mut self, url: impl Into<String>) -> Self {
        self.docs_url = Some(url.into());
        self
    }
}

/// A described tool category (the value of `#[tool(category = "...")]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryInfo {
    /// The id used in `#[tool(category = "id")]`.
    pub id: String,
    /// The heading shown.
    pub title: String,
    /// A sentence under the heading.
    pub description: Option<String>,
}

/// Settings of the documentation surfaces. Defaults: enabled, relative URLs, no auth scheme,
/// categories in alphabetical order and uncategorised tools last under "Tools".
#[derive(Debug, Clone)]
pub struct DocsOptions {
    enabled: bool,
    public_url: Option<String>,
    description: Option<String>,
    auth: Option<AuthScheme>,
    categories: Vec<CategoryInfo>,
    default_category: String,
}

impl Default for DocsOptions {
    fn default() -> Self {
        Self {
            enabled: true,
            public_url: None,
            description: None,
            auth: None,
            categories: Vec::new(),
            default_category: "Tools".into(),
        }
    }
}

impl DocsOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// No documentation routes (the offline functions still work).
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }
    /// The public origin (`https://host[:port]`), making the endpoint and docs URLs absolute.
    /// Without it URLs are paths and the page fills in the origin it was loaded from.
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        let url = url.into();
        self.public_url = Some(url.trim_end_matches('/').to_string());
        self
    }
    /// A paragraph introducing the server (defaults to the server's instructions).
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }
    /// The authentication scheme write tools require.
    pub fn auth(mut self, scheme: AuthScheme) -> Self {
        self.auth = Some(scheme);
        self
    }
    /// Describes a category; described categories come first, in the order described.
    pub fn category(
        mut self,
        id: impl Into<String>,
        title: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        let description: String = description.into();
        self.categories.push(CategoryInfo {
            id: id.into(),
            title: title.into(),
            description: (!description.is_empty()).then_some(description),
        });
        self
    }
    /// The heading of tools declared without a category (default "Tools").
    pub fn default_category(mut self, title: impl Into<String>) -> Self {
        self.default_category = title.into();
        self
    }

    /// Are the routes mounted?
    pub fn enabled(&self) -> bool {
        self.enabled
    }
    /// The configured public origin.
    pub fn public_origin(&self) -> Option<&str> {
        self.public_url.as_deref()
    }
    /// The configured auth scheme.
    pub fn auth_scheme(&self) -> Option<&AuthScheme> {
        self.auth.as_ref()
    }
    /// The described categories, in order.
    pub fn categories(&self) -> &[CategoryInfo] {
        &self.categories
    }

    /// `path` made absolute with the public origin, when one is configured.
    pub(crate) fn url(&self, path: &str) -> String {
        match &self.public_url {
            Some(origin) => format!("{origin}{path}"),
            None => path.to_string(),
        }
    }
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
