//! Shared by the soak test (`tests/soak.rs`) and the fault-injection tests (`tests/faults.rs`):
//! the served `musehub-server` binary as a child process (endpoint from its banner, stderr
//! kept in a log file, RSS from `/proc`, signals), signing keys made with `keys generate`, and
//! a small MCP client over Streamable HTTP that signs every request with MSign.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use musehub_mcp::auth::MSignSigner;
use musehub_mcp::serde_json::{Value, json};

/// The binary under test: `MUSEHUB_SERVER_BIN` when set (a release build, say), else the one
/// cargo built for this test.
pub fn server_bin() -> PathBuf {
    std::env::var_os("MUSEHUB_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_musehub-server")))
}

/// A new directory under the system temp dir (kept: the figures and logs may be wanted).
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("musehub-{tag}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// `sqlite://` URL of a file.
pub fn sqlite_url(file: &Path) -> String {
    format!("sqlite://{}", file.display())
}

/// `musehub-server keys generate` for `handle` (an agent key when `agent` is given) against
/// the database, and a signer over the key file it wrote.
pub fn generate_key(db_url: &str, dir: &Path, handle: &str, agent: Option<&str>) -> MSignSigner {
    let out = dir.join(format!("{handle}.key"));
    let out_s = out.to_str().expect("UTF-8 path");
    let mut args = vec![
        "keys",
        "generate",
        "--handle",
        handle,
        "--out",
        out_s,
        "--database-url",
        db_url,
    ];
    if let Some(a) = agent {
        args.extend(["--agent", a]);
    }
    let o = Command::new(server_bin())
        .args(&args)
        .env_remove("MUSEHUB_CONFIG")
        .env_remove("MUSEHUB_DATABASE_URL")
        .output()
        .expect("run keys generate");
    assert!(
        o.status.success(),
        "keys generate failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let secret = musehub_server::keys::read_secret_key(&out).expect("key file");
    MSignSigner::new(handle, secret)
}

/// The served binary. Killed (SIGKILL) when dropped if still running.
pub struct Served {
    child: Child,
    /// `http://127.0.0.1:PORT/mcp`.
    pub url: String,
    /// Where the server's stderr (its log) goes.
    pub log: PathBuf,
}

impl Served {
    /// Starts the binary with `args` (plus `--bind 127.0.0.1:0`) and waits for its banner.
    pub fn start(args: &[&str], envs: &[(&str, &str)], log: PathBuf) -> Served {
        let log_file = std::fs::File::create(&log).expect("log file");
        let mut cmd = Command::new(server_bin());
        cmd.args(args)
            .args(["--bind", "127.0.0.1:0"])
            .env_remove("MUSEHUB_CONFIG")
            .env_remove("MUSEHUB_DATABASE_URL")
            .env_remove("MUSEHUB_BIND")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log_file));
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start musehub-server");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut url = None;
        for line in lines.by_ref() {
            let Ok(line) = line else { break };
            if let Some(u) = line.trim().strip_prefix("endpoint:") {
                url = Some(u.trim().to_string());
                break;
            }
        }
        // Keep draining stdout: a closed pipe would fail the server's next print.
        std::thread::spawn(move || lines.for_each(drop));
        let url = url.unwrap_or_else(|| {
            panic!(
                "the server printed no endpoint; its log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
        Served { child, url, log }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident set size in KiB (`VmRSS` of `/proc/PID/status`), 0 when unreadable.
    pub fn rss_kib(&self) -> u64 {
        rss_kib(self.pid())
    }

    /// Sends a signal (`TERM`, `KILL`) with `kill(1)`.
    pub fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args([format!("-{name}"), self.pid().to_string()])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "kill -{name} {}", self.pid());
    }

    /// Waits up to `limit` for the process to exit; its exit status (`None`: still running).
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        loop {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            if start.elapsed() > limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The base URL (`http://127.0.0.1:PORT`).
    pub fn base(&self) -> String {
        self.url.trim_end_matches("/mcp").to_string()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `VmRSS` of a process, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// What one MCP request came back with.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A result (a tool result may still be `isError`).
    Ok(Value),
    /// A JSON-RPC error object.
    RpcError(Value),
    /// An HTTP status other than 200/202, with the body.
    Http(u16, String),
    /// The request never got an answer (connection refused or reset, timeout).
    Transport(String),
}

impl Outcome {
    /// The error kind for the soak figures: `ok`, `tool:<code>`, `rpc:<code>`,
    /// `http:<status>` or `transport`.
    pub fn kind(&self) -> String {
        match self {
            Outcome::Ok(v) if v["isError"] == json!(true) => format!(
                "tool:{}",
                v["structuredContent"]["error"]["code"]
                    .as_str()
                    .unwrap_or("unknown")
            ),
            Outcome::Ok(_) => "ok".into(),
            Outcome::RpcError(e) => format!("rpc:{}", e["code"]),
            Outcome::Http(s, _) => format!("http:{s}"),
            Outcome::Transport(_) => "transport".into(),
        }
    }

    /// A successful tool call's structuredContent.
    pub fn structured(&self) -> Option<&Value> {
        match self {
            Outcome::Ok(v) if v["isError"] != json!(true) => Some(&v["structuredContent"]),
            _ => None,
        }
    }
}

/// An MCP client over Streamable HTTP (2025-11-25, with a session), signing every request.
#[derive(Clone)]
pub struct Mcp {
    http: reqwest::Client,
    url: String,
    path: String,
    signer: Option<std::sync::Arc<MSignSigner>>,
    /// The session, after [`Mcp::initialize`].
    pub session: Option<String>,
    next_id: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl Mcp {
    /// A client of `url` signing as `signer` (anonymous when `None`).
    pub fn new(url: &str, signer: Option<std::sync::Arc<MSignSigner>>) -> Mcp {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(4)
            .build()
            .expect("HTTP client");
        let path = url
            .splitn(4, '/')
            .nth(3)
            .map(|p| format!("/{p}"))
            .unwrap_or_else(|| "/mcp".into());
        Mcp {
            http,
            url: url.to_string(),
            path,
            signer,
            session: None,
            next_id: std::sync::Arc::new(std::sync::atomic::AtomicI64::new(1)),
        }
    }

    fn id(&self) -> i64 {
        self.next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    fn auth(&self, method: &str, body: &[u8]) -> Option<String> {
        self.signer
            .as_ref()
            .map(|s| s.sign_parts(method, &self.path, body, self.session.as_deref()))
    }

    /// Sends one JSON-RPC message; `(status, headers, body)`.
    pub async fn post_raw(
        &self,
        body: &Value,
    ) -> Result<(u16, reqwest::header::HeaderMap, String), String> {
        let text = body.to_string();
        let mut rb = self
            .http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json");
        if let Some(s) = &self.session {
            rb = rb
                .header("mcp-session-id", s)
                .header("mcp-protocol-version", "2025-11-25");
        }
        if let Some(a) = self.auth("POST", text.as_bytes()) {
            rb = rb.header("authorization", a);
        }
        let r = rb.body(text).send().await.map_err(|e| e.to_string())?;
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.text().await.map_err(|e| e.to_string())?;
        Ok((status, headers, body))
    }

    /// A request; its outcome. SSE answers are read to the response with the request's id.
    pub async fn request(&self, method: &str, params: Value) -> Outcome {
        let id = self.id();
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let (status, headers, body) = match self.post_raw(&msg).await {
            Ok(x) => x,
            Err(e) => return Outcome::Transport(e),
        };
        if status != 200 {
            return Outcome::Http(status, body);
        }
        let sse = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        let answer = if sse {
            body.lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .filter_map(|d| musehub_mcp::serde_json::from_str::<Value>(d.trim()).ok())
                .find(|v| v["id"] == json!(id) && v.get("method").is_none())
        } else {
            musehub_mcp::serde_json::from_str::<Value>(&body).ok()
        };
        match answer {
            Some(v) if v.get("result").is_some() => Outcome::Ok(v["result"].clone()),
            Some(v) if v.get("error").is_some() => Outcome::RpcError(v["error"].clone()),
            _ => Outcome::Transport(format!("no answer in a {status} response: {body:.200}")),
        }
    }

    /// `initialize` then `notifications/initialized`; keeps the session id.
    pub async fn initialize(&mut self) -> Result<(), Outcome> {
        let msg = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "musehub-reliability", "version": "1"}}});
        self.session = None;
        let (status, headers, body) = self.post_raw(&msg).await.map_err(Outcome::Transport)?;
        if status != 200 {
            return Err(Outcome::Http(status, body));
        }
        let sid = headers
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| Outcome::Transport("initialize without a session id".into()))?;
        self.session = Some(sid.to_string());
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        match self.post_raw(&note).await {
            Ok((202 | 200, _, _)) => Ok(()),
            Ok((s, _, b)) => Err(Outcome::Http(s, b)),
            Err(e) => Err(Outcome::Transport(e)),
        }
    }

    /// `tools/call`.
    pub async fn call(&self, tool: &str, args: Value) -> Outcome {
        self.request("tools/call", json!({"name": tool, "arguments": args}))
            .await
    }

    /// `DELETE` of the session; the HTTP status (0 on a transport error).
    pub async fn delete(&mut self) -> u16 {
        let Some(sid) = self.session.clone() else {
            return 0;
        };
        let mut rb = self
            .http
            .delete(&self.url)
            .header("mcp-session-id", &sid)
            .header("mcp-protocol-version", "2025-11-25");
        if let Some(a) = self.auth("DELETE", b"") {
            rb = rb.header("authorization", a);
        }
        self.session = None;
        match rb.send().await {
            Ok(r) => r.status().as_u16(),
            Err(_) => 0,
        }
    }

    /// Opens the session's `GET` stream; the response, to read from or drop.
    pub async fn open_stream(&self) -> Result<reqwest::Response, String> {
        let mut rb = self
            .http
            .get(&self.url)
            .header("accept", "text/event-stream")
            .timeout(Duration::from_secs(3600));
        if let Some(s) = &self.session {
            rb = rb
                .header("mcp-session-id", s)
                .header("mcp-protocol-version", "2025-11-25");
        }
        if let Some(a) = self.auth("GET", b"") {
            rb = rb.header("authorization", a);
        }
        rb.send().await.map_err(|e| e.to_string())
    }
}

/// A push of one commit with one snapshot and one object: `(arguments, commit, object,
/// content)`. `tag` makes the ids unique.
pub fn push_args(
    owner: &str,
    slug: &str,
    branch: &str,
    parent: Option<&str>,
    tag: &str,
    content_len: usize,
) -> (Value, String, String, Vec<u8>) {
    use base64::Engine;
    let content: Vec<u8> = tag.bytes().cycle().take(content_len.max(1)).collect();
    // Real content ids: the hub verifies them (docs/muse-protocol.md).
    let object = muse_core::object_id(&content);
    let manifest =
        std::collections::BTreeMap::from([(format!("tracks/{tag}.mid"), object.clone())]);
    let snapshot = muse_core::snapshot_id(&manifest);
    let parents: Vec<String> = parent.into_iter().map(str::to_string).collect();
    let timestamp = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let message = format!("push {tag}");
    let commit = muse_core::commit_id(&muse_core::CommitFields {
        parents: &parents,
        snapshot_id: Some(&snapshot),
        author: owner,
        timestamp: &timestamp,
        message: &message,
    })
    .expect("commit id");
    let args = json!({
        "owner": owner, "slug": slug, "branch": branch, "head_commit_id": commit,
        "commits": [{"commit_id": commit, "parent_ids": parents, "author": owner,
                     "timestamp": timestamp, "message": message, "snapshot_id": snapshot}],
        "snapshots": [{"snapshot_id": snapshot, "manifest": {format!("tracks/{tag}.mid"): object}}],
        "objects": [{"object_id": object, "path": format!("tracks/{tag}.mid"),
                     "content_b64": base64::engine::general_purpose::STANDARD.encode(&content)}],
    });
    (args, commit, object, content)
}

/// Everything the database and the object store say is inconsistent: rows that point at
/// nothing, objects whose stored bytes are missing or do not match their size or hash, branch
/// heads that are not commits, and SQLite's own integrity and foreign-key checks. Empty when
/// consistent.
pub async fn consistency_problems(db: &musehub_server::Db) -> Vec<String> {
    use base64::Engine;
    use sha2::Digest;
    use sqlx::Row;
    let pool = db.pool();
    let mut problems = Vec::new();
    let q = |sql: &'static str| sqlx::query(sql);

    if let Ok(rows) = q("PRAGMA integrity_check").fetch_all(pool).await {
        for r in rows {
            let v: String = r.try_get(0).unwrap_or_default();
            if v != "ok" {
                problems.push(format!("integrity_check: {v}"));
            }
        }
    }
    if let Ok(rows) = q("PRAGMA foreign_key_check").fetch_all(pool).await
        && !rows.is_empty()
    {
        problems.push(format!("foreign_key_check: {} rows", rows.len()));
    }
    let heads = q(
        "SELECT b.repo_id, b.name, b.head_commit_id FROM branches b \
         WHERE b.head_commit_id IS NOT NULL AND NOT EXISTS \
         (SELECT 1 FROM commits c WHERE c.repo_id = b.repo_id AND c.commit_id = b.head_commit_id)",
    )
    .fetch_all(pool)
    .await
    .expect("branch query");
    for r in heads {
        problems.push(format!(
            "branch {} head {} is not a commit",
            r.try_get::<String, _>("name").unwrap_or_default(),
            r.try_get::<String, _>("head_commit_id").unwrap_or_default()
        ));
    }
    let commits = q(
        "SELECT c.commit_id FROM commits c WHERE c.snapshot_id IS NOT NULL AND NOT EXISTS \
         (SELECT 1 FROM snapshots s WHERE s.repo_id = c.repo_id AND s.snapshot_id = c.snapshot_id)",
    )
    .fetch_all(pool)
    .await
    .expect("commit query");
    for r in commits {
        problems.push(format!(
            "commit {} records a missing snapshot",
            r.try_get::<String, _>("commit_id").unwrap_or_default()
        ));
    }
    let all_commits = q("SELECT repo_id, commit_id, parent_ids FROM commits")
        .fetch_all(pool)
        .await
        .expect("commits");
    let known: std::collections::HashSet<(String, String)> = all_commits
        .iter()
        .map(|r| {
            (
                r.try_get::<String, _>("repo_id").unwrap_or_default(),
                r.try_get::<String, _>("commit_id").unwrap_or_default(),
            )
        })
        .collect();
    for r in &all_commits {
        let repo: String = r.try_get("repo_id").unwrap_or_default();
        let id: String = r.try_get("commit_id").unwrap_or_default();
        let parents: Vec<String> = musehub_mcp::serde_json::from_str(
            &r.try_get::<String, _>("parent_ids").unwrap_or_default(),
        )
        .unwrap_or_default();
        for p in parents {
            if !known.contains(&(repo.clone(), p.clone())) {
                problems.push(format!("commit {id} has a missing parent {p}"));
            }
        }
    }
    let snaps = q("SELECT repo_id, snapshot_id, manifest FROM snapshots")
        .fetch_all(pool)
        .await
        .expect("snapshots");
    let objects =
        q("SELECT repo_id, object_id, size_bytes, content_hash, content_b64 FROM objects")
            .fetch_all(pool)
            .await
            .expect("objects");
    let mut object_ids = std::collections::HashSet::new();
    for o in &objects {
        let repo: String = o.try_get("repo_id").unwrap_or_default();
        let id: String = o.try_get("object_id").unwrap_or_default();
        object_ids.insert((repo, id.clone()));
        let size: i64 = o.try_get("size_bytes").unwrap_or(-1);
        let hash: String = o.try_get("content_hash").unwrap_or_default();
        let Ok(Some(b64)) = o.try_get::<Option<String>, _>("content_b64") else {
            // The bytes live in the object store, named by their hash.
            match db.blobs().path(&hash) {
                Err(e) => problems.push(format!("object {id}: {e}")),
                Ok(path) => match musehub_server::blobs::hash_file(&path).await {
                    Err(e) => problems.push(format!("object {id}: {e}")),
                    Ok((actual, n)) => {
                        if n as i64 != size {
                            problems
                                .push(format!("object {id}: {n} bytes stored, size says {size}"));
                        }
                        if actual != hash {
                            problems.push(format!("object {id}: content does not match its hash"));
                        }
                    }
                },
            }
            continue;
        };
        match base64::engine::general_purpose::STANDARD.decode(b64.as_bytes()) {
            Ok(bytes) => {
                if bytes.len() as i64 != size {
                    problems.push(format!(
                        "object {id}: {} bytes stored, size says {size}",
                        bytes.len()
                    ));
                }
                if format!("{:x}", sha2::Sha256::digest(&bytes)) != hash {
                    problems.push(format!("object {id}: content does not match its hash"));
                }
            }
            Err(_) => problems.push(format!("object {id}: stored content is not base64")),
        }
    }
    for s in &snaps {
        let repo: String = s.try_get("repo_id").unwrap_or_default();
        let id: String = s.try_get("snapshot_id").unwrap_or_default();
        let manifest: std::collections::BTreeMap<String, String> =
            musehub_mcp::serde_json::from_str(
                &s.try_get::<String, _>("manifest").unwrap_or_default(),
            )
            .unwrap_or_default();
        for oid in manifest.values() {
            if !object_ids.contains(&(repo.clone(), oid.clone())) {
                problems.push(format!("snapshot {id} names a missing object {oid}"));
            }
        }
    }
    problems
}

/// The head of a branch, read from the database.
pub async fn branch_head(
    db: &musehub_server::Db,
    owner: &str,
    slug: &str,
    branch: &str,
) -> Option<String> {
    use sqlx::Row;
    sqlx::query(
        "SELECT b.head_commit_id FROM branches b JOIN repos r ON r.id = b.repo_id \
         WHERE r.owner = $1 AND r.slug = $2 AND b.name = $3",
    )
    .bind(owner)
    .bind(slug)
    .bind(branch)
    .fetch_optional(db.pool())
    .await
    .expect("branch head query")
    .and_then(|r| {
        r.try_get::<Option<String>, _>("head_commit_id")
            .ok()
            .flatten()
    })
}

/// True when the commit is stored, with its snapshot and object, and the object holds
/// exactly `content`.
pub async fn push_is_whole(
    db: &musehub_server::Db,
    commit: &str,
    object: &str,
    content: &[u8],
) -> bool {
    use sqlx::Row;
    let has_commit = sqlx::query("SELECT snapshot_id FROM commits WHERE commit_id = $1")
        .bind(commit)
        .fetch_optional(db.pool())
        .await
        .ok()
        .flatten();
    let Some(c) = has_commit else {
        return false;
    };
    let Ok(Some(snap)) = c.try_get::<Option<String>, _>("snapshot_id") else {
        return false;
    };
    let snap_ok = sqlx::query("SELECT 1 AS one FROM snapshots WHERE snapshot_id = $1")
        .bind(&snap)
        .fetch_optional(db.pool())
        .await
        .ok()
        .flatten()
        .is_some();
    let hash = sqlx::query("SELECT content_hash FROM objects WHERE object_id = $1")
        .bind(object)
        .fetch_optional(db.pool())
        .await
        .ok()
        .flatten()
        .and_then(|r| r.try_get::<String, _>("content_hash").ok());
    let stored = match hash {
        Some(h) => db.blobs().read(&h).await.ok(),
        None => None,
    };
    snap_ok && stored.as_deref() == Some(content)
}

/// Opens the SQLite file read-write for checks (after the server stopped or alongside it).
pub async fn open_db(file: &Path) -> musehub_server::Db {
    musehub_server::Db::connect(&sqlite_url(file), musehub_server::HubSettings::default())
        .await
        .expect("open the database")
}
