//! Soak test (bounded, loopback only; `#[ignore]`d: `tests/soak/run.sh` runs it).
//!
//! Phase 1, the `musehub-server` binary on a SQLite file, for `SOAK_SECONDS` (default 60):
//! `SOAK_WORKERS` (default 12) concurrent clients each open a session (MSign-signed, keys made
//! with `musehub-server keys generate`), do a random mix of reads, writes, `muse_push`es
//! (several clients push to the same branch, so fast-forward races happen), interactive tools
//! with their bypass arguments and `GET` streams, then delete the session or abandon it. At
//! the end: every acknowledged push is in the database, whole, and on its branch's history;
//! no row points at nothing; no unexpected error; memory (RSS from `/proc`) back near its
//! start once the sessions are gone; SIGTERM ends the process cleanly.
//!
//! Phase 2, in-process (the binary has no setting for the session idle timeout): the same
//! application with a 2 s idle timeout, clients that abandon their sessions, and the session
//! count back to zero after expiry.
//!
//! Figures are printed and, with `SOAK_REPORT=FILE`, written as JSON (`tests/soak/run.sh` puts
//! them into docs/reliability.md).

mod reliability;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use musehub_mcp::auth::MSignSigner;
use musehub_mcp::serde_json::{Value, json};
use parking_lot_free::Counts;
use rand::Rng;
use reliability::*;

/// Counters shared by the workers (a std `Mutex`: no extra dependency).
mod parking_lot_free {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    #[derive(Default)]
    pub struct Counts(Mutex<BTreeMap<String, u64>>);

    impl Counts {
        pub fn add(&self, kind: &str) {
            let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
            *m.entry(kind.to_string()).or_default() += 1;
        }
        pub fn snapshot(&self) -> BTreeMap<String, u64> {
            self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
        }
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// An acknowledged push.
#[derive(Clone, Debug)]
struct Acked {
    owner: String,
    commit: String,
    object: String,
    content: Vec<u8>,
}

struct Shared {
    url: String,
    signers: Vec<Arc<MSignSigner>>,
    kinds: Counts,
    requests: AtomicU64,
    sessions_created: AtomicU64,
    sessions_deleted: AtomicU64,
    sessions_abandoned: AtomicU64,
    streams_opened: AtomicU64,
    acked: std::sync::Mutex<Vec<Acked>>,
    abandoned: std::sync::Mutex<Vec<Mcp>>,
    seq: AtomicU64,
}

/// Tool errors that are part of the game: a push that lost a fast-forward race, a write that
/// lost a number race (`conflict`).
const EXPECTED_TOOL_ERRORS: &[&str] = &["tool:non_fast_forward", "tool:conflict"];

const READS: &[(&str, &str)] = &[
    ("musehub_search_repos", r#"{"query": "jazz"}"#),
    (
        "musehub_get_context",
        r#"{"owner": "alice", "slug": "jazz-session"}"#,
    ),
    (
        "musehub_list_commits",
        r#"{"owner": "alice", "slug": "jazz-session"}"#,
    ),
    ("musehub_list_domains", r#"{}"#),
    ("musehub_whoami", r#"{}"#),
];

async fn head_of(c: &Mcp, owner: &str) -> Option<String> {
    let o = c
        .call(
            "musehub_list_branches",
            json!({"owner": owner, "slug": "soak"}),
        )
        .await;
    o.structured()?["branches"]
        .as_array()?
        .iter()
        .find(|b| b["name"] == "main")?["head_commit_id"]
        .as_str()
        .map(String::from)
}

async fn one_op(s: &Shared, c: &Mcp, owner: &str, rng_pick: u32, n: u64) -> Outcome {
    match rng_pick {
        0..40 => {
            let (tool, args) = READS[(n as usize) % READS.len()];
            match n % 7 {
                5 => {
                    c.request(
                        "resources/read",
                        json!({"uri": "musehub://repos/alice/jazz-session"}),
                    )
                    .await
                }
                6 => c.request("tools/list", json!({})).await,
                _ => {
                    c.call(
                        tool,
                        musehub_mcp::serde_json::from_str(args).unwrap_or(json!({})),
                    )
                    .await
                }
            }
        }
        40..55 => {
            if n.is_multiple_of(2) {
                c.call(
                    "musehub_create_issue",
                    json!({"owner": owner, "slug": "soak", "title": format!("soak issue {n}"), "body": "from the soak test"}),
                )
                .await
            } else {
                c.call(
                    "musehub_star_repo",
                    json!({"owner": "alice", "slug": "jazz-session"}),
                )
                .await
            }
        }
        55..80 => {
            let parent = head_of(c, owner).await;
            s.requests.fetch_add(1, Ordering::Relaxed);
            let tag = format!("{owner}-{n}");
            let (args, commit, object, content) =
                push_args(owner, "soak", "main", parent.as_deref(), &tag, 64 + (n as usize % 4096));
            let o = c.call("muse_push", args).await;
            if o.structured().is_some() {
                s.acked
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(Acked {
                        owner: owner.to_string(),
                        commit,
                        object,
                        content,
                    });
            }
            o
        }
        80..95 => match n % 4 {
            0 => {
                c.call(
                    "musehub_create_with_preferences",
                    json!({"preferences": {}}),
                )
                .await
            }
            1 => {
                c.call("musehub_connect_daw_cloud", json!({"service": "Splice"}))
                    .await
            }
            2 => {
                c.call(
                    "musehub_connect_streaming_platform",
                    json!({"platform": "Deezer"}),
                )
                .await
            }
            _ => {
                c.call(
                    "musehub_create_release_interactive",
                    json!({"owner": owner, "slug": "soak", "tag": format!("v0.{n}"), "notes": "soak"}),
                )
                .await
            }
        },
        _ => {
            // Open the GET stream, read a moment, drop it.
            s.streams_opened.fetch_add(1, Ordering::Relaxed);
            match c.open_stream().await {
                Ok(r) if r.status().as_u16() == 200 => {
                    let _ = tokio::time::timeout(Duration::from_millis(50), r.bytes()).await;
                    Outcome::Ok(json!({}))
                }
                Ok(r) => Outcome::Http(r.status().as_u16(), String::new()),
                Err(e) => Outcome::Transport(e),
            }
        }
    }
}

async fn worker(s: Arc<Shared>, index: usize, deadline: Instant) {
    let signer = s.signers[index % s.signers.len()].clone();
    let owner = signer_handle(index, s.signers.len());
    while Instant::now() < deadline {
        let mut c = Mcp::new(&s.url, Some(signer.clone()));
        s.requests.fetch_add(2, Ordering::Relaxed);
        if let Err(o) = c.initialize().await {
            s.kinds.add(&format!("initialize:{}", o.kind()));
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        s.sessions_created.fetch_add(1, Ordering::Relaxed);
        let ops = rand::rng().random_range(4..16);
        for _ in 0..ops {
            if Instant::now() >= deadline {
                break;
            }
            let pick = rand::rng().random_range(0..100u32);
            let n = s.seq.fetch_add(1, Ordering::Relaxed);
            let o = one_op(&s, &c, &owner, pick, n).await;
            s.requests.fetch_add(1, Ordering::Relaxed);
            s.kinds.add(&o.kind());
        }
        if rand::rng().random_range(0..10) < 6 {
            s.requests.fetch_add(1, Ordering::Relaxed);
            let status = c.delete().await;
            s.kinds.add(&format!("delete:{status}"));
            s.sessions_deleted.fetch_add(1, Ordering::Relaxed);
        } else {
            s.sessions_abandoned.fetch_add(1, Ordering::Relaxed);
            s.abandoned
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(c);
        }
    }
}

fn signer_handle(index: usize, n: usize) -> String {
    format!("soak{}", index % n)
}

/// Every commit reachable from `head` in `owner/soak`.
async fn history(
    db: &musehub_server::Db,
    owner: &str,
    head: &str,
) -> std::collections::HashSet<String> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT c.commit_id, c.parent_ids FROM commits c JOIN repos r ON r.id = c.repo_id \
         WHERE r.owner = $1 AND r.slug = 'soak'",
    )
    .bind(owner)
    .fetch_all(db.pool())
    .await
    .expect("commits");
    let parents: HashMap<String, Vec<String>> = rows
        .iter()
        .map(|r| {
            (
                r.try_get::<String, _>("commit_id").unwrap_or_default(),
                musehub_mcp::serde_json::from_str(
                    &r.try_get::<String, _>("parent_ids").unwrap_or_default(),
                )
                .unwrap_or_default(),
            )
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    let mut todo = vec![head.to_string()];
    while let Some(c) = todo.pop() {
        if seen.insert(c.clone())
            && let Some(ps) = parents.get(&c)
        {
            todo.extend(ps.iter().cloned());
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "soak test: run by tests/soak/run.sh (SOAK_SECONDS, default 60)"]
async fn soak() {
    let seconds = env_u64("SOAK_SECONDS", 60);
    let workers = env_u64("SOAK_WORKERS", 12) as usize;
    let writers = 4usize;
    let dir = temp_dir("soak");
    let file = dir.join("soak.db");
    let url = sqlite_url(&file);

    // Keys, made the way an operator makes them (agents: no human-sized rate limit applies,
    // and the run has no rate limits anyway).
    let signers: Vec<Arc<MSignSigner>> = (0..writers)
        .map(|i| {
            Arc::new(generate_key(
                &url,
                &dir,
                &signer_handle(i, writers),
                Some("soak agent"),
            ))
        })
        .collect();
    let mut served = Served::start(
        &["--database-url", &url, "--seed-demo", "--no-rate-limits"],
        &[("RUST_LOG", "warn")],
        dir.join("server.log"),
    );
    println!(
        "soak: {} for {seconds} s with {workers} clients",
        served.url
    );

    // Each writer's repository, with a main branch.
    for signer in &signers {
        let mut c = Mcp::new(&served.url, Some(signer.clone()));
        c.initialize().await.expect("initialize");
        let o = c
            .call(
                "musehub_create_repo",
                json!({"name": "soak", "description": "soak test"}),
            )
            .await;
        assert!(o.structured().is_some(), "create_repo: {o:?}");
        c.delete().await;
    }
    // Warm up (first-use allocations, the docs cache), then the baseline.
    {
        let c = {
            let mut c = Mcp::new(&served.url, None);
            c.initialize().await.expect("initialize");
            c
        };
        for _ in 0..20 {
            for (tool, args) in READS {
                let _ = c
                    .call(
                        tool,
                        musehub_mcp::serde_json::from_str(args).unwrap_or(json!({})),
                    )
                    .await;
            }
        }
        let mut c = c;
        c.delete().await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_start = served.rss_kib();

    let shared = Arc::new(Shared {
        url: served.url.clone(),
        signers,
        kinds: Counts::default(),
        requests: AtomicU64::new(0),
        sessions_created: AtomicU64::new(0),
        sessions_deleted: AtomicU64::new(0),
        sessions_abandoned: AtomicU64::new(0),
        streams_opened: AtomicU64::new(0),
        acked: std::sync::Mutex::new(Vec::new()),
        abandoned: std::sync::Mutex::new(Vec::new()),
        seq: AtomicU64::new(0),
    });
    let pid = served.pid();
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        tokio::spawn(async move {
            let mut peak = 0u64;
            while sampling.load(Ordering::Relaxed) {
                peak = peak.max(rss_kib(pid));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            peak
        })
    };
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..workers)
        .map(|i| tokio::spawn(worker(shared.clone(), i, deadline)))
        .collect();
    for t in tasks {
        t.await.expect("worker");
    }
    let elapsed = started.elapsed();
    // The abandoned sessions: the binary would end them after its 30 min idle timeout (not
    // configurable from the binary); delete them so memory can be compared.
    let abandoned: Vec<Mcp> =
        std::mem::take(&mut *shared.abandoned.lock().unwrap_or_else(|e| e.into_inner()));
    let mut cleanup_ok = 0;
    for mut c in abandoned {
        if c.delete().await == 200 {
            cleanup_ok += 1;
        }
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_end = served.rss_kib();
    sampling.store(false, Ordering::Relaxed);
    let rss_peak = sampler.await.expect("sampler").max(rss_end);

    // SIGTERM: a clean exit within the grace period.
    served.signal("TERM");
    let status = served.wait_exit(Duration::from_secs(30));

    let db = open_db(&file).await;
    let problems = consistency_problems(&db).await;
    let acked = shared
        .acked
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let mut missing = Vec::new();
    let mut heads = BTreeMap::new();
    for a in &acked {
        if !push_is_whole(&db, &a.commit, &a.object, &a.content).await {
            missing.push(a.commit.clone());
        }
    }
    for i in 0..writers {
        let owner = signer_handle(i, writers);
        let head = branch_head(&db, &owner, "soak", "main")
            .await
            .expect("soak head");
        let reachable = history(&db, &owner, &head).await;
        for a in acked.iter().filter(|a| a.owner == owner) {
            if !reachable.contains(&a.commit) {
                missing.push(format!("{} (not in main's history)", a.commit));
            }
        }
        heads.insert(owner, head);
    }

    // Phase 2: session expiry, in-process (the binary cannot shorten the idle timeout).
    let expiry = session_expiry_phase(workers, seconds).await;

    let kinds = shared.kinds.snapshot();
    let requests = shared.requests.load(Ordering::Relaxed);
    let unexpected: BTreeMap<&String, &u64> = kinds
        .iter()
        .filter(|(k, _)| {
            !(k.as_str() == "ok"
                || k.as_str() == "delete:200"
                || EXPECTED_TOOL_ERRORS.contains(&k.as_str()))
        })
        .collect();
    let report = json!({
        "seconds": elapsed.as_secs_f64(),
        "clients": workers,
        "requests": requests,
        "requests_per_second": requests as f64 / elapsed.as_secs_f64(),
        "sessions_created": shared.sessions_created.load(Ordering::Relaxed),
        "sessions_deleted": shared.sessions_deleted.load(Ordering::Relaxed),
        "sessions_abandoned": shared.sessions_abandoned.load(Ordering::Relaxed),
        "abandoned_deleted_at_end": cleanup_ok,
        "get_streams": shared.streams_opened.load(Ordering::Relaxed),
        "pushes_acknowledged": acked.len(),
        "pushes_missing_or_partial": missing.len(),
        "outcomes": kinds,
        "unexpected": unexpected,
        "consistency_problems": problems,
        "rss_start_kib": rss_start,
        "rss_peak_kib": rss_peak,
        "rss_end_kib": rss_end,
        "exit_on_sigterm": status.map(|s| s.to_string()),
        "expiry": expiry,
    });
    println!(
        "SOAK FIGURES {}",
        musehub_mcp::serde_json::to_string_pretty(&report).unwrap_or_default()
    );
    if let Ok(path) = std::env::var("SOAK_REPORT") {
        std::fs::write(&path, report.to_string()).expect("write SOAK_REPORT");
    }

    assert!(problems.is_empty(), "inconsistent database: {problems:?}");
    assert!(
        missing.is_empty(),
        "acknowledged pushes lost or partial: {missing:?}"
    );
    assert!(!acked.is_empty(), "no push was acknowledged");
    assert!(
        unexpected.is_empty(),
        "unexpected outcomes: {unexpected:?}; server log {}",
        served.log.display()
    );
    assert!(
        status.is_some_and(|s| s.success()),
        "SIGTERM: exit status {status:?}"
    );
    // "Near its start": allocators keep some freed memory; allow 64 MiB or 50 %.
    let allowed = rss_start + (rss_start / 2).max(64 * 1024);
    assert!(
        rss_end <= allowed,
        "memory did not return near its start: {rss_start} KiB -> {rss_end} KiB (peak {rss_peak})"
    );
    assert_eq!(
        expiry["sessions_after_expiry"],
        json!(0),
        "sessions left after expiry: {expiry}"
    );
}

/// The application in-process with a 2 s idle timeout: clients open sessions, call a tool and
/// walk away; the session count must fall back to zero.
async fn session_expiry_phase(workers: usize, seconds: u64) -> Value {
    let idle = Duration::from_secs(2);
    let db = musehub_server::Db::memory().await.expect("db");
    musehub_server::seed::seed_demo(&db).await.expect("seed");
    let config = {
        let mut c = musehub_mcp::ServerConfig::default();
        c.session_idle_timeout = idle;
        c.session_sweep_interval = Duration::from_millis(250);
        c
    };
    let auth = musehub_server::AuthSettings {
        rate_limits: None,
        ..musehub_server::AuthSettings::default()
    };
    let server = musehub_server::build_server(db.clone(), config, &auth).expect("server");
    let app = musehub_server::http::app(server.clone(), db);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/mcp", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(musehub_mcp::transport::http::serve_router(
        server.clone(),
        app,
        listener,
        async {
            let _ = stopped.await;
        },
    ));
    let run_for = Duration::from_secs((seconds / 4).clamp(3, 20));
    let deadline = Instant::now() + run_for;
    let opened = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let url = url.clone();
            let opened = opened.clone();
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let mut c = Mcp::new(&url, None);
                    if c.initialize().await.is_ok() {
                        opened.fetch_add(1, Ordering::Relaxed);
                        let _ = c
                            .call("musehub_search_repos", json!({"query": "lofi"}))
                            .await;
                    }
                }
            })
        })
        .collect();
    let mut peak = 0;
    while Instant::now() < deadline {
        peak = peak.max(server.session_count());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for t in tasks {
        t.await.expect("expiry worker");
    }
    let before = server.session_count();
    let waited = Instant::now();
    while server.session_count() != 0 && waited.elapsed() < idle * 5 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = server.session_count();
    let _ = stop.send(());
    let _ = serving.await;
    json!({
        "idle_timeout_s": idle.as_secs(),
        "sessions_opened": opened.load(Ordering::Relaxed),
        "peak_sessions": peak.max(before),
        "sessions_at_end_of_load": before,
        "sessions_after_expiry": after,
        "expired_within_s": waited.elapsed().as_secs_f64(),
    })
}
