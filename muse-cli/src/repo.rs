//! The `.muse/` folder: objects, snapshots, commits, refs, `HEAD` and the index (see the
//! crate docs for the layout). Every write goes to a temp file first and is renamed into
//! place, so an interrupted command never leaves a half-written file behind.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use muse_core::ids::{CommitFields, ObjectHasher, is_id};
use muse_core::merge::{Graph, Manifest};
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::{MuseError, Result};

/// The state folder's name.
pub const DOT_MUSE: &str = muse_core::paths::STATE_DIR;

/// Bytes copied at a time.
const BLOCK: usize = 256 * 1024;

/// A commit as stored (and as the hub's push and pull carry it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitRecord {
    /// Its id.
    pub commit_id: String,
    /// Parents, in order.
    #[serde(default)]
    pub parent_ids: Vec<String>,
    /// The snapshot recorded.
    #[serde(default)]
    pub snapshot_id: Option<String>,
    /// Who.
    pub author: String,
    /// When (RFC 3339, UTC).
    pub timestamp: String,
    /// Why.
    pub message: String,
}

impl CommitRecord {
    /// A new commit with its id computed.
    pub fn new(
        parents: Vec<String>,
        snapshot_id: Option<String>,
        author: &str,
        timestamp: &str,
        message: &str,
    ) -> Result<Self> {
        let commit_id = muse_core::commit_id(&CommitFields {
            parents: &parents,
            snapshot_id: snapshot_id.as_deref(),
            author,
            timestamp,
            message,
        })?;
        Ok(Self {
            commit_id,
            parent_ids: parents,
            snapshot_id,
            author: author.into(),
            timestamp: timestamp.into(),
            message: message.into(),
        })
    }

    /// True when the id is the hash of the fields (commits the hub made before ids were
    /// verified may not be).
    pub fn verifies(&self) -> bool {
        muse_core::commit_id(&CommitFields {
            parents: &self.parent_ids,
            snapshot_id: self.snapshot_id.as_deref(),
            author: &self.author,
            timestamp: &self.timestamp,
            message: &self.message,
        })
        .is_ok_and(|id| id == self.commit_id)
    }
}

/// The current time in the hub's form (RFC 3339, UTC, microseconds).
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// True for a branch name the hub accepts and a ref file can hold.
pub fn valid_branch(name: &str) -> bool {
    muse_core::paths::check_path(name).is_ok()
        && name.len() <= 200
        && !name.contains("..")
        && !name.chars().any(char::is_whitespace)
}

/// A repository: its working folder and its `.muse/`.
#[derive(Debug, Clone)]
pub struct Repo {
    /// The working folder.
    pub root: PathBuf,
    /// `root/.muse`.
    pub dir: PathBuf,
}

impl Repo {
    /// Makes `root` a repository on `branch` (no commits yet).
    pub fn init(root: &Path, branch: &str) -> Result<Repo> {
        if !valid_branch(branch) {
            return Err(MuseError::Unknown(format!(
                "'{branch}' is not a valid branch name"
            )));
        }
        let dir = root.join(DOT_MUSE);
        if dir.exists() {
            return Err(MuseError::AlreadyARepository(root.to_path_buf()));
        }
        for sub in [
            "objects",
            "snapshots",
            "commits",
            "refs/heads",
            "refs/remotes",
            "tmp",
        ] {
            let p = dir.join(sub);
            std::fs::create_dir_all(&p).map_err(MuseError::io("create", &p))?;
        }
        let repo = Repo {
            root: root.to_path_buf(),
            dir,
        };
        repo.write_file(
            &repo.dir.join("HEAD"),
            format!("ref: refs/heads/{branch}\n").as_bytes(),
        )?;
        repo.save_index(&Manifest::new())?;
        Ok(repo)
    }

    /// The repository holding `start` (it or a parent has `.muse/`).
    pub fn discover(start: &Path) -> Result<Repo> {
        let mut dir = Some(start);
        while let Some(d) = dir {
            if d.join(DOT_MUSE).join("HEAD").is_file() {
                return Ok(Repo {
                    root: d.to_path_buf(),
                    dir: d.join(DOT_MUSE),
                });
            }
            dir = d.parent();
        }
        Err(MuseError::NotARepository(start.to_path_buf()))
    }

    /// The configuration (this repository's over the user's).
    pub fn config(&self) -> Result<Config> {
        Config::load(&self.dir)
    }

    /// Writes a file atomically (temp file in `.muse/tmp`, then rename).
    pub fn write_file(&self, path: &Path, bytes: &[u8]) -> Result<()> {
        let tmp = self.temp_path();
        std::fs::write(&tmp, bytes).map_err(MuseError::io("write", &tmp))?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(MuseError::io("create", parent))?;
        }
        std::fs::rename(&tmp, path).map_err(MuseError::io("rename", path))
    }

    /// A fresh name under `.muse/tmp`.
    pub fn temp_path(&self) -> PathBuf {
        let tmp = self.dir.join("tmp");
        let _ = std::fs::create_dir_all(&tmp);
        tmp.join(uuid::Uuid::new_v4().simple().to_string())
    }

    // --- objects -------------------------------------------------------------------------

    /// Where object `id` lives.
    pub fn object_path(&self, id: &str) -> Result<PathBuf> {
        if !is_id(id) {
            return Err(MuseError::Corrupt(format!("'{id}' is not an object id")));
        }
        Ok(self.dir.join("objects").join(&id[..2]).join(&id[2..]))
    }

    /// True when object `id` is stored.
    pub fn has_object(&self, id: &str) -> bool {
        self.object_path(id).is_ok_and(|p| p.is_file())
    }

    /// Stores the file at `path` as an object (hashed and copied in blocks); its id and size.
    pub fn store_file(&self, path: &Path) -> Result<(String, u64)> {
        let mut src = std::fs::File::open(path).map_err(MuseError::io("open", path))?;
        let tmp = self.temp_path();
        let mut out = std::fs::File::create(&tmp).map_err(MuseError::io("create", &tmp))?;
        let mut hasher = ObjectHasher::new();
        let mut buf = vec![0u8; BLOCK];
        loop {
            let n = src.read(&mut buf).map_err(MuseError::io("read", path))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])
                .map_err(MuseError::io("write", &tmp))?;
        }
        drop(out);
        let size = hasher.len();
        let id = hasher.finish();
        self.install_object(&tmp, &id)?;
        Ok((id, size))
    }

    /// Moves a verified temp file into place as object `id`.
    pub fn install_object(&self, tmp: &Path, id: &str) -> Result<()> {
        let dest = self.object_path(id)?;
        if dest.is_file() {
            let _ = std::fs::remove_file(tmp);
            return Ok(());
        }
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(MuseError::io("create", parent))?;
        }
        std::fs::rename(tmp, &dest).map_err(MuseError::io("rename", &dest))
    }

    /// The id of the file at `path`, without storing it.
    pub fn hash_file(path: &Path) -> Result<String> {
        let mut src = std::fs::File::open(path).map_err(MuseError::io("open", path))?;
        let mut hasher = ObjectHasher::new();
        let mut buf = vec![0u8; BLOCK];
        loop {
            let n = src.read(&mut buf).map_err(MuseError::io("read", path))?;
            if n == 0 {
                return Ok(hasher.finish());
            }
            hasher.update(&buf[..n]);
        }
    }

    // --- snapshots and commits -----------------------------------------------------------

    /// Stores a manifest; its snapshot id.
    pub fn write_snapshot(&self, manifest: &Manifest) -> Result<String> {
        let id = muse_core::snapshot_id(manifest);
        let path = self.dir.join("snapshots").join(format!("{id}.json"));
        if !path.is_file() {
            let json =
                serde_json::to_vec(manifest).map_err(|e| MuseError::Corrupt(e.to_string()))?;
            self.write_file(&path, &json)?;
        }
        Ok(id)
    }

    /// A stored manifest.
    pub fn snapshot(&self, id: &str) -> Result<Manifest> {
        if !is_id(id) {
            return Err(MuseError::Corrupt(format!("'{id}' is not a snapshot id")));
        }
        let path = self.dir.join("snapshots").join(format!("{id}.json"));
        let bytes = std::fs::read(&path).map_err(MuseError::io("read", &path))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| MuseError::Corrupt(format!("{}: {e}", path.display())))
    }

    /// True when the snapshot is stored.
    pub fn has_snapshot(&self, id: &str) -> bool {
        is_id(id)
            && self
                .dir
                .join("snapshots")
                .join(format!("{id}.json"))
                .is_file()
    }

    fn commit_path(&self, id: &str) -> Result<PathBuf> {
        if id.is_empty() || id.contains(['/', '\\', '.']) || id.chars().any(char::is_control) {
            return Err(MuseError::Corrupt(format!("'{id}' is not a commit id")));
        }
        Ok(self.dir.join("commits").join(format!("{id}.json")))
    }

    /// Stores a commit.
    pub fn write_commit(&self, c: &CommitRecord) -> Result<()> {
        let path = self.commit_path(&c.commit_id)?;
        if path.is_file() {
            return Ok(());
        }
        let json = serde_json::to_vec_pretty(c).map_err(|e| MuseError::Corrupt(e.to_string()))?;
        self.write_file(&path, &json)
    }

    /// A stored commit.
    pub fn commit(&self, id: &str) -> Result<CommitRecord> {
        let path = self.commit_path(id)?;
        let bytes = std::fs::read(&path).map_err(MuseError::io("read", &path))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| MuseError::Corrupt(format!("{}: {e}", path.display())))
    }

    /// True when the commit is stored.
    pub fn has_commit(&self, id: &str) -> bool {
        self.commit_path(id).is_ok_and(|p| p.is_file())
    }

    /// The manifest a commit records (empty for none).
    pub fn manifest_of(&self, commit: Option<&str>) -> Result<Manifest> {
        match commit {
            None => Ok(Manifest::new()),
            Some(id) => match self.commit(id)?.snapshot_id {
                Some(s) => self.snapshot(&s),
                None => Ok(Manifest::new()),
            },
        }
    }

    /// Every stored commit, by id (the graph a merge walks).
    pub fn all_commits(&self) -> Result<HashMap<String, CommitRecord>> {
        let dir = self.dir.join("commits");
        let mut out = HashMap::new();
        for entry in std::fs::read_dir(&dir).map_err(MuseError::io("list", &dir))? {
            let entry = entry.map_err(MuseError::io("list", &dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(id) = name.strip_suffix(".json") {
                out.insert(id.to_string(), self.commit(id)?);
            }
        }
        Ok(out)
    }

    /// `head` and its ancestors (those stored), newest first by time.
    pub fn history(&self, head: &str) -> Result<Vec<CommitRecord>> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut todo = vec![head.to_string()];
        while let Some(id) = todo.pop() {
            if !seen.insert(id.clone()) || !self.has_commit(&id) {
                continue;
            }
            let c = self.commit(&id)?;
            todo.extend(c.parent_ids.iter().cloned());
            out.push(c);
        }
        out.sort_by(|a, b| {
            b.timestamp
                .cmp(&a.timestamp)
                .then(a.commit_id.cmp(&b.commit_id))
        });
        Ok(out)
    }

    // --- refs ----------------------------------------------------------------------------

    /// The branch checked out.
    pub fn current_branch(&self) -> Result<String> {
        let path = self.dir.join("HEAD");
        let text = std::fs::read_to_string(&path).map_err(MuseError::io("read", &path))?;
        text.trim()
            .strip_prefix("ref: refs/heads/")
            .map(str::to_string)
            .ok_or_else(|| MuseError::Corrupt(format!("HEAD is '{}'", text.trim())))
    }

    /// Checks `branch` out (HEAD only: the caller updates the working folder).
    pub fn set_current_branch(&self, branch: &str) -> Result<()> {
        self.write_file(
            &self.dir.join("HEAD"),
            format!("ref: refs/heads/{branch}\n").as_bytes(),
        )
    }

    fn ref_file(&self, name: &str) -> Result<PathBuf> {
        let rel = name.strip_prefix("refs/").unwrap_or(name);
        let (kind, rest) = rel.split_once('/').unwrap_or(("", ""));
        if !matches!(kind, "heads" | "remotes") || !valid_branch(rest) {
            return Err(MuseError::Unknown(format!("'{name}' is not a valid ref")));
        }
        Ok(self.dir.join("refs").join(rel))
    }

    /// A ref's commit (`heads/main`, `remotes/origin/main`), `None` when it does not exist.
    pub fn read_ref(&self, name: &str) -> Result<Option<String>> {
        let path = self.ref_file(name)?;
        match std::fs::read_to_string(&path) {
            Ok(t) => Ok(Some(t.trim().to_string()).filter(|s| !s.is_empty())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(MuseError::io("read", &path)(e)),
        }
    }

    /// Points a ref at a commit.
    pub fn write_ref(&self, name: &str, commit: &str) -> Result<()> {
        let path = self.ref_file(name)?;
        self.write_file(&path, format!("{commit}\n").as_bytes())
    }

    /// The local branches, by name, with their heads.
    pub fn branches(&self) -> Result<BTreeMap<String, String>> {
        let base = self.dir.join("refs").join("heads");
        let mut out = BTreeMap::new();
        let mut todo = vec![base.clone()];
        while let Some(dir) = todo.pop() {
            for entry in std::fs::read_dir(&dir).map_err(MuseError::io("list", &dir))? {
                let entry = entry.map_err(MuseError::io("list", &dir))?;
                let p = entry.path();
                if p.is_dir() {
                    todo.push(p);
                } else if let Ok(rel) = p.strip_prefix(&base) {
                    let name = rel.to_string_lossy().replace('\\', "/");
                    if let Some(c) = self.read_ref(&format!("heads/{name}"))? {
                        out.insert(name, c);
                    }
                }
            }
        }
        Ok(out)
    }

    /// The head commit of the branch checked out.
    pub fn head(&self) -> Result<Option<String>> {
        self.read_ref(&format!("heads/{}", self.current_branch()?))
    }

    // --- index ---------------------------------------------------------------------------

    /// The manifest the next commit records.
    pub fn index(&self) -> Result<Manifest> {
        let path = self.dir.join("index.json");
        let bytes = std::fs::read(&path).map_err(MuseError::io("read", &path))?;
        serde_json::from_slice(&bytes).map_err(|e| MuseError::Corrupt(format!("index: {e}")))
    }

    /// Replaces the index.
    pub fn save_index(&self, index: &Manifest) -> Result<()> {
        let json =
            serde_json::to_vec_pretty(index).map_err(|e| MuseError::Corrupt(e.to_string()))?;
        self.write_file(&self.dir.join("index.json"), &json)
    }
}

/// The stored commits as the merge walks them.
pub struct LocalGraph<'a>(pub &'a HashMap<String, CommitRecord>);

impl Graph for LocalGraph<'_> {
    fn parents(&self, id: &str) -> Option<&[String]> {
        self.0.get(id).map(|c| c.parent_ids.as_slice())
    }
    fn timestamp(&self, id: &str) -> &str {
        self.0.get(id).map(|c| c.timestamp.as_str()).unwrap_or("")
    }
}
