//! The "start here" document of a repository: the context tool and the overview resource.

use std::collections::BTreeMap;

use musehub_mcp::prelude::*;

use crate::completions::{complete_slugs, complete_users};
use crate::db::{self, Db};
use crate::discovery::{self, DomainView};
use crate::history::{self, BranchView, CommitView};
use crate::params::{Need, RepoRef};
use crate::repos::{self, ReleaseView, RepoView};

/// Counts of the artifacts in the default branch's snapshot.
#[schema(no_deserialize)]
pub struct ArtifactSummary {
    /// Number of files.
    pub total: i64,
    /// Files per MIME type.
    pub by_mime_type: BTreeMap<String, i64>,
    /// The file paths (at most 200).
    pub paths: Vec<String>,
}

/// The "start here" document for a repository.
#[schema(no_deserialize)]
pub struct RepoContext {
    /// The repository.
    pub repo: RepoView,
    /// Its branches.
    pub branches: Vec<BranchView>,
    /// The 10 newest commits of the default branch.
    pub recent_commits: Vec<CommitView>,
    /// What the default branch contains.
    pub artifacts: ArtifactSummary,
    /// Open issues.
    pub open_issues: i64,
    /// Open proposals.
    pub open_pull_requests: i64,
    /// The newest release.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latest_release: Option<ReleaseView>,
    /// The domain plugin the repository uses, when registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainView>,
}

pub(crate) async fn context(db: &Db, repo: RepoView) -> Result<RepoContext, ToolError> {
    let branches = history::branches(db, &repo.repo_id).await?;
    let head = branches
        .iter()
        .find(|b| b.name == repo.default_branch)
        .and_then(|b| b.head_commit_id.clone());
    let (recent_commits, manifest) = match &head {
        Some(h) => (
            history::history(db, &repo.repo_id, h, 10).await?,
            history::manifest(db, &repo.repo_id, h).await?,
        ),
        None => (Vec::new(), BTreeMap::new()),
    };
    let mut by_mime_type = BTreeMap::new();
    for path in manifest.keys() {
        *by_mime_type
            .entry(history::mime_for(path).to_string())
            .or_insert(0) += 1;
    }
    let open_issues = db::count(
        db,
        "SELECT COUNT(*) AS n FROM issues WHERE repo_id = $1 AND state = 'open'",
        &repo.repo_id,
    )
    .await?;
    let open_pull_requests = db::count(
        db,
        "SELECT COUNT(*) AS n FROM proposals WHERE repo_id = $1 AND state = 'open'",
        &repo.repo_id,
    )
    .await?;
    let latest_release = repos::releases(db, &repo.repo_id).await?.into_iter().next();
    let domain = match discovery::parse_scoped_id(&repo.domain) {
        Some((a, s)) => discovery::domain(db, &a, &s).await?,
        None => None,
    };
    Ok(RepoContext {
        artifacts: ArtifactSummary {
            total: manifest.len() as i64,
            by_mime_type,
            paths: manifest.keys().take(200).cloned().collect(),
        },
        repo,
        branches,
        recent_commits,
        open_issues,
        open_pull_requests,
        latest_release,
        domain,
    })
}

/// Start here: the context document of a repository (metadata, branches, the 10 newest
/// commits, the artifacts of the default branch by MIME type, open issue and proposal counts,
/// the latest release and the domain plugin). Accepts `repo_id` or `owner` + `slug`.
#[tool(read_only, title = "Repository context", category = "read")]
pub async fn musehub_get_context(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(flatten)] repo_ref: RepoRef,
) -> Result<Json<RepoContext>, ToolError> {
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Read).await?;
    Ok(Json(context(&db, repo).await?))
}

/// A repository's context document.
#[resource(uri = "musehub://repos/{owner}/{slug}", name = "Repository Overview", mime_type = "application/json", complete(owner = complete_users, slug = complete_slugs))]
pub async fn repo_overview(
    caller: Caller,
    State(db): State<Db>,
    owner: String,
    slug: String,
) -> Result<Json<RepoContext>, ToolError> {
    let r = repos::repo_by_name(&db, &caller, &owner, &slug).await?;
    Ok(Json(repos::context(&db, r).await?))
}
