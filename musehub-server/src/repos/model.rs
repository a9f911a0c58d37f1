//! Repositories as every tool and resource shows them, and how to find one.

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::Value;

use crate::db::{Db, DbResultExt, RowExt};
use crate::params::RepoRef;
use sqlx::any::AnyRow;

/// A repository, as every tool and resource shows it.
#[schema(no_deserialize)]
#[derive(Debug, Clone)]
pub struct RepoView {
    /// Repository id (UUID).
    pub repo_id: String,
    /// Owner handle.
    pub owner: String,
    /// URL-safe name, unique per owner.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// `public` or `private`.
    pub visibility: String,
    /// Domain plugin (`@author/slug`).
    pub domain: String,
    /// Domain-specific metadata.
    pub domain_meta: Value,
    /// Tags.
    pub tags: Vec<String>,
    /// The default branch.
    pub default_branch: String,
    /// Number of stars.
    pub stars: i64,
    /// Number of forks.
    pub forks: i64,
    /// The repository this one was forked from, as `owner/slug`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forked_from: Option<String>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

/// The columns of [`RepoView`] with star and fork counts.
pub const REPO_COLUMNS: &str = "r.id, r.owner, r.slug, r.name, r.description, r.visibility, r.domain, \
     r.domain_meta, r.tags, r.default_branch, r.forked_from, r.created_at, r.updated_at, \
     (SELECT COUNT(*) FROM stars s WHERE s.repo_id = r.id) AS stars, \
     (SELECT COUNT(*) FROM repos f WHERE f.forked_from = r.id) AS forks, \
     (SELECT o.owner || '/' || o.slug FROM repos o WHERE o.id = r.forked_from) AS forked_from_name";

impl RepoView {
    /// Reads a row selected with [`REPO_COLUMNS`].
    pub fn from_row(row: &AnyRow) -> Result<Self, ToolError> {
        Ok(RepoView {
            repo_id: row.text("id")?,
            owner: row.text("owner")?,
            slug: row.text("slug")?,
            name: row.text("name")?,
            description: row.text("description")?,
            visibility: row.text("visibility")?,
            domain: row.text("domain")?,
            domain_meta: row.json("domain_meta")?,
            tags: row.string_list("tags")?,
            default_branch: row.text("default_branch")?,
            stars: row.int("stars")?,
            forks: row.int("forks")?,
            forked_from: row.opt_text("forked_from_name")?,
            created_at: row.text("created_at")?,
            updated_at: row.text("updated_at")?,
        })
    }

    /// True for public repositories.
    pub fn is_public(&self) -> bool {
        self.visibility == "public"
    }
}

/// Finds a repository by id or owner/slug, without access checks.
pub async fn find_repo(db: &Db, r: &RepoRef) -> Result<Option<RepoView>, ToolError> {
    let r = &r.cleaned();
    let row = if let Some(id) = &r.repo_id {
        sqlx::query(&format!(
            "SELECT {REPO_COLUMNS} FROM repos r WHERE r.id = $1"
        ))
        .bind(id)
        .fetch_optional(db.pool())
        .await
        .db()?
    } else if let (Some(o), Some(s)) = (&r.owner, &r.slug) {
        sqlx::query(&format!(
            "SELECT {REPO_COLUMNS} FROM repos r WHERE r.owner = $1 AND r.slug = $2"
        ))
        .bind(o)
        .bind(s)
        .fetch_optional(db.pool())
        .await
        .db()?
    } else {
        return Err(ToolError::invalid_argument(
            "name the repository with `repo_id`, or with `owner` and `slug`",
        ));
    };
    row.as_ref().map(RepoView::from_row).transpose()
}

/// Makes a URL-safe slug from a name.
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}
