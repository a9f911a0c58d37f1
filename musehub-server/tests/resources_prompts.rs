//! Every resource, template and prompt, and completions from the database.

mod common;

use common::*;
use musehub_mcp::serde_json::{Value, json};

#[tokio::test]
async fn static_resources() {
    let h = hub().await;
    let t = h.read(&anon(), "musehub://trending").await.unwrap();
    assert_eq!(t["trending"][0]["slug"], "jazz-session");
    assert_eq!(
        t["trending"].as_array().unwrap().len(),
        3,
        "private repositories are not trending"
    );
    for uri in [
        "musehub://me",
        "musehub://me/notifications",
        "musehub://me/starred",
        "musehub://me/feed",
        "musehub://me/tokens",
    ] {
        let e = h.read(&anon(), uri).await.unwrap_err();
        assert_eq!(e.code, -32001, "{uri}");
        assert!(e.message.contains(uri), "{uri}: {}", e.message);
    }
    let me = h.read(&user("alice"), "musehub://me").await.unwrap();
    assert_eq!(me["repos"].as_array().unwrap().len(), 2);
    assert_eq!(me["profile"]["display_name"], "Alice Moreau");
    let n = h
        .read(&user("alice"), "musehub://me/notifications")
        .await
        .unwrap();
    assert!(
        n["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["actor"] != "alice")
    );
    assert!(!n["notifications"].as_array().unwrap().is_empty());
    let s = h
        .read(&user("alice"), "musehub://me/starred")
        .await
        .unwrap();
    assert_eq!(s["total"], 2);
    let f = h.read(&user("carol"), "musehub://me/feed").await.unwrap();
    assert!(!f["events"].as_array().unwrap().is_empty());
    for (uri, title) in [
        ("muse://docs/overview", "Muse Paradigm Overview"),
        ("muse://docs/protocol", "MuseDomainPlugin Protocol Spec"),
        ("muse://docs/crdt", "Muse CRDT Reference"),
        ("muse://docs/domains", "Domain Plugin Authoring Guide"),
        ("muse://docs/merge", "Muse Merge Semantics"),
    ] {
        let d = h.read(&anon(), uri).await.unwrap();
        assert_eq!(d["title"], title);
        assert!(d["content"].as_str().unwrap().len() > 100);
    }
    let d = h.read(&anon(), "muse://domains").await.unwrap();
    assert_eq!(d["total"], 5, "four built in, one from the demo");
    let unknown = h.read(&anon(), "muse://docs/nope").await.unwrap_err();
    assert_eq!(unknown.code, -32002);
}

#[tokio::test]
async fn repository_templates() {
    let h = hub().await;
    let base = "musehub://repos/alice/jazz-session";
    let o = h.read(&anon(), base).await.unwrap();
    assert_eq!(o["repo"]["slug"], "jazz-session");
    assert_eq!(
        h.read(&anon(), &format!("{base}/branches")).await.unwrap()["branch_count"],
        2
    );
    let c = h.read(&anon(), &format!("{base}/commits")).await.unwrap();
    assert_eq!(c["total"], 6);
    let id = c["commits"][0]["commit_id"].as_str().unwrap();
    let one = h
        .read(&anon(), &format!("{base}/commits/{id}"))
        .await
        .unwrap();
    assert_eq!(one["commit"]["commit_id"], id);
    let tree = h.read(&anon(), &format!("{base}/tree/main")).await.unwrap();
    assert_eq!(tree["total"], 4);
    let tag_tree = h
        .read(&anon(), &format!("{base}/tree/v0.1.0"))
        .await
        .unwrap();
    assert_eq!(tag_tree["total"], 4);
    let blob = h
        .read(&anon(), &format!("{base}/blob/main/README.md"))
        .await
        .unwrap();
    assert_eq!(blob["file"]["mime_type"], "text/markdown");
    assert_eq!(
        h.read(&anon(), &format!("{base}/blob/main/nope.mid"))
            .await
            .unwrap_err()
            .code,
        -32002
    );
    assert_eq!(
        h.read(&anon(), &format!("{base}/issues")).await.unwrap()["total"],
        2
    );
    assert_eq!(
        h.read(&anon(), &format!("{base}/issues/3")).await.unwrap()["issue"]["state"],
        "closed"
    );
    assert_eq!(
        h.read(&anon(), &format!("{base}/issues/99"))
            .await
            .unwrap_err()
            .code,
        -32002
    );
    assert_eq!(
        h.read(&anon(), &format!("{base}/pulls")).await.unwrap()["total"],
        1
    );
    assert_eq!(
        h.read(&anon(), &format!("{base}/pulls/1")).await.unwrap()["pull_request"]["number"],
        1
    );
    assert_eq!(
        h.read(&anon(), &format!("{base}/releases")).await.unwrap()["total"],
        1
    );
    assert_eq!(
        h.read(&anon(), &format!("{base}/releases/v0.1.0"))
            .await
            .unwrap()["title"],
        "First take"
    );
    assert_eq!(
        h.read(&anon(), &format!("{base}/releases/v9"))
            .await
            .unwrap_err()
            .code,
        -32002
    );
    // Refs and paths may contain '/' ({+ref}, {+path}), never climb with '..'.
    let ins = h
        .read(&anon(), &format!("{base}/insights/feature/bridge"))
        .await
        .unwrap();
    assert!(ins["data"]["commit_count"].as_i64().unwrap() > 4, "{ins}");
    let tree = h
        .read(&anon(), &format!("{base}/tree/feature/bridge"))
        .await
        .unwrap();
    assert!(
        tree["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "tracks/bridge.mid"),
        "{tree}"
    );
    let blob = h
        .read(&anon(), &format!("{base}/blob/main/tracks/piano.mid"))
        .await
        .unwrap();
    assert_eq!(blob["file"]["mime_type"], "audio/midi");
    assert!(
        h.read(&anon(), &format!("{base}/blob/main/tracks/../README.md"))
            .await
            .is_err()
    );
    let ins = h
        .read(&anon(), &format!("{base}/insights/main"))
        .await
        .unwrap();
    assert_eq!(ins["data"]["commit_count"], 4);
    let tl = h.read(&anon(), &format!("{base}/timeline")).await.unwrap();
    let kinds: Vec<&str> = tl["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for k in ["commit", "issue", "pull_request", "release"] {
        assert!(kinds.contains(&k), "{k}");
    }
    let rm = h.read(&anon(), &format!("{base}/remote")).await.unwrap();
    assert!(
        rm["remote_url"]
            .as_str()
            .unwrap()
            .ends_with("/alice/jazz-session")
    );

    // Private: only owner and collaborators; others see "not found".
    let p = "musehub://repos/alice/private-sketches";
    assert_eq!(h.read(&anon(), p).await.unwrap_err().code, -32002);
    assert_eq!(h.read(&user("carol"), p).await.unwrap_err().code, -32002);
    assert!(h.read(&user("bob"), p).await.is_ok());
}

#[tokio::test]
async fn users_and_domains_templates() {
    let h = hub().await;
    let a = h.read(&anon(), "musehub://users/alice").await.unwrap();
    assert_eq!(
        a["repos"].as_array().unwrap().len(),
        1,
        "public repositories only"
    );
    assert_eq!(
        a["public_keys"],
        json!([]),
        "the demo registers no keys: nobody holds their secrets"
    );
    let key = musehub_server::keys::generate().verifying_key();
    let info = musehub_server::keys::register(&h.db, "alice", &key, Some("bot"), "test")
        .await
        .unwrap();
    let a = h.read(&anon(), "musehub://users/alice").await.unwrap();
    assert_eq!(a["public_keys"][0]["algorithm"], "ed25519");
    assert_eq!(a["public_keys"][0]["kid"], info.kid.as_str());
    assert_eq!(a["public_keys"][0]["agent_name"], "bot");
    musehub_server::keys::revoke(&h.db, "alice", &info.kid)
        .await
        .unwrap();
    let a = h.read(&anon(), "musehub://users/alice").await.unwrap();
    assert_eq!(a["public_keys"], json!([]), "revoked keys are not shown");
    let a = h
        .read(&user("alice"), "musehub://users/alice")
        .await
        .unwrap();
    assert_eq!(a["repos"].as_array().unwrap().len(), 2);
    assert_eq!(
        h.read(&anon(), "musehub://users/nobody")
            .await
            .unwrap_err()
            .code,
        -32002
    );
    let d = h.read(&anon(), "muse://domains/muse/midi").await.unwrap();
    assert_eq!(d["scoped_id"], "@muse/midi");
    assert!(d["install_command"].is_string());
    assert_eq!(d["create_repo_example"]["tool"], "musehub_create_repo");
    assert_eq!(
        h.read(&anon(), "muse://domains/muse/nope")
            .await
            .unwrap_err()
            .code,
        -32002
    );
}

async fn get_prompt(h: &Hub, name: &str, args: Value) -> Result<Value, musehub_mcp::McpError> {
    h.server
        .call(
            anon(),
            "prompts/get",
            json!({"name": name, "arguments": args}),
        )
        .await
}

#[tokio::test]
async fn every_prompt_renders_and_requires_its_arguments() {
    let h = hub().await;
    let cases = [
        (
            "musehub/orientation",
            json!({"caller_type": "agent"}),
            "muse_push",
        ),
        (
            "musehub/contribute",
            json!({"repo_id": "r-1", "owner": "alice", "slug": "jazz-session"}),
            "jazz-session",
        ),
        (
            "musehub/create",
            json!({"repo_id": "r-1", "domain": "@muse/midi"}),
            "@muse/midi",
        ),
        (
            "musehub/review_pr",
            json!({"repo_id": "r-1", "pr_id": "7"}),
            "pr_id 7",
        ),
        ("musehub/issue_triage", json!({"repo_id": "r-1"}), "r-1"),
        ("musehub/release_prep", json!({"repo_id": "r-1"}), "r-1"),
        ("musehub/onboard", json!({"username": "alice"}), "alice"),
        (
            "musehub/release_to_world",
            json!({"repo_id": "abc-123"}),
            "abc-123",
        ),
        (
            "musehub/domain-discovery",
            json!({"use_case": "film scores"}),
            "film scores",
        ),
        (
            "musehub/domain-authoring",
            json!({"domain_name": "tabla"}),
            "tabla",
        ),
    ];
    for (name, args, needle) in cases {
        let r = get_prompt(&h, name, args).await.unwrap();
        let m = r["messages"].as_array().unwrap();
        assert_eq!(m.len(), 2, "{name}");
        assert_eq!(m[0]["role"], "user");
        assert_eq!(m[1]["role"], "assistant");
        assert!(r["description"].is_string());
        let text = format!("{}{}", m[0]["content"]["text"], m[1]["content"]["text"]);
        assert!(text.contains(needle), "{name}: {text}");
    }
    // Optional-only prompts work with no arguments.
    get_prompt(&h, "musehub/orientation", json!({}))
        .await
        .unwrap();
    for (name, missing) in [
        ("musehub/contribute", "repo_id"),
        ("musehub/create", "repo_id"),
        ("musehub/review_pr", "repo_id"),
        ("musehub/issue_triage", "repo_id"),
        ("musehub/release_prep", "repo_id"),
        ("musehub/release_to_world", "repo_id"),
    ] {
        let e = get_prompt(&h, name, json!({})).await.unwrap_err();
        assert_eq!(e.code, -32602, "{name}");
        assert!(e.message.contains(missing), "{name}: {}", e.message);
    }
    let e = get_prompt(&h, "musehub/review_pr", json!({"repo_id": "r"}))
        .await
        .unwrap_err();
    assert!(e.message.contains("pr_id"));
    assert_eq!(
        get_prompt(&h, "musehub/compose", json!({}))
            .await
            .unwrap_err()
            .code,
        -32602
    );
}

async fn complete(
    h: &Hub,
    reference: Value,
    arg: &str,
    value: &str,
    context: Value,
) -> Vec<String> {
    let r = h
        .server
        .call(anon(), "completion/complete", json!({"ref": reference, "argument": {"name": arg, "value": value}, "context": {"arguments": context}}))
        .await
        .unwrap();
    r["completion"]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn completions_come_from_the_database() {
    let h = hub().await;
    let repo_tpl = json!({"type": "ref/resource", "uri": "musehub://repos/{owner}/{slug}"});
    assert_eq!(
        complete(&h, repo_tpl.clone(), "owner", "al", json!({})).await,
        vec!["alice"]
    );
    assert_eq!(
        complete(&h, repo_tpl.clone(), "slug", "", json!({"owner": "alice"})).await,
        vec!["jazz-session"],
        "private repositories are not offered"
    );
    let rel =
        json!({"type": "ref/resource", "uri": "musehub://repos/{owner}/{slug}/releases/{tag}"});
    assert_eq!(
        complete(
            &h,
            rel,
            "tag",
            "v",
            json!({"owner": "bob", "slug": "lofi-beats"})
        )
        .await,
        vec!["v1.0.0"]
    );
    let issues =
        json!({"type": "ref/resource", "uri": "musehub://repos/{owner}/{slug}/issues/{number}"});
    assert_eq!(
        complete(
            &h,
            issues,
            "number",
            "",
            json!({"owner": "alice", "slug": "jazz-session"})
        )
        .await,
        vec!["3", "2", "1"]
    );
    let tree = json!({"type": "ref/resource", "uri": "musehub://repos/{owner}/{slug}/tree/{+ref}"});
    assert_eq!(
        complete(
            &h,
            tree,
            "ref",
            "fea",
            json!({"owner": "alice", "slug": "jazz-session"})
        )
        .await,
        vec!["feature/bridge"]
    );
    let users = json!({"type": "ref/resource", "uri": "musehub://users/{username}"});
    assert_eq!(
        complete(&h, users, "username", "c", json!({})).await,
        vec!["carol"]
    );
    let dom = json!({"type": "ref/resource", "uri": "muse://domains/{author}/{slug}"});
    assert_eq!(
        complete(&h, dom, "slug", "", json!({"author": "muse"})).await,
        vec!["circuit", "code", "genomics", "midi"]
    );
    let prompt = json!({"type": "ref/prompt", "name": "musehub/contribute"});
    let ids = complete(&h, prompt, "repo_id", "bob/", json!({})).await;
    assert_eq!(ids, vec![h.repo_id("bob", "lofi-beats").await]);
    let review = json!({"type": "ref/prompt", "name": "musehub/review_pr"});
    let jazz = h.repo_id("alice", "jazz-session").await;
    assert_eq!(
        complete(&h, review, "pr_id", "", json!({"repo_id": jazz})).await,
        vec!["1"]
    );
    let create = json!({"type": "ref/prompt", "name": "musehub/create"});
    assert_eq!(
        complete(&h, create, "domain", "@muse/m", json!({})).await,
        vec!["@muse/midi"]
    );
}
