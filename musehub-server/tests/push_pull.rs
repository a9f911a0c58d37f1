//! `muse_push` (atomic, fast-forward checked, quota enforced, one winner among concurrent
//! pushes) and `muse_pull` (the delta since a commit).

mod common;

use base64::Engine;
use common::commits::{Commit, Manifest, commit_adding, push_of};
use common::*;
use musehub_mcp::serde_json::{Value, json};
use musehub_server::{Db, HubSettings};

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A commit on `parent` whose snapshot holds one file, `path` with `content`.
fn commit_of(parent: Option<&str>, path: &str, content: &str) -> Commit {
    commit_adding(parent, &Manifest::new(), path, content.as_bytes())
}

/// The push of `c` to alice/jazz-session's main.
fn push_args(c: &Commit) -> Value {
    push_of("alice", "jazz-session", "main", &[c])
}

async fn main_head(h: &Hub) -> String {
    let b = h
        .ok(
            &anon(),
            "musehub_list_branches",
            json!({"owner": "alice", "slug": "jazz-session"}),
        )
        .await;
    b["branches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "main")
        .unwrap()["head_commit_id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn commit_count(db: &Db) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT COUNT(*) AS n FROM commits")
        .fetch_one(db.pool())
        .await
        .unwrap()
        .try_get::<i64, _>("n")
        .unwrap()
}

#[tokio::test]
async fn fast_forward_push_then_pull_delta() {
    let h = hub().await;
    let head = main_head(&h).await;
    let new = commit_of(Some(&head), "tracks/sax.mid", "sax");
    let p = h.ok(&user("alice"), "muse_push", push_args(&new)).await;
    assert_eq!(p["previous_head"], head);
    assert_eq!(p["head_commit_id"], new.id);
    assert_eq!(p["commits_stored"], 1);
    assert_eq!(p["objects_stored"], 1);
    assert_eq!(p["bytes_stored"], 3);
    assert_eq!(main_head(&h).await, new.id);

    let d = h
        .ok(
            &anon(),
            "muse_pull",
            json!({"owner": "alice", "slug": "jazz-session", "since_commit_id": head}),
        )
        .await;
    assert_eq!(d["diverged"], false);
    assert_eq!(d["commits"].as_array().unwrap().len(), 1);
    assert_eq!(d["commits"][0]["commit_id"], new.id);
    assert_eq!(d["objects"][0]["content_b64"], b64("sax"));
    assert_eq!(d["objects"][0]["object_id"], muse_core::object_id(b"sax"));
    assert_eq!(
        d["objects"][0]["download_url"],
        format!(
            "http://127.0.0.1:8080/alice/jazz-session/objects/{}",
            muse_core::object_id(b"sax")
        )
    );
    let full = h
        .ok(
            &anon(),
            "muse_pull",
            json!({"owner": "alice", "slug": "jazz-session"}),
        )
        .await;
    assert_eq!(full["commits"].as_array().unwrap().len(), 5);
    assert_eq!(
        full["commits"][0]["message"], "Initial sketch: head melody",
        "oldest first"
    );
    let skip = h
        .ok(&anon(), "muse_pull", json!({"owner": "alice", "slug": "jazz-session", "since_commit_id": head, "object_ids": [muse_core::object_id(b"sax")]}))
        .await;
    assert_eq!(skip["objects"], json!([]));
    assert_eq!(
        h.err(
            &anon(),
            "muse_pull",
            json!({"owner": "alice", "slug": "jazz-session", "since_commit_id": "nope"})
        )
        .await,
        "not_found"
    );
    assert_eq!(
        h.err(
            &anon(),
            "muse_pull",
            json!({"owner": "alice", "slug": "jazz-session", "branch": "nope"})
        )
        .await,
        "not_found"
    );
    // Pushing to a new branch creates it.
    let side = commit_of(Some(&new.id), "tracks/x.mid", "x");
    let mut args = push_args(&side);
    args["branch"] = json!("side");
    assert_eq!(
        h.ok(&user("alice"), "muse_push", args).await["created_branch"],
        true
    );
}

#[tokio::test]
async fn non_fast_forward_is_rejected_unless_forced_and_nothing_is_written() {
    let h = hub().await;
    let before = commit_count(&h.db).await;
    // A commit whose parent is the first commit, not the head: not a fast-forward.
    let all = h
        .ok(
            &anon(),
            "musehub_list_commits",
            json!({"owner": "alice", "slug": "jazz-session", "branch": "main"}),
        )
        .await;
    let first = all["commits"].as_array().unwrap().last().unwrap()["commit_id"]
        .as_str()
        .unwrap()
        .to_string();
    let rewrite = commit_of(Some(&first), "tracks/alt.mid", "alt");
    let args = push_args(&rewrite);
    assert_eq!(
        h.err(&user("alice"), "muse_push", args.clone()).await,
        "non_fast_forward"
    );
    assert_eq!(commit_count(&h.db).await, before, "nothing written");
    let mut forced = args;
    forced["force"] = json!(true);
    let p = h.ok(&user("alice"), "muse_push", forced).await;
    assert_eq!(p["forced"], true);
    assert_eq!(main_head(&h).await, rewrite.id);
}

#[tokio::test]
async fn malformed_pushes_and_permissions() {
    let h = hub().await;
    let head = main_head(&h).await;
    let c1 = commit_of(Some(&head), "a.mid", "a");
    let mut bad = push_args(&c1);
    bad["objects"][0]["content_b64"] = json!("***");
    assert_eq!(h.err(&user("alice"), "muse_push", bad).await, "push_failed");
    let orphan = commit_of(Some(&"0".repeat(64)), "a.mid", "a");
    assert_eq!(
        h.err(&user("alice"), "muse_push", push_args(&orphan)).await,
        "push_failed"
    );
    let mut unknown = push_args(&c1);
    unknown["head_commit_id"] = json!("c-missing");
    assert_eq!(
        h.err(&user("alice"), "muse_push", unknown).await,
        "push_failed"
    );
    let mut missing_obj = push_args(&c1);
    missing_obj["objects"] = json!([]);
    assert_eq!(
        h.err(&user("alice"), "muse_push", missing_obj).await,
        "push_failed"
    );
    // Only owner and collaborators push.
    assert_eq!(
        h.err(&user("carol"), "muse_push", push_args(&c1)).await,
        "forbidden"
    );
    let p1 = commit_of(None, "ideas/new.mid", "n");
    let mut collab = push_args(&p1);
    collab["slug"] = json!("private-sketches");
    collab["force"] = json!(true);
    h.ok(&user("bob"), "muse_push", collab).await;
}

#[tokio::test]
async fn quota_is_enforced() {
    let h = hub_with(HubSettings {
        push_quota_bytes: 2_000,
        ..HubSettings::default()
    })
    .await;
    let head = main_head(&h).await;
    let big = "x".repeat(5_000);
    assert_eq!(
        h.err(
            &user("alice"),
            "muse_push",
            push_args(&commit_of(Some(&head), "big.wav", &big))
        )
        .await,
        "quota_exceeded"
    );
    h.ok(
        &user("alice"),
        "muse_push",
        push_args(&commit_of(Some(&head), "small.mid", "s")),
    )
    .await;
}

/// Two pushes race from the same head on a file database with several connections: exactly
/// one wins, the other gets non_fast_forward, and none of the loser's rows exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pushes_have_exactly_one_winner() {
    // A file (not `:memory:`, which has one connection) so that pushes really run in parallel;
    // a fresh PostgreSQL database when MUSEHUB_TEST_DATABASE_URL is set.
    let path = std::env::temp_dir().join(format!("musehub-race-{}.db", uuid::Uuid::new_v4()));
    let url = match common::postgres_url() {
        Some(_) => common::fresh_database_url().await,
        None => format!("sqlite://{}", path.display()),
    };
    let objects = common::temp_dir("race-objects");
    let db = Db::connect(
        &url,
        HubSettings {
            objects_dir: Some(objects.clone()),
            ..HubSettings::default()
        },
    )
    .await
    .unwrap();
    musehub_server::seed::seed_demo(&db).await.unwrap();
    let server = musehub_server::build_server(
        db.clone(),
        musehub_mcp::ServerConfig::default(),
        &musehub_server::AuthSettings::default(),
    )
    .unwrap();
    let h = Hub { server, db };
    for round in 0..8 {
        let head = main_head(&h).await;
        let ca = commit_of(Some(&head), "a.mid", &format!("a{round}"));
        let cb = commit_of(Some(&head), "b.mid", &format!("b{round}"));
        let (a, b) = (push_args(&ca), push_args(&cb));
        let spawn = |args: Value| {
            let server = h.server.clone();
            tokio::spawn(async move {
                server
                    .call(
                        user("alice"),
                        "tools/call",
                        json!({"name": "muse_push", "arguments": args}),
                    )
                    .await
                    .unwrap()
            })
        };
        let (ta, tb) = (spawn(a), spawn(b));
        let results = [ta.await.unwrap(), tb.await.unwrap()];
        let winners: Vec<&Value> = results
            .iter()
            .filter(|r| r["isError"] != json!(true))
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        let loser = results
            .iter()
            .find(|r| r["isError"] == json!(true))
            .unwrap();
        assert_eq!(
            loser["structuredContent"]["error"]["code"], "non_fast_forward",
            "{loser}"
        );
        let won = winners[0]["structuredContent"]["head_commit_id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(main_head(&h).await, won);
        let lost = if won == ca.id { &cb } else { &ca };
        let c = h
            .call(
                &anon(),
                "musehub_get_commit",
                json!({"owner": "alice", "slug": "jazz-session", "commit_id": lost.id}),
            )
            .await;
        assert_eq!(
            c["isError"],
            json!(true),
            "the loser's commit must not exist"
        );
        let o = h
            .call(
                &anon(),
                "musehub_read_file",
                json!({"owner": "alice", "slug": "jazz-session", "object_id": lost.objects[0].0}),
            )
            .await;
        assert_eq!(
            o["isError"],
            json!(true),
            "the loser's object must not exist"
        );
    }
    drop(h);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let _ = std::fs::remove_dir_all(&objects);
}
