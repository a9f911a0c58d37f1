//! Fault injection against the MuseHub server: the database's file system turning read-only
//! mid-run, the disk filling up mid-push, the process killed mid-push, a tool panicking, and
//! graceful shutdown on SIGTERM with calls in flight and an SSE stream open.
//!
//! The file-system faults need root (they mount a loop ext4 image and a small tmpfs); without
//! the privilege they print why and pass without checking anything.

mod reliability;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use musehub_mcp::auth::MSignSigner;
use musehub_mcp::serde_json::{Value, json};
use reliability::*;

// --- helpers ---------------------------------------------------------------------------------

/// A signed client with a session on `url`, and its repository `handle/faults` (main branch).
async fn writer(url: &str, signer: &Arc<MSignSigner>) -> Mcp {
    let mut c = Mcp::new(url, Some(signer.clone()));
    c.initialize().await.expect("initialize");
    let o = c
        .call(
            "musehub_create_repo",
            json!({"name": "faults", "description": "fault injection"}),
        )
        .await;
    assert!(
        o.structured().is_some() || o.kind() == "tool:already_exists",
        "create_repo: {o:?}"
    );
    c
}

async fn head(c: &Mcp, owner: &str) -> Option<String> {
    let o = c
        .call(
            "musehub_list_branches",
            json!({"owner": owner, "slug": "faults"}),
        )
        .await;
    o.structured()?["branches"]
        .as_array()?
        .iter()
        .find(|b| b["name"] == "main")?["head_commit_id"]
        .as_str()
        .map(String::from)
}

fn sh(cmd: &str, args: &[&str]) -> Result<String, String> {
    let o = Command::new(cmd)
        .args(args)
        .output()
        .map_err(|e| format!("{cmd}: {e}"))?;
    if o.status.success() {
        Ok(String::from_utf8_lossy(&o.stdout).trim().to_string())
    } else {
        Err(format!(
            "{cmd} {args:?}: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ))
    }
}

/// A mounted file system, unmounted (and its loop device freed) when dropped.
struct Mount {
    dir: PathBuf,
    image: Option<PathBuf>,
}

impl Mount {
    /// A tmpfs of `size` (such as `2m`) on a new directory.
    fn tmpfs(size: &str) -> Result<Mount, String> {
        let dir = temp_dir("tmpfs");
        let opts = format!("size={size}");
        sh("mount", &["-t", "tmpfs", "-o", &opts, "tmpfs", path(&dir)])?;
        Ok(Mount { dir, image: None })
    }

    /// An ext4 image of `mib` MiB mounted through a loop device with `errors=remount-ro`.
    fn ext4(mib: u64) -> Result<Mount, String> {
        let base = temp_dir("ext4");
        let image = base.join("fs.img");
        let f = std::fs::File::create(&image).map_err(|e| e.to_string())?;
        f.set_len(mib * 1024 * 1024).map_err(|e| e.to_string())?;
        sh("mkfs.ext4", &["-q", "-F", path(&image)])?;
        let dir = base.join("mnt");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        sh(
            "mount",
            &["-o", "loop,errors=remount-ro", path(&image), path(&dir)],
        )?;
        Ok(Mount {
            dir,
            image: Some(image),
        })
    }

    /// The loop device's name (`loop3`) of an ext4 mount.
    fn device(&self) -> Result<String, String> {
        let src = sh("findmnt", &["-no", "SOURCE", path(&self.dir)])?;
        Ok(src.trim_start_matches("/dev/").to_string())
    }

    /// Forces the file system read-only at once, as an I/O error would (ext4 only): writes on
    /// descriptors already open fail with EROFS from now on.
    fn fail_read_only(&self) -> Result<(), String> {
        let trigger = format!("/sys/fs/ext4/{}/trigger_fs_error", self.device()?);
        std::fs::write(&trigger, "1").map_err(|e| format!("{trigger}: {e}"))
    }

    /// Unmounts, checks the image and mounts it again read-write (after `fail_read_only`).
    fn repair(&mut self) -> Result<(), String> {
        let image = self.image.clone().ok_or("not an image")?;
        let _ = sh("umount", &[path(&self.dir)]);
        // e2fsck exits 1 when it fixed something: fine.
        let _ = Command::new("e2fsck").args(["-fy", path(&image)]).output();
        sh(
            "mount",
            &[
                "-o",
                "loop,errors=remount-ro",
                path(&image),
                path(&self.dir),
            ],
        )
        .map(|_| ())
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        // The test's own pool may still be closing its connections: detach lazily then.
        if sh("umount", &[path(&self.dir)]).is_err() {
            let _ = sh("umount", &["-l", path(&self.dir)]);
        }
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// Why a file-system fault cannot be injected here (not root, or mount refused).
fn skip(test: &str, why: &str) {
    eprintln!("SKIPPED {test}: {why} (needs root and mount; nothing was checked)");
}

fn is_root() -> bool {
    sh("id", &["-u"]).map(|u| u == "0").unwrap_or(false)
}

async fn assert_consistent(file: &Path) -> musehub_server::Db {
    let db = open_db(file).await;
    let problems = consistency_problems(&db).await;
    assert!(problems.is_empty(), "inconsistent database: {problems:?}");
    db
}

// --- the database's file system turns read-only mid-run --------------------------------------

#[tokio::test]
async fn read_only_file_system_mid_run_fails_the_push_cleanly() {
    if !is_root() {
        return skip("read_only_file_system", "not root");
    }
    let mut fs = match Mount::ext4(32) {
        Ok(m) => m,
        Err(e) => return skip("read_only_file_system", &e),
    };
    let work = temp_dir("faults-ro");
    let file = fs.dir.join("hub.db");
    let url = sqlite_url(&file);
    let signer = Arc::new(generate_key(&url, &work, "ro", None));
    let served = Served::start(
        &["--database-url", &url, "--seed-demo", "--no-rate-limits"],
        &[("RUST_LOG", "info")],
        work.join("server.log"),
    );
    let c = writer(&served.url, &signer).await;
    let before = head(&c, "ro").await.expect("head");
    let (args, ok_commit, ok_object, ok_content) =
        push_args("ro", "faults", "main", Some(&before), "ro-1", 4096);
    let o = c.call("muse_push", args).await;
    assert!(o.structured().is_some(), "first push: {o:?}");

    fs.fail_read_only()
        .expect("force the file system read-only");
    let (args, bad_commit, _, _) =
        push_args("ro", "faults", "main", Some(&ok_commit), "ro-2", 64 * 1024);
    let o = c.call("muse_push", args).await;
    // A clean failure: a tool error with the opaque `internal` code, nothing leaked.
    assert_eq!(o.kind(), "tool:internal", "push on a read-only disk: {o:?}");
    let text = format!("{o:?}");
    assert!(!text.contains("sqlx") && !text.contains("SQLITE"), "{text}");
    // Still serving: reads answer, health answers.
    let r = c
        .call(
            "musehub_list_commits",
            json!({"owner": "ro", "slug": "faults"}),
        )
        .await;
    assert!(r.structured().is_some(), "a read after the fault: {r:?}");
    let health = reqwest::get(format!("{}/healthz", served.base()))
        .await
        .expect("healthz");
    assert_eq!(health.status().as_u16(), 200);
    drop(c);
    drop(served);

    fs.repair().expect("remount");
    let db = assert_consistent(&file).await;
    assert!(
        push_is_whole(&db, &ok_commit, &ok_object, &ok_content).await,
        "the acknowledged push before the fault is whole"
    );
    assert_eq!(
        branch_head(&db, "ro", "faults", "main").await.as_deref(),
        Some(ok_commit.as_str()),
        "the branch stays at the last acknowledged head"
    );
    use sqlx::Row;
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM commits WHERE commit_id = $1")
        .bind(&bad_commit)
        .fetch_one(db.pool())
        .await
        .expect("count")
        .try_get("n")
        .expect("n");
    assert_eq!(n, 0, "nothing of the failed push remains");
}

// --- the disk fills up mid-push --------------------------------------------------------------

#[tokio::test]
async fn disk_full_mid_push_fails_cleanly_and_recovers() {
    if !is_root() {
        return skip("disk_full", "not root");
    }
    let fs = match Mount::tmpfs("4m") {
        Ok(m) => m,
        Err(e) => return skip("disk_full", &e),
    };
    let work = temp_dir("faults-full");
    let file = fs.dir.join("hub.db");
    let url = sqlite_url(&file);
    let signer = Arc::new(generate_key(&url, &work, "full", None));
    let served = Served::start(
        &["--database-url", &url, "--seed-demo", "--no-rate-limits"],
        &[("RUST_LOG", "info")],
        work.join("server.log"),
    );
    let c = writer(&served.url, &signer).await;
    let before = head(&c, "full").await.expect("head");
    let (args, ok_commit, ok_object, ok_content) =
        push_args("full", "faults", "main", Some(&before), "full-1", 8 * 1024);
    assert!(c.call("muse_push", args).await.structured().is_some());

    // Fill the file system, leaving ~200 KiB; then push ~1.5 MiB (base64 makes it ~2 MiB).
    let filler = fs.dir.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).expect("filler");
        let chunk = vec![0u8; 64 * 1024];
        loop {
            if f.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = f.sync_all();
    }
    let len = std::fs::metadata(&filler).expect("filler").len();
    std::fs::File::options()
        .write(true)
        .open(&filler)
        .expect("filler")
        .set_len(len.saturating_sub(200 * 1024))
        .expect("shrink the filler");

    let (args, bad_commit, _, _) = push_args(
        "full",
        "faults",
        "main",
        Some(&ok_commit),
        "full-2",
        1536 * 1024,
    );
    let o = c.call("muse_push", args).await;
    assert_eq!(o.kind(), "tool:internal", "push on a full disk: {o:?}");
    assert_eq!(head(&c, "full").await.as_deref(), Some(ok_commit.as_str()));

    // Space again: the next push succeeds, the server never stopped.
    std::fs::remove_file(&filler).expect("remove the filler");
    let (args, next_commit, next_object, next_content) = push_args(
        "full",
        "faults",
        "main",
        Some(&ok_commit),
        "full-3",
        8 * 1024,
    );
    let o = c.call("muse_push", args).await;
    assert!(
        o.structured().is_some(),
        "push after space came back: {o:?}"
    );
    drop(c);
    served.signal("TERM");
    let mut served = served;
    assert!(served.wait_exit(Duration::from_secs(30)).is_some());

    let db = assert_consistent(&file).await;
    assert!(push_is_whole(&db, &ok_commit, &ok_object, &ok_content).await);
    assert!(push_is_whole(&db, &next_commit, &next_object, &next_content).await);
    use sqlx::Row;
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM commits WHERE commit_id = $1")
        .bind(&bad_commit)
        .fetch_one(db.pool())
        .await
        .expect("count")
        .try_get("n")
        .expect("n");
    assert_eq!(n, 0, "nothing of the failed push remains");
}

// --- the process is killed mid-push ----------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_push_leaves_the_old_or_the_new_head() {
    let work = temp_dir("faults-kill");
    let file = work.join("hub.db");
    let url = sqlite_url(&file);
    let signer = Arc::new(generate_key(&url, &work, "kill", None));
    let mut acked: Vec<(String, String, Vec<u8>)> = Vec::new();
    let mut attempted: Vec<String> = Vec::new();
    for round in 0..4u64 {
        let mut served = Served::start(
            &["--database-url", &url, "--seed-demo", "--no-rate-limits"],
            &[("RUST_LOG", "warn")],
            work.join(format!("server-{round}.log")),
        );
        let c = writer(&served.url, &signer).await;
        let start_head = head(&c, "kill").await.expect("head");
        // Pushes back to back (each ~0.5-1 MiB) until the kill lands mid-way.
        let pusher = {
            let c = c.clone();
            tokio::spawn(async move {
                let mut parent = start_head;
                let mut done = Vec::new();
                let mut tried = Vec::new();
                for i in 0.. {
                    let tag = format!("k{round}-{i}");
                    let (args, commit, object, content) = push_args(
                        "kill",
                        "faults",
                        "main",
                        Some(&parent),
                        &tag,
                        512 * 1024 + (i % 7) * 65_536,
                    );
                    tried.push(commit.clone());
                    let o = c.call("muse_push", args).await;
                    if o.structured().is_some() {
                        done.push((commit.clone(), object, content));
                        parent = commit;
                    } else {
                        break;
                    }
                }
                (done, tried)
            })
        };
        tokio::time::sleep(Duration::from_millis(400 + round * 170)).await;
        served.signal("KILL");
        served.wait_exit(Duration::from_secs(10)).expect("killed");
        let (done, tried) = pusher.await.expect("pusher");
        acked.extend(done);
        attempted.extend(tried);

        // On restart the branch is at an acknowledged head or at the push in flight, whole.
        let db = assert_consistent(&file).await;
        let now = branch_head(&db, "kill", "faults", "main")
            .await
            .expect("head after restart");
        let last_acked = acked.last().map(|a| a.0.clone());
        let in_flight = attempted.last().cloned();
        assert!(
            Some(&now) == last_acked.as_ref()
                || Some(&now) == in_flight.as_ref()
                || (last_acked.is_none() && !attempted.contains(&now)),
            "round {round}: head {now} is neither the last acknowledged ({last_acked:?}) nor the one in flight ({in_flight:?})"
        );
        for (commit, object, content) in &acked {
            assert!(
                push_is_whole(&db, commit, object, content).await,
                "acknowledged push {commit} lost or partial after SIGKILL"
            );
        }
        db.pool().close().await;
        // If the in-flight push did land, it is the new head: continue from it next round.
        if Some(&now) == in_flight.as_ref() && Some(&now) != last_acked.as_ref() {
            eprintln!("round {round}: the push in flight at the kill landed whole ({now})");
        }
    }
    assert!(
        !acked.is_empty(),
        "no push was acknowledged before any kill"
    );
}

// --- a tool panics ---------------------------------------------------------------------------

/// Panics on purpose (fault injection; registered only in this test binary).
#[musehub_mcp::tool(read_only)]
async fn fault_injection_panic(#[arg(desc = "The panic message")] message: String) -> String {
    panic!("{message}")
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct LogBuffer(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

/// The process-wide log (one global subscriber per test binary; tests find their own lines
/// by a unique marker or their session id).
fn global_log() -> LogBuffer {
    static LOG: std::sync::OnceLock<LogBuffer> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        let log = LogBuffer::default();
        let writer = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_env_filter("info")
            .with_writer(move || writer.clone())
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        log
    })
    .clone()
}

/// The application (the binary's `http::app`) in-process, logging JSON into [`global_log`].
async fn served_in_process() -> (String, tokio::sync::oneshot::Sender<()>) {
    let db = musehub_server::Db::memory().await.expect("db");
    let auth = musehub_server::AuthSettings {
        rate_limits: None,
        ..musehub_server::AuthSettings::default()
    };
    let server =
        musehub_server::build_server(db.clone(), musehub_mcp::ServerConfig::default(), &auth)
            .expect("server");
    let app = musehub_server::http::app(server.clone(), db);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(musehub_mcp::transport::http::serve_router(
        server,
        app,
        listener,
        async {
            let _ = rx.await;
        },
    ));
    (url, tx)
}

#[tokio::test]
async fn a_panicking_tool_gets_an_internal_error_and_the_server_keeps_serving() {
    let log = global_log();
    let (url, _stop) = served_in_process().await;
    let mut c = Mcp::new(&url, None);
    c.initialize().await.expect("initialize");
    let marker = format!("injected-panic-{}", uuid::Uuid::new_v4());
    let o = c
        .call("fault_injection_panic", json!({"message": marker}))
        .await;
    match &o {
        Outcome::RpcError(e) => {
            assert_eq!(e["code"], json!(-32603), "{e}");
            let msg = e["message"].as_str().unwrap_or("");
            assert!(
                !msg.contains(&marker),
                "the panic message must not reach the client: {msg}"
            );
        }
        other => panic!("a panicking tool must answer an internal error: {other:?}"),
    }
    // Still serving, on the same session and on new ones.
    for _ in 0..3 {
        let r = c.call("musehub_list_domains", json!({})).await;
        assert!(r.structured().is_some(), "{r:?}");
    }
    let mut c2 = Mcp::new(&url, None);
    c2.initialize()
        .await
        .expect("a new session after the panic");
    // The panic is logged, with the tool.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let text = log.text();
    let line = text
        .lines()
        .find(|l| l.contains(&marker) && l.contains("tool panicked"))
        .unwrap_or_else(|| panic!("no `tool panicked` log line with the message:\n{text}"));
    assert!(line.contains("fault_injection_panic"), "{line}");
}

/// The panic's log line names the request: the request log's `request_id` is on it, so it can
/// be tied to the `http request` line.
#[tokio::test]
async fn the_panic_log_line_names_the_request() {
    let log = global_log();
    let (url, _stop) = served_in_process().await;
    let mut c = Mcp::new(&url, None);
    c.initialize().await.expect("initialize");
    let marker = format!("injected-panic-{}", uuid::Uuid::new_v4());
    let _ = c
        .call("fault_injection_panic", json!({"message": marker}))
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let text = log.text();
    let panic_line: Value = text
        .lines()
        .find(|l| l.contains(&marker) && l.contains("tool panicked"))
        .and_then(|l| musehub_mcp::serde_json::from_str(l).ok())
        .expect("panic line");
    let request_line: Value = text
        .lines()
        .filter_map(|l| musehub_mcp::serde_json::from_str::<Value>(l).ok())
        .find(|v| {
            v["fields"]["tool"] == "fault_injection_panic"
                && v["fields"]["session_id"].as_str() == c.session.as_deref()
        })
        .expect("request log line");
    let request_id = request_line["fields"]["request_id"]
        .as_str()
        .expect("request id");
    assert!(
        panic_line.to_string().contains(request_id),
        "the panic line {panic_line} does not carry the request id {request_id}"
    );
}

// --- graceful shutdown on SIGTERM -------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_in_flight_calls_closes_streams_and_loses_no_write() {
    let work = temp_dir("faults-term");
    let file = work.join("hub.db");
    let url = sqlite_url(&file);
    let signers: Vec<Arc<MSignSigner>> = (0..4)
        .map(|i| Arc::new(generate_key(&url, &work, &format!("term{i}"), None)))
        .collect();
    let mut served = Served::start(
        &["--database-url", &url, "--seed-demo", "--no-rate-limits"],
        &[("RUST_LOG", "info")],
        work.join("server.log"),
    );
    let mut clients = Vec::new();
    for s in &signers {
        clients.push(writer(&served.url, s).await);
    }
    // An open GET stream on one session.
    let stream = clients[0].open_stream().await.expect("GET stream");
    assert_eq!(stream.status().as_u16(), 200);
    let stream_reader = tokio::spawn(async move {
        let started = Instant::now();
        let body = tokio::time::timeout(Duration::from_secs(40), stream.bytes()).await;
        (
            started.elapsed(),
            body.map(|b| b.map(|b| String::from_utf8_lossy(&b).into_owned())),
        )
    });
    // Each client pushes back to back; SIGTERM lands while calls are in flight.
    let pushers: Vec<_> = clients
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let c = c.clone();
            let owner = format!("term{i}");
            tokio::spawn(async move {
                let mut parent = head(&c, &owner).await.expect("head");
                let mut done = Vec::new();
                let mut refused = 0;
                for n in 0..200 {
                    let tag = format!("{owner}-{n}");
                    let (args, commit, object, content) =
                        push_args(&owner, "faults", "main", Some(&parent), &tag, 128 * 1024);
                    match c.call("muse_push", args).await {
                        o if o.structured().is_some() => {
                            done.push((commit.clone(), object, content));
                            parent = commit;
                        }
                        Outcome::Transport(_) => {
                            refused += 1;
                            break;
                        }
                        other => panic!("push {tag}: {other:?}"),
                    }
                }
                (done, refused)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let term_at = Instant::now();
    served.signal("TERM");
    let status = served.wait_exit(Duration::from_secs(30));
    let exit_after = term_at.elapsed();
    let mut acked = Vec::new();
    for p in pushers {
        let (done, _) = p.await.expect("pusher");
        acked.extend(done);
    }
    let (stream_open_for, stream_body) = stream_reader.await.expect("stream reader");
    let log = served.log_text();

    assert!(
        status.is_some_and(|s| s.success()),
        "exit on SIGTERM: {status:?}; log:\n{log}"
    );
    // The default grace is 10 s; twice that is the hard bound of the shutdown.
    assert!(
        exit_after < Duration::from_secs(21),
        "exit took {exit_after:?}"
    );
    assert!(
        stream_body.is_ok(),
        "the SSE stream was not closed by the shutdown (open {stream_open_for:?})"
    );
    assert!(log.contains("shutting down"), "{log}");
    let db = assert_consistent(&file).await;
    assert!(!acked.is_empty(), "no push acknowledged before SIGTERM");
    for (commit, object, content) in &acked {
        assert!(
            push_is_whole(&db, commit, object, content).await,
            "acknowledged push {commit} lost on SIGTERM"
        );
    }
    eprintln!(
        "sigterm: {} pushes acknowledged, exit after {exit_after:?}, SSE stream closed after \
         {stream_open_for:?}; its last bytes: {:?}",
        acked.len(),
        stream_body
            .as_ref()
            .ok()
            .and_then(|b| b.as_ref().ok())
            .map(|b| b
                .chars()
                .rev()
                .take(200)
                .collect::<String>()
                .chars()
                .rev()
                .collect::<String>())
    );
}
