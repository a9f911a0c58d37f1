//! Every id a push names is checked against its content before anything is stored: an
//! object's id is the SHA-256 of its bytes, a snapshot's the hash of its manifest, a
//! commit's the hash of its fields (docs/muse-protocol.md). Made-up ids, unsafe paths and
//! commits without author or UTC time are refused with a clear code, the expected id in
//! `data`, and the database unchanged.

mod common;

use common::commits::{Manifest, commit_adding, push_of};
use common::*;
use musehub_mcp::serde_json::{Value, json};

async fn counts(h: &Hub) -> (i64, i64, i64) {
    use sqlx::Row;
    let n = |sql: &'static str| {
        let db = h.db.clone();
        async move {
            sqlx::query(sql)
                .fetch_one(db.pool())
                .await
                .unwrap()
                .try_get::<i64, _>("n")
                .unwrap()
        }
    };
    (
        n("SELECT COUNT(*) AS n FROM commits").await,
        n("SELECT COUNT(*) AS n FROM snapshots").await,
        n("SELECT COUNT(*) AS n FROM objects").await,
    )
}

async fn head(h: &Hub) -> String {
    h.ok(
        &anon(),
        "musehub_list_branches",
        json!({"owner": "alice", "slug": "jazz-session"}),
    )
    .await["branches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "main")
        .unwrap()["head_commit_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The error code and data of a refused push.
async fn refused(h: &Hub, args: Value) -> (String, Value) {
    let r = h.call(&user("alice"), "muse_push", args).await;
    assert_eq!(r["isError"], true, "{r}");
    let e = &r["structuredContent"]["error"];
    (
        e["code"].as_str().unwrap().to_string(),
        e.get("data").cloned().unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn made_up_ids_are_refused_with_the_expected_id_and_nothing_is_stored() {
    let h = hub().await;
    let parent = head(&h).await;
    let before = counts(&h).await;
    let good = commit_adding(Some(&parent), &Manifest::new(), "tracks/sax.mid", b"sax");

    // The object id of other bytes.
    let mut args = push_of("alice", "jazz-session", "main", &[&good]);
    args["objects"][0]["object_id"] = json!("obj-x");
    args["snapshots"][0]["manifest"]["tracks/sax.mid"] = json!("obj-x");
    let (code, data) = refused(&h, args).await;
    assert_eq!(code, "object_id_mismatch");
    assert_eq!(data["expected"], muse_core::object_id(b"sax"));
    let mut args = push_of("alice", "jazz-session", "main", &[&good]);
    args["objects"] = json!([]);
    args["snapshots"][0]["manifest"]["tracks/sax.mid"] = json!("obj-x");
    let (code, _) = refused(&h, args).await;
    assert_eq!(code, "push_failed", "a manifest entry that is no id at all");
    let mut args = push_of("alice", "jazz-session", "main", &[&good]);
    args["objects"][0]["object_id"] = json!(muse_core::object_id(b"other"));
    let (code, data) = refused(&h, args).await;
    assert_eq!(code, "object_id_mismatch");
    assert_eq!(data["expected"], muse_core::object_id(b"sax"));

    // A snapshot id that is not its manifest's.
    let mut args = push_of("alice", "jazz-session", "main", &[&good]);
    args["snapshots"][0]["snapshot_id"] = json!("snap-x");
    args["commits"][0]["snapshot_id"] = json!("snap-x");
    let (code, data) = refused(&h, args).await;
    assert_eq!(code, "snapshot_id_mismatch");
    assert_eq!(data["expected"], good.snapshot_id);

    // A commit id that is not its fields'.
    let mut args = push_of("alice", "jazz-session", "main", &[&good]);
    args["commits"][0]["commit_id"] = json!("c-new");
    args["head_commit_id"] = json!("c-new");
    let (code, data) = refused(&h, args).await;
    assert_eq!(code, "commit_id_mismatch");
    assert_eq!(data["expected"], good.id);
    // Changing a field after the id was computed breaks it too.
    let mut args = push_of("alice", "jazz-session", "main", &[&good]);
    args["commits"][0]["message"] = json!("tampered");
    let (code, data) = refused(&h, args).await;
    assert_eq!(code, "commit_id_mismatch");
    assert_ne!(data["expected"], good.id);

    // Fields the id needs, in the form it needs.
    let mut args = push_of("alice", "jazz-session", "main", &[&good]);
    args["commits"][0]["timestamp"] = json!("2025-03-01 09:00:00+02:00");
    assert_eq!(refused(&h, args).await.0, "invalid_commit");
    let mut args = push_of("alice", "jazz-session", "main", &[&good]);
    args["commits"][0].as_object_mut().unwrap().remove("author");
    let r = h.call(&user("alice"), "muse_push", args).await;
    assert_eq!(r["isError"], true, "the author is required: {r}");

    assert_eq!(counts(&h).await, before, "nothing stored");
    assert_eq!(head(&h).await, parent, "the branch did not move");

    // The right ids go in.
    let p = h
        .ok(
            &user("alice"),
            "muse_push",
            push_of("alice", "jazz-session", "main", &[&good]),
        )
        .await;
    assert_eq!(p["head_commit_id"], good.id);
    let after = counts(&h).await;
    assert_eq!(
        (after.0 - before.0, after.1 - before.1, after.2 - before.2),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn paths_that_would_escape_a_working_folder_are_refused() {
    let h = hub().await;
    let parent = head(&h).await;
    for path in ["../evil.sh", "/etc/passwd", ".muse/HEAD", "a//b", "a\\b"] {
        let c = commit_adding(Some(&parent), &Manifest::new(), path, b"x");
        let (code, _) = refused(&h, push_of("alice", "jazz-session", "main", &[&c])).await;
        assert_eq!(code, "invalid_path", "{path}");
    }
    assert_eq!(head(&h).await, parent);
}

#[tokio::test]
async fn the_hubs_own_commits_follow_the_scheme() {
    // A new repository's initial commit: the README's object, snapshot and commit ids are
    // what a client computes from the same content.
    let h = empty_hub().await;
    let ctx = h
        .ok(&user("dana"), "musehub_create_repo", json!({"name": "Ids"}))
        .await;
    let c = &ctx["recent_commits"][0];
    let readme = b"# Ids\n";
    let manifest = Manifest::from([("README.md".to_string(), muse_core::object_id(readme))]);
    let snapshot = muse_core::snapshot_id(&manifest);
    assert_eq!(c["snapshot_id"], snapshot);
    let expected = muse_core::commit_id(&muse_core::CommitFields {
        parents: &[],
        snapshot_id: Some(&snapshot),
        author: c["author"].as_str().unwrap(),
        timestamp: c["timestamp"].as_str().unwrap(),
        message: c["message"].as_str().unwrap(),
    })
    .unwrap();
    assert_eq!(c["commit_id"], expected);
    let f = h
        .ok(
            &anon(),
            "musehub_read_file",
            json!({"owner": "dana", "slug": "ids", "object_id": muse_core::object_id(readme)}),
        )
        .await;
    assert_eq!(f["content_b64"], "IyBJZHMK");

    // The demo hub's history too.
    let h = hub().await;
    let d = h
        .ok(
            &anon(),
            "muse_pull",
            json!({"owner": "alice", "slug": "jazz-session"}),
        )
        .await;
    for s in d["snapshots"].as_array().unwrap() {
        let m: Manifest = musehub_mcp::serde_json::from_value(s["manifest"].clone()).unwrap();
        assert_eq!(s["snapshot_id"], muse_core::snapshot_id(&m));
    }
    for c in d["commits"].as_array().unwrap() {
        let parents: Vec<String> =
            musehub_mcp::serde_json::from_value(c["parent_ids"].clone()).unwrap();
        let id = muse_core::commit_id(&muse_core::CommitFields {
            parents: &parents,
            snapshot_id: c["snapshot_id"].as_str(),
            author: c["author"].as_str().unwrap(),
            timestamp: c["timestamp"].as_str().unwrap(),
            message: c["message"].as_str().unwrap(),
        })
        .unwrap();
        assert_eq!(c["commit_id"], id, "{c}");
    }
    for o in d["objects"].as_array().unwrap() {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(o["content_b64"].as_str().unwrap())
            .unwrap();
        assert_eq!(o["object_id"], muse_core::object_id(&bytes));
    }
}
