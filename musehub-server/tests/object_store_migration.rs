//! Object bytes that older versions kept base64 in `objects.content_b64` move into the
//! object store when the database is opened: the column is cleared, the bytes are a file
//! named by their SHA-256, and reads return them unchanged.

mod common;

use base64::Engine;
use common::*;
use musehub_mcp::serde_json::json;
use musehub_server::{Db, HubSettings};
use sqlx::Row;

#[tokio::test]
async fn inline_objects_move_to_the_store_on_open() {
    let dir = temp_dir("migrate");
    let url = match postgres_url() {
        Some(_) => fresh_database_url().await,
        None => format!("sqlite://{}", dir.join("hub.db").display()),
    };
    let settings = || HubSettings {
        objects_dir: Some(dir.join("objects")),
        ..HubSettings::default()
    };
    let db = Db::connect(&url, settings()).await.unwrap();
    musehub_server::seed::seed_demo(&db).await.unwrap();
    // What an older hub wrote: the bytes in the row (under an id of its own making).
    let bytes = b"an old take".to_vec();
    let repo: String = sqlx::query("SELECT id FROM repos WHERE slug = 'jazz-session'")
        .fetch_one(db.pool())
        .await
        .unwrap()
        .try_get("id")
        .unwrap();
    sqlx::query(
        "INSERT INTO objects (repo_id, object_id, path, size_bytes, mime_type, content_hash, content_b64, created_at) \
         VALUES ($1, 'legacy-1', 'old.wav', $2, 'audio/wav', 'not-the-hash', $3, '2024-01-01T00:00:00Z')",
    )
    .bind(&repo)
    .bind(bytes.len() as i64)
    .bind(base64::engine::general_purpose::STANDARD.encode(&bytes))
    .execute(db.pool())
    .await
    .unwrap();
    drop(db);

    let db = Db::connect(&url, settings()).await.unwrap();
    let row =
        sqlx::query("SELECT content_hash, content_b64 FROM objects WHERE object_id = 'legacy-1'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(
        row.try_get::<Option<String>, _>("content_b64").unwrap(),
        None
    );
    let hash: String = row.try_get("content_hash").unwrap();
    assert_eq!(
        hash,
        muse_core::object_id(&bytes),
        "the hash of what the row held"
    );
    assert_eq!(db.blobs().read(&hash).await.unwrap(), bytes);
    let remaining: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM objects WHERE content_b64 IS NOT NULL")
            .fetch_one(db.pool())
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
    assert_eq!(remaining, 0);

    let server = musehub_server::build_server(
        db.clone(),
        musehub_mcp::ServerConfig::default(),
        &musehub_server::AuthSettings::default(),
    )
    .unwrap();
    let h = Hub { server, db };
    let f = h
        .ok(
            &anon(),
            "musehub_read_file",
            json!({"owner": "alice", "slug": "jazz-session", "object_id": "legacy-1"}),
        )
        .await;
    assert_eq!(
        f["content_b64"],
        base64::engine::general_purpose::STANDARD.encode(&bytes)
    );
    drop(h);
    let _ = std::fs::remove_dir_all(&dir);
}
