//! The object store: object bytes as files under one directory, named by their SHA-256
//! (`<dir>/ab/cdef…`), outside the database, so that an audio stem of any size is streamed
//! to and from disk and never held whole in memory or base64-encoded in a row.
//!
//! Every write goes to a file under `<dir>/tmp/` first and is renamed into place only once
//! its bytes hash to the expected id, so a reader never sees a partial or wrong object, and
//! two writers of the same object (the store is shared by every repository and every
//! instance) simply both produce the same file. The `objects` table holds the metadata
//! (`content_hash` names the file); see `docs/muse-protocol.md`.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use muse_core::ids::{ObjectHasher, is_id};
use musehub_mcp::ToolError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Bytes read at a time when hashing a stored file.
const HASH_BLOCK: usize = 256 * 1024;

/// What can go wrong in the object store.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// Not 64 lower-case hex digits (refused before any path is built from it).
    #[error("'{0}' is not an object id (64 lower-case hex digits)")]
    InvalidId(String),
    /// No file for this hash.
    #[error("object {0} is not in the object store")]
    Missing(String),
    /// The bytes do not hash to the id they were sent under.
    #[error("the bytes sent for object {expected} hash to {actual}")]
    Mismatch {
        /// The id the bytes were sent under.
        expected: String,
        /// What they hash to.
        actual: String,
    },
    /// The file system failed.
    #[error("object store: {op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
}

impl BlobError {
    fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> BlobError + 'a {
        move |source| BlobError::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }
}

impl BlobError {
    /// The error a caller sees: file-system details stay in the log. (Not a `From`: the
    /// framework's blanket conversion would show the path.)
    pub fn into_tool(self) -> ToolError {
        let e = self;
        match e {
            BlobError::InvalidId(_) => ToolError::invalid_argument(e.to_string()),
            BlobError::Missing(_) => ToolError::not_found(e.to_string()),
            BlobError::Mismatch { .. } => ToolError::new("object_id_mismatch", e.to_string()),
            BlobError::Io { .. } => {
                // The path and the OS error are for the operator, not the caller.
                tracing::error!(error = %e, "object store");
                ToolError::new("internal", "the object store failed; try again later")
            }
        }
    }
}

/// Removes a directory when the last handle to it goes (the store of an in-memory database,
/// which lives as long as the database does).
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The object store (cheap to clone).
#[derive(Clone)]
pub struct BlobStore {
    root: PathBuf,
    _ephemeral: Option<Arc<RemoveOnDrop>>,
}

impl std::fmt::Debug for BlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStore")
            .field("root", &self.root)
            .finish()
    }
}

impl BlobStore {
    /// The store under `root` (created on the first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            _ephemeral: None,
        }
    }

    /// A store in a fresh directory under the system temp dir, removed with the last clone.
    pub fn ephemeral() -> Self {
        let root = std::env::temp_dir().join(format!("musehub-objects-{}", uuid::Uuid::new_v4()));
        Self {
            _ephemeral: Some(Arc::new(RemoveOnDrop(root.clone()))),
            root,
        }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the object with this SHA-256 lives.
    pub fn path(&self, hash: &str) -> Result<PathBuf, BlobError> {
        if !is_id(hash) {
            return Err(BlobError::InvalidId(hash.chars().take(80).collect()));
        }
        Ok(self.root.join(&hash[..2]).join(&hash[2..]))
    }

    /// The directory of files being written.
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// True when the object is stored.
    pub async fn contains(&self, hash: &str) -> Result<bool, BlobError> {
        let path = self.path(hash)?;
        match tokio::fs::metadata(&path).await {
            Ok(m) => Ok(m.is_file()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(BlobError::io("stat", &path)(e)),
        }
    }

    /// A new file under `tmp/` for writing (its name is unique).
    pub async fn create_temp(&self) -> Result<(PathBuf, tokio::fs::File), BlobError> {
        let dir = self.tmp_dir();
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(BlobError::io("create", &dir))?;
        let path = dir.join(format!("w-{}", uuid::Uuid::new_v4().simple()));
        let file = tokio::fs::File::create(&path)
            .await
            .map_err(BlobError::io("create", &path))?;
        Ok((path, file))
    }

    /// Stores `bytes` and returns their object id. Small objects only (they are in memory
    /// already); streams go through [`BlobStore::create_temp`] and [`BlobStore::commit_temp`].
    pub async fn put(&self, bytes: &[u8]) -> Result<String, BlobError> {
        let id = muse_core::object_id(bytes);
        if self.contains(&id).await? {
            return Ok(id);
        }
        let (temp, mut file) = self.create_temp().await?;
        let written = async {
            file.write_all(bytes).await?;
            file.sync_all().await
        }
        .await;
        if let Err(e) = written {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(BlobError::io("write", &temp)(e));
        }
        drop(file);
        self.install(&temp, &id).await?;
        Ok(id)
    }

    /// Moves a finished temp file into place as object `hash` after checking that its bytes
    /// hash to it (read back in blocks: memory stays bounded whatever the size). Returns the
    /// size. The temp file is gone afterwards, whatever the outcome.
    pub async fn commit_temp(&self, temp: &Path, hash: &str) -> Result<u64, BlobError> {
        let result = async {
            self.path(hash)?;
            let (actual, size) = hash_file(temp).await?;
            if actual != hash {
                return Err(BlobError::Mismatch {
                    expected: hash.to_string(),
                    actual,
                });
            }
            Ok(size)
        }
        .await;
        match result {
            Ok(size) => {
                self.install(temp, hash).await?;
                Ok(size)
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(temp).await;
                Err(e)
            }
        }
    }

    /// Renames a verified temp file to its final name (keeping an existing copy: same bytes).
    async fn install(&self, temp: &Path, hash: &str) -> Result<(), BlobError> {
        let path = self.path(hash)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(BlobError::io("create", dir))?;
        }
        if tokio::fs::metadata(&path).await.is_ok() {
            let _ = tokio::fs::remove_file(temp).await;
            return Ok(());
        }
        tokio::fs::rename(temp, &path).await.map_err(|e| {
            let err = BlobError::io("rename", &path)(e);
            let temp = temp.to_path_buf();
            tokio::spawn(async move {
                let _ = tokio::fs::remove_file(temp).await;
            });
            err
        })
    }

    /// Opens a stored object for streaming; returns the file and its size.
    pub async fn open(&self, hash: &str) -> Result<(tokio::fs::File, u64), BlobError> {
        let path = self.path(hash)?;
        let file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(BlobError::Missing(hash.to_string()));
            }
            Err(e) => return Err(BlobError::io("open", &path)(e)),
        };
        let size = file
            .metadata()
            .await
            .map_err(BlobError::io("stat", &path))?
            .len();
        Ok((file, size))
    }

    /// Reads a whole stored object (callers check its size against their limit first).
    pub async fn read(&self, hash: &str) -> Result<Vec<u8>, BlobError> {
        let (mut file, size) = self.open(hash).await?;
        let mut out = Vec::with_capacity(size as usize);
        file.read_to_end(&mut out)
            .await
            .map_err(|e| BlobError::io("read", &self.root)(e))?;
        Ok(out)
    }
}

/// The object id and size of a file, read in blocks.
pub async fn hash_file(path: &Path) -> Result<(String, u64), BlobError> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(BlobError::io("open", path))?;
    let mut hasher = ObjectHasher::new();
    let mut buf = vec![0u8; HASH_BLOCK];
    loop {
        let n = file
            .read(&mut buf)
            .await
            .map_err(BlobError::io("read", path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let size = hasher.len();
    Ok((hasher.finish(), size))
}

/// Where the objects of a database live when no directory is configured: next to a SQLite
/// file (`hub.db` keeps them in `hub.objects/`), `./musehub-objects` for PostgreSQL, and a
/// temporary directory for an in-memory database (removed with it).
pub fn default_store(database_url: &str) -> BlobStore {
    if database_url.starts_with("sqlite:") {
        if database_url.contains(":memory:") {
            return BlobStore::ephemeral();
        }
        let rest = database_url.trim_start_matches("sqlite:");
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let file = rest.split('?').next().unwrap_or(rest);
        let file = Path::new(file);
        let name = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "musehub".into());
        let dir = file.parent().unwrap_or(Path::new(""));
        return BlobStore::new(dir.join(format!("{name}.objects")));
    }
    BlobStore::new("musehub-objects")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_store_sits_next_to_the_sqlite_file() {
        assert_eq!(
            default_store("sqlite://data/hub.db").root(),
            Path::new("data/hub.objects")
        );
        assert_eq!(
            default_store("sqlite:///var/lib/musehub/musehub.db?mode=rwc").root(),
            Path::new("/var/lib/musehub/musehub.objects")
        );
        assert_eq!(
            default_store("sqlite://musehub.db").root(),
            Path::new("musehub.objects")
        );
        assert_eq!(
            default_store("postgres://u@h/db").root(),
            Path::new("musehub-objects")
        );
        let memory = default_store("sqlite::memory:");
        assert!(memory.root().starts_with(std::env::temp_dir()));
    }

    #[tokio::test]
    async fn objects_are_stored_by_hash_and_verified() {
        let store = BlobStore::ephemeral();
        let id = store.put(b"hello\n").await.unwrap();
        assert_eq!(id, muse_core::object_id(b"hello\n"));
        assert!(store.contains(&id).await.unwrap());
        assert_eq!(store.read(&id).await.unwrap(), b"hello\n");
        // Twice is once.
        assert_eq!(store.put(b"hello\n").await.unwrap(), id);

        let (temp, mut f) = store.create_temp().await.unwrap();
        f.write_all(b"not what the id says").await.unwrap();
        drop(f);
        let wrong = muse_core::object_id(b"something else");
        assert!(matches!(
            store.commit_temp(&temp, &wrong).await,
            Err(BlobError::Mismatch { .. })
        ));
        assert!(!temp.exists(), "the rejected temp file is removed");
        assert!(!store.contains(&wrong).await.unwrap());
        assert!(matches!(
            store.open(&wrong).await,
            Err(BlobError::Missing(_))
        ));
        assert!(matches!(
            store.path("../../etc/passwd"),
            Err(BlobError::InvalidId(_))
        ));
        let root = store.root().to_path_buf();
        drop(store);
        assert!(
            !root.exists(),
            "an ephemeral store goes with its last handle"
        );
    }
}
