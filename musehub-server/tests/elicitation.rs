//! The five interactive tools with a real client on the other end (`Server::call_as_client`):
//! the elicitation requests they send (form and URL mode), what accept, decline and cancel
//! do, and their progress notifications carrying the client's own `progressToken`.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use musehub_mcp::InProcessOutcome;
use musehub_mcp::serde_json::{Value, json};

const FORM_AND_URL: &str = r#"{"elicitation": {"form": {}, "url": {}}}"#;

fn caps(text: &str) -> Value {
    musehub_mcp::serde_json::from_str(text).unwrap()
}

/// Runs a tool as a client declaring `capabilities`; `answer` sees every server request. The
/// requests are recorded.
async fn run(
    h: &Hub,
    who: &str,
    capabilities: Value,
    tool: &str,
    args: Value,
    token: Value,
    answer: impl Fn(&str, &Value) -> Value + Send + 'static,
) -> (InProcessOutcome, Vec<(String, Value)>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let out = h
        .server
        .call_as_client(
            user(who),
            capabilities,
            "tools/call",
            json!({"name": tool, "arguments": args, "_meta": {"progressToken": token}}),
            move |method, params| {
                log.lock()
                    .unwrap()
                    .push((method.to_string(), params.clone()));
                answer(method, params)
            },
        )
        .await;
    let requests = seen.lock().unwrap().clone();
    (out, requests)
}

fn structured(out: &InProcessOutcome) -> Value {
    let r = out.result.as_ref().expect("a result");
    assert_ne!(r["isError"], json!(true), "tool error: {r}");
    r["structuredContent"].clone()
}

fn error_code(out: &InProcessOutcome) -> String {
    let r = out.result.as_ref().expect("a result");
    assert_eq!(r["isError"], json!(true), "expected a tool error: {r}");
    r["structuredContent"]["error"]["code"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The progress notifications, checked to carry `token`: (progress, total) pairs.
fn progress(out: &InProcessOutcome, token: &Value) -> Vec<(f64, Option<f64>)> {
    out.notifications
        .iter()
        .filter(|n| n["method"] == "notifications/progress")
        .map(|n| {
            assert_eq!(&n["params"]["progressToken"], token, "{n}");
            (
                n["params"]["progress"].as_f64().unwrap(),
                n["params"]["total"].as_f64(),
            )
        })
        .collect()
}

fn increasing(p: &[(f64, Option<f64>)]) -> bool {
    p.windows(2).all(|w| w[1].0 > w[0].0)
}

#[tokio::test]
async fn compose_accept_uses_the_answers_and_reports_progress() {
    let h = hub().await;
    let token = json!("compose-7");
    let (out, requests) = run(
        &h,
        "alice",
        caps(FORM_AND_URL),
        "musehub_create_with_preferences",
        json!({}),
        token.clone(),
        |_, _| {
            json!({"action": "accept", "content": {
                "key": "D minor", "tempo_bpm": 92, "mood": "melancholic", "genre": "jazz",
                "time_signature": "3/4", "duration_bars": 32}})
        },
    )
    .await;
    assert_eq!(requests.len(), 1);
    let (method, params) = &requests[0];
    assert_eq!(method, "elicitation/create");
    assert_eq!(params["mode"], "form");
    let schema = &params["requestedSchema"];
    assert_eq!(schema["type"], "object");
    assert!(schema["properties"]["key"]["enum"].is_array());
    assert_eq!(
        schema["required"],
        json!(["key", "tempo_bpm", "mood", "genre"])
    );
    let plan = structured(&out);
    assert_eq!(plan["elicited"], true);
    assert_eq!(plan["composition_plan"]["key"], "D minor");
    assert_eq!(plan["composition_plan"]["tempo_bpm"], 92.0);
    assert_eq!(plan["composition_plan"]["time_signature"], "3/4");
    assert_eq!(plan["composition_plan"]["duration_bars"], 32);
    let p = progress(&out, &token);
    assert!(p.len() >= 3, "{p:?}");
    assert!(increasing(&p), "{p:?}");
    assert_eq!(p.last().unwrap(), &(4.0, Some(4.0)));
}

#[tokio::test]
async fn decline_and_cancel_are_tool_errors_that_change_nothing() {
    let h = hub().await;
    for action in ["decline", "cancel"] {
        let (out, requests) = run(
            &h,
            "alice",
            caps(FORM_AND_URL),
            "musehub_create_with_preferences",
            json!({}),
            json!(1),
            move |_, _| json!({"action": action}),
        )
        .await;
        assert_eq!(requests.len(), 1);
        assert_eq!(error_code(&out), "elicitation_declined", "{action}");

        let (out, _) = run(
            &h,
            "alice",
            caps(FORM_AND_URL),
            "musehub_create_release_interactive",
            json!({"owner": "alice", "slug": "jazz-session"}),
            json!(2),
            move |_, _| json!({"action": action}),
        )
        .await;
        assert_eq!(error_code(&out), "elicitation_declined", "{action}");
    }
    let list = h
        .ok(
            &anon(),
            "musehub_list_releases",
            json!({"owner": "alice", "slug": "jazz-session"}),
        )
        .await;
    assert_eq!(list["total"], 1, "no release was created");
}

#[tokio::test]
async fn review_asks_for_focus_and_depth() {
    let h = hub().await;
    let token = json!(42);
    let (out, requests) = run(
        &h,
        "bob",
        caps(FORM_AND_URL),
        "musehub_review_pr_interactive",
        json!({"owner": "alice", "slug": "jazz-session", "pr_id": "1"}),
        token.clone(),
        |_, _| json!({"action": "accept", "content": {"dimension_focus": "harmonic", "review_depth": "quick"}}),
    )
    .await;
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].1["mode"], "form");
    let props = &requests[0].1["requestedSchema"]["properties"];
    assert!(props["dimension_focus"]["enum"].is_array(), "{props}");
    assert!(props["review_depth"]["enum"].is_array(), "{props}");
    let r = structured(&out);
    assert_eq!(r["elicited"], true);
    assert_eq!(r["dimension"], "harmonic");
    assert_eq!(r["depth"], "quick");
    assert_eq!(r["pull_request"]["number"], 1);
    let p = progress(&out, &token);
    assert!(!p.is_empty() && increasing(&p), "{p:?}");
}

#[tokio::test]
async fn connect_asks_with_a_form_then_shows_the_url() {
    let h = hub().await;
    let (out, requests) = run(
        &h,
        "alice",
        caps(FORM_AND_URL),
        "musehub_connect_streaming_platform",
        json!({}),
        json!("c"),
        |_, params| {
            if params["mode"] == "url" {
                json!({"action": "accept"})
            } else {
                json!({"action": "accept", "content": {"service": "Bandcamp", "confirm": true}})
            }
        },
    )
    .await;
    let c = structured(&out);
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[0].1["mode"], "form");
    let url = &requests[1].1;
    assert_eq!(url["mode"], "url");
    // The URL the user was shown is the one returned, keyed by the same elicitation id.
    assert_eq!(url["url"], c["connect_url"]);
    assert_eq!(url["elicitationId"], c["elicitation_id"]);
    assert!(
        c["connect_url"]
            .as_str()
            .unwrap()
            .contains(c["elicitation_id"].as_str().unwrap())
    );
    assert_eq!(c["service"], "Bandcamp");
    assert_eq!(c["url_elicited"], true);
    assert_eq!(c["status"], "pending_authorization");

    // Declining the URL: an error, and no pending connection is recorded.
    let (out, _) = run(
        &h,
        "alice",
        caps(FORM_AND_URL),
        "musehub_connect_daw_cloud",
        json!({}),
        json!("d"),
        |_, params| {
            if params["mode"] == "url" {
                json!({"action": "decline"})
            } else {
                json!({"action": "accept", "content": {"service": "LANDR", "confirm": true}})
            }
        },
    )
    .await;
    assert_eq!(error_code(&out), "elicitation_declined");
    // Not confirming the form.
    let (out, requests) = run(
        &h,
        "alice",
        caps(FORM_AND_URL),
        "musehub_connect_daw_cloud",
        json!({}),
        json!("e"),
        |_, _| json!({"action": "accept", "content": {"service": "LANDR", "confirm": false}}),
    )
    .await;
    assert_eq!(error_code(&out), "not_confirmed");
    assert_eq!(requests.len(), 1);

    // A client with form mode only: asked with the form, handed the URL in the result.
    let (out, requests) = run(
        &h,
        "alice",
        json!({"elicitation": {"form": {}}}),
        "musehub_connect_daw_cloud",
        json!({}),
        json!("f"),
        |_, _| json!({"action": "accept", "content": {"service": "Splice", "confirm": true}}),
    )
    .await;
    assert_eq!(requests.len(), 1);
    let c = structured(&out);
    assert_eq!(c["url_elicited"], false);
    assert!(c["connect_url"].as_str().unwrap().contains("/daw/splice"));
    use sqlx::Row;
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM connections WHERE handle = 'alice'")
        .fetch_one(h.db.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
    assert_eq!(n, 2, "only the accepted connections are recorded");
}

#[tokio::test]
async fn the_release_is_published_and_the_call_returns_at_once() {
    let h = hub().await;
    let token = json!("rel");
    let started = Instant::now();
    let (out, requests) = run(
        &h,
        "alice",
        caps(FORM_AND_URL),
        "musehub_create_release_interactive",
        json!({"owner": "alice", "slug": "jazz-session"}),
        token.clone(),
        |_, _| {
            json!({"action": "accept", "content": {"tag": "v2.0.0", "title": "Second light",
                "release_notes": "New bridge.", "channel": "stable", "highlight": "The bridge"}})
        },
    )
    .await;
    // One question, then nothing else: no wait after the release exists.
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(requests.len(), 1);
    let r = structured(&out);
    assert_eq!(r["elicited"], true);
    assert_eq!(r["release"]["tag"], "v2.0.0");
    assert_eq!(r["release"]["title"], "Second light");
    assert_eq!(r["highlight"], "The bridge");
    assert!(
        r["release"]["body"]
            .as_str()
            .unwrap()
            .starts_with("**Highlight:** The bridge")
    );
    let p = progress(&out, &token);
    assert_eq!(p.last().unwrap(), &(3.0, Some(3.0)), "{p:?}");
    assert!(increasing(&p), "{p:?}");
    let list = h
        .ok(
            &anon(),
            "musehub_list_releases",
            json!({"owner": "alice", "slug": "jazz-session"}),
        )
        .await;
    assert_eq!(list["total"], 2);

    // A form answer without a tag is refused (nothing created).
    let (out, _) = run(
        &h,
        "alice",
        caps(FORM_AND_URL),
        "musehub_create_release_interactive",
        json!({"owner": "alice", "slug": "jazz-session"}),
        json!(0),
        |_, _| json!({"action": "accept", "content": {"title": "No tag"}}),
    )
    .await;
    assert_eq!(error_code(&out), "invalid_argument");
}

#[tokio::test]
async fn bypass_arguments_never_elicit_even_when_the_client_can() {
    let h = hub().await;
    let cases = [
        (
            "musehub_create_with_preferences",
            json!({"preferences": {"mood": "epic"}}),
        ),
        (
            "musehub_review_pr_interactive",
            json!({"owner": "alice", "slug": "jazz-session", "pr_id": "1", "depth": "quick"}),
        ),
        (
            "musehub_connect_streaming_platform",
            json!({"platform": "Spotify"}),
        ),
        ("musehub_connect_daw_cloud", json!({"service": "LANDR"})),
        (
            "musehub_create_release_interactive",
            json!({"owner": "alice", "slug": "jazz-session", "tag": "v9.9.9"}),
        ),
    ];
    for (tool, args) in cases {
        let (out, requests) = run(
            &h,
            "alice",
            caps(FORM_AND_URL),
            tool,
            args,
            json!(tool),
            |m, _| panic!("{m}: a bypass call must not ask"),
        )
        .await;
        assert!(requests.is_empty(), "{tool}");
        assert!(!structured(&out)["elicited"].as_bool().unwrap_or(false));
    }
}
