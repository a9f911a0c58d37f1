//! Commits with real content ids for `muse_push` (the hub verifies every id against its
//! content, so tests build them the way a client does).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};

use base64::Engine;
use musehub_mcp::serde_json::{Value, json};

/// A manifest: path to object id.
pub type Manifest = BTreeMap<String, String>;

/// One commit ready to push: its ids and the pieces of a `muse_push` call.
#[derive(Debug, Clone)]
pub struct Commit {
    /// The commit id.
    pub id: String,
    /// Its snapshot id.
    pub snapshot_id: String,
    /// The files it records.
    pub manifest: Manifest,
    /// The new objects: (object id, path, bytes).
    pub objects: Vec<(String, String, Vec<u8>)>,
    /// The `commits[]` entry.
    pub commit: Value,
}

/// A time after the previous one (distinct and increasing across a test run).
pub fn timestamp() -> String {
    static TICK: AtomicI64 = AtomicI64::new(0);
    let n = TICK.fetch_add(1, Ordering::Relaxed);
    (chrono::Utc::now() + chrono::Duration::microseconds(n))
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The object id of `bytes`.
pub fn oid(bytes: &[u8]) -> String {
    muse_core::object_id(bytes)
}

/// A commit on `parents` whose snapshot is `base` with `changes` applied (`None` deletes a
/// path), by `author`.
pub fn commit_with(
    parents: &[&str],
    base: &Manifest,
    changes: &[(&str, Option<&[u8]>)],
    message: &str,
    author: &str,
) -> Commit {
    let mut manifest = base.clone();
    let mut objects = Vec::new();
    for (path, content) in changes {
        match content {
            Some(bytes) => {
                let id = oid(bytes);
                manifest.insert(path.to_string(), id.clone());
                objects.push((id, path.to_string(), bytes.to_vec()));
            }
            None => {
                manifest.remove(*path);
            }
        }
    }
    let snapshot_id = muse_core::snapshot_id(&manifest);
    let parents: Vec<String> = parents.iter().map(|p| p.to_string()).collect();
    let ts = timestamp();
    let id = muse_core::commit_id(&muse_core::CommitFields {
        parents: &parents,
        snapshot_id: Some(&snapshot_id),
        author,
        timestamp: &ts,
        message,
    })
    .expect("commit id");
    let commit = json!({
        "commit_id": id, "parent_ids": parents, "message": message, "author": author,
        "timestamp": ts, "snapshot_id": snapshot_id,
    });
    Commit {
        id,
        snapshot_id,
        manifest,
        objects,
        commit,
    }
}

/// A commit by alice adding one file to `base`.
pub fn commit_adding(parent: Option<&str>, base: &Manifest, path: &str, content: &[u8]) -> Commit {
    commit_with(
        &parent.into_iter().collect::<Vec<_>>(),
        base,
        &[(path, Some(content))],
        &format!("add {path}"),
        "alice",
    )
}

/// `muse_push` arguments pushing `commits` (oldest first) to `branch` of `owner/slug`, the
/// last one as the new head.
pub fn push_of(owner: &str, slug: &str, branch: &str, commits: &[&Commit]) -> Value {
    let head = commits.last().map(|c| c.id.clone()).unwrap_or_default();
    let mut objects = Vec::new();
    for c in commits {
        for (id, path, bytes) in &c.objects {
            objects.push(json!({"object_id": id, "path": path,
                "content_b64": base64::engine::general_purpose::STANDARD.encode(bytes)}));
        }
    }
    json!({
        "owner": owner, "slug": slug, "branch": branch, "head_commit_id": head,
        "commits": commits.iter().map(|c| c.commit.clone()).collect::<Vec<_>>(),
        "snapshots": commits.iter().map(|c| json!({"snapshot_id": c.snapshot_id, "manifest": c.manifest})).collect::<Vec<_>>(),
        "objects": objects,
    })
}
