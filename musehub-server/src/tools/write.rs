//! The write tools: they need a signed-in caller (the engine refuses anonymous callers with
//! a tool error naming the tool), and change the hub in one transaction each.

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::db::{Db, DbResultExt, RowExt, is_unique_violation, new_id, now};
use crate::merge::{self, Manifest, Resolution};
use crate::model::{
    self, CommentView, IssueView, Need, ProposalView, ReleaseView, RepoRef, RepoView, ReviewView,
};
use crate::tools::read::{self, RepoContext};

pub(crate) fn require(value: &str, name: &str) -> Result<(), ToolError> {
    if value.trim().is_empty() {
        return Err(ToolError::invalid_argument(format!(
            "`{name}` must not be empty"
        )));
    }
    Ok(())
}

/// Repository visibility.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Anyone can read it.
    Public,
    /// Only the owner and collaborators can read it.
    Private,
}

/// A hash-derived id for content the hub creates itself (initial and merge commits).
pub(crate) fn content_id(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    format!("{:x}", h.finalize())
}

/// Create a repository owned by the caller. With `initialize` (default true) it gets a
/// `main` branch with an initial commit holding a README. `domain` names a registered domain
/// plugin (default '@muse/midi') and `domain_meta` is stored with it.
#[tool(
    write,
    destructive = false,
    idempotent = false,
    title = "Create a repository",
    category = "write"
)]
#[allow(clippy::too_many_arguments)]
pub async fn musehub_create_repo(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository name; the slug is derived from it.")] name: String,
    #[arg(desc = "A short description.")] description: Option<String>,
    #[arg(desc = "public (default) or private.")] visibility: Option<Visibility>,
    #[arg(desc = "Domain plugin, '@author/slug' (default '@muse/midi').")] domain: Option<String>,
    #[arg(desc = "Domain-specific metadata (key, tempo, instrumentation, ...).")]
    domain_meta: Option<Value>,
    #[arg(desc = "Tags for discovery.")] tags: Option<Vec<String>>,
    #[arg(desc = "Create a main branch with an initial commit (default true).")] initialize: Option<
        bool,
    >,
) -> Result<Json<RepoContext>, ToolError> {
    let handle = model::ensure_user(&db, ctx.caller()).await?;
    require(&name, "name")?;
    let slug = model::slugify(&name);
    if slug.is_empty() {
        return Err(ToolError::invalid_argument(
            "`name` must contain at least one letter or digit",
        ));
    }
    let domain = domain.unwrap_or_else(|| "@muse/midi".into());
    let (da, ds) = model::parse_scoped_id(&domain).ok_or_else(|| {
        ToolError::new(
            "invalid_scoped_id",
            format!("'{domain}' is not a domain id of the form '@author/slug'."),
        )
    })?;
    if model::domain(&db, &da, &ds).await?.is_none() {
        return Err(ToolError::not_found(format!(
            "Domain '@{da}/{ds}' is not registered; see musehub_list_domains."
        )));
    }
    let domain_meta = match domain_meta {
        None | Some(Value::Null) => json!({}),
        Some(v @ Value::Object(_)) => v,
        Some(_) => {
            return Err(ToolError::invalid_argument(
                "`domain_meta` must be an object",
            ));
        }
    };
    let tags: Vec<String> = tags
        .unwrap_or_default()
        .into_iter()
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    let visibility = match visibility.unwrap_or(Visibility::Public) {
        Visibility::Public => "public",
        Visibility::Private => "private",
    };
    let repo_id = new_id();
    let ts = now();
    let mut tx = db.pool().begin().await.db()?;
    let inserted = sqlx::query(
        "INSERT INTO repos (id, owner, slug, name, description, visibility, domain, domain_meta, tags, \
         default_branch, forked_from, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'main', NULL, $10, $10)",
    )
    .bind(&repo_id)
    .bind(&handle)
    .bind(&slug)
    .bind(name.trim())
    .bind(description.unwrap_or_default())
    .bind(visibility)
    .bind(format!("@{da}/{ds}"))
    .bind(domain_meta.to_string())
    .bind(json!(tags).to_string())
    .bind(&ts)
    .execute(&mut *tx)
    .await;
    if let Err(e) = inserted {
        if is_unique_violation(&e) {
            return Err(ToolError::new(
                "already_exists",
                format!("You already have a repository named '{slug}'."),
            ));
        }
        return Err(crate::db::dberr(e));
    }
    if initialize.unwrap_or(true) {
        let readme = format!("# {}\n", name.trim());
        let object_id = content_id(&["blob", &readme]);
        let snapshot_id = content_id(&["snapshot", "README.md", &object_id]);
        let commit_id = content_id(&["commit", &repo_id, &snapshot_id, &ts]);
        insert_object(
            &mut tx,
            &repo_id,
            &object_id,
            "README.md",
            readme.as_bytes(),
            &ts,
        )
        .await?;
        sqlx::query(
            "INSERT INTO snapshots (repo_id, snapshot_id, manifest, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&repo_id)
        .bind(&snapshot_id)
        .bind(json!({ "README.md": object_id }).to_string())
        .bind(&ts)
        .execute(&mut *tx)
        .await
        .db()?;
        sqlx::query(
            "INSERT INTO commits (repo_id, commit_id, parent_ids, author, message, timestamp, snapshot_id, branch, pushed_at) \
             VALUES ($1, $2, '[]', $3, 'Initial commit', $4, $5, 'main', $4)",
        )
        .bind(&repo_id)
        .bind(&commit_id)
        .bind(&handle)
        .bind(&ts)
        .bind(&snapshot_id)
        .execute(&mut *tx)
        .await
        .db()?;
        sqlx::query(
            "INSERT INTO branches (id, repo_id, name, head_commit_id, created_at, updated_at) VALUES ($1, $2, 'main', $3, $4, $4)",
        )
        .bind(new_id())
        .bind(&repo_id)
        .bind(&commit_id)
        .bind(&ts)
        .execute(&mut *tx)
        .await
        .db()?;
    }
    model::record_activity(
        &mut *tx,
        Some(&repo_id),
        &handle,
        "repo.created",
        &format!("{handle} created {handle}/{slug}"),
    )
    .await?;
    tx.commit().await.db()?;
    let repo = model::find_repo(&db, &RepoRef::new(Some(repo_id), None, None))
        .await?
        .ok_or_else(|| ToolError::internal("the new repository vanished"))?;
    Ok(Json(read::context(&db, repo).await?))
}

pub(crate) async fn insert_object(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    repo_id: &str,
    object_id: &str,
    path: &str,
    content: &[u8],
    ts: &str,
) -> Result<(), ToolError> {
    use base64::Engine;
    let hash = format!("{:x}", Sha256::digest(content));
    sqlx::query(
        "INSERT INTO objects (repo_id, object_id, path, size_bytes, mime_type, content_hash, content_b64, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (repo_id, object_id) DO NOTHING",
    )
    .bind(repo_id)
    .bind(object_id)
    .bind(path)
    .bind(content.len() as i64)
    .bind(model::mime_for(path))
    .bind(hash)
    .bind(base64::engine::general_purpose::STANDARD.encode(content))
    .bind(ts)
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}

async fn known_labels(db: &Db, repo_id: &str) -> Result<Vec<String>, ToolError> {
    let rows = sqlx::query("SELECT name FROM labels WHERE repo_id = $1 ORDER BY name")
        .bind(repo_id)
        .fetch_all(db.pool())
        .await
        .db()?;
    rows.iter().map(|r| r.text("name")).collect()
}

async fn check_labels(db: &Db, repo: &RepoView, labels: &[String]) -> Result<(), ToolError> {
    let known = known_labels(db, &repo.repo_id).await?;
    let unknown: Vec<&String> = labels.iter().filter(|l| !known.contains(l)).collect();
    if !unknown.is_empty() {
        return Err(ToolError::invalid_argument(format!(
            "unknown label(s) {}; this repository's labels are: {} (create one with musehub_create_label)",
            unknown
                .iter()
                .map(|l| format!("'{l}'"))
                .collect::<Vec<_>>()
                .join(", "),
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )));
    }
    Ok(())
}

/// Runs an insert that takes the next per-repository number, retrying once when a
/// concurrent insert took the same number.
async fn next_number_insert(
    db: &Db,
    table: &str,
    build: impl Fn(i64) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments<'static>>,
    repo_id: &str,
) -> Result<i64, ToolError> {
    for _ in 0..3 {
        let n: i64 = sqlx::query(&format!(
            "SELECT COALESCE(MAX(number), 0) + 1 AS n FROM {table} WHERE repo_id = $1"
        ))
        .bind(repo_id)
        .fetch_one(db.pool())
        .await
        .db()?
        .int("n")?;
        match build(n).execute(db.pool()).await {
            Ok(_) => return Ok(n),
            Err(e) if is_unique_violation(&e) => continue,
            Err(e) => return Err(crate::db::dberr(e)),
        }
    }
    Err(ToolError::new(
        "conflict",
        "too many concurrent changes; try again",
    ))
}

/// Open an issue on a repository the caller can read. Labels must exist in the repository.
#[tool(
    write,
    destructive = false,
    idempotent = false,
    title = "Create an issue",
    category = "write"
)]
pub async fn musehub_create_issue(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
    #[arg(desc = "Issue title.")] title: String,
    #[arg(desc = "Issue body (Markdown).")] body: Option<String>,
    #[arg(desc = "Label names (they must exist in the repository).")] labels: Option<Vec<String>>,
) -> Result<Json<IssueView>, ToolError> {
    let handle = model::ensure_user(&db, ctx.caller()).await?;
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Read,
    )
    .await?;
    require(&title, "title")?;
    let labels = labels.unwrap_or_default();
    check_labels(&db, &repo, &labels).await?;
    let ts = now();
    let id = new_id();
    let (rid, t, b, h, l, tsc, idc) = (
        repo.repo_id.clone(),
        title.trim().to_string(),
        body.unwrap_or_default(),
        handle.clone(),
        json!(labels).to_string(),
        ts.clone(),
        id.clone(),
    );
    let number = next_number_insert(
        &db,
        "issues",
        move |n| {
            sqlx::query(
                "INSERT INTO issues (id, repo_id, number, title, body, state, author, assignee, labels, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 'open', $6, NULL, $7, $8, $8)",
            )
            .bind(idc.clone())
            .bind(rid.clone())
            .bind(n)
            .bind(t.clone())
            .bind(b.clone())
            .bind(h.clone())
            .bind(l.clone())
            .bind(tsc.clone())
        },
        &repo.repo_id,
    )
    .await?;
    model::record_activity(
        db.pool(),
        Some(&repo.repo_id),
        &handle,
        "issue.opened",
        &format!(
            "{handle} opened issue #{number} in {}/{}",
            repo.owner, repo.slug
        ),
    )
    .await?;
    let issue = model::issue(&db, &repo.repo_id, number)
        .await?
        .ok_or_else(|| ToolError::internal("the new issue vanished"))?;
    super::notify_changed(ctx, &repo, &["", "issues"]);
    Ok(Json(issue))
}

/// Issue state for updates.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum IssueState {
    /// Open (reopen).
    Open,
    /// Closed.
    Closed,
}

/// Edit, close, reopen or (un)assign an issue. Allowed to the issue's author and to the
/// repository's owner and collaborators; `assignee: ""` unassigns.
#[tool(
    write,
    destructive = false,
    idempotent = true,
    title = "Update an issue",
    category = "write"
)]
#[allow(clippy::too_many_arguments)]
pub async fn musehub_update_issue(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
    #[arg(desc = "The issue number.")] issue_number: i64,
    #[arg(desc = "New title.")] title: Option<String>,
    #[arg(desc = "New body.")] body: Option<String>,
    #[arg(desc = "New label set (replaces the old one).")] labels: Option<Vec<String>>,
    #[arg(desc = "open or closed.")] state: Option<IssueState>,
    #[arg(desc = "Handle to assign; an empty string unassigns.")] assignee: Option<String>,
) -> Result<Json<IssueView>, ToolError> {
    let handle = model::ensure_user(&db, ctx.caller()).await?;
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Read,
    )
    .await?;
    let issue = model::issue(&db, &repo.repo_id, issue_number)
        .await?
        .ok_or_else(|| {
            ToolError::not_found(format!(
                "Issue #{issue_number} not found in {}/{}.",
                repo.owner, repo.slug
            ))
        })?;
    if issue.author != handle && !model::is_maintainer(&db, &repo, Some(&handle)).await? {
        return Err(ToolError::forbidden(
            "only the issue's author and the repository's maintainers may update it",
        ));
    }
    if let Some(t) = &title {
        require(t, "title")?;
    }
    if let Some(l) = &labels {
        check_labels(&db, &repo, l).await?;
    }
    let assignee = match assignee {
        None => issue.assignee.clone(),
        Some(a) if a.trim().is_empty() => None,
        Some(a) => Some(a.trim().to_string()),
    };
    let state = match state {
        None => issue.state.clone(),
        Some(IssueState::Open) => "open".into(),
        Some(IssueState::Closed) => "closed".into(),
    };
    sqlx::query(
        "UPDATE issues SET title = $1, body = $2, labels = $3, state = $4, assignee = $5, updated_at = $6 WHERE id = $7",
    )
    .bind(title.map(|t| t.trim().to_string()).unwrap_or(issue.title.clone()))
    .bind(body.unwrap_or(issue.body.clone()))
    .bind(json!(labels.unwrap_or(issue.labels.clone())).to_string())
    .bind(&state)
    .bind(assignee)
    .bind(now())
    .bind(&issue.issue_id)
    .execute(db.pool())
    .await
    .db()?;
    if state != issue.state {
        model::record_activity(
            db.pool(),
            Some(&repo.repo_id),
            &handle,
            if state == "closed" {
                "issue.closed"
            } else {
                "issue.reopened"
            },
            &format!("{handle} {state} issue #{issue_number}"),
        )
        .await?;
    }
    let issue = model::issue(&db, &repo.repo_id, issue_number)
        .await?
        .ok_or_else(|| ToolError::internal("the issue vanished"))?;
    // The state may have changed, and with it the overview's open-issue count.
    super::notify_changed(
        ctx,
        &repo,
        &["", "issues", &format!("issues/{issue_number}")],
    );
    Ok(Json(issue))
}

/// A new comment.
#[schema(no_deserialize)]
pub struct NewComment {
    /// Repository id.
    pub repo_id: String,
    /// The issue number or pull request id commented on.
    pub target: String,
    /// The comment.
    pub comment: CommentView,
}

/// Comment on an issue of a repository the caller can read.
#[tool(
    write,
    destructive = false,
    idempotent = false,
    title = "Comment on an issue",
    category = "write"
)]
pub async fn musehub_create_issue_comment(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
    #[arg(desc = "The issue number.")] issue_number: i64,
    #[arg(desc = "Comment text (Markdown).")] body: String,
) -> Result<Json<NewComment>, ToolError> {
    let handle = model::ensure_user(&db, ctx.caller()).await?;
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Read,
    )
    .await?;
    require(&body, "body")?;
    let issue = model::issue(&db, &repo.repo_id, issue_number)
        .await?
        .ok_or_else(|| {
            ToolError::not_found(format!(
                "Issue #{issue_number} not found in {}/{}.",
                repo.owner, repo.slug
            ))
        })?;
    let id = new_id();
    let ts = now();
    let mut tx = db.pool().begin().await.db()?;
    sqlx::query(
        "INSERT INTO issue_comments (id, issue_id, author, body, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(&issue.issue_id)
    .bind(&handle)
    .bind(&body)
    .bind(&ts)
    .execute(&mut *tx)
    .await
    .db()?;
    sqlx::query("UPDATE issues SET updated_at = $1 WHERE id = $2")
        .bind(&ts)
        .bind(&issue.issue_id)
        .execute(&mut *tx)
        .await
        .db()?;
    tx.commit().await.db()?;
    super::notify_changed(ctx, &repo, &[&format!("issues/{issue_number}")]);
    Ok(Json(NewComment {
        repo_id: repo.repo_id,
        target: format!("#{issue_number}"),
        comment: CommentView {
            comment_id: id,
            author: handle,
            body,
            dimension: None,
            track: None,
            beat_start: None,
            beat_end: None,
            created_at: ts,
        },
    }))
}

/// Open a proposal (pull request) to merge `from_branch` into `to_branch`; both must exist
/// and differ.
#[tool(
    write,
    destructive = false,
    idempotent = false,
    title = "Open a pull request",
    category = "write"
)]
#[allow(clippy::too_many_arguments)]
pub async fn musehub_create_pr(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
    #[arg(desc = "Title.")] title: String,
    #[arg(desc = "The branch with the changes.")] from_branch: String,
    #[arg(desc = "The branch to merge into.")] to_branch: String,
    #[arg(desc = "Description (Markdown).")] body: Option<String>,
) -> Result<Json<ProposalView>, ToolError> {
    let handle = model::ensure_user(&db, ctx.caller()).await?;
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Read,
    )
    .await?;
    require(&title, "title")?;
    if from_branch == to_branch {
        return Err(ToolError::invalid_argument(
            "from_branch and to_branch must be different.",
        ));
    }
    for b in [&from_branch, &to_branch] {
        if model::branch_head(&db, &repo.repo_id, b).await?.is_none() {
            return Err(ToolError::not_found(format!(
                "Branch '{b}' not found in {}/{}.",
                repo.owner, repo.slug
            )));
        }
    }
    let id = new_id();
    let ts = now();
    let (idc, rid, t, b, f, to, h, tsc) = (
        id.clone(),
        repo.repo_id.clone(),
        title.trim().to_string(),
        body.unwrap_or_default(),
        from_branch.clone(),
        to_branch.clone(),
        handle.clone(),
        ts.clone(),
    );
    let number = next_number_insert(
        &db,
        "proposals",
        move |n| {
            sqlx::query(
                "INSERT INTO proposals (id, repo_id, number, title, body, state, from_branch, to_branch, author, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9, $9)",
            )
            .bind(idc.clone())
            .bind(rid.clone())
            .bind(n)
            .bind(t.clone())
            .bind(b.clone())
            .bind(f.clone())
            .bind(to.clone())
            .bind(h.clone())
            .bind(tsc.clone())
        },
        &repo.repo_id,
    )
    .await?;
    model::record_activity(
        db.pool(),
        Some(&repo.repo_id),
        &handle,
        "pr.opened",
        &format!(
            "{handle} opened pull request #{number} ({from_branch} -> {to_branch}) in {}/{}",
            repo.owner, repo.slug
        ),
    )
    .await?;
    let pr = read::find_pr(&db, &repo, &id).await?;
    super::notify_changed(ctx, &repo, &["", "pulls"]);
    Ok(Json(pr))
}

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
    destructive = false,
    idempotent = false,
    title = "Merge a pull request",
    category = "write"
)]
pub async fn musehub_merge_pr(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
    #[arg(desc = "The pull request id, or its number.")] pr_id: String,
    #[arg(desc = "merge_commit (default), squash or rebase.")] merge_strategy: Option<
        MergeStrategy,
    >,
    #[arg(
        desc = "How to settle conflicting paths: {path: 'ours' | 'theirs' | 'delete' | object id already on the hub}. Only paths a previous attempt listed as conflicts."
    )]
    resolutions: Option<std::collections::BTreeMap<String, String>>,
) -> Result<Json<MergeResult>, ToolError> {
    let handle = model::ensure_user(&db, ctx.caller()).await?;
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Maintain,
    )
    .await?;
    let pr = read::find_pr(&db, &repo, &pr_id).await?;
    if pr.state != "open" {
        return Err(ToolError::new(
            "invalid_state",
            format!("Pull request #{} is {}, not open.", pr.number, pr.state),
        ));
    }
    let strategy = merge_strategy.unwrap_or(MergeStrategy::MergeCommit);
    let from_head = model::branch_head(&db, &repo.repo_id, &pr.from_branch)
        .await?
        .flatten()
        .ok_or_else(|| {
            ToolError::new(
                "invalid_state",
                format!("Branch '{}' has no commits to merge.", pr.from_branch),
            )
        })?;
    let to_head = model::branch_head(&db, &repo.repo_id, &pr.to_branch)
        .await?
        .ok_or_else(|| ToolError::not_found(format!("Branch '{}' not found.", pr.to_branch)))?;
    let all = model::all_commits(&db, &repo.repo_id).await?;
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
        let id = content_id(&[
            "merge",
            &repo.repo_id,
            &parents.join(","),
            plan.snapshot_id.as_deref().unwrap_or(""),
            &ts,
        ]);
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
    model::record_activity(
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
    let pr = read::find_pr(&db, &repo, &pr.pr_id).await?;
    super::notify_changed(
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
    repo: &model::RepoView,
    all: &std::collections::HashMap<String, model::CommitView>,
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
            Some(s) => model::snapshot_manifest(db, &repo.repo_id, s)
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
    let base_commit = merge::merge_base(all, to_head, from_head);
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
            && model::object(db, &repo.repo_id, oid).await?.is_none()
        {
            return Err(ToolError::invalid_argument(format!(
                "the resolution for '{path}' names '{oid}', which is not on the hub: push it first, or use ours, theirs or delete"
            )));
        }
    }
    let resolved: Vec<String> = resolutions.keys().cloned().collect();
    let left = merge::resolve(&mut outcome, &resolutions)?;
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

/// Where a proposal comment points in the music.
#[schema]
#[derive(Debug, Clone, Default)]
pub struct DimensionRef {
    /// The dimension: general (default), melodic, harmonic, rhythmic, structural, dynamic.
    #[serde(rename = "type", default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The track.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub track: Option<String>,
    /// First beat of the range.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beat_start: Option<f64>,
    /// Last beat of the range.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub beat_end: Option<f64>,
}

/// Comment on a proposal, optionally pinned to a dimension, track and beat range.
#[tool(
    write,
    destructive = false,
    idempotent = false,
    title = "Comment on a pull request",
    category = "write"
)]
#[allow(clippy::too_many_arguments)]
pub async fn musehub_create_pr_comment(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
    #[arg(desc = "The pull request id, or its number.")] pr_id: String,
    #[arg(desc = "Comment text (Markdown).")] body: String,
    #[arg(desc = "What the comment points at: {type, track, beat_start, beat_end}.")]
    dimension_ref: Option<DimensionRef>,
) -> Result<Json<NewComment>, ToolError> {
    let handle = model::ensure_user(&db, ctx.caller()).await?;
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Read,
    )
    .await?;
    require(&body, "body")?;
    let pr = read::find_pr(&db, &repo, &pr_id).await?;
    let d = dimension_ref.unwrap_or_default();
    if let (Some(a), Some(b)) = (d.beat_start, d.beat_end)
        && a > b
    {
        return Err(ToolError::invalid_argument(
            "`dimension_ref.beat_start` must not be after `beat_end`",
        ));
    }
    let dimension = d.kind.clone().unwrap_or_else(|| "general".into());
    let id = new_id();
    let ts = now();
    sqlx::query(
        "INSERT INTO proposal_comments (id, proposal_id, author, body, dimension, track, beat_start, beat_end, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(&pr.pr_id)
    .bind(&handle)
    .bind(&body)
    .bind(&dimension)
    .bind(d.track.clone())
    .bind(d.beat_start)
    .bind(d.beat_end)
    .bind(&ts)
    .execute(db.pool())
    .await
    .db()?;
    super::notify_changed(ctx, &repo, &[&format!("pulls/{}", pr.number)]);
    Ok(Json(NewComment {
        repo_id: repo.repo_id,
        target: pr.pr_id,
        comment: CommentView {
            comment_id: id,
            author: handle,
            body,
            dimension: Some(dimension),
            track: d.track,
            beat_start: d.beat_start,
            beat_end: d.beat_end,
            created_at: ts,
        },
    }))
}

/// A review verdict.
#[schema]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ReviewEvent {
    /// Approve.
    Approve,
    /// Ask for changes.
    RequestChanges,
    /// Comment without a verdict.
    Comment,
}

/// Review a proposal: approve, request changes, or comment. Authors cannot approve or
/// request changes on their own proposals.
#[tool(
    write,
    destructive = false,
    idempotent = false,
    title = "Review a pull request",
    category = "write"
)]
#[allow(clippy::too_many_arguments)]
pub async fn musehub_submit_pr_review(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
    #[arg(desc = "The pull request id, or its number.")] pr_id: String,
    #[arg(desc = "approve, request_changes or comment.")] event: ReviewEvent,
    #[arg(desc = "Review text.")] body: Option<String>,
) -> Result<Json<ReviewView>, ToolError> {
    let handle = model::ensure_user(&db, ctx.caller()).await?;
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Read,
    )
    .await?;
    let pr = read::find_pr(&db, &repo, &pr_id).await?;
    if pr.state != "open" {
        return Err(ToolError::new(
            "invalid_state",
            format!("Pull request #{} is {}, not open.", pr.number, pr.state),
        ));
    }
    let event = match event {
        ReviewEvent::Approve => "approve",
        ReviewEvent::RequestChanges => "request_changes",
        ReviewEvent::Comment => "comment",
    };
    if pr.author == handle && event != "comment" {
        return Err(ToolError::forbidden(
            "you cannot approve or request changes on your own pull request",
        ));
    }
    let id = new_id();
    let ts = now();
    let body = body.unwrap_or_default();
    sqlx::query(
        "INSERT INTO proposal_reviews (id, proposal_id, reviewer, event, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(&pr.pr_id)
    .bind(&handle)
    .bind(event)
    .bind(&body)
    .bind(&ts)
    .execute(db.pool())
    .await
    .db()?;
    super::notify_changed(ctx, &repo, &[&format!("pulls/{}", pr.number)]);
    Ok(Json(ReviewView {
        review_id: id,
        reviewer: handle,
        event: event.into(),
        body,
        created_at: ts,
    }))
}

pub(crate) struct NewRelease<'a> {
    pub tag: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub commit_id: Option<String>,
    pub channel: &'a str,
    pub pre_release: bool,
}

pub(crate) fn valid_tag(tag: &str) -> bool {
    let t = tag.strip_prefix('v').unwrap_or(tag);
    !tag.is_empty()
        && tag.len() <= 32
        && t.chars().next().is_some_and(|c| c.is_ascii_digit())
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_+".contains(c))
}

pub(crate) async fn create_release(
    db: &Db,
    handle: &str,
    repo: &RepoView,
    r: NewRelease<'_>,
) -> Result<ReleaseView, ToolError> {
    if !valid_tag(r.tag) {
        return Err(ToolError::invalid_argument(format!(
            "'{}' is not a release tag: use a version such as v1.0.0 or 1.2-beta",
            r.tag
        )));
    }
    require(r.title, "title")?;
    let commit_id = match r.commit_id {
        Some(c) => {
            if model::commit(db, &repo.repo_id, &c).await?.is_none() {
                return Err(ToolError::not_found(format!("Commit '{c}' not found.")));
            }
            Some(c)
        }
        None => model::branch_head(db, &repo.repo_id, &repo.default_branch)
            .await?
            .flatten(),
    };
    let id = new_id();
    let ts = now();
    let res = sqlx::query(
        "INSERT INTO releases (id, repo_id, tag, title, body, commit_id, channel, pre_release, author, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&id)
    .bind(&repo.repo_id)
    .bind(r.tag)
    .bind(r.title.trim())
    .bind(r.body)
    .bind(commit_id.clone())
    .bind(r.channel)
    .bind(i64::from(r.pre_release))
    .bind(handle)
    .bind(&ts)
    .execute(db.pool())
    .await;
    match res {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(ToolError::new(
                "already_exists",
                format!("Release '{}' already exists.", r.tag),
            ));
        }
        Err(e) => return Err(crate::db::dberr(e)),
    }
    model::record_activity(
        db.pool(),
        Some(&repo.repo_id),
        handle,
        "release.published",
        &format!(
            "{handle} published {} of {}/{}",
            r.tag, repo.owner, repo.slug
        ),
    )
    .await?;
    Ok(ReleaseView {
        release_id: id,
        tag: r.tag.into(),
        title: r.title.trim().into(),
        body: r.body.into(),
        commit_id,
        channel: r.channel.into(),
        pre_release: r.pre_release,
        author: handle.into(),
        created_at: ts,
    })
}

/// Publish a release (owner and collaborators only): a version tag on a commit (default: the
/// head of the default branch), with notes and a channel.
#[tool(
    write,
    destructive = false,
    idempotent = false,
    title = "Create a release",
    category = "write"
)]
#[allow(clippy::too_many_arguments)]
pub async fn musehub_create_release(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
    #[arg(desc = "Version tag, such as v1.0.0 (unique in the repository).")] tag: String,
    #[arg(desc = "Release title.")] title: String,
    #[arg(desc = "Release notes (Markdown).")] body: Option<String>,
    #[arg(desc = "The commit to release (default: head of the default branch).")] commit_id: Option<
        String,
    >,
    #[arg(desc = "Release channel (default 'stable').")] channel: Option<String>,
) -> Result<Json<ReleaseView>, ToolError> {
    let handle = model::ensure_user(&db, ctx.caller()).await?;
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Maintain,
    )
    .await?;
    let channel = channel.unwrap_or_else(|| "stable".into());
    let release = create_release(
        &db,
        &handle,
        &repo,
        NewRelease {
            tag: &tag,
            title: &title,
            body: body.as_deref().unwrap_or(""),
            commit_id,
            pre_release: channel != "stable",
            channel: &channel,
        },
    )
    .await?;
    super::notify_changed(ctx, &repo, &["", "releases"]);
    Ok(Json(release))
}

/// A star.
#[schema(no_deserialize)]
pub struct StarResult {
    /// Repository id.
    pub repo_id: String,
    /// Always true.
    pub starred: bool,
    /// The repository's star count.
    pub stars: i64,
}

/// Star a repository (idempotent: starring twice keeps one star).
#[tool(
    write,
    destructive = false,
    idempotent = true,
    title = "Star a repository",
    category = "write"
)]
pub async fn musehub_star_repo(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
) -> Result<Json<StarResult>, ToolError> {
    let handle = model::ensure_user(&db, ctx.caller()).await?;
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Read,
    )
    .await?;
    sqlx::query(
        "INSERT INTO stars (repo_id, handle, created_at) VALUES ($1, $2, $3) ON CONFLICT (repo_id, handle) DO NOTHING",
    )
    .bind(&repo.repo_id)
    .bind(&handle)
    .bind(now())
    .execute(db.pool())
    .await
    .db()?;
    let stars = read::count(
        &db,
        "SELECT COUNT(*) AS n FROM stars WHERE repo_id = $1",
        &repo.repo_id,
    )
    .await?;
    super::notify_changed(ctx, &repo, &[""]);
    Ok(Json(StarResult {
        repo_id: repo.repo_id,
        starred: true,
        stars,
    }))
}

/// Fork a public repository into the caller's account, with its branches, history,
/// snapshots and artifacts.
#[tool(
    write,
    destructive = false,
    idempotent = false,
    title = "Fork a repository",
    category = "write"
)]
pub async fn musehub_fork_repo(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
) -> Result<Json<RepoView>, ToolError> {
    let handle = model::ensure_user(&db, ctx.caller()).await?;
    let src = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Read,
    )
    .await?;
    if !src.is_public() {
        return Err(ToolError::forbidden(
            "Only public repositories can be forked.",
        ));
    }
    if src.owner == handle {
        return Err(ToolError::invalid_argument(
            "You cannot fork your own repository.",
        ));
    }
    let new_repo = new_id();
    let ts = now();
    // Read before the transaction: with one connection (in-memory SQLite) a read on the pool
    // inside it would wait for the transaction's own connection.
    let src_branches = model::branches(&db, &src.repo_id).await?;
    let mut tx = db.pool().begin().await.db()?;
    let res = sqlx::query(
        "INSERT INTO repos (id, owner, slug, name, description, visibility, domain, domain_meta, tags, \
         default_branch, forked_from, created_at, updated_at) \
         SELECT $1, $2, slug, name, description, visibility, domain, domain_meta, tags, default_branch, id, $3, $3 \
         FROM repos WHERE id = $4",
    )
    .bind(&new_repo)
    .bind(&handle)
    .bind(&ts)
    .bind(&src.repo_id)
    .execute(&mut *tx)
    .await;
    match res {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(ToolError::new(
                "already_exists",
                format!("You already have a repository named '{}'.", src.slug),
            ));
        }
        Err(e) => return Err(crate::db::dberr(e)),
    }
    for sql in [
        "INSERT INTO commits (repo_id, commit_id, parent_ids, author, message, timestamp, snapshot_id, branch, pushed_at) \
         SELECT $1, commit_id, parent_ids, author, message, timestamp, snapshot_id, branch, pushed_at FROM commits WHERE repo_id = $2",
        "INSERT INTO snapshots (repo_id, snapshot_id, manifest, created_at) \
         SELECT $1, snapshot_id, manifest, created_at FROM snapshots WHERE repo_id = $2",
        "INSERT INTO objects (repo_id, object_id, path, size_bytes, mime_type, content_hash, content_b64, created_at) \
         SELECT $1, object_id, path, size_bytes, mime_type, content_hash, content_b64, created_at FROM objects WHERE repo_id = $2",
    ] {
        sqlx::query(sql)
            .bind(&new_repo)
            .bind(&src.repo_id)
            .execute(&mut *tx)
            .await
            .db()?;
    }
    for b in src_branches {
        sqlx::query(
            "INSERT INTO branches (id, repo_id, name, head_commit_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(new_id())
        .bind(&new_repo)
        .bind(&b.name)
        .bind(b.head_commit_id)
        .bind(&ts)
        .execute(&mut *tx)
        .await
        .db()?;
    }
    model::record_activity(
        &mut *tx,
        Some(&new_repo),
        &handle,
        "repo.forked",
        &format!(
            "{handle} forked {}/{} to {handle}/{}",
            src.owner, src.slug, src.slug
        ),
    )
    .await?;
    tx.commit().await.db()?;
    let repo = model::find_repo(&db, &RepoRef::new(Some(new_repo), None, None))
        .await?
        .ok_or_else(|| ToolError::internal("the fork vanished"))?;
    Ok(Json(repo))
}

/// A label.
#[schema(no_deserialize)]
pub struct LabelView {
    /// Label id.
    pub label_id: String,
    /// Repository id.
    pub repo_id: String,
    /// Name, unique per repository.
    pub name: String,
    /// Colour, six hex digits without '#'.
    pub color: String,
    /// Description.
    pub description: String,
}

/// Create an issue label (owner and collaborators only); names are unique per repository.
#[tool(
    write,
    destructive = false,
    idempotent = false,
    title = "Create a label",
    category = "write"
)]
#[allow(clippy::too_many_arguments)]
pub async fn musehub_create_label(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
    #[arg(desc = "Label name.")] name: String,
    #[arg(desc = "Colour: six hex digits, no '#' (e.g. 'ff8800').")] color: String,
    #[arg(desc = "What the label means.")] description: Option<String>,
) -> Result<Json<LabelView>, ToolError> {
    model::ensure_user(&db, ctx.caller()).await?;
    let repo = model::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Maintain,
    )
    .await?;
    require(&name, "name")?;
    let color = color.trim_start_matches('#').to_ascii_lowercase();
    if color.len() != 6 || !color.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ToolError::invalid_argument(
            "`color` must be six hex digits, such as 'ff8800'",
        ));
    }
    let id = new_id();
    let description = description.unwrap_or_default();
    let res = sqlx::query(
        "INSERT INTO labels (id, repo_id, name, color, description, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(&repo.repo_id)
    .bind(name.trim())
    .bind(&color)
    .bind(&description)
    .bind(now())
    .execute(db.pool())
    .await;
    match res {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(ToolError::new(
                "already_exists",
                format!("Label '{}' already exists.", name.trim()),
            ));
        }
        Err(e) => return Err(crate::db::dberr(e)),
    }
    Ok(Json(LabelView {
        label_id: id,
        repo_id: repo.repo_id,
        name: name.trim().into(),
        color,
        description,
    }))
}

/// A minted agent token.
#[schema(no_deserialize)]
pub struct AgentToken {
    /// The token (shown once; only its hash is stored).
    pub token: String,
    /// The agent's name.
    pub agent_name: String,
    /// The owner's handle.
    pub handle: String,
    /// Validity in days.
    pub expires_in_days: i64,
    /// Expiry time.
    pub expires_at: String,
    /// How to use it.
    pub usage: String,
}

/// Mint a token for an AI agent acting for the caller. `expires_in_days` is clamped to
/// 1-365 (default 90). The token is shown once; the hub stores only its hash.
#[tool(
    write,
    destructive = false,
    idempotent = false,
    title = "Create an agent token",
    category = "write"
)]
pub async fn musehub_create_agent_token(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "The agent's name (default 'mcp-agent').")] agent_name: String,
    #[arg(desc = "Validity in days, 1-365 (default 90).")] expires_in_days: Option<i64>,
) -> Result<Json<AgentToken>, ToolError> {
    let handle = model::ensure_user(&db, ctx.caller()).await?;
    let minted = crate::tokens::mint(
        &db,
        &handle,
        &agent_name,
        Some(
            expires_in_days
                .unwrap_or(crate::tokens::DEFAULT_DAYS)
                .clamp(1, crate::tokens::MAX_DAYS),
        ),
        &crate::tokens::parse_scopes(None).map_err(crate::tokens::tool_error)?,
    )
    .await
    .map_err(crate::tokens::tool_error)?;
    Ok(Json(AgentToken {
        token: minted.token,
        agent_name: minted.agent_name,
        handle,
        expires_in_days: minted.days,
        expires_at: minted.expires_at,
        usage: "Give this token to the agent's MCP client as `Authorization: Bearer <token>`; it \
                identifies the agent as acting for you (scopes repo:read repo:write). It is shown \
                once: store it now. Revoke it with `musehub-server tokens revoke`."
            .into(),
    }))
}

/// A published domain.
#[schema(no_deserialize)]
pub struct PublishedDomain {
    /// The domain.
    #[serde(flatten)]
    pub domain: model::DomainView,
}

/// Publish a domain plugin under the caller's own handle (`author_slug` must be the
/// caller's handle); `@author/slug` must be new.
#[tool(
    write,
    destructive = false,
    idempotent = false,
    title = "Publish a domain",
    category = "write"
)]
#[allow(clippy::too_many_arguments)]
pub async fn musehub_publish_domain(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Your handle: the '@author' part of the domain id.")] author_slug: String,
    #[arg(desc = "The domain's slug.")] slug: String,
    #[arg(desc = "Display name.")] display_name: String,
    #[arg(desc = "What the domain models.")] description: String,
    #[arg(desc = "Capabilities manifest: dimensions, merge semantics, file types, ...")]
    capabilities: Value,
    #[arg(desc = "The viewer to use (e.g. 'piano_roll', 'code', 'generic').")] viewer_type: String,
    #[arg(desc = "Version (default '0.1.0').")] version: Option<String>,
) -> Result<Json<PublishedDomain>, ToolError> {
    let handle = model::ensure_user(&db, ctx.caller()).await?;
    let author = author_slug.trim_start_matches('@').to_string();
    if author != handle {
        return Err(ToolError::forbidden(format!(
            "You can only publish domains under your own handle '@{handle}', not '@{author}'."
        )));
    }
    if model::parse_scoped_id(&format!("@{author}/{slug}")).is_none() {
        return Err(ToolError::new(
            "invalid_scoped_id",
            format!("'@{author}/{slug}' is not a valid domain id."),
        ));
    }
    require(&display_name, "display_name")?;
    require(&viewer_type, "viewer_type")?;
    if !capabilities.is_object() {
        return Err(ToolError::invalid_argument(
            "`capabilities` must be an object",
        ));
    }
    let res = sqlx::query(
        "INSERT INTO domains (id, author_slug, slug, display_name, description, capabilities, viewer_type, version, verified, published_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10)",
    )
    .bind(new_id())
    .bind(&author)
    .bind(&slug)
    .bind(display_name.trim())
    .bind(&description)
    .bind(capabilities.to_string())
    .bind(&viewer_type)
    .bind(version.unwrap_or_else(|| "0.1.0".into()))
    .bind(&handle)
    .bind(now())
    .execute(db.pool())
    .await;
    match res {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(ToolError::new(
                "domain_conflict",
                format!("Domain '@{author}/{slug}' already exists."),
            ));
        }
        Err(e) => return Err(crate::db::dberr(e)),
    }
    let domain = model::domain(&db, &author, &slug)
        .await?
        .ok_or_else(|| ToolError::internal("the new domain vanished"))?;
    Ok(Json(PublishedDomain { domain }))
}
