//! Searching: inside a repository (paths, commit messages) and across the hub.

use musehub_mcp::prelude::*;

use crate::db::{Db, DbResultExt, RowExt};
use crate::params::{self, Need, RepoRef};
use crate::repos::{self, RepoView};

/// What `musehub_search` searches.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SearchMode {
    /// Artifact paths.
    Path,
    /// Commit messages.
    Commit,
}

/// One search hit.
#[schema(no_deserialize)]
pub struct SearchHit {
    /// The object id (path mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    /// The path (path mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The commit id (commit mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_id: Option<String>,
    /// The commit message (commit mode).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Search results.
#[schema(no_deserialize)]
pub struct SearchResult {
    /// Repository id.
    pub repo_id: String,
    /// The query.
    pub query: String,
    /// The mode used.
    pub mode: SearchMode,
    /// The hits.
    pub matches: Vec<SearchHit>,
    /// Number of hits.
    pub count: i64,
}

/// Search a repository, case-insensitively: artifact paths (`mode` = path, the default) or
/// the messages of the last 100 commits (`mode` = commit).
#[tool(read_only, title = "Search a repository", category = "read")]
pub async fn musehub_search(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(flatten)] repo_ref: RepoRef,
    #[arg(desc = "Text to look for (case-insensitive substring).")] query: String,
    #[arg(desc = "'path' searches artifact paths (default); 'commit' searches commit messages.")]
    mode: Option<SearchMode>,
) -> Result<Json<SearchResult>, ToolError> {
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Read).await?;
    let mode = mode.unwrap_or(SearchMode::Path);
    let needle = query.to_lowercase();
    let mut matches = Vec::new();
    match mode {
        SearchMode::Path => {
            let rows = sqlx::query(
                "SELECT object_id, path FROM objects WHERE repo_id = $1 ORDER BY path, object_id",
            )
            .bind(&repo.repo_id)
            .fetch_all(db.pool())
            .await
            .db()?;
            for r in &rows {
                let path = r.text("path")?;
                if path.to_lowercase().contains(&needle) {
                    matches.push(SearchHit {
                        object_id: Some(r.text("object_id")?),
                        path: Some(path),
                        commit_id: None,
                        message: None,
                    });
                }
            }
        }
        SearchMode::Commit => {
            let rows = sqlx::query(
                "SELECT commit_id, message FROM commits WHERE repo_id = $1 \
                 ORDER BY timestamp DESC, commit_id LIMIT 100",
            )
            .bind(&repo.repo_id)
            .fetch_all(db.pool())
            .await
            .db()?;
            for r in &rows {
                let message = r.text("message")?;
                if message.to_lowercase().contains(&needle) {
                    matches.push(SearchHit {
                        object_id: None,
                        path: None,
                        commit_id: Some(r.text("commit_id")?),
                        message: Some(message),
                    });
                }
            }
        }
    }
    Ok(Json(SearchResult {
        repo_id: repo.repo_id,
        query,
        mode,
        count: matches.len() as i64,
        matches,
    }))
}

/// A list of repositories.
#[schema(no_deserialize)]
pub struct RepoList {
    /// Repositories.
    pub repos: Vec<RepoView>,
    /// Number returned.
    pub total: i64,
}

/// Repositories the caller can see (public ones, plus private ones it owns or collaborates
/// on), most starred first.
pub(crate) async fn visible_repos(
    db: &Db,
    handle: Option<&str>,
) -> Result<Vec<RepoView>, ToolError> {
    let rows = sqlx::query(&format!(
        "SELECT {} FROM repos r WHERE r.visibility = 'public' OR r.owner = $1 \
         OR EXISTS (SELECT 1 FROM collaborators c WHERE c.repo_id = r.id AND c.handle = $1) \
         ORDER BY stars DESC, r.updated_at DESC, r.id",
        repos::REPO_COLUMNS
    ))
    .bind(handle.unwrap_or(""))
    .fetch_all(db.pool())
    .await
    .db()?;
    rows.iter().map(RepoView::from_row).collect()
}

/// Discover repositories: a case-insensitive match of `query` on name, slug, owner and
/// description, with optional `domain` and `tags` filters (all must match). Returns public
/// repositories plus the caller's own and shared private ones, most starred first.
#[tool(read_only, title = "Search repositories", category = "read")]
pub async fn musehub_search_repos(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Text to match in name, slug, owner or description.")] query: Option<String>,
    #[arg(desc = "Only repositories of this domain plugin ('@author/slug').")] domain: Option<
        String,
    >,
    #[arg(desc = "Only repositories carrying all these tags.")] tags: Option<Vec<String>>,
    #[arg(desc = "Maximum results, 1-100 (default 20).")] limit: Option<i64>,
) -> Result<Json<RepoList>, ToolError> {
    let limit = params::clamp_limit(limit, 20) as usize;
    let q = query.unwrap_or_default().to_lowercase();
    let tags: Vec<String> = tags
        .unwrap_or_default()
        .into_iter()
        .map(|t| t.to_lowercase())
        .collect();
    let mut repos = visible_repos(&db, ctx.caller().handle()).await?;
    repos.retain(|r| {
        let text = format!("{} {} {} {}", r.name, r.slug, r.owner, r.description).to_lowercase();
        (q.is_empty() || text.contains(&q))
            && domain
                .as_ref()
                .is_none_or(|d| r.domain.eq_ignore_ascii_case(d))
            && tags
                .iter()
                .all(|t| r.tags.iter().any(|rt| rt.to_lowercase() == *t))
    });
    repos.truncate(limit);
    Ok(Json(RepoList {
        total: repos.len() as i64,
        repos,
    }))
}
