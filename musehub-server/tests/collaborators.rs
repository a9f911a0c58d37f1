//! `musehub_add_collaborator`: the owner adds a user, who may then push; nobody else may add
//! one, unknown users are not found, and adding twice changes nothing.

mod common;

use common::commits::{Manifest, commit_adding, push_of};
use common::*;
use musehub_mcp::serde_json::json;

#[tokio::test]
async fn the_owner_adds_a_collaborator_who_may_then_push() {
    let h = hub().await;
    let ctx = h
        .ok(
            &user("alice"),
            "musehub_create_repo",
            json!({"name": "duo"}),
        )
        .await;
    let head = ctx["branches"][0]["head_commit_id"]
        .as_str()
        .unwrap()
        .to_string();
    let c = commit_adding(Some(&head), &Manifest::new(), "bob.mid", b"bob");
    let push = push_of("alice", "duo", "bob-part", &[&c]);
    assert_eq!(
        h.err(&user("bob"), "muse_push", push.clone()).await,
        "forbidden"
    );

    let who = json!({"owner": "alice", "slug": "duo", "handle": "bob"});
    let a = h
        .ok(&user("alice"), "musehub_add_collaborator", who.clone())
        .await;
    assert_eq!(
        (a["handle"].clone(), a["added"].clone()),
        (json!("bob"), json!(true))
    );
    let again = h
        .ok(&user("alice"), "musehub_add_collaborator", who.clone())
        .await;
    assert_eq!(again["added"], false);
    h.ok(&user("bob"), "muse_push", push).await;

    // Only the owner adds; the user must exist; the owner is not their own collaborator.
    let carol = json!({"owner": "alice", "slug": "duo", "handle": "carol"});
    assert_eq!(
        h.err(&user("bob"), "musehub_add_collaborator", carol).await,
        "forbidden"
    );
    let ghost = json!({"owner": "alice", "slug": "duo", "handle": "nobody-here"});
    assert_eq!(
        h.err(&user("alice"), "musehub_add_collaborator", ghost)
            .await,
        "not_found"
    );
    let me = json!({"owner": "alice", "slug": "duo", "handle": "alice"});
    assert_eq!(
        h.err(&user("alice"), "musehub_add_collaborator", me).await,
        "invalid_argument"
    );
}
