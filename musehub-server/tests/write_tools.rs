//! The write tools: happy paths, permissions and the main errors.

mod common;

use common::*;
use musehub_mcp::serde_json::json;

#[tokio::test]
async fn create_repo_initialises_main_and_rejects_duplicates() {
    let h = hub().await;
    let c = h
        .ok(&user("dave"), "musehub_create_repo", json!({"name": "My First Song!", "visibility": "private", "tags": ["Pop"], "domain_meta": {"key": "A minor"}}))
        .await;
    assert_eq!(c["repo"]["owner"], "dave");
    assert_eq!(c["repo"]["slug"], "my-first-song");
    assert_eq!(c["repo"]["visibility"], "private");
    assert_eq!(c["repo"]["tags"], json!(["pop"]));
    assert_eq!(c["repo"]["domain_meta"]["key"], "A minor");
    assert_eq!(c["branches"][0]["name"], "main");
    assert_eq!(c["recent_commits"][0]["message"], "Initial commit");
    assert_eq!(c["artifacts"]["paths"], json!(["README.md"]));
    assert_eq!(
        h.err(
            &user("dave"),
            "musehub_create_repo",
            json!({"name": "my first song"})
        )
        .await,
        "already_exists"
    );
    assert_eq!(
        h.err(&user("dave"), "musehub_create_repo", json!({"name": "!!"}))
            .await,
        "invalid_argument"
    );
    assert_eq!(
        h.err(
            &user("dave"),
            "musehub_create_repo",
            json!({"name": "x", "domain": "@no/such"})
        )
        .await,
        "not_found"
    );
    let bare = h
        .ok(
            &user("dave"),
            "musehub_create_repo",
            json!({"name": "bare", "initialize": false, "domain": "@muse/code"}),
        )
        .await;
    assert_eq!(bare["branches"], json!([]));
    assert_eq!(bare["repo"]["domain"], "@muse/code");
    // whoami sees the auto-created user.
    assert_eq!(
        h.ok(&user("dave"), "musehub_whoami", json!({})).await["repo_count"],
        2
    );
}

#[tokio::test]
async fn a_fresh_hub_without_demo_data_creates_repositories_with_the_defaults() {
    let h = empty_hub().await;
    let d = h.ok(&anon(), "musehub_list_domains", json!({})).await;
    let ids: Vec<_> = d["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["scoped_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ids.iter().filter(|i| i.starts_with("@muse/")).count(),
        4,
        "{ids:?}"
    );
    let c = h
        .ok(
            &user("erin"),
            "musehub_create_repo",
            json!({"name": "first"}),
        )
        .await;
    assert_eq!(c["repo"]["domain"], "@muse/midi");
    for domain in ["@muse/code", "@muse/genomics", "@muse/circuit"] {
        h.ok(
            &user("erin"),
            "musehub_create_repo",
            json!({"name": domain.replace('/', "-"), "domain": domain}),
        )
        .await;
    }
}

#[tokio::test]
async fn issues_comments_and_labels() {
    let h = hub().await;
    let r = json!({"owner": "alice", "slug": "jazz-session"});
    let mut args = r.clone();
    args["title"] = json!("Add a coda");
    args["labels"] = json!(["arrangement"]);
    let i = h
        .ok(&user("carol"), "musehub_create_issue", args.clone())
        .await;
    assert_eq!(i["number"], 4);
    assert_eq!(i["author"], "carol");
    args["labels"] = json!(["nope"]);
    assert_eq!(
        h.err(&user("carol"), "musehub_create_issue", args).await,
        "invalid_argument"
    );

    let mut args = r.clone();
    args["issue_number"] = json!(4);
    args["body"] = json!("Eight bars, fading.");
    let c = h
        .ok(&user("bob"), "musehub_create_issue_comment", args.clone())
        .await;
    assert_eq!(c["comment"]["author"], "bob");
    args["issue_number"] = json!(77);
    assert_eq!(
        h.err(&user("bob"), "musehub_create_issue_comment", args)
            .await,
        "not_found"
    );

    // The author may close it; a stranger may not; the owner may reassign.
    let mut args = r.clone();
    args["issue_number"] = json!(4);
    args["state"] = json!("closed");
    assert_eq!(
        h.err(&user("muse-bot"), "musehub_update_issue", args.clone())
            .await,
        "forbidden"
    );
    let u = h.ok(&user("carol"), "musehub_update_issue", args).await;
    assert_eq!(u["state"], "closed");
    let mut args = r.clone();
    args["issue_number"] = json!(4);
    args["assignee"] = json!("bob");
    assert_eq!(
        h.ok(&user("alice"), "musehub_update_issue", args.clone())
            .await["assignee"],
        "bob"
    );
    args["assignee"] = json!("");
    assert!(h.ok(&user("alice"), "musehub_update_issue", args).await["assignee"].is_null());

    let mut args = r.clone();
    args["name"] = json!("needs-mix");
    args["color"] = json!("#FF8800");
    let l = h
        .ok(&user("alice"), "musehub_create_label", args.clone())
        .await;
    assert_eq!(l["color"], "ff8800");
    assert_eq!(
        h.err(&user("alice"), "musehub_create_label", args.clone())
            .await,
        "already_exists"
    );
    assert_eq!(
        h.err(&user("carol"), "musehub_create_label", args.clone())
            .await,
        "forbidden"
    );
    args["name"] = json!("other");
    args["color"] = json!("red");
    assert_eq!(
        h.err(&user("alice"), "musehub_create_label", args).await,
        "invalid_argument"
    );

    // Issues on a private repository: invisible to strangers.
    let p = json!({"owner": "alice", "slug": "private-sketches", "title": "hi"});
    assert_eq!(
        h.err(&user("carol"), "musehub_create_issue", p.clone())
            .await,
        "not_found"
    );
    h.ok(&user("bob"), "musehub_create_issue", p).await;
}

#[tokio::test]
async fn proposal_lifecycle() {
    let h = hub().await;
    let r = json!({"owner": "alice", "slug": "jazz-session"});
    let mut args = r.clone();
    args["title"] = json!("Same");
    args["from_branch"] = json!("main");
    args["to_branch"] = json!("main");
    assert_eq!(
        h.err(&user("bob"), "musehub_create_pr", args.clone()).await,
        "invalid_argument"
    );
    args["from_branch"] = json!("ghost");
    assert_eq!(
        h.err(&user("bob"), "musehub_create_pr", args).await,
        "not_found"
    );

    let mut args = r.clone();
    args["pr_id"] = json!("1");
    args["body"] = json!("Check bar 3");
    args["dimension_ref"] =
        json!({"type": "rhythmic", "track": "drums", "beat_start": 8.0, "beat_end": 12.0});
    let c = h
        .ok(&user("bob"), "musehub_create_pr_comment", args.clone())
        .await;
    assert_eq!(c["comment"]["dimension"], "rhythmic");
    assert_eq!(c["comment"]["beat_end"], 12.0);
    args["dimension_ref"] = json!({"beat_start": 9.0, "beat_end": 1.0});
    assert_eq!(
        h.err(&user("bob"), "musehub_create_pr_comment", args).await,
        "invalid_argument"
    );

    let mut args = r.clone();
    args["pr_id"] = json!("1");
    args["event"] = json!("approve");
    assert_eq!(
        h.err(&user("carol"), "musehub_submit_pr_review", args.clone())
            .await,
        "forbidden",
        "own PR"
    );
    assert_eq!(
        h.ok(&user("alice"), "musehub_submit_pr_review", args.clone())
            .await["event"],
        "approve"
    );
    args["event"] = json!("lgtm");
    assert_eq!(
        h.err(&user("alice"), "musehub_submit_pr_review", args)
            .await,
        "invalid_argument"
    );

    let mut args = r.clone();
    args["pr_id"] = json!("1");
    assert_eq!(
        h.err(&user("carol"), "musehub_merge_pr", args.clone())
            .await,
        "forbidden"
    );
    let m = h.ok(&user("alice"), "musehub_merge_pr", args.clone()).await;
    assert_eq!(m["pull_request"]["state"], "merged");
    assert_eq!(m["fast_forward"], false);
    let merge = m["merge_commit_id"].as_str().unwrap();
    let ctx = h.ok(&anon(), "musehub_get_context", r.clone()).await;
    let main = ctx["branches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "main")
        .unwrap()
        .clone();
    assert_eq!(main["head_commit_id"], merge);
    assert_eq!(ctx["artifacts"]["total"], 5, "the bridge is on main now");
    assert_eq!(
        ctx["recent_commits"][0]["parent_ids"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        h.err(&user("alice"), "musehub_merge_pr", args).await,
        "invalid_state"
    );
}

#[tokio::test]
async fn rebase_merge_fast_forwards() {
    let h = hub().await;
    let r = json!({"owner": "alice", "slug": "jazz-session"});
    let mut args = r.clone();
    args["pr_id"] = json!("1");
    args["merge_strategy"] = json!("rebase");
    let m = h.ok(&user("alice"), "musehub_merge_pr", args).await;
    assert_eq!(m["fast_forward"], true);
    let b = h.ok(&anon(), "musehub_list_branches", r).await;
    let heads: Vec<_> = b["branches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["head_commit_id"].clone())
        .collect();
    assert_eq!(heads[0], heads[1]);
}

#[tokio::test]
async fn releases_stars_forks() {
    let h = hub().await;
    let r = json!({"owner": "alice", "slug": "jazz-session"});
    let mut args = r.clone();
    args["tag"] = json!("v0.2.0");
    args["title"] = json!("Second take");
    args["channel"] = json!("beta");
    let rel = h
        .ok(&user("alice"), "musehub_create_release", args.clone())
        .await;
    assert_eq!(rel["pre_release"], true);
    assert!(rel["commit_id"].is_string());
    assert_eq!(
        h.err(&user("alice"), "musehub_create_release", args.clone())
            .await,
        "already_exists"
    );
    assert_eq!(
        h.err(&user("carol"), "musehub_create_release", args.clone())
            .await,
        "forbidden"
    );
    args["tag"] = json!("not a tag");
    assert_eq!(
        h.err(&user("alice"), "musehub_create_release", args.clone())
            .await,
        "invalid_argument"
    );
    args["tag"] = json!("v9.0.0");
    args["commit_id"] = json!("nope");
    assert_eq!(
        h.err(&user("alice"), "musehub_create_release", args).await,
        "not_found"
    );

    let s = h.ok(&user("dave"), "musehub_star_repo", r.clone()).await;
    assert_eq!(s["stars"], 4);
    let s = h.ok(&user("dave"), "musehub_star_repo", r.clone()).await;
    assert_eq!(s["stars"], 4, "idempotent");

    let f = h.ok(&user("dave"), "musehub_fork_repo", r.clone()).await;
    assert_eq!(f["owner"], "dave");
    assert_eq!(f["forked_from"], "alice/jazz-session");
    let fc = h
        .ok(
            &anon(),
            "musehub_list_commits",
            json!({"owner": "dave", "slug": "jazz-session"}),
        )
        .await;
    assert_eq!(fc["total"], 6);
    assert_eq!(
        h.ok(&anon(), "musehub_get_context", r.clone()).await["repo"]["forks"],
        1
    );
    assert_eq!(
        h.err(&user("dave"), "musehub_fork_repo", r.clone()).await,
        "already_exists"
    );
    assert_eq!(
        h.err(&user("alice"), "musehub_fork_repo", r).await,
        "invalid_argument"
    );
    assert_eq!(
        h.err(
            &user("bob"),
            "musehub_fork_repo",
            json!({"owner": "alice", "slug": "private-sketches"})
        )
        .await,
        "forbidden"
    );
}

#[tokio::test]
async fn agent_tokens_and_domains() {
    let h = hub().await;
    let t = h
        .ok(
            &user("alice"),
            "musehub_create_agent_token",
            json!({"agent_name": "", "expires_in_days": 9999}),
        )
        .await;
    assert_eq!(t["agent_name"], "mcp-agent");
    assert_eq!(t["expires_in_days"], 365);
    assert!(t["token"].as_str().unwrap().starts_with("mha_"));
    let tokens = h.read(&user("alice"), "musehub://me/tokens").await.unwrap();
    assert_eq!(tokens["tokens"].as_array().unwrap().len(), 1);
    assert!(
        !tokens.to_string().contains(t["token"].as_str().unwrap()),
        "the token is never shown again"
    );

    let args = json!({"author_slug": "alice", "slug": "jazz-harmony", "display_name": "Jazz Harmony",
        "description": "Chord-scale theory as dimensions", "capabilities": {"dimensions": ["harmonic"]}, "viewer_type": "piano_roll"});
    let d = h
        .ok(&user("alice"), "musehub_publish_domain", args.clone())
        .await;
    assert_eq!(d["scoped_id"], "@alice/jazz-harmony");
    assert_eq!(d["version"], "0.1.0");
    assert_eq!(
        h.err(&user("alice"), "musehub_publish_domain", args.clone())
            .await,
        "domain_conflict"
    );
    let e = h.call(&user("bob"), "musehub_publish_domain", args).await;
    assert_eq!(e["structuredContent"]["error"]["code"], "forbidden");
    assert!(e["content"][0]["text"].as_str().unwrap().contains("alice"));
}
