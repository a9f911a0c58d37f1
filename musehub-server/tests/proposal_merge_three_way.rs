//! Merging a proposal is a three-way merge on the snapshots: both branches' changes survive,
//! and divergent changes to one path are refused with the conflicts listed (or settled by
//! explicit resolutions). The bug this guards: a merge used to give the target the proposal's
//! snapshot, dropping every file the target gained after the branch was cut.

mod common;

use std::collections::BTreeMap;

use common::commits::{commit_with, oid, push_of};
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
/// (`None` deletes a path), `label` as its message. Returns its (content) id.
async fn commit(
    h: &Hub,
    branch: &str,
    parent: &str,
    label: &str,
    changes: &[(&str, Option<&str>)],
) -> String {
    let (_, manifest) = tree_at(h, parent).await;
    let changes: Vec<(&str, Option<&[u8]>)> = changes
        .iter()
        .map(|(p, c)| (*p, c.map(str::as_bytes)))
        .collect();
    let c = commit_with(&[parent], &manifest, &changes, label, REPO.0);
    h.ok(
        &user(REPO.0),
        "muse_push",
        push_of(REPO.0, REPO.1, branch, &[&c]),
    )
    .await;
    c.id
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
        assert_eq!(files["bass.mid"], oid(b"bass"));
        assert_eq!(files["drums.mid"], oid(b"drums"));
        assert_eq!(m["snapshot_id"].as_str().unwrap().len(), 64, "a content id");
        // The merge commit's id is the hash of its fields, like every pushed commit's.
        let c = h
            .ok(
                &anon(),
                "musehub_get_commit",
                with(repo(), json!({"commit_id": m["merge_commit_id"]})),
            )
            .await["commit"]
            .clone();
        let parents: Vec<String> =
            musehub_mcp::serde_json::from_value(c["parent_ids"].clone()).unwrap();
        assert_eq!(parents.len(), 2);
        let expected = muse_core::commit_id(&muse_core::CommitFields {
            parents: &parents,
            snapshot_id: c["snapshot_id"].as_str(),
            author: c["author"].as_str().unwrap(),
            timestamp: c["timestamp"].as_str().unwrap(),
            message: c["message"].as_str().unwrap(),
        })
        .unwrap();
        assert_eq!(m["merge_commit_id"], expected);
        assert_eq!(
            c["snapshot_id"],
            muse_core::snapshot_id(&files),
            "the merged snapshot's id is its manifest's"
        );
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
        assert_eq!(files["README.md"], oid(b"new readme"), "{strategy}");
        assert_eq!(files["keys.mid"], oid(b"k"), "{strategy}");
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
            {"path": "README.md", "kind": "both_modified", "base": tree_at(&h, &root).await.1["README.md"], "ours": oid(b"ours"), "theirs": oid(b"theirs")},
            {"path": "solo.mid", "kind": "both_added", "ours": oid(b"o"), "theirs": oid(b"t")},
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
    assert_eq!(files["README.md"], oid(b"theirs"));
    assert_eq!(files["solo.mid"], oid(b"o"));
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
