//! Merging a proposal is a three-way merge on the snapshots: both branches' changes survive,
//! and divergent changes to one path are refused with the conflicts listed (or settled by
//! explicit resolutions). The bug this guards: a merge used to give the target the proposal's
//! snapshot, dropping every file the target gained after the branch was cut.

mod common;

use std::collections::BTreeMap;

use base64::Engine;
use common::*;
use musehub_mcp::serde_json::{Value, json};

const REPO: (&str, &str) = ("alice", "trio");

fn repo() -> Value {
    json!({"owner": REPO.0, "slug": REPO.1})
}

fn with(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

/// The manifest and head of a branch, read back through `muse_pull`.
async fn tree(h: &Hub, branch: &str) -> (String, BTreeMap<String, String>) {
    let d = h
        .ok(
            &anon(),
            "muse_pull",
            with(repo(), json!({"branch": branch})),
        )
        .await;
    let head = d["head_commit_id"].as_str().unwrap().to_string();
    let commits = d["commits"].as_array().unwrap();
    let snap = commits
        .iter()
        .find(|c| c["commit_id"] == head.as_str())
        .unwrap()["snapshot_id"]
        .as_str()
        .unwrap()
        .to_string();
    let manifest = d["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["snapshot_id"] == snap.as_str())
        .unwrap()["manifest"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    (head, manifest)
}

/// Pushes one commit on `parent` to `branch`: the parent's files with `changes` applied
/// (`None` deletes a path).
async fn commit(
    h: &Hub,
    branch: &str,
    parent: &str,
    id: &str,
    changes: &[(&str, Option<&str>)],
) -> String {
    let (_, mut manifest) = tree_at(h, parent).await;
    let mut objects = Vec::new();
    for (path, content) in changes {
        match content {
            Some(c) => {
                let oid = format!("obj-{id}-{path}");
                manifest.insert(path.to_string(), oid.clone());
                objects.push(json!({"object_id": oid, "path": path, "content_b64": base64::engine::general_purpose::STANDARD.encode(c)}));
            }
            None => {
                manifest.remove(*path);
            }
        }
    }
    let snap = format!("snap-{id}");
    h.ok(
        &user(REPO.0),
        "muse_push",
        with(
            repo(),
            json!({
                "branch": branch, "head_commit_id": id,
                "commits": [{"commit_id": id, "parent_ids": [parent], "message": id, "snapshot_id": snap}],
                "snapshots": [{"snapshot_id": snap, "manifest": manifest}],
                "objects": objects,
            }),
        ),
    )
    .await;
    id.to_string()
}

/// The manifest recorded by one commit.
async fn tree_at(h: &Hub, commit: &str) -> (String, BTreeMap<String, String>) {
    // Look for the commit in the history of each branch the tests use.
    for branch in ["main", "feature"] {
        let r = h
            .call(
                &anon(),
                "muse_pull",
                with(repo(), json!({"branch": branch})),
            )
            .await;
        if r["isError"] == true {
            continue; // the branch does not exist yet
        }
        let d = &r["structuredContent"];
        if let Some(c) = d["commits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["commit_id"] == commit)
        {
            let snap = c["snapshot_id"].as_str().unwrap();
            let m = d["snapshots"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["snapshot_id"] == snap)
                .unwrap()["manifest"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            return (commit.to_string(), m);
        }
    }
    panic!("commit {commit} not found");
}

/// A fresh hub with alice's `trio`, whose main holds the README of its initial commit; the
/// `feature` branch is created by the first push to it.
async fn setup() -> (Hub, String) {
    let h = empty_hub().await;
    h.ok(
        &user(REPO.0),
        "musehub_create_repo",
        json!({"name": "trio"}),
    )
    .await;
    let (root, manifest) = tree(&h, "main").await;
    assert_eq!(manifest.keys().collect::<Vec<_>>(), vec!["README.md"]);
    (h, root)
}

async fn open_pr(h: &Hub, from: &str) -> String {
    let pr = h
        .ok(
            &user(REPO.0),
            "musehub_create_pr",
            with(
                repo(),
                json!({"title": format!("{from} into main"), "from_branch": from, "to_branch": "main"}),
            ),
        )
        .await;
    pr["number"].to_string()
}

#[tokio::test]
async fn merge_keeps_the_files_both_branches_added() {
    let (h, root) = setup().await;
    commit(
        &h,
        "feature",
        &root,
        "c-drums",
        &[("drums.mid", Some("drums"))],
    )
    .await;
    commit(&h, "main", &root, "c-bass", &[("bass.mid", Some("bass"))]).await;
    {
        let strategy = "merge_commit";
        let pr = open_pr(&h, "feature").await;
        let m = h
            .ok(
                &user(REPO.0),
                "musehub_merge_pr",
                with(repo(), json!({"pr_id": pr, "merge_strategy": strategy})),
            )
            .await;
        assert_eq!(m["fast_forward"], false);
        assert_eq!(m["merge_base"], root.as_str());
        let (head, files) = tree(&h, "main").await;
        assert_eq!(head, m["merge_commit_id"].as_str().unwrap());
        assert_eq!(
            files.keys().map(String::as_str).collect::<Vec<_>>(),
            vec!["README.md", "bass.mid", "drums.mid"],
            "the merge kept main's bass and the branch's drums"
        );
        assert_eq!(files["bass.mid"], "obj-c-bass-bass.mid");
        assert_eq!(files["drums.mid"], "obj-c-drums-drums.mid");
        assert_eq!(m["snapshot_id"].as_str().unwrap().len(), 64, "a content id");
    }
}

#[tokio::test]
async fn squash_and_rebase_keep_both_sides_too() {
    for strategy in ["squash", "rebase"] {
        let (h, root) = setup().await;
        commit(&h, "feature", &root, "c-keys", &[("keys.mid", Some("k"))]).await;
        commit(
            &h,
            "main",
            &root,
            "c-edit",
            &[("README.md", Some("new readme"))],
        )
        .await;
        let pr = open_pr(&h, "feature").await;
        let m = h
            .ok(
                &user(REPO.0),
                "musehub_merge_pr",
                with(repo(), json!({"pr_id": pr, "merge_strategy": strategy})),
            )
            .await;
        assert_eq!(m["fast_forward"], false, "{strategy}: main had moved");
        let (_, files) = tree(&h, "main").await;
        assert_eq!(files["README.md"], "obj-c-edit-README.md", "{strategy}");
        assert_eq!(files["keys.mid"], "obj-c-keys-keys.mid", "{strategy}");
    }
}

#[tokio::test]
async fn deletions_on_either_side_are_merged() {
    let (h, root) = setup().await;
    let base = commit(
        &h,
        "main",
        &root,
        "c-base",
        &[("a.mid", Some("a")), ("b.mid", Some("b"))],
    )
    .await;
    commit(&h, "feature", &base, "c-del-a", &[("a.mid", None)]).await;
    commit(&h, "main", &base, "c-del-b", &[("b.mid", None)]).await;
    let pr = open_pr(&h, "feature").await;
    h.ok(
        &user(REPO.0),
        "musehub_merge_pr",
        with(repo(), json!({"pr_id": pr})),
    )
    .await;
    let (_, files) = tree(&h, "main").await;
    assert_eq!(
        files.keys().map(String::as_str).collect::<Vec<_>>(),
        vec!["README.md"]
    );
}

#[tokio::test]
async fn divergent_edits_are_refused_with_the_conflicts_listed() {
    let (h, root) = setup().await;
    commit(
        &h,
        "feature",
        &root,
        "c-theirs",
        &[("README.md", Some("theirs")), ("solo.mid", Some("t"))],
    )
    .await;
    let main_before = commit(
        &h,
        "main",
        &root,
        "c-ours",
        &[("README.md", Some("ours")), ("solo.mid", Some("o"))],
    )
    .await;
    let pr = open_pr(&h, "feature").await;
    let r = h
        .call(
            &user(REPO.0),
            "musehub_merge_pr",
            with(repo(), json!({"pr_id": pr})),
        )
        .await;
    assert_eq!(r["isError"], true);
    let e = &r["structuredContent"]["error"];
    assert_eq!(e["code"], "merge_conflict");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("README.md, solo.mid")
    );
    assert_eq!(e["data"]["merge_base"], root.as_str());
    assert_eq!(
        e["data"]["conflicts"],
        json!([
            {"path": "README.md", "kind": "both_modified", "base": tree_at(&h, &root).await.1["README.md"], "ours": "obj-c-ours-README.md", "theirs": "obj-c-theirs-README.md"},
            {"path": "solo.mid", "kind": "both_added", "ours": "obj-c-ours-solo.mid", "theirs": "obj-c-theirs-solo.mid"},
        ])
    );
    // Nothing moved, and the proposal is still open.
    assert_eq!(tree(&h, "main").await.0, main_before);
    let p = h
        .ok(
            &anon(),
            "musehub_get_pr",
            with(repo(), json!({"pr_id": pr.clone()})),
        )
        .await;
    assert_eq!(p["pull_request"]["state"], "open");

    // Half the resolutions: still refused, naming what is left.
    let r = h
        .call(
            &user(REPO.0),
            "musehub_merge_pr",
            with(
                repo(),
                json!({"pr_id": pr, "resolutions": {"README.md": "theirs"}}),
            ),
        )
        .await;
    assert_eq!(r["structuredContent"]["error"]["code"], "merge_conflict");
    assert_eq!(
        r["structuredContent"]["error"]["data"]["conflicts"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // A resolution for a path that does not conflict, or naming an unknown object.
    assert_eq!(
        h.err(
            &user(REPO.0),
            "musehub_merge_pr",
            with(repo(), json!({"pr_id": pr, "resolutions": {"README.md": "theirs", "solo.mid": "ours", "x.mid": "ours"}})),
        )
        .await,
        "invalid_argument"
    );
    assert_eq!(
        h.err(
            &user(REPO.0),
            "musehub_merge_pr",
            with(repo(), json!({"pr_id": pr, "resolutions": {"README.md": "theirs", "solo.mid": "no-such-object"}})),
        )
        .await,
        "invalid_argument"
    );
    // Every conflict settled: the merge goes through with the chosen sides.
    let m = h
        .ok(
            &user(REPO.0),
            "musehub_merge_pr",
            with(
                repo(),
                json!({"pr_id": pr, "resolutions": {"README.md": "theirs", "solo.mid": "ours"}}),
            ),
        )
        .await;
    assert_eq!(m["resolved"], json!(["README.md", "solo.mid"]));
    let (_, files) = tree(&h, "main").await;
    assert_eq!(files["README.md"], "obj-c-theirs-README.md");
    assert_eq!(files["solo.mid"], "obj-c-ours-solo.mid");
}

#[tokio::test]
async fn review_reports_changes_from_the_merge_base_and_the_conflicts() {
    let (h, root) = setup().await;
    commit(
        &h,
        "feature",
        &root,
        "c-f",
        &[("drums.mid", Some("d")), ("README.md", Some("f"))],
    )
    .await;
    commit(
        &h,
        "main",
        &root,
        "c-m",
        &[("bass.mid", Some("b")), ("README.md", Some("m"))],
    )
    .await;
    let pr = open_pr(&h, "feature").await;
    let r = h
        .ok(
            &user(REPO.0),
            "musehub_review_pr_interactive",
            with(repo(), json!({"pr_id": pr, "dimension": "all"})),
        )
        .await;
    assert_eq!(r["added"], json!(["drums.mid"]));
    assert_eq!(r["removed"], json!([]), "main's bass is not 'removed'");
    assert_eq!(r["modified"], json!(["README.md"]));
    assert_eq!(r["conflicts"], json!(["README.md"]));
    assert_eq!(r["recommendation"], "REQUEST_CHANGES");
}
