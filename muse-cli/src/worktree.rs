//! The working folder: what changed (`muse status`), staging (`muse add`), committing, and
//! writing a snapshot's files into the folder (checkout, fast-forward, merge).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use muse_core::merge::Manifest;
use muse_core::paths::check_path;

use crate::error::{MuseError, Result};
use crate::repo::{CommitRecord, DOT_MUSE, Repo, now};

/// How a path changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// New.
    Added,
    /// Different content.
    Modified,
    /// Gone.
    Deleted,
}

impl ChangeKind {
    /// `added`, `modified`, `deleted`.
    pub fn word(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Modified => "modified",
            ChangeKind::Deleted => "deleted",
        }
    }
}

/// What `muse status` reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    /// Index against the head: what the next commit records.
    pub staged: Vec<(String, ChangeKind)>,
    /// Working folder against the index: tracked files changed since `muse add`.
    pub unstaged: Vec<(String, ChangeKind)>,
    /// Files in the folder the index does not track.
    pub untracked: Vec<String>,
}

impl Status {
    /// True when there is nothing to commit and nothing changed.
    pub fn is_clean(&self) -> bool {
        self.staged.is_empty() && self.unstaged.is_empty()
    }
}

/// A path of the working folder as a snapshot names it (`/`-separated, relative to `root`).
fn rel(root: &Path, path: &Path) -> Option<String> {
    let r = path.strip_prefix(root).ok()?;
    let parts: Vec<String> = r
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
}

/// The files under `dir` (recursively, `.muse/` left out), as snapshot paths. Symbolic
/// links are not followed (a snapshot holds files).
pub fn files_under(repo: &Repo, dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let entries = std::fs::read_dir(&d).map_err(MuseError::io("list", &d))?;
        for entry in entries {
            let entry = entry.map_err(MuseError::io("list", &d))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(MuseError::io("stat", &path))?;
            if path == repo.dir || (d == repo.root && entry.file_name() == DOT_MUSE) {
                continue;
            }
            if kind.is_dir() {
                todo.push(path);
            } else if kind.is_file()
                && let Some(r) = rel(&repo.root, &path)
            {
                out.push(r);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The file of a snapshot path.
pub fn file_of(repo: &Repo, path: &str) -> Result<PathBuf> {
    check_path(path)?;
    Ok(path.split('/').fold(repo.root.clone(), |p, s| p.join(s)))
}

/// Compares head, index and working folder.
pub fn status(repo: &Repo) -> Result<Status> {
    let head = repo.manifest_of(repo.head()?.as_deref())?;
    let index = repo.index()?;
    let mut s = Status::default();
    for (path, kind) in diff(&head, &index) {
        s.staged.push((path, kind));
    }
    for (path, oid) in &index {
        let file = file_of(repo, path)?;
        if !file.is_file() {
            s.unstaged.push((path.clone(), ChangeKind::Deleted));
        } else if &Repo::hash_file(&file)? != oid {
            s.unstaged.push((path.clone(), ChangeKind::Modified));
        }
    }
    for path in files_under(repo, &repo.root)? {
        if !index.contains_key(&path) {
            s.untracked.push(path);
        }
    }
    Ok(s)
}

/// The paths that differ between two manifests.
pub fn diff(from: &Manifest, to: &Manifest) -> Vec<(String, ChangeKind)> {
    let paths: BTreeSet<&String> = from.keys().chain(to.keys()).collect();
    paths
        .into_iter()
        .filter_map(|p| match (from.get(p), to.get(p)) {
            (None, Some(_)) => Some((p.clone(), ChangeKind::Added)),
            (Some(_), None) => Some((p.clone(), ChangeKind::Deleted)),
            (Some(a), Some(b)) if a != b => Some((p.clone(), ChangeKind::Modified)),
            _ => None,
        })
        .collect()
}

/// `muse add PATH...`: stages files (a folder stages everything under it); a tracked path
/// that is gone from the folder is staged as deleted. Paths are relative to `cwd`.
pub fn add(repo: &Repo, cwd: &Path, paths: &[PathBuf]) -> Result<Vec<(String, ChangeKind)>> {
    let mut index = repo.index()?;
    let before = index.clone();
    for p in paths {
        let abs = if p.is_absolute() {
            p.clone()
        } else {
            cwd.join(p)
        };
        let abs = normalize(&abs);
        let Some(r) = rel(&repo.root, &abs) else {
            return Err(MuseError::Unknown(format!(
                "{} is outside the repository {}",
                p.display(),
                repo.root.display()
            )));
        };
        if r == DOT_MUSE || r.starts_with(&format!("{DOT_MUSE}/")) {
            return Err(MuseError::Unknown("the .muse folder is not content".into()));
        }
        if abs.is_dir() {
            let under = files_under(repo, &abs)?;
            let prefix = if r.is_empty() {
                String::new()
            } else {
                format!("{r}/")
            };
            for f in &under {
                stage(repo, &mut index, f)?;
            }
            let gone: Vec<String> = index
                .keys()
                .filter(|k| k.starts_with(&prefix) && !under.contains(k))
                .cloned()
                .collect();
            for g in gone {
                index.remove(&g);
            }
        } else if abs.is_file() {
            stage(repo, &mut index, &r)?;
        } else if index.remove(&r).is_none() {
            let prefix = format!("{r}/");
            let gone: Vec<String> = index
                .keys()
                .filter(|k| k.starts_with(&prefix))
                .cloned()
                .collect();
            if gone.is_empty() {
                return Err(MuseError::Unknown(format!("{}: no such file", p.display())));
            }
            for g in gone {
                index.remove(&g);
            }
        }
    }
    repo.save_index(&index)?;
    Ok(diff(&before, &index))
}

fn stage(repo: &Repo, index: &mut Manifest, path: &str) -> Result<()> {
    check_path(path)?;
    let (id, _) = repo.store_file(&file_of(repo, path)?)?;
    index.insert(path.to_string(), id);
    Ok(())
}

/// Resolves `.` and `..` without touching the disk (the path may not exist).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `muse commit`: records the index as a new commit on the branch checked out. With `all`,
/// every tracked file is staged first (changed ones re-read, deleted ones dropped).
pub fn commit(repo: &Repo, message: &str, all: bool) -> Result<CommitRecord> {
    if all {
        let mut index = repo.index()?;
        for path in index.keys().cloned().collect::<Vec<_>>() {
            let file = file_of(repo, &path)?;
            if file.is_file() {
                stage(repo, &mut index, &path)?;
            } else {
                index.remove(&path);
            }
        }
        repo.save_index(&index)?;
    }
    let head = repo.head()?;
    let index = repo.index()?;
    if head.is_some() && repo.manifest_of(head.as_deref())? == index {
        return Err(MuseError::NothingToCommit);
    }
    let author = repo.config()?.author()?;
    let snapshot = repo.write_snapshot(&index)?;
    let c = CommitRecord::new(
        head.into_iter().collect(),
        Some(snapshot),
        &author,
        &now(),
        message,
    )?;
    repo.write_commit(&c)?;
    repo.write_ref(&format!("heads/{}", repo.current_branch()?), &c.commit_id)?;
    Ok(c)
}

/// Refuses when the working folder or the index holds changes the head does not.
pub fn require_clean(repo: &Repo) -> Result<()> {
    let s = status(repo)?;
    if s.is_clean() {
        return Ok(());
    }
    let mut paths: Vec<String> = s
        .staged
        .iter()
        .chain(&s.unstaged)
        .map(|(p, _)| p.clone())
        .collect();
    paths.sort();
    paths.dedup();
    Err(MuseError::Dirty(paths))
}

/// Makes the working folder and the index hold `to` instead of `from`: changed files are
/// written from their objects (each through a temp file), files only `from` had are
/// removed. An untracked file in the way is refused before anything is written.
pub fn checkout(repo: &Repo, from: &Manifest, to: &Manifest) -> Result<()> {
    for (path, oid) in to {
        let file = file_of(repo, path)?;
        if !from.contains_key(path) && file.is_file() && &Repo::hash_file(&file)? != oid {
            return Err(MuseError::Dirty(vec![format!("{path} (untracked)")]));
        }
        if !repo.has_object(oid) {
            return Err(MuseError::Corrupt(format!(
                "object {oid} ({path}) is missing"
            )));
        }
    }
    for (path, oid) in to {
        let file = file_of(repo, path)?;
        if file.is_file() && &Repo::hash_file(&file)? == oid {
            continue;
        }
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(MuseError::io("create", dir))?;
        }
        let tmp = repo.temp_path();
        std::fs::copy(repo.object_path(oid)?, &tmp).map_err(MuseError::io("copy", &tmp))?;
        std::fs::rename(&tmp, &file).map_err(MuseError::io("rename", &file))?;
    }
    for path in from.keys().filter(|p| !to.contains_key(*p)) {
        let file = file_of(repo, path)?;
        if file.is_file() {
            std::fs::remove_file(&file).map_err(MuseError::io("remove", &file))?;
        }
        // Empty folders left behind go too (never the working folder itself).
        let mut dir = file.parent().map(Path::to_path_buf);
        while let Some(d) = dir {
            if d == repo.root || std::fs::remove_dir(&d).is_err() {
                break;
            }
            dir = d.parent().map(Path::to_path_buf);
        }
    }
    repo.save_index(to)
}
