//! A push, shared by the `muse_push` tool and the HTTP remote (`POST .../push`): checked
//! whole first (content ids, paths, the commit graph, the quota, fast-forward), then stored
//! in one transaction, so that everything is stored or nothing is.
//!
//! Ids are verified against content (`docs/muse-protocol.md`): an object's id is the SHA-256
//! of its bytes, a snapshot's the hash of its manifest, a commit's the hash of its fields. A
//! push naming an id that its content does not produce is refused with
//! `object_id_mismatch`, `snapshot_id_mismatch` or `commit_id_mismatch` (the expected id in
//! `data`), and nothing is stored.

use std::collections::{BTreeMap, HashMap, HashSet};

use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::json;

use crate::blobs::BlobError;
use crate::db::{Db, DbResultExt, RowExt, dberr, now};
use crate::discovery;
use crate::history::{self, CommitView};
use crate::muse::verify::{check_commit, check_inline, check_snapshot};
use crate::repos::RepoView;

/// A commit in a push.
#[schema]
#[derive(Debug, Clone)]
pub struct PushCommit {
    /// The commit id: the SHA-256 of the commit's canonical encoding (docs/muse-protocol.md).
    pub commit_id: String,
    /// Parent commit ids (already on the hub or in this push).
    #[serde(default)]
    pub parent_ids: Vec<String>,
    /// Message.
    pub message: String,
    /// Author (part of the commit id).
    pub author: String,
    /// Authoring time, RFC 3339 in UTC such as 2025-03-01T09:00:00Z (part of the commit id).
    pub timestamp: String,
    /// The snapshot recorded (on the hub or in this push).
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<String>,
}

/// A snapshot in a push.
#[schema]
#[derive(Debug, Clone)]
pub struct PushSnapshot {
    /// The snapshot id: the SHA-256 over `path NUL object_id LF` in path order.
    pub snapshot_id: String,
    /// The manifest: path to object id.
    #[serde(default)]
    pub manifest: BTreeMap<String, String>,
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

/// What a push asks for, however it arrived.
#[derive(Debug, Clone)]
pub struct PushRequest {
    /// The branch to move (created when missing).
    pub branch: String,
    /// Its new head.
    pub head_commit_id: String,
    /// Commits (those already on the hub are skipped).
    pub commits: Vec<PushCommit>,
    /// Snapshots.
    pub snapshots: Vec<PushSnapshot>,
    /// Allow a non-fast-forward update.
    pub force: bool,
}

/// An object whose bytes came with the push (the MCP tool's base64 objects).
#[derive(Debug, Clone)]
pub struct InlineObject {
    /// The id the pusher gave it.
    pub object_id: String,
    /// Its path.
    pub path: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

pub(crate) fn push_error(code: &'static str, msg: impl Into<String>) -> ToolError {
    ToolError::new(code, msg)
}

/// True for a branch name a push may create.
pub(crate) fn valid_branch(branch: &str) -> bool {
    !(branch.trim().is_empty()
        || branch.len() > 200
        || branch.contains("..")
        || branch.chars().any(|c| c.is_whitespace() || c.is_control()))
}

/// The bytes an owner's repositories hold, stored and staged (the quota's "used").
pub(crate) async fn used_bytes(db: &Db, owner: &str) -> Result<i64, ToolError> {
    let stored = sqlx::query(
        "SELECT CAST(COALESCE(SUM(o.size_bytes), 0) AS BIGINT) AS n FROM objects o \
         JOIN repos r ON r.id = o.repo_id WHERE r.owner = $1",
    )
    .bind(owner)
    .fetch_one(db.pool())
    .await
    .db()?
    .int("n")?;
    let staged = sqlx::query(
        "SELECT CAST(COALESCE(SUM(s.size_bytes), 0) AS BIGINT) AS n FROM staged_objects s \
         JOIN repos r ON r.id = s.repo_id WHERE r.owner = $1",
    )
    .bind(owner)
    .fetch_one(db.pool())
    .await
    .db()?
    .int("n")?;
    Ok(stored + staged)
}

/// The quota error, or nothing when `incoming` more bytes fit.
pub(crate) async fn check_quota(db: &Db, owner: &str, incoming: i64) -> Result<(), ToolError> {
    let used = used_bytes(db, owner).await?;
    let quota = db.settings().push_quota_bytes;
    if used + incoming > quota {
        return Err(push_error(
            "quota_exceeded",
            format!(
                "This push needs {incoming} bytes but {owner} has {} of {quota} bytes left.",
                (quota - used).max(0)
            ),
        ));
    }
    Ok(())
}

/// An object a snapshot may name: where its bytes are, and how big it is.
struct Available {
    size: i64,
    /// True when the repository already holds it (no row to add).
    in_repo: bool,
    /// True when `handle` staged it over HTTP (its staged row goes once the push lands).
    staged: bool,
}

/// Pushes `req` to `repo` as `handle` (who may maintain it): see the module docs.
pub(crate) async fn push(
    db: &Db,
    handle: &str,
    repo: &RepoView,
    req: PushRequest,
    inline: Vec<InlineObject>,
) -> Result<PushResult, ToolError> {
    let PushRequest {
        branch,
        head_commit_id,
        commits,
        snapshots,
        force,
    } = req;
    if !valid_branch(&branch) {
        return Err(ToolError::invalid_argument(format!(
            "'{branch}' is not a valid branch name"
        )));
    }
    for o in &inline {
        check_inline(o)?;
    }
    for s in &snapshots {
        check_snapshot(s)?;
    }
    let existing = history::all_commits(db, &repo.repo_id).await?;
    for c in &commits {
        if c.commit_id.is_empty() {
            return Err(push_error("push_failed", "every commit needs a commit_id"));
        }
        if !existing.contains_key(&c.commit_id) {
            check_commit(c)?;
        }
    }

    // The objects the snapshots may name: in this push, in the repository, or staged.
    let mut available: HashMap<String, Available> = HashMap::new();
    for o in &inline {
        available.insert(
            o.object_id.clone(),
            Available {
                size: o.bytes.len() as i64,
                in_repo: false,
                staged: false,
            },
        );
    }
    for s in &snapshots {
        for (path, oid) in &s.manifest {
            if available.contains_key(oid) {
                continue;
            }
            if let Some(o) = history::object(db, &repo.repo_id, oid).await? {
                available.insert(
                    oid.clone(),
                    Available {
                        size: o.size_bytes,
                        in_repo: true,
                        staged: false,
                    },
                );
                continue;
            }
            let staged = sqlx::query(
                "SELECT size_bytes FROM staged_objects WHERE repo_id = $1 AND object_id = $2 AND handle = $3",
            )
            .bind(&repo.repo_id)
            .bind(oid)
            .bind(handle)
            .fetch_optional(db.pool())
            .await
            .db()?;
            match staged {
                Some(r) => {
                    available.insert(
                        oid.clone(),
                        Available {
                            size: r.int("size_bytes")?,
                            in_repo: false,
                            staged: true,
                        },
                    );
                }
                None => {
                    return Err(push_error(
                        "push_failed",
                        format!(
                            "snapshot '{}' names unknown object '{oid}' at '{path}': send it with the push (or upload it first)",
                            s.snapshot_id
                        ),
                    ));
                }
            }
        }
    }
    // Inline objects the repository already holds are not stored (or counted) again.
    let mut inline_new = Vec::new();
    for o in inline {
        if history::object(db, &repo.repo_id, &o.object_id)
            .await?
            .is_none()
        {
            inline_new.push(o);
        } else if let Some(a) = available.get_mut(&o.object_id) {
            a.in_repo = true;
        }
    }
    let incoming: i64 = inline_new.iter().map(|o| o.bytes.len() as i64).sum();
    check_quota(db, &repo.owner, incoming).await?;

    // The graph: commits already on the hub plus those pushed.
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
        if let Some(s) = &c.snapshot_id
            && !known_snapshots.contains(s)
            && !pushed_snapshots.contains(s.as_str())
        {
            return Err(push_error(
                "push_failed",
                format!("commit '{}' records unknown snapshot '{s}'", c.commit_id),
            ));
        }
        graph.entry(c.commit_id.clone()).or_insert(CommitView {
            commit_id: c.commit_id.clone(),
            parent_ids: c.parent_ids.clone(),
            author: c.author.clone(),
            message: c.message.clone(),
            timestamp: c.timestamp.clone(),
            snapshot_id: c.snapshot_id.clone(),
            branch: branch.clone(),
        });
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

    // Fast-forward check against the head we saw.
    let previous = history::branch_head(db, &repo.repo_id, &branch).await?;
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

    // The bytes go to the object store before the transaction: content-addressed, so a push
    // that fails after this leaves only files no row names (and a retry finds them there).
    for o in &inline_new {
        db.blobs()
            .put(&o.bytes)
            .await
            .map_err(BlobError::into_tool)?;
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
    for o in &inline_new {
        if history::insert_object(
            &mut tx,
            &repo.repo_id,
            &o.object_id,
            &o.path,
            o.bytes.len() as i64,
            &o.object_id,
            &ts,
        )
        .await?
        {
            objects_stored += 1;
            bytes_stored += o.bytes.len() as i64;
        }
    }
    // Staged objects get their row (with the first path a snapshot gives them).
    let mut attached = HashSet::new();
    for s in &snapshots {
        for (path, oid) in &s.manifest {
            let Some(a) = available.get(oid) else {
                continue;
            };
            if !a.staged || !attached.insert(oid.clone()) {
                continue;
            }
            if history::insert_object(&mut tx, &repo.repo_id, oid, path, a.size, oid, &ts).await? {
                objects_stored += 1;
                bytes_stored += a.size;
            }
            sqlx::query(
                "DELETE FROM staged_objects WHERE repo_id = $1 AND object_id = $2 AND handle = $3",
            )
            .bind(&repo.repo_id)
            .bind(oid)
            .bind(handle)
            .execute(&mut *tx)
            .await
            .db()?;
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
        handle,
        "push",
        &format!(
            "{handle} pushed {commits_stored} commit(s) to {}/{}:{branch}{}",
            repo.owner,
            repo.slug,
            if forced { " (forced)" } else { "" }
        ),
    )
    .await?;
    tx.commit().await.db()?;
    Ok(PushResult {
        repo_id: repo.repo_id.clone(),
        branch,
        previous_head,
        head_commit_id,
        created_branch,
        forced,
        commits_stored,
        snapshots_stored,
        objects_stored,
        bytes_stored,
    })
}

/// The resources a push to `branch` changes (under `musehub://repos/{owner}/{slug}`).
pub(crate) fn changed_parts(branch: &str) -> Vec<String> {
    vec![
        String::new(),
        "branches".into(),
        "commits".into(),
        "timeline".into(),
        format!("tree/{branch}"),
        format!("insights/{branch}"),
    ]
}
