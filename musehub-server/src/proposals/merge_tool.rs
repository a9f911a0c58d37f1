//! Merging a proposal: the three-way merge of `history::merge` applied to the two branches,
//! recorded in one transaction.

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::json;

use crate::db::{Db, DbResultExt, now};
use crate::discovery;
use crate::history;
use crate::history::merge::{self, Manifest, Resolution};
use crate::identity;
use crate::params::{Need, RepoRef};
use crate::proposals::{self, ProposalView};
use crate::repos;

/// How a proposal is merged.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MergeStrategy {
    /// A merge commit with both heads as parents.
    MergeCommit,
    /// One new commit on the target with the proposal's state.
    Squash,
    /// Fast-forward when possible, otherwise one commit replayed on the target.
    Rebase,
}

/// The outcome of a merge.
#[schema(no_deserialize)]
pub struct MergeResult {
    /// The merged proposal.
    pub pull_request: ProposalView,
    /// The target branch's new head.
    pub merge_commit_id: String,
    /// True when the target branch was simply moved forward.
    pub fast_forward: bool,
    /// The snapshot the target branch now records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<String>,
    /// The common ancestor the merge was computed against (absent for unrelated histories).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge_base: Option<String>,
    /// Paths that conflicted and were settled by `resolutions`.
    pub resolved: Vec<String>,
}

/// Merge an open proposal into its target branch (owner and collaborators only). The merge is
/// three-way on the snapshots, path by path, against the two branches' newest common
/// ancestor: a file changed on one side keeps that change, so nothing either branch did is
/// dropped. Paths changed differently on both sides are conflicts: the merge is refused with
/// `merge_conflict` and the conflicts listed (path, kind, and the object on the base and each
/// side) unless `resolutions` settles each one. `merge_commit` (default) records both parents,
/// `squash` one parent, `rebase` fast-forwards when the target has not moved.
#[tool(
    write,
    scopes = "repo:write",
    destructive = false,
    idempotent = false,
    title = "Merge a pull request",
    category = "write"
)]
pub async fn musehub_merge_pr(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(flatten)] repo_ref: RepoRef,
    #[arg(desc = "The pull request id, or its number.")] pr_id: String,
    #[arg(desc = "merge_commit (default), squash or rebase.")] merge_strategy: Option<
        MergeStrategy,
    >,
    #[arg(
        desc = "How to settle conflicting paths: {path: 'ours' | 'theirs' | 'delete' | object id already on the hub}. Only paths a previous attempt listed as conflicts."
    )]
    resolutions: Option<std::collections::BTreeMap<String, String>>,
) -> Result<Json<MergeResult>, ToolError> {
    let handle = identity::ensure_user(&db, ctx.caller()).await?;
    let repo = repos::resolve_repo(&db, ctx.caller(), &repo_ref, Need::Maintain).await?;
    let pr = proposals::find_pr(&db, &repo, &pr_id).await?;
    if pr.state != "open" {
        return Err(ToolError::new(
            "invalid_state",
            format!("Pull request #{} is {}, not open.", pr.number, pr.state),
        ));
    }
    let strategy = merge_strategy.unwrap_or(MergeStrategy::MergeCommit);
    let from_head = history::branch_head(&db, &repo.repo_id, &pr.from_branch)
        .await?
        .flatten()
        .ok_or_else(|| {
            ToolError::new(
                "invalid_state",
                format!("Branch '{}' has no commits to merge.", pr.from_branch),
            )
        })?;
    let to_head = history::branch_head(&db, &repo.repo_id, &pr.to_branch)
        .await?
        .ok_or_else(|| ToolError::not_found(format!("Branch '{}' not found.", pr.to_branch)))?;
    let all = history::all_commits(&db, &repo.repo_id).await?;
    let plan = plan_merge(
        &db,
        &repo,
        &all,
        to_head.as_deref(),
        &from_head,
        resolutions,
    )
    .await?;
    let ts = now();
    let fast_forward = strategy == MergeStrategy::Rebase && plan.target_is_ancestor;
    let (new_head, parents, message) = if fast_forward {
        (from_head.clone(), Vec::new(), String::new())
    } else {
        let mut parents: Vec<String> = to_head.iter().cloned().collect();
        if strategy == MergeStrategy::MergeCommit {
            parents.push(from_head.clone());
        }
        let message = match strategy {
            MergeStrategy::MergeCommit => format!(
                "Merge pull request #{} from {}\n\n{}",
                pr.number, pr.from_branch, pr.title
            ),
            _ => format!("{} (#{})", pr.title, pr.number),
        };
        let id = history::hub_commit_id(
            &parents,
            plan.snapshot_id.as_deref(),
            &handle,
            &ts,
            &message,
        )?;
        (id, parents, message)
    };
    let mut tx = db.pool().begin().await.db()?;
    // Compare-and-swap on the target head: a concurrent push or merge makes this fail.
    let moved = match &to_head {
        Some(t) => sqlx::query(
            "UPDATE branches SET head_commit_id = $1, updated_at = $2 WHERE repo_id = $3 AND name = $4 AND head_commit_id = $5",
        )
        .bind(&new_head)
        .bind(&ts)
        .bind(&repo.repo_id)
        .bind(&pr.to_branch)
        .bind(t)
        .execute(&mut *tx)
        .await
        .db()?,
        None => sqlx::query(
            "UPDATE branches SET head_commit_id = $1, updated_at = $2 WHERE repo_id = $3 AND name = $4 AND head_commit_id IS NULL",
        )
        .bind(&new_head)
        .bind(&ts)
        .bind(&repo.repo_id)
        .bind(&pr.to_branch)
        .execute(&mut *tx)
        .await
        .db()?,
    };
    if moved.rows_affected() != 1 {
        return Err(ToolError::new(
            "non_fast_forward",
            format!("Branch '{}' moved while merging; try again.", pr.to_branch),
        ));
    }
    if !fast_forward {
        if let Some(manifest) = &plan.new_manifest {
            sqlx::query(
                "INSERT INTO snapshots (repo_id, snapshot_id, manifest, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (repo_id, snapshot_id) DO NOTHING",
            )
            .bind(&repo.repo_id)
            .bind(plan.snapshot_id.as_deref())
            .bind(json!(manifest).to_string())
            .bind(&ts)
            .execute(&mut *tx)
            .await
            .db()?;
        }
        sqlx::query(
            "INSERT INTO commits (repo_id, commit_id, parent_ids, author, message, timestamp, snapshot_id, branch, pushed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $6)",
        )
        .bind(&repo.repo_id)
        .bind(&new_head)
        .bind(json!(parents).to_string())
        .bind(&handle)
        .bind(&message)
        .bind(&ts)
        .bind(plan.snapshot_id.clone())
        .bind(&pr.to_branch)
        .execute(&mut *tx)
        .await
        .db()?;
    }
    let strategy_name = match strategy {
        MergeStrategy::MergeCommit => "merge_commit",
        MergeStrategy::Squash => "squash",
        MergeStrategy::Rebase => "rebase",
    };
    let updated = sqlx::query(
        "UPDATE proposals SET state = 'merged', merge_strategy = $1, merge_commit_id = $2, merged_by = $3, \
         merged_at = $4, updated_at = $4 WHERE id = $5 AND state = 'open'",
    )
    .bind(strategy_name)
    .bind(&new_head)
    .bind(&handle)
    .bind(&ts)
    .bind(&pr.pr_id)
    .execute(&mut *tx)
    .await
    .db()?;
    if updated.rows_affected() != 1 {
        return Err(ToolError::new(
            "invalid_state",
            "The pull request was merged or closed concurrently.",
        ));
    }
    discovery::record_activity(
        &mut *tx,
        Some(&repo.repo_id),
        &handle,
        "pr.merged",
        &format!(
            "{handle} merged pull request #{} into {} in {}/{}",
            pr.number, pr.to_branch, repo.owner, repo.slug
        ),
    )
    .await?;
    tx.commit().await.db()?;
    let pr = proposals::find_pr(&db, &repo, &pr.pr_id).await?;
    repos::notify_changed(
        ctx,
        &repo,
        &[
            "",
            "pulls",
            &format!("pulls/{}", pr.number),
            "branches",
            "commits",
            "timeline",
            &format!("tree/{}", pr.to_branch),
            &format!("insights/{}", pr.to_branch),
        ],
    );
    Ok(Json(MergeResult {
        pull_request: pr,
        merge_commit_id: new_head,
        fast_forward,
        snapshot_id: plan.snapshot_id,
        merge_base: plan.merge_base,
        resolved: plan.resolved,
    }))
}

/// What a merge will record, worked out before anything is written.
struct MergePlan {
    /// The snapshot the merged head records.
    snapshot_id: Option<String>,
    /// A manifest the hub does not store yet (the merge produced new content).
    new_manifest: Option<Manifest>,
    merge_base: Option<String>,
    /// True when the target head is an ancestor of the proposal head.
    target_is_ancestor: bool,
    resolved: Vec<String>,
}

/// The three-way merge of the proposal head into the target head, with the caller's
/// resolutions applied; `merge_conflict` (listing every conflict) when any path is left.
async fn plan_merge(
    db: &Db,
    repo: &repos::RepoView,
    all: &std::collections::HashMap<String, history::CommitView>,
    to_head: Option<&str>,
    from_head: &str,
    resolutions: Option<std::collections::BTreeMap<String, String>>,
) -> Result<MergePlan, ToolError> {
    let snapshot_of = |id: &str| -> Result<Option<String>, ToolError> {
        all.get(id)
            .map(|c| c.snapshot_id.clone())
            .ok_or_else(|| ToolError::internal(format!("commit '{id}' is missing")))
    };
    let manifest_of = async |snapshot: &Option<String>| -> Result<Manifest, ToolError> {
        match snapshot {
            None => Ok(Manifest::new()),
            Some(s) => history::snapshot_manifest(db, &repo.repo_id, s)
                .await?
                .ok_or_else(|| ToolError::internal(format!("snapshot '{s}' is missing"))),
        }
    };
    let theirs_snapshot = snapshot_of(from_head)?;
    let theirs = manifest_of(&theirs_snapshot).await?;
    let Some(to_head) = to_head else {
        // An empty target takes the proposal as it is.
        return Ok(MergePlan {
            snapshot_id: theirs_snapshot,
            new_manifest: None,
            merge_base: None,
            target_is_ancestor: true,
            resolved: Vec::new(),
        });
    };
    let ours_snapshot = snapshot_of(to_head)?;
    let ours = manifest_of(&ours_snapshot).await?;
    let base_commit = merge::merge_base(&merge::CommitGraph(all), to_head, from_head);
    let base = match &base_commit {
        Some(b) => manifest_of(&snapshot_of(b)?).await?,
        None => Manifest::new(),
    };
    let mut outcome = merge::three_way(&base, &ours, &theirs);
    let resolutions: std::collections::BTreeMap<String, Resolution> = resolutions
        .unwrap_or_default()
        .iter()
        .map(|(p, r)| (p.clone(), Resolution::parse(r)))
        .collect();
    for (path, r) in &resolutions {
        if let Resolution::Object(oid) = r
            && history::object(db, &repo.repo_id, oid).await?.is_none()
        {
            return Err(ToolError::invalid_argument(format!(
                "the resolution for '{path}' names '{oid}', which is not on the hub: push it first, or use ours, theirs or delete"
            )));
        }
    }
    let resolved: Vec<String> = resolutions.keys().cloned().collect();
    let left = merge::resolve(&mut outcome, &resolutions)
        .map_err(|e| ToolError::invalid_argument(e.to_string()))?;
    if !left.is_empty() {
        let paths: Vec<&str> = left.iter().map(|c| c.path.as_str()).collect();
        return Err(ToolError::new(
            "merge_conflict",
            format!(
                "Both branches changed {} path(s) differently since they split: {}. Nothing was merged. \
                 Merge the target into the proposal branch and push, or pass `resolutions`.",
                left.len(),
                paths.join(", ")
            ),
        )
        .with_data(json!({ "merge_base": base_commit, "conflicts": left })));
    }
    let merged = outcome.merged;
    let (snapshot_id, new_manifest) = if merged == theirs && theirs_snapshot.is_some() {
        (theirs_snapshot, None)
    } else if merged == ours && ours_snapshot.is_some() {
        (ours_snapshot, None)
    } else {
        (Some(merge::snapshot_id(&merged)), Some(merged))
    };
    Ok(MergePlan {
        snapshot_id,
        new_manifest,
        target_is_ancestor: base_commit.as_deref() == Some(to_head),
        merge_base: base_commit,
        resolved,
    })
}
