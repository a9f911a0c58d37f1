//! The read tools against the demo hub: happy paths, the main errors, and private
//! repositories visible only to their owner and collaborators.

mod common;

use common::*;
use musehub_mcp::serde_json::json;

#[tokio::test]
async fn context_by_owner_slug_and_by_id() {
    let h = hub().await;
    let c = h
        .ok(
            &anon(),
            "musehub_get_context",
            json!({"owner": "alice", "slug": "jazz-session"}),
        )
        .await;
    assert_eq!(c["repo"]["slug"], "jazz-session");
    assert_eq!(c["repo"]["stars"], 3);
    assert_eq!(c["branches"].as_array().unwrap().len(), 2);
    assert_eq!(c["recent_commits"].as_array().unwrap().len(), 4);
    assert_eq!(
        c["recent_commits"][0]["message"],
        "Voice the comping in fourths"
    );
    assert_eq!(c["artifacts"]["total"], 4);
    assert_eq!(c["artifacts"]["by_mime_type"]["audio/midi"], 3);
    assert_eq!(c["open_issues"], 2);
    assert_eq!(c["open_pull_requests"], 1);
    assert_eq!(c["latest_release"]["tag"], "v0.1.0");
    assert_eq!(c["domain"]["scoped_id"], "@muse/midi");
    let id = c["repo"]["repo_id"].as_str().unwrap();
    let by_id = h
        .ok(&anon(), "musehub_get_context", json!({"repo_id": id}))
        .await;
    assert_eq!(by_id["repo"]["owner"], "alice");
    assert_eq!(
        h.err(&anon(), "musehub_get_context", json!({})).await,
        "invalid_argument"
    );
    assert_eq!(
        h.err(
            &anon(),
            "musehub_get_context",
            json!({"owner": "alice", "slug": "nope"})
        )
        .await,
        "not_found"
    );
}

#[tokio::test]
async fn private_repositories_are_for_owner_and_collaborators_only() {
    let h = hub().await;
    let args = json!({"owner": "alice", "slug": "private-sketches"});
    for tool in [
        "musehub_get_context",
        "musehub_list_branches",
        "musehub_list_commits",
        "musehub_list_issues",
    ] {
        assert_eq!(
            h.err(&anon(), tool, args.clone()).await,
            "not_found",
            "{tool}"
        );
        // Any signed-in user is not enough (the original's bug).
        assert_eq!(
            h.err(&user("carol"), tool, args.clone()).await,
            "not_found",
            "{tool}"
        );
        h.ok(&user("alice"), tool, args.clone()).await;
        h.ok(&user("bob"), tool, args.clone()).await;
    }
    let found = h
        .ok(&anon(), "musehub_search_repos", json!({"query": "sketch"}))
        .await;
    assert_eq!(found["total"], 0);
    let found = h
        .ok(
            &user("bob"),
            "musehub_search_repos",
            json!({"query": "sketch"}),
        )
        .await;
    assert_eq!(found["total"], 1);
}

#[tokio::test]
async fn branches_commits_and_commit() {
    let h = hub().await;
    let r = json!({"owner": "alice", "slug": "jazz-session"});
    let b = h.ok(&anon(), "musehub_list_branches", r.clone()).await;
    assert_eq!(b["branch_count"], 2);
    assert_eq!(b["branches"][0]["name"], "feature/bridge");
    let mut args = r.clone();
    args["branch"] = json!("feature/bridge");
    args["limit"] = json!(2);
    let c = h.ok(&anon(), "musehub_list_commits", args).await;
    assert_eq!(c["total"], 6);
    assert_eq!(c["returned"], 2);
    assert_eq!(
        c["commits"][0]["message"],
        "Reharmonise the bridge turnaround"
    );
    let mut args = r.clone();
    args["limit"] = json!(1000);
    let all = h.ok(&anon(), "musehub_list_commits", args).await;
    assert_eq!(all["returned"], 6, "limit is clamped, not rejected");
    let mut args = r.clone();
    args["branch"] = json!("nope");
    assert_eq!(
        h.err(&anon(), "musehub_list_commits", args).await,
        "not_found"
    );
    let id = c["commits"][1]["commit_id"].as_str().unwrap();
    let mut args = r.clone();
    args["commit_id"] = json!(id);
    let one = h.ok(&anon(), "musehub_get_commit", args).await;
    assert_eq!(one["commit"]["author"], "carol");
    assert_eq!(one["files"].as_object().unwrap().len(), 5);
    let mut args = r.clone();
    args["commit_id"] = json!("0000");
    assert_eq!(
        h.err(&anon(), "musehub_get_commit", args).await,
        "not_found"
    );
}

#[tokio::test]
async fn read_file_search_compare() {
    let h = hub().await;
    let r = json!({"owner": "alice", "slug": "jazz-session"});
    let mut args = r.clone();
    args["query"] = json!("BASS");
    let s = h.ok(&anon(), "musehub_search", args).await;
    assert_eq!(s["count"], 1);
    assert_eq!(s["matches"][0]["path"], "tracks/bass.mid");
    let object_id = s["matches"][0]["object_id"].as_str().unwrap().to_string();
    let mut args = r.clone();
    args["query"] = json!("walking");
    args["mode"] = json!("commit");
    let s = h.ok(&anon(), "musehub_search", args).await;
    assert_eq!(s["matches"][0]["message"], "Add walking bass");
    let mut args = r.clone();
    args["query"] = json!("x");
    args["mode"] = json!("lyrics");
    assert_eq!(
        h.err(&anon(), "musehub_search", args).await,
        "invalid_argument"
    );

    let mut args = r.clone();
    args["object_id"] = json!(object_id);
    let f = h.ok(&anon(), "musehub_read_file", args).await;
    assert_eq!(f["mime_type"], "audio/midi");
    assert_eq!(f["path"], "tracks/bass.mid");
    let mut args = r.clone();
    args["object_id"] = json!("missing");
    assert_eq!(h.err(&anon(), "musehub_read_file", args).await, "not_found");

    let mut args = r.clone();
    args["base_ref"] = json!("main");
    args["head_ref"] = json!("feature/bridge");
    let c = h.ok(&anon(), "musehub_compare", args).await;
    assert_eq!(c["ahead_by"], 2);
    assert_eq!(c["behind_by"], 0);
    assert_eq!(c["added"], json!(["tracks/bridge.mid"]));
    assert_eq!(c["removed"], json!([]));
    let mut args = r.clone();
    args["base_ref"] = json!("v0.1.0");
    args["head_ref"] = json!("nope");
    assert_eq!(h.err(&anon(), "musehub_compare", args).await, "not_found");
}

#[tokio::test]
async fn issues_prs_releases() {
    let h = hub().await;
    let r = json!({"owner": "alice", "slug": "jazz-session"});
    let open = h.ok(&anon(), "musehub_list_issues", r.clone()).await;
    assert_eq!(open["total"], 2);
    let mut args = r.clone();
    args["state"] = json!("all");
    args["label"] = json!("bug");
    let bugs = h.ok(&anon(), "musehub_list_issues", args).await;
    assert_eq!(bugs["total"], 2);
    let mut args = r.clone();
    args["issue_number"] = json!(1);
    let i = h.ok(&anon(), "musehub_get_issue", args).await;
    assert_eq!(i["issue"]["title"], "Bass clashes with piano in bar 12");
    assert_eq!(i["comments"].as_array().unwrap().len(), 2);
    let mut args = r.clone();
    args["issue_number"] = json!(99);
    assert_eq!(h.err(&anon(), "musehub_get_issue", args).await, "not_found");

    let prs = h.ok(&anon(), "musehub_list_prs", r.clone()).await;
    assert_eq!(prs["total"], 1);
    let pr_id = prs["pull_requests"][0]["pr_id"]
        .as_str()
        .unwrap()
        .to_string();
    for key in [pr_id.as_str(), "1"] {
        let mut args = r.clone();
        args["pr_id"] = json!(key);
        let pr = h.ok(&anon(), "musehub_get_pr", args).await;
        assert_eq!(pr["pull_request"]["from_branch"], "feature/bridge");
        assert_eq!(pr["comments"][0]["dimension"], "harmonic");
        assert_eq!(pr["reviews"][0]["event"], "approve");
    }
    let mut args = r.clone();
    args["state"] = json!("merged");
    assert_eq!(h.ok(&anon(), "musehub_list_prs", args).await["total"], 0);
    let mut args = r.clone();
    args["pr_id"] = json!("42");
    assert_eq!(h.err(&anon(), "musehub_get_pr", args).await, "not_found");

    let rel = h.ok(&anon(), "musehub_list_releases", r.clone()).await;
    assert_eq!(rel["releases"][0]["tag"], "v0.1.0");
}

#[tokio::test]
async fn discovery_and_domains() {
    let h = hub().await;
    let all = h.ok(&anon(), "musehub_search_repos", json!({})).await;
    assert_eq!(all["total"], 3);
    assert_eq!(
        all["repos"][0]["slug"], "jazz-session",
        "most starred first"
    );
    let tagged = h
        .ok(
            &anon(),
            "musehub_search_repos",
            json!({"tags": ["lo-fi", "beats"]}),
        )
        .await;
    assert_eq!(tagged["repos"][0]["slug"], "lofi-beats");
    assert_eq!(tagged["total"], 1);
    let d = h
        .ok(&anon(), "musehub_list_domains", json!({"verified": true}))
        .await;
    assert_eq!(d["total"], 4, "the four built-in domains");
    let page = h
        .ok(
            &anon(),
            "musehub_list_domains",
            json!({"limit": 1, "offset": 1}),
        )
        .await;
    assert_eq!(page["domains"].as_array().unwrap().len(), 1);
    assert_eq!(page["total"], 5, "built-ins plus the demo's @carol/score");
    let m = h
        .ok(
            &anon(),
            "musehub_get_domain",
            json!({"scoped_id": "@muse/midi"}),
        )
        .await;
    assert_eq!(m["viewer_type"], "piano_roll");
    assert_eq!(m["repo_count"], 4);
    assert!(
        m["install_command"]
            .as_str()
            .unwrap()
            .contains("@muse/midi")
    );
    assert_eq!(
        h.err(
            &anon(),
            "musehub_get_domain",
            json!({"scoped_id": "nonsense"})
        )
        .await,
        "invalid_scoped_id"
    );
    assert_eq!(
        h.err(&anon(), "musehub_get_domain", json!({"scoped_id": "@x/y"}))
            .await,
        "not_found"
    );
}

#[tokio::test]
async fn insights_view_whoami_remote_config() {
    let h = hub().await;
    let r = json!({"owner": "alice", "slug": "jazz-session"});
    let o = h
        .ok(&anon(), "musehub_get_domain_insights", r.clone())
        .await;
    assert_eq!(o["dimension"], "overview");
    assert_eq!(o["data"]["commit_count"], 4);
    let mut args = r.clone();
    args["ref"] = json!("feature/bridge");
    args["dimension"] = json!("commits");
    let c = h.ok(&anon(), "musehub_get_domain_insights", args).await;
    assert_eq!(c["data"]["commit_count"], 6, "the ref is honoured");
    assert_eq!(c["data"]["per_author"]["carol"], 2);
    let mut args = r.clone();
    args["dimension"] = json!("objects");
    let ob = h.ok(&anon(), "musehub_get_domain_insights", args).await;
    assert_eq!(ob["data"]["by_mime_type"]["audio/midi"]["count"], 3);
    let mut args = r.clone();
    args["dimension"] = json!("timbre");
    assert_eq!(
        h.err(&anon(), "musehub_get_domain_insights", args).await,
        "invalid_argument"
    );

    let v = h.ok(&anon(), "musehub_get_view", r.clone()).await;
    assert_eq!(v["ref"], "main");
    assert_eq!(v["viewer_type"], "piano_roll");
    assert_eq!(v["files"].as_array().unwrap().len(), 4);
    assert_eq!(v["head_commit"]["message"], "Voice the comping in fourths");

    let w = h.ok(&anon(), "musehub_whoami", json!({})).await;
    assert_eq!(w["authenticated"], false);
    let w = h.ok(&user("alice"), "musehub_whoami", json!({})).await;
    assert_eq!(w["handle"], "alice");
    assert_eq!(w["repo_count"], 2);

    let rm = h
        .ok(
            &anon(),
            "muse_remote",
            json!({"owner": "bob", "slug": "lofi-beats", "ref": "main"}),
        )
        .await;
    assert!(
        rm["clone_command"]
            .as_str()
            .unwrap()
            .ends_with("/bob/lofi-beats --branch main")
    );
    assert_eq!(
        h.err(
            &anon(),
            "muse_remote",
            json!({"owner": "alice", "slug": "private-sketches"})
        )
        .await,
        "not_found"
    );

    let keys = h.ok(&anon(), "muse_config", json!({})).await;
    let names: Vec<&str> = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["user.name", "user.handle", "user.key", "remote.origin.url"],
        "the shipped client's keys"
    );
    let set = h
        .ok(
            &anon(),
            "muse_config",
            json!({"key": "user.name", "value": "Alice M"}),
        )
        .await;
    assert_eq!(set["command"], "muse config user.name 'Alice M'");
    assert_eq!(
        h.err(&anon(), "muse_config", json!({"key": "nope"})).await,
        "invalid_argument"
    );
}

#[tokio::test]
async fn get_prompt_tool() {
    let h = hub().await;
    let p = h
        .ok(&anon(), "musehub_get_prompt", json!({"name": "musehub/contribute", "arguments": {"repo_id": "r1", "owner": "alice", "slug": "jazz-session"}}))
        .await;
    assert_eq!(p["messages"][0]["role"], "user");
    assert!(
        p["messages"][1]["content"]
            .as_str()
            .unwrap()
            .contains("jazz-session")
    );
    assert_eq!(
        h.err(
            &anon(),
            "musehub_get_prompt",
            json!({"name": "musehub/review_pr", "arguments": {"repo_id": "r1"}})
        )
        .await,
        "invalid_argument"
    );
    assert_eq!(
        h.err(
            &anon(),
            "musehub_get_prompt",
            json!({"name": "musehub/compose"})
        )
        .await,
        "invalid_argument"
    );
}
