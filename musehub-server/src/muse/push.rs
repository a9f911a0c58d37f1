//! `muse_push`: atomic, fast-forward checked, quota enforced.

use std::collections::{BTreeMap, HashMap, HashSet};

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::json;

use crate::db::{Db, DbResultExt, RowExt, dberr, now};
use crate::discovery;
use crate::history::{self, CommitView};
use crate::identity;
use crate::params::{Need, RepoRef};
use crate::repos;
use base64::Engine;
use sha2::{Digest, Sha256};

/// A commit in a push.
#[schema]
#[derive(Debug, Clone)]
pub struct PushCommit {
    /// The commit id.
    pub commit_id: String,
    /// Parent commit ids (already on the hub or in this push).
    #[serde(default)]
    pub parent_ids: Vec<String>,
    /// Message.
    pub message: String,
    /// Author (default: the caller).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Authoring time, RFC 3339 (default: now).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// The snapshot recorded (on the hub or in this push).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<String>,
}

/// A snapshot in a push.
#[schema]
#[derive(Debug, Clone)]
pub struct PushSnapshot {
    /// The snapshot id.
    pub snapshot_id: String,
    /// The manifest: path to object id.
    #[serde(default)]
    pub manifest: BTreeMap<String, String>,
}

/// An object in a push.
#[schema]
#[derive(Debug, Clone)]
pub struct PushObject {
    /// The object id (content hash).
    pub object_id: String,
    /// Its path.
    pub path: String,
    /// The content, base64.
    pub content_b64: String,
}

/// The outcome of a push.
#[schema(no_deserialize)]
pub struct PushResult {
    /// Repository id.
    pub repo_id: String,
    /// The branch pushed.
    pub branch: String,
    /// Its head before the push.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_head: Option<String>,
    /// Its head now.
    pub head_commit_id: String,
    /// True when the branch was created.
    pub created_branch: bool,
    /// True when history was rewritten (`force`).
    pub forced: bool,
    /// Commits stored (new to the hub).
    pub commits_stored: i64,
    /// Snapshots stored.
    pub snapshots_stored: i64,
    /// Objects stored.
    pub objects_stored: i64,
    /// Bytes stored.
    pub bytes_stored: i64,
}

fn push_error(code: &'static str, msg: impl Into<String>) -> ToolError {
    ToolError::new(code, msg)
}

/// Push commits, snapshots and objects to a branch, atomically: everything is stored or
/// nothing is. The new head must descend from the branch's current head (fast-forward)
/// unless `force` is set; pushes count against the owner's storage quota. Owner and
/// collaborators only.
#[tool(
    write,
    destructive = true,
    idempotent = false,
    title = "Muse push",
    category = "muse"
)]
#[allow(clippy::too_many_arguments)]
pub async fn muse_push(
    ctx: &Ctx,
    State(db): State<Db>,
    #[arg(desc = "Repository id (UUID). Alternatively, provide 'owner' + 'slug'.")] repo_id: Option<
        String,
    >,
    #[arg(desc = "Repository owner handle (use with 'slug').")] owner: Option<String>,
    #[arg(desc = "Repository slug (use with 'owner').")] slug: Option<String>,
    #[arg(desc = "The branch to update (created when missing).")] branch: String,
    #[arg(desc = "The branch's new head commit.")] head_commit_id: String,
    #[arg(desc = "Commits: {commit_id, parent_ids, message, author, timestamp, snapshot_id}.")]
    commits: Option<Vec<PushCommit>>,
    #[arg(desc = "Snapshots: {snapshot_id, manifest: {path: object_id}}.")] snapshots: Option<
        Vec<PushSnapshot>,
    >,
    #[arg(desc = "Objects: {object_id, path, content_b64}.")] objects: Option<Vec<PushObject>>,
    #[arg(desc = "Allow a non-fast-forward update (rewrites the branch; default false).")]
    force: Option<bool>,
) -> Result<Json<PushResult>, ToolError> {
    let handle = identity::ensure_user(&db, ctx.caller()).await?;
    let repo = repos::resolve_repo(
        &db,
        ctx.caller(),
        &RepoRef::new(repo_id, owner, slug),
        Need::Maintain,
    )
    .await?;
    let force = force.unwrap_or(false);
    let commits = commits.unwrap_or_default();
    let snapshots = snapshots.unwrap_or_default();
    let objects = objects.unwrap_or_default();
    if branch.trim().is_empty()
        || branch.len() > 200
        || branch.contains("..")
        || branch.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ToolError::invalid_argument(format!(
            "'{branch}' is not a valid branch name"
        )));
    }

    // Decode and check the objects first: nothing is written if any is malformed.
    let mut decoded = Vec::with_capacity(objects.len());
    let mut incoming_bytes: i64 = 0;
    for o in &objects {
        if o.object_id.is_empty() || o.path.is_empty() {
            return Err(push_error(
                "push_failed",
                "every object needs an object_id and a path",
            ));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(o.content_b64.as_bytes())
            .map_err(|_| {
                push_error(
                    "push_failed",
                    format!("object '{}' is not valid base64", o.object_id),
                )
            })?;
        incoming_bytes += bytes.len() as i64;
        decoded.push((o, bytes));
    }

    // Quota: the bytes stored in every repository the owner has, plus this push.
    let used: i64 = sqlx::query(
        "SELECT CAST(COALESCE(SUM(o.size_bytes), 0) AS BIGINT) AS n FROM objects o \
         JOIN repos r ON r.id = o.repo_id WHERE r.owner = $1",
    )
    .bind(&repo.owner)
    .fetch_one(db.pool())
    .await
    .db()?
    .int("n")?;
    let quota = db.settings().push_quota_bytes;
    if used + incoming_bytes > quota {
        return Err(push_error(
            "quota_exceeded",
            format!(
                "This push needs {incoming_bytes} bytes but {} has {} of {quota} bytes left.",
                repo.owner,
                (quota - used).max(0)
            ),
        ));
    }

    // The graph: commits already on the hub plus those pushed.
    let existing = history::all_commits(&db, &repo.repo_id).await?;
    let ts = now();
    let mut graph: HashMap<String, CommitView> = existing.clone();
    let known_snapshots: HashSet<String> =
        sqlx::query("SELECT snapshot_id FROM snapshots WHERE repo_id = $1")
            .bind(&repo.repo_id)
            .fetch_all(db.pool())
            .await
            .db()?
            .iter()
            .map(|r| r.text("snapshot_id"))
            .collect::<Result<_, _>>()?;
    let pushed_snapshots: HashSet<&str> =
        snapshots.iter().map(|s| s.snapshot_id.as_str()).collect();
    for c in &commits {
        if c.commit_id.is_empty() {
            return Err(push_error("push_failed", "every commit needs a commit_id"));
        }
        if let Some(s) = &c.snapshot_id
            && !known_snapshots.contains(s)
            && !pushed_snapshots.contains(s.as_str())
        {
            return Err(push_error(
                "push_failed",
                format!("commit '{}' records unknown snapshot '{s}'", c.commit_id),
            ));
        }
        graph.insert(
            c.commit_id.clone(),
            CommitView {
                commit_id: c.commit_id.clone(),
                parent_ids: c.parent_ids.clone(),
                author: c.author.clone().unwrap_or_else(|| handle.clone()),
                message: c.message.clone(),
                timestamp: c.timestamp.clone().unwrap_or_else(|| ts.clone()),
                snapshot_id: c.snapshot_id.clone(),
                branch: branch.clone(),
            },
        );
    }
    for c in &commits {
        for p in &c.parent_ids {
            if !graph.contains_key(p) {
                return Err(push_error(
                    "push_failed",
                    format!("commit '{}' has unknown parent '{p}'", c.commit_id),
                ));
            }
        }
    }
    if !graph.contains_key(&head_commit_id) {
        return Err(push_error(
            "push_failed",
            format!("head commit '{head_commit_id}' is neither on the hub nor in this push"),
        ));
    }
    let pushed_objects: HashSet<&str> = objects.iter().map(|o| o.object_id.as_str()).collect();
    for s in &snapshots {
        for (path, oid) in &s.manifest {
            if pushed_objects.contains(oid.as_str()) {
                continue;
            }
            if history::object(&db, &repo.repo_id, oid).await?.is_none() {
                return Err(push_error(
                    "push_failed",
                    format!(
                        "snapshot '{}' names unknown object '{oid}' at '{path}'",
                        s.snapshot_id
                    ),
                ));
            }
        }
    }

    // Fast-forward check against the head we saw.
    let previous = history::branch_head(&db, &repo.repo_id, &branch).await?;
    let previous_head = previous.clone().flatten();
    let mut forced = false;
    if let Some(old) = &previous_head
        && old != &head_commit_id
    {
        let descends = history::reachable(&graph, &head_commit_id)
            .iter()
            .any(|c| &c.commit_id == old);
        if !descends {
            if !force {
                return Err(push_error(
                    "non_fast_forward",
                    format!(
                        "Branch '{branch}' is at {old}, which '{head_commit_id}' does not descend from. \
                         Pull and merge first, or push with force."
                    ),
                ));
            }
            forced = true;
        }
    }

    // One transaction. The first statement moves the branch with a compare-and-swap on the
    // head we checked, so of two concurrent pushes exactly one wins (the other waits for the
    // write lock, then matches no row) and the loser writes nothing.
    let mut tx = db.pool().begin().await.db()?;
    let created_branch = previous.is_none();
    let swapped = match (&previous, &previous_head) {
        (None, _) => {
            match sqlx::query(
                "INSERT INTO branches (id, repo_id, name, head_commit_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
            )
            .bind(crate::db::new_id())
            .bind(&repo.repo_id)
            .bind(&branch)
            .bind(&head_commit_id)
            .bind(&ts)
            .execute(&mut *tx)
            .await
            {
                Ok(r) => r.rows_affected() == 1,
                Err(e) if crate::db::is_unique_violation(&e) => false,
                Err(e) => return Err(dberr(e)),
            }
        }
        (Some(_), Some(old)) => sqlx::query(
            "UPDATE branches SET head_commit_id = $1, updated_at = $2 WHERE repo_id = $3 AND name = $4 AND head_commit_id = $5",
        )
        .bind(&head_commit_id)
        .bind(&ts)
        .bind(&repo.repo_id)
        .bind(&branch)
        .bind(old)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected()
            == 1,
        (Some(_), None) => sqlx::query(
            "UPDATE branches SET head_commit_id = $1, updated_at = $2 WHERE repo_id = $3 AND name = $4 AND head_commit_id IS NULL",
        )
        .bind(&head_commit_id)
        .bind(&ts)
        .bind(&repo.repo_id)
        .bind(&branch)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected()
            == 1,
    };
    if !swapped {
        drop(tx);
        return Err(push_error(
            "non_fast_forward",
            format!(
                "Branch '{branch}' moved during the push (a concurrent push won). Pull and try again."
            ),
        ));
    }

    let mut objects_stored = 0;
    let mut bytes_stored = 0;
    for (o, bytes) in &decoded {
        let hash = format!("{:x}", Sha256::digest(bytes));
        let r = sqlx::query(
            "INSERT INTO objects (repo_id, object_id, path, size_bytes, mime_type, content_hash, content_b64, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (repo_id, object_id) DO NOTHING",
        )
        .bind(&repo.repo_id)
        .bind(&o.object_id)
        .bind(&o.path)
        .bind(bytes.len() as i64)
        .bind(history::mime_for(&o.path))
        .bind(hash)
        .bind(&o.content_b64)
        .bind(&ts)
        .execute(&mut *tx)
        .await
        .db()?;
        if r.rows_affected() == 1 {
            objects_stored += 1;
            bytes_stored += bytes.len() as i64;
        }
    }
    let mut snapshots_stored = 0;
    for s in &snapshots {
        let r = sqlx::query(
            "INSERT INTO snapshots (repo_id, snapshot_id, manifest, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (repo_id, snapshot_id) DO NOTHING",
        )
        .bind(&repo.repo_id)
        .bind(&s.snapshot_id)
        .bind(json!(s.manifest).to_string())
        .bind(&ts)
        .execute(&mut *tx)
        .await
        .db()?;
        snapshots_stored += r.rows_affected() as i64;
    }
    let mut commits_stored = 0;
    for c in &commits {
        if existing.contains_key(&c.commit_id) {
            continue;
        }
        let v = &graph[&c.commit_id];
        let r = sqlx::query(
            "INSERT INTO commits (repo_id, commit_id, parent_ids, author, message, timestamp, snapshot_id, branch, pushed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (repo_id, commit_id) DO NOTHING",
        )
        .bind(&repo.repo_id)
        .bind(&v.commit_id)
        .bind(json!(v.parent_ids).to_string())
        .bind(&v.author)
        .bind(&v.message)
        .bind(&v.timestamp)
        .bind(v.snapshot_id.clone())
        .bind(&branch)
        .bind(&ts)
        .execute(&mut *tx)
        .await
        .db()?;
        commits_stored += r.rows_affected() as i64;
    }
    sqlx::query("UPDATE repos SET updated_at = $1 WHERE id = $2")
        .bind(&ts)
        .bind(&repo.repo_id)
        .execute(&mut *tx)
        .await
        .db()?;
    discovery::record_activity(
        &mut *tx,
        Some(&repo.repo_id),
        &handle,
        "push",
        &format!(
            "{handle} pushed {commits_stored} history::commit(s) to {}/{}:{branch}{}",
            repo.owner,
            repo.slug,
            if forced { " (forced)" } else { "" }
        ),
    )
    .await?;
    tx.commit().await.db()?;
    repos::notify_changed(
        ctx,
        &repo,
        &[
            "",
            "branches",
            "commits",
            "timeline",
            &format!("tree/{branch}"),
            &format!("insights/{branch}"),
        ],
    );
    Ok(Json(PushResult {
        repo_id: repo.repo_id,
        branch,
        previous_head,
        head_commit_id,
        created_branch,
        forced,
        commits_stored,
        snapshots_stored,
        objects_stored,
        bytes_stored,
    }))
}
