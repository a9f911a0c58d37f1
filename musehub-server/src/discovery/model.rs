//! Domain plugins as the hub lists them, and scoped ids (`@author/slug`).

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::Value;

use crate::db::{Db, DbResultExt, RowExt};
use sqlx::any::AnyRow;

/// A domain plugin.
#[schema(no_deserialize)]
#[derive(Debug, Clone)]
pub struct DomainView {
    /// `@author/slug`.
    pub scoped_id: String,
    /// Author handle.
    pub author_slug: String,
    /// Slug.
    pub slug: String,
    /// Display name.
    pub display_name: String,
    /// Description.
    pub description: String,
    /// Capabilities manifest (dimensions, merge semantics, ...).
    pub capabilities: Value,
    /// The viewer the hub uses for this domain.
    pub viewer_type: String,
    /// Version.
    pub version: String,
    /// True for domains verified by the hub.
    pub verified: bool,
    /// Repositories using the domain.
    pub repo_count: i64,
    /// When it was published.
    pub created_at: String,
}

/// The domain columns (table alias `d`).
pub const DOMAIN_COLUMNS: &str = "d.author_slug, d.slug, d.display_name, d.description, d.capabilities, \
     d.viewer_type, d.version, d.verified, d.created_at, \
     (SELECT COUNT(*) FROM repos r WHERE r.domain = '@' || d.author_slug || '/' || d.slug) AS repo_count";

impl DomainView {
    /// Reads a row selected with [`DOMAIN_COLUMNS`].
    pub fn from_row(r: &AnyRow) -> Result<Self, ToolError> {
        let author = r.text("author_slug")?;
        let slug = r.text("slug")?;
        Ok(DomainView {
            scoped_id: format!("@{author}/{slug}"),
            author_slug: author,
            slug,
            display_name: r.text("display_name")?,
            description: r.text("description")?,
            capabilities: r.json("capabilities")?,
            viewer_type: r.text("viewer_type")?,
            version: r.text("version")?,
            verified: r.int("verified")? != 0,
            repo_count: r.int("repo_count")?,
            created_at: r.text("created_at")?,
        })
    }
}

/// One domain by author and slug.
pub async fn domain(db: &Db, author: &str, slug: &str) -> Result<Option<DomainView>, ToolError> {
    let row = sqlx::query(&format!(
        "SELECT {DOMAIN_COLUMNS} FROM domains d WHERE d.author_slug = $1 AND d.slug = $2"
    ))
    .bind(author)
    .bind(slug)
    .fetch_optional(db.pool())
    .await
    .db()?;
    row.as_ref().map(DomainView::from_row).transpose()
}

/// Parses `@author/slug` (the `@` is optional).
pub fn parse_scoped_id(s: &str) -> Option<(String, String)> {
    let s = s.strip_prefix('@').unwrap_or(s);
    let (a, b) = s.split_once('/')?;
    let ok = |p: &str| {
        !p.is_empty()
            && p.len() <= 64
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    };
    (ok(a) && ok(b)).then(|| (a.to_string(), b.to_string()))
}
