//! Reading one file's bytes over MCP: `musehub_read_file` returns them base64 (and names the
//! HTTP URL that streams any size), the blob resource returns them as a `blob` content with
//! the file's MIME type; above the inline read limit the tool refuses with `too_large`
//! pointing at that URL, and the resource carries the metadata alone.

mod common;

use base64::Engine;
use common::commits::{Manifest, commit_with, push_of};
use common::*;
use musehub_mcp::serde_json::{Value, json};
use musehub_server::HubSettings;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A fresh repository `dana/bytes` whose main holds `files`.
async fn repo_with(h: &Hub, files: &[(&str, &[u8])]) {
    h.ok(
        &user("dana"),
        "musehub_create_repo",
        json!({"name": "bytes", "initialize": false}),
    )
    .await;
    let changes: Vec<(&str, Option<&[u8]>)> = files.iter().map(|(p, b)| (*p, Some(*b))).collect();
    let c = commit_with(&[], &Manifest::new(), &changes, "files", "dana");
    h.ok(
        &user("dana"),
        "muse_push",
        push_of("dana", "bytes", "main", &[&c]),
    )
    .await;
}

async fn read_raw(h: &Hub, uri: &str) -> Value {
    h.server
        .call(anon(), "resources/read", json!({ "uri": uri }))
        .await
        .expect("resources/read")
}

#[tokio::test]
async fn small_files_come_back_byte_for_byte() {
    let h = hub_with(HubSettings::default()).await;
    let midi: &[u8] = b"MThd\x00\x00\x00\x06\x00\x01\xff\x00";
    repo_with(&h, &[("tracks/a.mid", midi), ("tracks/copy.mid", midi)]).await;
    let oid = muse_core::object_id(midi);

    let f = h
        .ok(
            &anon(),
            "musehub_read_file",
            json!({"owner": "dana", "slug": "bytes", "object_id": oid}),
        )
        .await;
    assert_eq!(f["content_b64"], b64(midi));
    assert_eq!(f["size_bytes"], midi.len());
    assert_eq!(
        f["download_url"],
        format!("http://127.0.0.1:8080/dana/bytes/objects/{oid}")
    );
    let meta = h
        .ok(
            &anon(),
            "musehub_read_file",
            json!({"owner": "dana", "slug": "bytes", "object_id": oid, "include_content": false}),
        )
        .await;
    assert!(meta.get("content_b64").is_none(), "{meta}");

    // The resource: metadata, then the bytes with the file's own type. The same object at
    // two paths is found under each.
    for path in ["tracks/a.mid", "tracks/copy.mid"] {
        let uri = format!("musehub://repos/dana/bytes/blob/main/{path}");
        let r = read_raw(&h, &uri).await;
        let contents = r["contents"].as_array().unwrap();
        assert_eq!(contents.len(), 2, "{r}");
        assert_eq!(contents[0]["mimeType"], "application/json");
        let meta: Value =
            musehub_mcp::serde_json::from_str(contents[0]["text"].as_str().unwrap()).unwrap();
        assert_eq!(meta["file"]["path"], path);
        assert_eq!(contents[1]["uri"], uri);
        assert_eq!(contents[1]["mimeType"], "audio/midi");
        assert_eq!(contents[1]["blob"], b64(midi));
    }
}

#[tokio::test]
async fn files_over_the_inline_limit_point_to_the_http_url() {
    let h = hub_with(HubSettings {
        max_inline_read_bytes: 16,
        ..HubSettings::default()
    })
    .await;
    let big = vec![7u8; 64];
    repo_with(&h, &[("stems/take.wav", &big), ("small.txt", b"tiny")]).await;
    let oid = muse_core::object_id(&big);
    let url = format!("http://127.0.0.1:8080/dana/bytes/objects/{oid}");

    let r = h
        .call(
            &anon(),
            "musehub_read_file",
            json!({"owner": "dana", "slug": "bytes", "object_id": oid}),
        )
        .await;
    assert_eq!(r["isError"], true);
    let e = &r["structuredContent"]["error"];
    assert_eq!(e["code"], "too_large");
    assert!(e["message"].as_str().unwrap().contains(&url), "{e}");
    assert_eq!(e["data"]["download_url"], url);
    assert_eq!(e["data"]["size_bytes"], 64);
    assert_eq!(e["data"]["limit"], 16);
    // The metadata alone is fine.
    h.ok(
        &anon(),
        "musehub_read_file",
        json!({"owner": "dana", "slug": "bytes", "object_id": oid, "include_content": false}),
    )
    .await;

    let r = read_raw(&h, "musehub://repos/dana/bytes/blob/main/stems/take.wav").await;
    let contents = r["contents"].as_array().unwrap();
    assert_eq!(contents.len(), 1, "metadata only: {r}");
    let meta: Value =
        musehub_mcp::serde_json::from_str(contents[0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(meta["download_url"], url);
    assert!(meta["content_omitted"].as_str().is_some());

    // muse_pull carries the small file inline and the large one by URL.
    let d = h
        .ok(
            &anon(),
            "muse_pull",
            json!({"owner": "dana", "slug": "bytes"}),
        )
        .await;
    let objects = d["objects"].as_array().unwrap();
    let by_path = |p: &str| objects.iter().find(|o| o["path"] == p).unwrap().clone();
    assert_eq!(by_path("small.txt")["content_b64"], b64(b"tiny"));
    assert!(by_path("stems/take.wav").get("content_b64").is_none());
    assert_eq!(by_path("stems/take.wav")["download_url"], url);
}
