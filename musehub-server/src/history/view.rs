//! The state of a ref: the viewer payload and the analytics (insights).

use std::collections::{BTreeMap, BTreeSet};

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::{Value, json};

use crate::db::Db;
use crate::discovery::{self, DomainView};
use crate::history::{self, CommitView, ObjectView};
use crate::params::{Need, RepoRef};
use crate::repos::{self, RepoView};

/// Which analysis `musehub_get_domain_insights` computes.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum InsightDimension {
    /// Counts of commits, branches, artifacts, contributors.
    Overview,
    /// Commits per author and per day.
    Commits,
    /// Artifacts per MIME type, and the largest ones.
    Objects,
}

/// Analytics for a repository at a ref.
#[schema(no_deserialize)]
pub struct Insights {
    /// Repository id.
    pub repo_id: String,
    /// The ref analysed.
    #[serde(rename = "ref")]
    pub ref_name: String,
    /// The commit it resolved to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit_id: Option<String>,
    /// The analysis.
    pub dimension: InsightDimension,
    /// The numbers.
    pub data: Value,
}

pub(crate) async fn insights(
    db: &Db,
    repo: &RepoView,
    dimension: InsightDimension,
    ref_name: Option<String>,
) -> Result<Insights, ToolError> {
    let ref_name = ref_name.unwrap_or_else(|| repo.default_branch.clone());
    let commit_id = history::resolve_existing_ref(db, repo, &ref_name).await?;
    let all = history::all_commits(db, &repo.repo_id).await?;
    let history = commit_id
        .as_ref()
        .map(|h| history::reachable(&all, h))
        .unwrap_or_default();
    let files = match &commit_id {
        Some(c) => history::manifest(db, &repo.repo_id, c).await?,
        None => BTreeMap::new(),
    };
    let mut objects = Vec::new();
    for oid in files.values() {
        if let Some(o) = history::object(db, &repo.repo_id, oid).await? {
            objects.push(o);
        }
    }
    let data = match dimension {
        InsightDimension::Overview => {
            let contributors: BTreeSet<&str> = history.iter().map(|c| c.author.as_str()).collect();
            json!({
                "commit_count": history.len(),
                "branch_count": history::branches(db, &repo.repo_id).await?.len(),
                "artifact_count": files.len(),
                "total_bytes": objects.iter().map(|o| o.size_bytes).sum::<i64>(),
                "contributors": contributors,
                "first_commit_at": history.last().map(|c| c.timestamp.clone()),
                "last_commit_at": history.first().map(|c| c.timestamp.clone()),
            })
        }
        InsightDimension::Commits => {
            let mut per_author: BTreeMap<&str, i64> = BTreeMap::new();
            let mut per_day: BTreeMap<String, i64> = BTreeMap::new();
            for c in &history {
                *per_author.entry(c.author.as_str()).or_insert(0) += 1;
                *per_day
                    .entry(c.timestamp.chars().take(10).collect())
                    .or_insert(0) += 1;
            }
            json!({ "commit_count": history.len(), "per_author": per_author, "per_day": per_day })
        }
        InsightDimension::Objects => {
            let mut by_mime: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
            for o in &objects {
                let e = by_mime.entry(o.mime_type.as_str()).or_insert((0, 0));
                e.0 += 1;
                e.1 += o.size_bytes;
            }
            let mut largest: Vec<&ObjectView> = objects.iter().collect();
            largest.sort_by_key(|o| std::cmp::Reverse(o.size_bytes));
            largest.truncate(10);
            json!({
                "by_mime_type": by_mime.iter().map(|(k, (n, b))| (k.to_string(), json!({"count": n, "bytes": b}))).collect::<BTreeMap<_, _>>(),
                "largest": largest.iter().map(|o| json!({"path": o.path, "object_id": o.object_id, "size_bytes": o.size_bytes})).collect::<Vec<_>>(),
            })
        }
    };
    Ok(Insights {
        repo_id: repo.repo_id.clone(),
        ref_name,
        commit_id,
        dimension,
        data,
    })
}

/// Analytics for a repository at a ref (default: the default branch): `overview` (default),
/// `commits` or `objects`.
#[tool(read_only, title = "Domain insights", category = "read")]
pub async fn musehub_get_domain_insights(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(flatten)] repo_ref: RepoRef,
    #[arg(desc = "The analysis: overview (default), commits or objects.")] dimension: Option<
        InsightDimension,
    >,
    #[arg(
        rename = "ref",
        desc = "Branch, tag or commit to analyse (default: the default branch)."
    )]
    ref_name: Option<String>,
) -> Result<Json<Insights>, ToolError> {
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Read).await?;
    Ok(Json(
        insights(
            &db,
            &repo,
            dimension.unwrap_or(InsightDimension::Overview),
            ref_name,
        )
        .await?,
    ))
}

/// The viewer payload: the full state of a ref.
#[schema(no_deserialize)]
pub struct ViewPayload {
    /// The repository.
    pub repo: RepoView,
    /// The ref shown.
    #[serde(rename = "ref")]
    pub ref_name: String,
    /// The commit it resolved to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_commit: Option<CommitView>,
    /// The domain plugin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainView>,
    /// The viewer to use.
    pub viewer_type: String,
    /// The dimension asked for, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimension: Option<String>,
    /// Every artifact of the snapshot.
    pub files: Vec<ObjectView>,
}

/// Inspect the full state of a ref (default: the default branch): head commit, domain plugin
/// and viewer type, and every artifact of the snapshot.
#[tool(read_only, title = "Get the state view", category = "read")]
pub async fn musehub_get_view(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(flatten)] repo_ref: RepoRef,
    #[arg(
        rename = "ref",
        desc = "Branch, tag or commit (default: the default branch)."
    )]
    ref_name: Option<String>,
    #[arg(desc = "A dimension of the domain to focus on (e.g. 'harmonic').")] dimension: Option<
        String,
    >,
) -> Result<Json<ViewPayload>, ToolError> {
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Read).await?;
    let ref_name = ref_name.unwrap_or_else(|| repo.default_branch.clone());
    let commit_id = history::resolve_existing_ref(&db, &repo, &ref_name).await?;
    let head_commit = match &commit_id {
        Some(c) => history::commit(&db, &repo.repo_id, c).await?,
        None => None,
    };
    let mut files = Vec::new();
    if let Some(c) = &commit_id {
        for (path, oid) in history::manifest(&db, &repo.repo_id, c).await? {
            if let Some(o) = history::object(&db, &repo.repo_id, &oid).await? {
                files.push(ObjectView { path, ..o });
            }
        }
    }
    let domain = match discovery::parse_scoped_id(&repo.domain) {
        Some((a, s)) => discovery::domain(&db, &a, &s).await?,
        None => None,
    };
    Ok(Json(ViewPayload {
        viewer_type: domain
            .as_ref()
            .map(|d| d.viewer_type.clone())
            .unwrap_or_else(|| "generic".into()),
        repo,
        ref_name,
        head_commit,
        domain,
        dimension,
        files,
    }))
}
