//! Moving object bytes over HTTP: `GET .../objects/{id}` streams a stored object from disk,
//! `PUT .../objects/{id}` uploads one, whole or in pieces, straight to the object store.
//!
//! Every upload request is MSign-signed, and a signature covers the SHA-256 of the request's
//! body, which the hub can only check with the body in hand: so a large object goes up in
//! pieces of at most `upload_chunk_bytes` (4 MiB by default), each a `PUT` with
//! `Content-Range: bytes START-END/TOTAL`, appended to a file under the store's `tmp/`. The
//! hub holds one piece at a time in memory, whatever the object's size. When the last piece
//! lands, the file is hashed (read back in blocks) and renamed into place only if it hashes
//! to the id in the URL; the object is then *staged* for the uploader until a push names it.
//! A piece that does not start where the upload stands is refused with 409 and the current
//! offset, so a client resumes after an interruption. `TOTAL` above `max_object_bytes` is
//! 413, before anything is written.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use musehub_mcp::ToolError;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::blobs::BlobError;
use crate::db::{Db, DbResultExt, now};
use crate::history;
use crate::muse::push;
use crate::muse::remote_http::{RemoteError, RemoteState, caller_of, repo_for, too_large};
use crate::params::Need;
use crate::repos::RepoView;

/// Bytes a download reads from disk at a time.
const READ_BLOCK: usize = 64 * 1024;

/// One lock per upload in progress (repository, uploader, object), so that two pieces of the
/// same upload never write at once. Entries go when their upload completes.
#[derive(Clone, Default)]
pub struct UploadLocks(Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>);

impl UploadLocks {
    fn get(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(key.to_string()).or_default().clone()
    }
    fn forget(&self, key: &str) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(key);
    }
}

/// True when the repository holds the object, or `handle` has staged it there.
pub(crate) async fn present(
    db: &Db,
    repo: &RepoView,
    handle: Option<&str>,
    object_id: &str,
) -> Result<bool, ToolError> {
    if history::object(db, &repo.repo_id, object_id)
        .await?
        .is_some()
    {
        return Ok(true);
    }
    let Some(handle) = handle else {
        return Ok(false);
    };
    Ok(sqlx::query(
        "SELECT 1 AS one FROM staged_objects WHERE repo_id = $1 AND object_id = $2 AND handle = $3",
    )
    .bind(&repo.repo_id)
    .bind(object_id)
    .bind(handle)
    .fetch_optional(db.pool())
    .await
    .db()?
    .is_some())
}

/// `GET .../objects/{id}`: the bytes, streamed from disk.
pub async fn download(
    State(state): State<RemoteState>,
    Path((owner, slug, id)): Path<(String, String, String)>,
    req: Request,
) -> Result<Response, RemoteError> {
    let caller = caller_of(&req);
    let repo = repo_for(&state.db, &caller, &owner, &slug, Need::Read).await?;
    let object = history::object(&state.db, &repo.repo_id, &id)
        .await?
        .ok_or_else(|| ToolError::not_found(format!("Object '{id}' not found.")))?;
    let (file, size) = state
        .db
        .blobs()
        .open(&object.content_hash)
        .await
        .map_err(BlobError::into_tool)?;
    let stream = tokio_util::io::ReaderStream::with_capacity(file, READ_BLOCK);
    let mut r = Response::new(Body::from_stream(stream));
    let h = r.headers_mut();
    let mime = HeaderValue::from_str(&object.mime_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    h.insert(header::CONTENT_TYPE, mime);
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    if let Ok(tag) = HeaderValue::from_str(&format!("\"{}\"", object.content_hash)) {
        h.insert(header::ETAG, tag);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    Ok(r)
}

/// A parsed `Content-Range: bytes START-END/TOTAL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    start: u64,
    end: u64,
    total: u64,
}

fn parse_range(headers: &HeaderMap, body_len: Option<u64>) -> Result<Option<Range>, RemoteError> {
    let Some(v) = headers.get(header::CONTENT_RANGE) else {
        return Ok(None);
    };
    let bad = || {
        RemoteError::new(
            StatusCode::BAD_REQUEST,
            "invalid_range",
            "Content-Range must be `bytes START-END/TOTAL` with START <= END < TOTAL",
        )
    };
    let text = v.to_str().map_err(|_| bad())?;
    let spec = text.trim().strip_prefix("bytes ").ok_or_else(bad)?;
    let (span, total) = spec.split_once('/').ok_or_else(bad)?;
    let (start, end) = span.split_once('-').ok_or_else(bad)?;
    let parse = |s: &str| s.trim().parse::<u64>().map_err(|_| bad());
    let r = Range {
        start: parse(start)?,
        end: parse(end)?,
        total: parse(total)?,
    };
    if r.start > r.end || r.end >= r.total {
        return Err(bad());
    }
    if let Some(n) = body_len
        && n != r.end - r.start + 1
    {
        return Err(bad());
    }
    Ok(Some(r))
}

/// Where an upload's bytes collect: one file per repository, uploader and object.
fn upload_file(db: &Db, repo: &RepoView, handle: &str, id: &str) -> (String, PathBuf) {
    let key = format!(
        "{:x}",
        Sha256::digest(format!("{}\0{handle}\0{id}", repo.repo_id).as_bytes())
    );
    let path = db.blobs().tmp_dir().join(format!("upload-{key}"));
    (key, path)
}

fn accepted(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// `PUT .../objects/{id}`: see the module docs.
pub async fn upload(
    State(state): State<RemoteState>,
    Path((owner, slug, id)): Path<(String, String, String)>,
    req: Request,
) -> Result<Response, RemoteError> {
    let caller = caller_of(&req);
    let repo = repo_for(&state.db, &caller, &owner, &slug, Need::Maintain).await?;
    let handle = crate::identity::ensure_user(&state.db, &caller).await?;
    if !muse_core::is_id(&id) {
        return Err(ToolError::invalid_argument(format!(
            "'{id}' is not an object id: the URL names the SHA-256 of the bytes, lower-case hex"
        ))
        .into());
    }
    let db = &state.db;
    let max_object = db.settings().max_object_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let range = parse_range(req.headers(), declared)?;
    if let Some(r) = range
        && r.total > max_object
    {
        return Err(too_large(max_object as usize, "one object"));
    }
    if present(db, &repo, Some(&handle), &id).await? {
        return Ok(accepted(
            StatusCode::OK,
            json!({ "object_id": id, "complete": true, "stored": false }),
        ));
    }
    let (key, path) = upload_file(db, &repo, &handle, &id);
    let lock = state.uploads.get(&key);
    let _guard = lock.lock().await;

    let current = match tokio::fs::metadata(&path).await {
        Ok(m) => m.len(),
        Err(_) => 0,
    };
    let start = range.map(|r| r.start).unwrap_or(0);
    if start != current && start != 0 {
        return Err(RemoteError::from(
            ToolError::new(
                "upload_offset_mismatch",
                format!("This upload stands at byte {current}; send the piece starting there."),
            )
            .with_data(json!({ "offset": current })),
        ));
    }
    if start == 0 {
        // A new upload (or one started over): the whole object must fit the quota.
        let total = range.map(|r| r.total).or(declared).unwrap_or(0);
        push::check_quota(db, &repo.owner, total as i64).await?;
    }
    let tmp = db.blobs().tmp_dir();
    tokio::fs::create_dir_all(&tmp)
        .await
        .map_err(|e| io_error("create", &tmp, e))?;
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(start == 0)
        .append(start != 0)
        .open(&path)
        .await
        .map_err(|e| io_error("open", &path, e))?;
    let piece_limit = db.settings().upload_chunk_bytes as u64;
    let mut written: u64 = 0;
    let mut body = req.into_body().into_data_stream();
    while let Some(frame) = body.next().await {
        let bytes = frame.map_err(|_| {
            RemoteError::new(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                "the request body ended early or could not be read",
            )
        })?;
        written += bytes.len() as u64;
        if written > piece_limit || start + written > max_object {
            drop(file);
            let _ = tokio::fs::remove_file(&path).await;
            state.uploads.forget(&key);
            return Err(too_large(piece_limit as usize, "one upload piece"));
        }
        file.write_all(&bytes)
            .await
            .map_err(|e| io_error("write", &path, e))?;
    }
    file.flush()
        .await
        .map_err(|e| io_error("write", &path, e))?;
    let total = match range {
        Some(r) => {
            if written != r.end - r.start + 1 {
                return Err(RemoteError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_range",
                    format!(
                        "Content-Range announced {} bytes, the body had {written}",
                        r.end - r.start + 1
                    ),
                ));
            }
            r.total
        }
        None => written,
    };
    let offset = start + written;
    if offset < total {
        return Ok(accepted(
            StatusCode::ACCEPTED,
            json!({ "object_id": id, "offset": offset, "complete": false }),
        ));
    }
    file.sync_all()
        .await
        .map_err(|e| io_error("sync", &path, e))?;
    drop(file);
    state.uploads.forget(&key);
    let size = db
        .blobs()
        .commit_temp(&path, &id)
        .await
        .map_err(|e| match &e {
            BlobError::Mismatch { actual, .. } => RemoteError::from(
                ToolError::new("object_id_mismatch", e.to_string())
                    .with_data(json!({ "object_id": id, "expected": actual })),
            ),
            _ => RemoteError::from(e.into_tool()),
        })?;
    sqlx::query(
        "INSERT INTO staged_objects (repo_id, object_id, handle, size_bytes, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (repo_id, object_id, handle) DO NOTHING",
    )
    .bind(&repo.repo_id)
    .bind(&id)
    .bind(&handle)
    .bind(size as i64)
    .bind(now())
    .execute(db.pool())
    .await
    .db()?;
    Ok(accepted(
        StatusCode::CREATED,
        json!({ "object_id": id, "size": size, "complete": true, "stored": true }),
    ))
}

fn io_error(op: &'static str, path: &std::path::Path, e: std::io::Error) -> RemoteError {
    RemoteError::from(
        BlobError::Io {
            op,
            path: path.to_path_buf(),
            source: e,
        }
        .into_tool(),
    )
}
