//! The tool, resource, template and prompt sets against the reference's lists, and the
//! annotations and descriptions every item must carry.

mod common;

use std::collections::BTreeSet;

use common::*;
use musehub_mcp::serde_json::{Value, json};

const READ: &[&str] = &[
    "musehub_get_context",
    "musehub_list_branches",
    "musehub_list_commits",
    "musehub_read_file",
    "musehub_search",
    "musehub_get_commit",
    "musehub_compare",
    "musehub_list_issues",
    "musehub_get_issue",
    "musehub_list_prs",
    "musehub_get_pr",
    "musehub_list_releases",
    "musehub_search_repos",
    "musehub_list_domains",
    "musehub_get_domain",
    "musehub_get_domain_insights",
    "musehub_get_view",
    "musehub_whoami",
    "muse_pull",
    "muse_remote",
    "musehub_get_prompt",
];
const WRITE: &[&str] = &[
    "musehub_create_repo",
    "musehub_create_issue",
    "musehub_update_issue",
    "musehub_create_issue_comment",
    "musehub_create_pr",
    "musehub_merge_pr",
    "musehub_create_pr_comment",
    "musehub_submit_pr_review",
    "musehub_create_release",
    "musehub_star_repo",
    "musehub_fork_repo",
    "musehub_create_label",
    "musehub_create_agent_token",
    "muse_push",
    "muse_config",
    "musehub_publish_domain",
    "musehub_add_collaborator",
];
/// Changes data without a signature: the one-time enrollment code is the proof.
const CODE_AUTHENTICATED: &[&str] = &["musehub_enroll_key"];
const INTERACTIVE: &[&str] = &[
    "musehub_create_with_preferences",
    "musehub_review_pr_interactive",
    "musehub_connect_streaming_platform",
    "musehub_connect_daw_cloud",
    "musehub_create_release_interactive",
];
const RESOURCES: &[&str] = &[
    "musehub://trending",
    "musehub://me",
    "musehub://me/notifications",
    "musehub://me/starred",
    "musehub://me/feed",
    "muse://docs/overview",
    "muse://docs/protocol",
    "muse://docs/crdt",
    "muse://docs/domains",
    "muse://docs/merge",
    "muse://domains",
    "musehub://me/tokens",
];
const TEMPLATES: &[&str] = &[
    "musehub://repos/{owner}/{slug}",
    "musehub://repos/{owner}/{slug}/branches",
    "musehub://repos/{owner}/{slug}/commits",
    "musehub://repos/{owner}/{slug}/commits/{commit_id}",
    // `{+x}`: RFC 6570 reserved expansion, the value may contain `/` (the original matched
    // `(.+)` there by hand).
    "musehub://repos/{owner}/{slug}/tree/{+ref}",
    "musehub://repos/{owner}/{slug}/blob/{ref}/{+path}",
    "musehub://repos/{owner}/{slug}/issues",
    "musehub://repos/{owner}/{slug}/issues/{number}",
    "musehub://repos/{owner}/{slug}/pulls",
    "musehub://repos/{owner}/{slug}/pulls/{number}",
    "musehub://repos/{owner}/{slug}/releases",
    "musehub://repos/{owner}/{slug}/releases/{tag}",
    "musehub://repos/{owner}/{slug}/insights/{+ref}",
    "musehub://repos/{owner}/{slug}/timeline",
    "musehub://users/{username}",
    "muse://domains/{author}/{slug}",
    "musehub://repos/{owner}/{slug}/remote",
];
const PROMPTS: &[&str] = &[
    "musehub/orientation",
    "musehub/contribute",
    "musehub/create",
    "musehub/review_pr",
    "musehub/issue_triage",
    "musehub/release_prep",
    "musehub/onboard",
    "musehub/release_to_world",
    "musehub/domain-discovery",
    "musehub/domain-authoring",
];

async fn list(h: &Hub, method: &str, key: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let params = match &cursor {
            Some(c) => json!({ "cursor": c }),
            None => json!({}),
        };
        let r = h.server.call(anon(), method, params).await.expect(method);
        out.extend(r[key].as_array().unwrap().iter().cloned());
        match r["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

fn names(items: &[Value], key: &str) -> BTreeSet<String> {
    items
        .iter()
        .map(|i| i[key].as_str().unwrap().to_string())
        .collect()
}

fn set(xs: &[&[&str]]) -> BTreeSet<String> {
    xs.iter()
        .flat_map(|x| x.iter().map(|s| s.to_string()))
        .collect()
}

#[tokio::test]
async fn the_sets_match_the_reference() {
    let h = empty_hub().await;
    let tools = list(&h, "tools/list", "tools").await;
    assert_eq!(tools.len(), 44);
    assert_eq!(
        names(&tools, "name"),
        set(&[READ, WRITE, INTERACTIVE, CODE_AUTHENTICATED])
    );
    let resources = list(&h, "resources/list", "resources").await;
    assert_eq!(names(&resources, "uri"), set(&[RESOURCES]));
    let templates = list(&h, "resources/templates/list", "resourceTemplates").await;
    assert_eq!(names(&templates, "uriTemplate"), set(&[TEMPLATES]));
    let prompts = list(&h, "prompts/list", "prompts").await;
    assert_eq!(names(&prompts, "name"), set(&[PROMPTS]));
    for r in resources.iter().chain(templates.iter()) {
        assert_eq!(r["mimeType"], json!("application/json"), "{r}");
        assert!(
            r["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{r}"
        );
    }
}

#[tokio::test]
async fn annotations_and_descriptions() {
    let h = empty_hub().await;
    for t in list(&h, "tools/list", "tools").await {
        let name = t["name"].as_str().unwrap();
        let a = &t["annotations"];
        assert!(
            t["description"].as_str().is_some_and(|d| d.len() > 10),
            "{name}"
        );
        for (prop, schema) in t["inputSchema"]["properties"].as_object().unwrap() {
            assert!(
                schema["description"]
                    .as_str()
                    .is_some_and(|d| !d.is_empty()),
                "{name}.{prop} has no description"
            );
        }
        // muse_config only informs: it is read-only here (the original wrongly required
        // sign-in), the only departure from the reference's read/write split.
        let read_only = READ.contains(&name) || name == "muse_config";
        assert_eq!(a["readOnlyHint"], json!(read_only), "{name}");
        if !read_only {
            assert!(
                a["destructiveHint"].is_boolean() && a["idempotentHint"].is_boolean(),
                "{name}"
            );
            assert_eq!(a["destructiveHint"], json!(name == "muse_push"), "{name}");
        }
        assert_eq!(
            a["openWorldHint"],
            json!(INTERACTIVE.contains(&name)),
            "{name}"
        );
        assert!(t["outputSchema"].is_object(), "{name} has no output schema");
        // Repository-scoped tools take repo_id or owner + slug, never requiring repo_id.
        let props = &t["inputSchema"]["properties"];
        if props.get("repo_id").is_some() && props.get("owner").is_some() {
            let required: Vec<&str> = t["inputSchema"]["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            assert!(
                !required.contains(&"repo_id") && !required.contains(&"owner"),
                "{name}"
            );
        }
    }
}

#[tokio::test]
async fn every_write_and_interactive_tool_refuses_anonymous_callers() {
    let h = empty_hub().await;
    for name in WRITE
        .iter()
        .chain(INTERACTIVE)
        .filter(|n| **n != "muse_config")
    {
        let r = h.call(&anon(), name, json!({})).await;
        assert_eq!(r["isError"], json!(true), "{name}");
        assert_eq!(
            r["structuredContent"]["error"]["code"],
            json!("unauthenticated"),
            "{name}"
        );
        assert!(
            r["content"][0]["text"].as_str().unwrap().contains(name),
            "{name}"
        );
    }
}

#[tokio::test]
async fn initialize_advertises_completions_and_instructions() {
    let h = empty_hub().await;
    assert!(h.server.capabilities()["completions"].is_object());
    assert!(
        h.server
            .info()
            .instructions
            .as_deref()
            .unwrap()
            .contains("owner + slug")
    );
}
