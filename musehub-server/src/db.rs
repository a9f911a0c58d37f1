//! The data layer: one `sqlx` pool over SQLite (embedded, the default) or PostgreSQL, the
//! embedded migrations, and the small helpers every query uses.
//!
//! Queries are written once in portable SQL with `$1`-style placeholders (SQLite accepts
//! them too) and run through `sqlx::Any`, so the same code serves both databases.

use std::borrow::Cow;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use musehub_mcp::ToolError;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Row};

use crate::blobs::BlobStore;

/// The migrations, embedded in the binary (portable SQL, see `migrations/`).
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../migrations/0001_initial.sql")),
    (
        2,
        "msign keys",
        include_str!("../migrations/0002_msign_keys.sql"),
    ),
    (
        3,
        "object store",
        include_str!("../migrations/0003_object_store.sql"),
    ),
    (4, "oauth", include_str!("../migrations/0004_oauth.sql")),
];

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, a file or `sqlite::memory:`.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// Hub-wide settings the tools need.
#[derive(Debug, Clone)]
pub struct HubSettings {
    /// The public base URL of the hub (remote URLs, connect links).
    pub public_url: String,
    /// Per-user storage quota for pushed objects, in bytes.
    pub push_quota_bytes: i64,
    /// Where object bytes are stored; `None` derives it from the database URL
    /// ([`crate::blobs::default_store`]: next to a SQLite file).
    pub objects_dir: Option<PathBuf>,
    /// Largest object accepted, in bytes (default 1 GiB).
    pub max_object_bytes: u64,
    /// Largest request body of one object upload over HTTP, in bytes (default 4 MiB): larger
    /// objects go up in several `Content-Range` pieces, each signed and held in memory only
    /// while its signature is checked.
    pub upload_chunk_bytes: usize,
    /// Largest object whose bytes an MCP call returns inline, base64 (`musehub_read_file`,
    /// `muse_pull`, the blob resource; default 4 MiB). Larger ones are read over HTTP.
    pub max_inline_read_bytes: u64,
}

impl Default for HubSettings {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".into(),
            push_quota_bytes: 10 * 1024 * 1024 * 1024,
            objects_dir: None,
            max_object_bytes: 1024 * 1024 * 1024,
            upload_chunk_bytes: 4 * 1024 * 1024,
            max_inline_read_bytes: 4 * 1024 * 1024,
        }
    }
}

/// The shared database handle (cheap to clone) registered as server state.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    settings: Arc<HubSettings>,
    blobs: BlobStore,
}

/// A database failure that must not reach the caller verbatim.
#[derive(Debug)]
pub struct DbError(pub sqlx::Error);

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "database error: {}", self.0)
    }
}

impl Db {
    /// Connects to `url` (`sqlite://path`, `sqlite::memory:`, `postgres://...`), runs the
    /// migrations and moves object bytes older versions kept in rows into the object store.
    /// A SQLite file is created when missing.
    pub async fn connect(url: &str, settings: HubSettings) -> Result<Db, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let blobs = match &settings.objects_dir {
            Some(dir) => BlobStore::new(dir),
            None => crate::blobs::default_store(url),
        };
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(sqlx::Error::Configuration(
                format!("unsupported database URL `{url}`: use sqlite:// or postgres://").into(),
            ));
        };
        let memory = backend == Backend::Sqlite && url.contains(":memory:");
        let url = if backend == Backend::Sqlite && !memory && !url.contains("mode=") {
            // Create the file on first run.
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}mode=rwc")
        } else {
            url.to_string()
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let mut pool = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        if memory {
            // Every connection to `:memory:` is a separate database: keep exactly one, forever.
            pool = pool
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        } else if backend == Backend::Sqlite {
            pool = pool.max_connections(8).after_connect(|conn, _| {
                Box::pin(async move {
                    // WAL lets readers run while one writer commits; the busy timeout makes a
                    // second writer wait instead of failing.
                    sqlx::query("PRAGMA journal_mode=WAL")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA busy_timeout=10000")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA foreign_keys=ON")
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            });
        } else {
            pool = pool.max_connections(16);
        }
        let pool = pool.connect_with(options).await?;
        if memory {
            sqlx::query("PRAGMA foreign_keys=ON").execute(&pool).await?;
        }
        migrator()
            .run(&pool)
            .await
            .map_err(|e| sqlx::Error::Migrate(Box::new(e)))?;
        let db = Db {
            pool,
            backend,
            settings: Arc::new(settings),
            blobs,
        };
        crate::discovery::ensure_builtin(&db).await?;
        let moved = crate::history::move_inline_objects(&db).await?;
        if moved > 0 {
            tracing::info!(objects = moved, dir = %db.blobs.root().display(), "moved object bytes from the database into the object store");
        }
        Ok(db)
    }

    /// A fresh in-memory SQLite database with the schema (for tests).
    pub async fn memory() -> Result<Db, sqlx::Error> {
        Db::connect("sqlite::memory:", HubSettings::default()).await
    }

    /// The pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Hub settings.
    pub fn settings(&self) -> &HubSettings {
        &self.settings
    }

    /// The object store.
    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// True when the database holds no user yet (a fresh install).
    pub async fn is_empty(&self) -> Result<bool, sqlx::Error> {
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM users")
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        Ok(n == 0)
    }
}

fn migrator() -> Migrator {
    let migrations: Vec<Migration> = MIGRATIONS
        .iter()
        .map(|(version, desc, sql)| {
            Migration::new(
                *version,
                Cow::Borrowed(*desc),
                MigrationType::Simple,
                Cow::Borrowed(*sql),
                false,
            )
        })
        .collect();
    Migrator {
        migrations: Cow::Owned(migrations),
        ignore_missing: false,
        locking: true,
        no_tx: false,
    }
}

/// Logs a database error and returns the opaque error the caller sees.
pub fn dberr(e: sqlx::Error) -> ToolError {
    tracing::error!(error = %e, "database error");
    ToolError::new("internal", "database error")
}

/// `.db()?` on any sqlx result: log the details, hand the caller an opaque error.
pub trait DbResultExt<T> {
    /// Maps the error through [`dberr`].
    fn db(self) -> Result<T, ToolError>;
}

impl<T> DbResultExt<T> for Result<T, sqlx::Error> {
    fn db(self) -> Result<T, ToolError> {
        self.map_err(dberr)
    }
}

/// Typed column access that maps decoding failures to an opaque error.
pub trait RowExt {
    /// A text column.
    fn text(&self, col: &str) -> Result<String, ToolError>;
    /// A nullable text column.
    fn opt_text(&self, col: &str) -> Result<Option<String>, ToolError>;
    /// An integer column.
    fn int(&self, col: &str) -> Result<i64, ToolError>;
    /// A nullable float column.
    fn opt_float(&self, col: &str) -> Result<Option<f64>, ToolError>;
    /// A JSON array of strings stored as text.
    fn string_list(&self, col: &str) -> Result<Vec<String>, ToolError>;
    /// A JSON document stored as text.
    fn json(&self, col: &str) -> Result<serde_json::Value, ToolError>;
}

impl RowExt for AnyRow {
    fn text(&self, col: &str) -> Result<String, ToolError> {
        self.try_get::<String, _>(col).db()
    }
    fn opt_text(&self, col: &str) -> Result<Option<String>, ToolError> {
        self.try_get::<Option<String>, _>(col).db()
    }
    fn int(&self, col: &str) -> Result<i64, ToolError> {
        self.try_get::<i64, _>(col).db()
    }
    fn opt_float(&self, col: &str) -> Result<Option<f64>, ToolError> {
        self.try_get::<Option<f64>, _>(col).db()
    }
    fn string_list(&self, col: &str) -> Result<Vec<String>, ToolError> {
        Ok(serde_json::from_str(&self.text(col)?).unwrap_or_default())
    }
    fn json(&self, col: &str) -> Result<serde_json::Value, ToolError> {
        Ok(serde_json::from_str(&self.text(col)?).unwrap_or(serde_json::Value::Null))
    }
}

/// The current time as RFC 3339 UTC with microseconds (sortable as text).
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// A new random identifier.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// True when the error is a unique-constraint violation (both databases).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => {
            d.is_unique_violation()
                || d.message().contains("UNIQUE constraint failed")
                || d.code().as_deref() == Some("23505")
        }
        _ => false,
    }
}

/// Runs a `SELECT COUNT(*) AS n ... WHERE repo_id = $1` query.
pub(crate) async fn count(db: &Db, sql: &str, repo_id: &str) -> Result<i64, ToolError> {
    sqlx::query(sql)
        .bind(repo_id)
        .fetch_one(db.pool())
        .await
        .db()?
        .int("n")
}

/// Runs an insert that takes the next per-repository number, retrying once when a
/// concurrent insert took the same number.
pub(crate) async fn next_number_insert(
    db: &Db,
    table: &str,
    build: impl Fn(i64) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments<'static>>,
    repo_id: &str,
) -> Result<i64, ToolError> {
    for _ in 0..3 {
        let n: i64 = sqlx::query(&format!(
            "SELECT COALESCE(MAX(number), 0) + 1 AS n FROM {table} WHERE repo_id = $1"
        ))
        .bind(repo_id)
        .fetch_one(db.pool())
        .await
        .db()?
        .int("n")?;
        match build(n).execute(db.pool()).await {
            Ok(_) => return Ok(n),
            Err(e) if is_unique_violation(&e) => continue,
            Err(e) => return Err(dberr(e)),
        }
    }
    Err(ToolError::new(
        "conflict",
        "too many concurrent changes; try again",
    ))
}
