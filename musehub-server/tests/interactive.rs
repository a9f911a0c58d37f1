//! The interactive tools: their bypass arguments never elicit; without them, a client that
//! cannot elicit gets the framework's `missing_capability` error plus the way around.

mod common;

use common::*;
use musehub_mcp::serde_json::json;

#[tokio::test]
async fn compose_bypass_and_defaults() {
    let h = hub().await;
    let jazz = h.repo_id("alice", "jazz-session").await;
    let p = h
        .ok(
            &user("alice"),
            "musehub_create_with_preferences",
            json!({"preferences": {"key_signature": "G major", "tempo_bpm": 140}, "repo_id": jazz}),
        )
        .await;
    assert_eq!(p["composition_plan"]["key"], "G major");
    assert_eq!(p["composition_plan"]["tempo_bpm"], 140.0);
    assert_eq!(p["elicited"], false);
    assert_eq!(p["repo_id"], jazz);
    assert!(
        p["scaffold_hint"]
            .as_str()
            .unwrap()
            .contains("alice/jazz-session")
    );
    let d = h
        .ok(
            &user("alice"),
            "musehub_create_with_preferences",
            json!({"preferences": {}}),
        )
        .await;
    assert_eq!(d["composition_plan"]["key"], "C major");
    assert_eq!(d["composition_plan"]["tempo_bpm"], 120.0);
    let bars: i64 = d["composition_plan"]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["bars"].as_i64().unwrap())
        .sum();
    assert_eq!(bars, 64);
    let code = h
        .err(&user("alice"), "musehub_create_with_preferences", json!({}))
        .await;
    assert_eq!(code, "missing_capability");
    let r = h
        .call(&user("alice"), "musehub_create_with_preferences", json!({}))
        .await;
    assert!(
        r["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("`preferences`")
    );
}

#[tokio::test]
async fn review_bypass_computes_a_report() {
    let h = hub().await;
    let r = h
        .ok(
            &user("bob"),
            "musehub_review_pr_interactive",
            json!({"owner": "alice", "slug": "jazz-session", "pr_id": "1", "depth": "thorough"}),
        )
        .await;
    assert_eq!(r["dimension"], "all");
    assert_eq!(r["depth"], "thorough");
    assert_eq!(r["commits_ahead"], 2);
    assert_eq!(r["added"], json!(["tracks/bridge.mid"]));
    assert_eq!(r["recommendation"], "APPROVE");
    assert_eq!(
        h.err(
            &user("bob"),
            "musehub_review_pr_interactive",
            json!({"owner": "alice", "slug": "jazz-session", "pr_id": "9", "dimension": "harmonic"})
        )
        .await,
        "not_found"
    );
    assert_eq!(
        h.err(
            &user("bob"),
            "musehub_review_pr_interactive",
            json!({"owner": "alice", "slug": "jazz-session", "pr_id": "1"})
        )
        .await,
        "missing_capability"
    );
}

#[tokio::test]
async fn connect_bypass_returns_urls() {
    let h = hub().await;
    for platform in ["Spotify", "SoundCloud", "Bandcamp", "YouTube Music"] {
        let c = h
            .ok(
                &user("alice"),
                "musehub_connect_streaming_platform",
                json!({"platform": platform}),
            )
            .await;
        assert_eq!(c["service"], platform);
        assert_eq!(c["status"], "pending_authorization");
        let url = c["connect_url"].as_str().unwrap();
        assert!(url.starts_with("http"), "{url}");
        assert!(
            url.contains(&platform.to_lowercase().replace(' ', "-")),
            "{url}"
        );
        assert!(url.contains(c["elicitation_id"].as_str().unwrap()));
        assert_eq!(c["url_elicited"], false);
    }
    assert_eq!(
        h.err(
            &user("alice"),
            "musehub_connect_streaming_platform",
            json!({"platform": "Napster"})
        )
        .await,
        "invalid_argument"
    );
    assert_eq!(
        h.err(
            &user("alice"),
            "musehub_connect_streaming_platform",
            json!({})
        )
        .await,
        "missing_capability"
    );
    for service in ["LANDR", "Splice", "BandLab"] {
        let c = h
            .ok(
                &user("alice"),
                "musehub_connect_daw_cloud",
                json!({"service": service}),
            )
            .await;
        assert!(
            c["connect_url"]
                .as_str()
                .unwrap()
                .contains("/mcp/connect/daw/")
        );
        assert!(!c["capabilities"].as_array().unwrap().is_empty());
    }
    assert_eq!(
        h.err(&user("alice"), "musehub_connect_daw_cloud", json!({}))
            .await,
        "missing_capability"
    );
}

#[tokio::test]
async fn release_bypass_publishes_at_once() {
    let h = hub().await;
    let r = h
        .ok(
            &user("alice"),
            "musehub_create_release_interactive",
            json!({"owner": "alice", "slug": "jazz-session", "tag": "v0.3.0", "pre_release": true}),
        )
        .await;
    assert_eq!(r["release"]["tag"], "v0.3.0");
    assert_eq!(r["release"]["title"], "v0.3.0");
    assert_eq!(r["release"]["pre_release"], true);
    assert_eq!(r["elicited"], false);
    let list = h
        .ok(
            &anon(),
            "musehub_list_releases",
            json!({"owner": "alice", "slug": "jazz-session"}),
        )
        .await;
    assert_eq!(list["total"], 2);
    assert_eq!(
        h.err(
            &user("carol"),
            "musehub_create_release_interactive",
            json!({"owner": "alice", "slug": "jazz-session", "tag": "v1.0.0"})
        )
        .await,
        "forbidden"
    );
    assert_eq!(
        h.err(
            &user("alice"),
            "musehub_create_release_interactive",
            json!({"owner": "alice", "slug": "jazz-session"})
        )
        .await,
        "missing_capability"
    );
}

#[tokio::test]
async fn many_bypass_calls_are_fast() {
    let h = hub().await;
    let started = std::time::Instant::now();
    for i in 0..200 {
        h.ok(
            &user("alice"),
            "musehub_create_with_preferences",
            json!({"preferences": {"tempo_bpm": 60 + i}}),
        )
        .await;
    }
    assert!(started.elapsed().as_secs() < 10);
}
