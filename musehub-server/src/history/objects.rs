//! Objects (the stored files): their metadata rows, the bytes in the object store, and the
//! move of bytes written inline by older versions into the store.

use base64::Engine;
use musehub_mcp::prelude::*;
use sqlx::any::AnyRow;

use crate::blobs::BlobError;
use crate::db::{Db, DbResultExt, RowExt};
use crate::repos::RepoView;

/// A stored object (artifact) without its content.
#[schema(no_deserialize)]
#[derive(Debug, Clone)]
pub struct ObjectView {
    /// Object id (content hash).
    pub object_id: String,
    /// Path in the repository.
    pub path: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// MIME type, from the extension.
    pub mime_type: String,
    /// SHA-256 of the content.
    pub content_hash: String,
    /// When it was first pushed.
    pub created_at: String,
}

/// The object columns.
pub const OBJECT_COLUMNS: &str = "object_id, path, size_bytes, mime_type, content_hash, created_at";

impl ObjectView {
    /// Reads a row selected with [`OBJECT_COLUMNS`].
    pub fn from_row(r: &AnyRow) -> Result<Self, ToolError> {
        Ok(ObjectView {
            object_id: r.text("object_id")?,
            path: r.text("path")?,
            size_bytes: r.int("size_bytes")?,
            mime_type: r.text("mime_type")?,
            content_hash: r.text("content_hash")?,
            created_at: r.text("created_at")?,
        })
    }
}

/// One object.
pub async fn object(
    db: &Db,
    repo_id: &str,
    object_id: &str,
) -> Result<Option<ObjectView>, ToolError> {
    let row = sqlx::query(&format!(
        "SELECT {OBJECT_COLUMNS} FROM objects WHERE repo_id = $1 AND object_id = $2"
    ))
    .bind(repo_id)
    .bind(object_id)
    .fetch_optional(db.pool())
    .await
    .db()?;
    row.as_ref().map(ObjectView::from_row).transpose()
}

/// The MIME type for a path, from its extension.
pub fn mime_for(path: &str) -> &'static str {
    let ext = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "mid" | "midi" => "audio/midi",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "flac" => "audio/flac",
        "ogg" => "audio/ogg",
        "aif" | "aiff" => "audio/aiff",
        "webp" => "image/webp",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        "md" => "text/markdown",
        "txt" => "text/plain",
        "xml" | "musicxml" => "application/xml",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// The URL an object's bytes are read from over HTTP (streamed, any size):
/// `{hub}/{owner}/{slug}/objects/{id}`.
pub fn object_url(db: &Db, repo: &RepoView, object_id: &str) -> String {
    format!(
        "{}/{}/{}/objects/{object_id}",
        db.settings().public_url.trim_end_matches('/'),
        repo.owner,
        repo.slug
    )
}

/// An object's bytes for an MCP answer, base64: refused with `too_large` (naming the HTTP
/// URL to read it from) above the hub's inline read limit, so that no MCP call holds a large
/// file in memory.
pub async fn inline_content(db: &Db, repo: &RepoView, o: &ObjectView) -> Result<String, ToolError> {
    let limit = db.settings().max_inline_read_bytes;
    if o.size_bytes < 0 || o.size_bytes as u64 > limit {
        let url = object_url(db, repo, &o.object_id);
        return Err(ToolError::new(
            "too_large",
            format!(
                "'{}' is {} bytes, more than the {limit} bytes an MCP answer carries: GET {url} \
                 (signed for a private repository), or run `muse pull`.",
                o.path, o.size_bytes
            ),
        )
        .with_data(serde_json::json!({
            "size_bytes": o.size_bytes,
            "limit": limit,
            "download_url": url,
        })));
    }
    let bytes = db
        .blobs()
        .read(&o.content_hash)
        .await
        .map_err(BlobError::into_tool)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Records that the repository holds an object (its bytes are in the object store under
/// `content_hash`), inside the caller's transaction. An existing row is kept.
pub(crate) async fn insert_object(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    repo_id: &str,
    object_id: &str,
    path: &str,
    size_bytes: i64,
    content_hash: &str,
    ts: &str,
) -> Result<bool, ToolError> {
    let r = sqlx::query(
        "INSERT INTO objects (repo_id, object_id, path, size_bytes, mime_type, content_hash, content_b64, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, NULL, $7) ON CONFLICT (repo_id, object_id) DO NOTHING",
    )
    .bind(repo_id)
    .bind(object_id)
    .bind(path)
    .bind(size_bytes)
    .bind(mime_for(path))
    .bind(content_hash)
    .bind(ts)
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(r.rows_affected() == 1)
}

/// Rows moved per batch by [`move_inline_objects`] (bounds its memory).
const MOVE_BATCH: i64 = 64;

/// Moves object bytes that older versions kept in `objects.content_b64` into the object
/// store, then clears the column; run at start-up, idempotent, in batches. Returns how many
/// rows moved. A row whose bytes do not match its `content_hash` gets the hash of what it
/// holds (the bytes are the truth; the hash was only ever derived from them).
pub async fn move_inline_objects(db: &Db) -> Result<u64, sqlx::Error> {
    use sqlx::Row;
    let mut moved = 0;
    loop {
        let rows = sqlx::query(
            "SELECT repo_id, object_id, content_hash, content_b64 FROM objects \
             WHERE content_b64 IS NOT NULL ORDER BY repo_id, object_id LIMIT $1",
        )
        .bind(MOVE_BATCH)
        .fetch_all(db.pool())
        .await?;
        if rows.is_empty() {
            return Ok(moved);
        }
        for r in &rows {
            let repo_id: String = r.try_get("repo_id")?;
            let object_id: String = r.try_get("object_id")?;
            let b64: String = r.try_get("content_b64")?;
            let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64.as_bytes()) else {
                // Unreadable since it was written; clearing it keeps start-up from looping.
                tracing::error!(%repo_id, %object_id, "stored content is not base64: dropped");
                sqlx::query(
                    "UPDATE objects SET content_b64 = NULL WHERE repo_id = $1 AND object_id = $2",
                )
                .bind(&repo_id)
                .bind(&object_id)
                .execute(db.pool())
                .await?;
                continue;
            };
            let hash = db
                .blobs()
                .put(&bytes)
                .await
                .map_err(|e| sqlx::Error::Io(std::io::Error::other(e.to_string())))?;
            sqlx::query(
                "UPDATE objects SET content_b64 = NULL, content_hash = $1, size_bytes = $2 \
                 WHERE repo_id = $3 AND object_id = $4",
            )
            .bind(&hash)
            .bind(bytes.len() as i64)
            .bind(&repo_id)
            .bind(&object_id)
            .execute(db.pool())
            .await?;
            moved += 1;
        }
    }
}
