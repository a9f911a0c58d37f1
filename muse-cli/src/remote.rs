//! The HTTP remote of a MuseHub repository (`{hub}/{owner}/{slug}`, `docs/muse-protocol.md`):
//! refs, object upload in signed pieces, streamed download, push and pull. Requests are
//! signed with MSign when the user has a key (`user.handle`, `user.key`); the hub's errors
//! come back as [`MuseError::Remote`] with its code.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use muse_core::ids::ObjectHasher;
use musehub_mcp::auth::MSignSigner;
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::error::{MuseError, Result};
use crate::repo::{CommitRecord, Repo};

/// Times a request rate-limited by the hub (429) is retried, after its `Retry-After`.
const RATE_LIMIT_RETRIES: u32 = 5;

/// The hub's limits, from `info/refs`.
#[derive(Debug, Clone, Deserialize)]
pub struct Limits {
    /// Largest object.
    pub max_object_bytes: u64,
    /// Largest upload piece.
    pub upload_chunk_bytes: usize,
    /// Largest JSON request.
    pub max_request_bytes: usize,
}

/// `GET info/refs`.
#[derive(Debug, Clone, Deserialize)]
pub struct Refs {
    /// The default branch.
    pub default_branch: String,
    /// Branches and their heads.
    pub branches: BTreeMap<String, Option<String>>,
    /// Limits.
    pub limits: Limits,
}

/// A snapshot in a pull delta.
#[derive(Debug, Clone, Deserialize)]
pub struct PulledSnapshot {
    /// Its id.
    pub snapshot_id: String,
    /// Its manifest.
    pub manifest: BTreeMap<String, String>,
}

/// An object in a pull delta (its bytes are fetched separately).
#[derive(Debug, Clone, Deserialize)]
pub struct PulledObject {
    /// Its id.
    pub object_id: String,
    /// Size in bytes.
    pub size_bytes: i64,
}

/// `POST pull`.
#[derive(Debug, Clone, Deserialize)]
pub struct PullDelta {
    /// The branch's head on the hub.
    pub head_commit_id: Option<String>,
    /// New commits, oldest first.
    pub commits: Vec<CommitRecord>,
    /// Their snapshots.
    pub snapshots: Vec<PulledSnapshot>,
    /// The objects they need.
    pub objects: Vec<PulledObject>,
}

/// One repository on a hub.
pub struct Remote {
    base: Url,
    http: reqwest::Client,
    signer: Option<MSignSigner>,
}

impl Remote {
    /// The remote at `url` (`http://hub/owner/slug`), signing as `signer` when given.
    pub fn new(url: &str, signer: Option<MSignSigner>) -> Result<Remote> {
        let base = Url::parse(url.trim_end_matches('/'))
            .map_err(|e| MuseError::Config(format!("'{url}' is not a remote URL: {e}")))?;
        if !matches!(base.scheme(), "http" | "https")
            || base.path_segments().map(|s| s.count()) != Some(2)
        {
            return Err(MuseError::Config(format!(
                "'{url}' is not a remote URL of the form http://HUB/OWNER/SLUG"
            )));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        Ok(Remote { base, http, signer })
    }

    /// The URL of `rest` under the repository.
    fn url(&self, rest: &str) -> Url {
        let mut u = self.base.clone();
        u.set_path(&format!(
            "{}/{rest}",
            self.base.path().trim_end_matches('/')
        ));
        u
    }

    /// Sends a request (signed when there is a key), retrying when rate-limited.
    async fn send(
        &self,
        method: Method,
        url: Url,
        body: Vec<u8>,
        headers: &[(&str, String)],
    ) -> Result<reqwest::Response> {
        let mut attempt = 0;
        loop {
            let mut rb = self.http.request(method.clone(), url.clone());
            for (k, v) in headers {
                rb = rb.header(*k, v);
            }
            if let Some(s) = &self.signer {
                let target = match url.query() {
                    Some(q) => format!("{}?{q}", url.path()),
                    None => url.path().to_string(),
                };
                rb = rb.header(
                    "authorization",
                    s.sign_parts(method.as_str(), &target, &body, None),
                );
            }
            let r = rb.body(body.clone()).send().await?;
            if r.status() == StatusCode::TOO_MANY_REQUESTS && attempt < RATE_LIMIT_RETRIES {
                let wait = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(1)
                    .min(60);
                attempt += 1;
                tokio::time::sleep(Duration::from_secs(wait)).await;
                continue;
            }
            return Ok(r);
        }
    }

    /// The hub's JSON error as a [`MuseError::Remote`].
    async fn error(r: reqwest::Response) -> MuseError {
        let status = r.status().as_u16();
        let text = r.text().await.unwrap_or_default();
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let e = &v["error"];
        MuseError::Remote {
            status,
            code: e["data"]["code"]
                .as_str()
                .unwrap_or("http_error")
                .to_string(),
            message: e["message"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| text.chars().take(300).collect()),
            data: e["data"].clone(),
        }
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        rest: &str,
        body: Option<Value>,
    ) -> Result<T> {
        let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let r = self
            .send(
                method,
                self.url(rest),
                bytes,
                &[("content-type", "application/json".into())],
            )
            .await?;
        if !r.status().is_success() {
            return Err(Self::error(r).await);
        }
        Ok(r.json().await?)
    }

    /// Branches, heads and limits.
    pub async fn refs(&self) -> Result<Refs> {
        self.json(Method::GET, "info/refs", None).await
    }

    /// Which of `ids` the repository lacks (asked in batches that fit one request).
    pub async fn missing(&self, ids: &[String]) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for batch in ids.chunks(1000) {
            let v: Value = self
                .json(
                    Method::POST,
                    "objects/missing",
                    Some(json!({ "object_ids": batch })),
                )
                .await?;
            let list: Vec<String> = serde_json::from_value(v["missing"].clone())
                .map_err(|e| MuseError::Corrupt(format!("objects/missing answered {v}: {e}")))?;
            out.extend(list);
        }
        Ok(out)
    }

    /// Uploads object `id` from `file` in pieces of at most `piece` bytes, each signed; resumes
    /// where the hub says an interrupted upload stands. Holds one piece in memory at a time.
    pub async fn upload(&self, id: &str, file: &Path, piece: usize) -> Result<()> {
        let mut f = std::fs::File::open(file).map_err(MuseError::io("open", file))?;
        let total = f.metadata().map_err(MuseError::io("stat", file))?.len();
        let piece = piece.max(1) as u64;
        let url = self.url(&format!("objects/{id}"));
        let mut offset = 0u64;
        loop {
            let len = piece.min(total - offset);
            let mut buf = vec![0u8; len as usize];
            f.seek(SeekFrom::Start(offset))
                .map_err(MuseError::io("seek", file))?;
            f.read_exact(&mut buf)
                .map_err(MuseError::io("read", file))?;
            let headers = [
                ("content-type", "application/octet-stream".to_string()),
                (
                    "content-range",
                    format!(
                        "bytes {offset}-{}/{total}",
                        (offset + len).saturating_sub(1).max(offset)
                    ),
                ),
            ];
            let headers: &[(&str, String)] = if total == 0 { &headers[..1] } else { &headers };
            let r = self.send(Method::PUT, url.clone(), buf, headers).await?;
            match r.status() {
                StatusCode::OK | StatusCode::CREATED => return Ok(()),
                StatusCode::ACCEPTED => {
                    let v: Value = r.json().await?;
                    offset = v["offset"].as_u64().ok_or_else(|| {
                        MuseError::Corrupt(format!("the hub's upload answer has no offset: {v}"))
                    })?;
                }
                StatusCode::CONFLICT => match Self::error(r).await {
                    MuseError::Remote { code, data, .. } if code == "upload_offset_mismatch" => {
                        offset = data["offset"].as_u64().unwrap_or(0).min(total);
                    }
                    other => return Err(other),
                },
                _ => return Err(Self::error(r).await),
            }
            if offset >= total {
                return Ok(());
            }
        }
    }

    /// Downloads object `id` into the repository's store, streamed to a temp file, hashed on
    /// the way and installed only when the bytes are the object's.
    pub async fn download(&self, repo: &Repo, id: &str) -> Result<()> {
        let r = self
            .send(
                Method::GET,
                self.url(&format!("objects/{id}")),
                Vec::new(),
                &[],
            )
            .await?;
        if !r.status().is_success() {
            return Err(Self::error(r).await);
        }
        let tmp = repo.temp_path();
        let mut out = tokio::fs::File::create(&tmp)
            .await
            .map_err(MuseError::io("create", &tmp))?;
        let mut hasher = ObjectHasher::new();
        let mut stream = r.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            hasher.update(&chunk);
            out.write_all(&chunk)
                .await
                .map_err(MuseError::io("write", &tmp))?;
        }
        out.flush().await.map_err(MuseError::io("write", &tmp))?;
        drop(out);
        let actual = hasher.finish();
        if actual != id {
            let _ = std::fs::remove_file(&tmp);
            return Err(MuseError::Mismatch {
                expected: id.to_string(),
                actual,
            });
        }
        repo.install_object(&tmp, id)
    }

    /// `POST push`.
    pub async fn push(&self, body: Value) -> Result<Value> {
        self.json(Method::POST, "push", Some(body)).await
    }

    /// `POST pull`.
    pub async fn pull(&self, branch: &str, since: Option<&str>) -> Result<PullDelta> {
        self.json(
            Method::POST,
            "pull",
            Some(json!({ "branch": branch, "since_commit_id": since })),
        )
        .await
    }
}
