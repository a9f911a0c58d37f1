//! `muse push`, `muse pull` and `muse clone`: moving history between a working folder and a
//! hub, then bringing the folder up to date (fast-forward, or a three-way merge with
//! `muse_core::merge`, the same the hub's proposal merges run).

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use musehub_mcp::auth::MSignSigner;
use serde_json::json;

use crate::config::Config;
use crate::error::{MuseError, Result};
use crate::keyfile;
use crate::remote::Remote;
use crate::repo::{CommitRecord, LocalGraph, Repo, now};
use crate::worktree;

/// The signer of the configured `user.handle` and `user.key`, if both are set.
pub fn signer(config: &Config) -> Result<Option<MSignSigner>> {
    match (config.get("user.handle"), config.get("user.key")) {
        (Some(handle), Some(key)) => {
            let key = keyfile::read(Path::new(&key))?;
            Ok(Some(MSignSigner::new(handle, key)))
        }
        _ => Ok(None),
    }
}

/// The remote `name` of `repo`, signing when the user has a key.
pub fn remote(repo: &Repo, name: &str) -> Result<Remote> {
    let config = repo.config()?;
    Remote::new(&config.remote_url(name)?, signer(&config)?)
}

/// What a push did.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// Commits sent.
    pub commits: usize,
    /// Objects uploaded (the others were on the hub already).
    pub uploaded: usize,
    /// Bytes uploaded.
    pub bytes: u64,
    /// The hub's answer (`PushResult`).
    pub result: serde_json::Value,
}

/// `muse push REMOTE BRANCH`: uploads the objects the hub lacks, then the commits and
/// snapshots it lacks, and moves its branch (fast-forward unless `force`).
pub async fn push(repo: &Repo, remote_name: &str, branch: &str, force: bool) -> Result<Pushed> {
    let config = repo.config()?;
    let signer = signer(&config)?.ok_or_else(|| {
        MuseError::Config(
            "pushing needs a signing key: muse config user.handle HANDLE and muse config user.key FILE \
             (or muse auth enroll)"
                .into(),
        )
    })?;
    let remote = Remote::new(&config.remote_url(remote_name)?, Some(signer))?;
    let head = repo.read_ref(&format!("heads/{branch}"))?.ok_or_else(|| {
        MuseError::Unknown(format!("no local branch '{branch}' (nothing committed?)"))
    })?;
    let refs = remote.refs().await?;
    if let Some(Some(theirs)) = refs.branches.get(branch)
        && !force
        && !repo.history(&head)?.iter().any(|c| &c.commit_id == theirs)
    {
        return Err(MuseError::State(format!(
            "the hub's {branch} is at {theirs}, which your {branch} does not contain: \
             muse pull {remote_name} {branch} first (or push --force)"
        )));
    }
    // What the hub has: the history of every head it shows that we know.
    let mut known = HashSet::new();
    for theirs in refs.branches.values().flatten() {
        if repo.has_commit(theirs) {
            known.extend(repo.history(theirs)?.into_iter().map(|c| c.commit_id));
        }
    }
    let mut commits: Vec<CommitRecord> = repo
        .history(&head)?
        .into_iter()
        .filter(|c| !known.contains(&c.commit_id))
        .collect();
    commits.reverse();
    let mut snapshots = Vec::new();
    let mut objects = BTreeSet::new();
    for c in &commits {
        if let Some(s) = &c.snapshot_id {
            let manifest = repo.snapshot(s)?;
            objects.extend(manifest.values().cloned());
            snapshots.push(json!({ "snapshot_id": s, "manifest": manifest }));
        }
    }
    let objects: Vec<String> = objects.into_iter().collect();
    let missing = remote.missing(&objects).await?;
    let piece = refs.limits.upload_chunk_bytes;
    let mut bytes = 0;
    for id in &missing {
        let path = repo.object_path(id)?;
        let size = std::fs::metadata(&path)
            .map_err(MuseError::io("stat", &path))?
            .len();
        if size > refs.limits.max_object_bytes {
            return Err(MuseError::State(format!(
                "object {id} is {size} bytes; the hub takes at most {}",
                refs.limits.max_object_bytes
            )));
        }
        remote.upload(id, &path, piece).await?;
        bytes += size;
    }
    let result = remote
        .push(json!({
            "branch": branch,
            "head_commit_id": head,
            "commits": commits,
            "snapshots": snapshots,
            "force": force,
        }))
        .await?;
    repo.write_ref(&format!("remotes/{remote_name}/{branch}"), &head)?;
    Ok(Pushed {
        commits: commits.len(),
        uploaded: missing.len(),
        bytes,
        result,
    })
}

/// How a pull ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pulled {
    /// Nothing new, or the local branch already contains the hub's.
    UpToDate,
    /// The local branch moved forward to the hub's head.
    FastForward(String),
    /// A merge commit joins both lines.
    Merged(String),
}

/// Fetches `branch` from the hub into the repository (commits, snapshots and objects, all
/// verified against their ids) and records where it stands; returns its head.
pub async fn fetch(
    repo: &Repo,
    remote: &Remote,
    remote_name: &str,
    branch: &str,
) -> Result<Option<String>> {
    let tracking = format!("remotes/{remote_name}/{branch}");
    let since = repo.read_ref(&tracking)?.filter(|c| repo.has_commit(c));
    let delta = remote.pull(branch, since.as_deref()).await?;
    for s in &delta.snapshots {
        if muse_core::snapshot_id(&s.manifest) != s.snapshot_id {
            return Err(MuseError::Corrupt(format!(
                "the hub sent snapshot {} whose manifest has another id",
                s.snapshot_id
            )));
        }
        for path in s.manifest.keys() {
            muse_core::paths::check_path(path)?;
        }
        repo.write_snapshot(&s.manifest)?;
    }
    for o in &delta.objects {
        if !repo.has_object(&o.object_id) {
            remote.download(repo, &o.object_id).await?;
        }
    }
    for c in &delta.commits {
        if !c.verifies() {
            eprintln!(
                "warning: commit {} from the hub does not hash to its id (made before ids were verified)",
                c.commit_id
            );
        }
        repo.write_commit(c)?;
    }
    if let Some(h) = &delta.head_commit_id {
        repo.write_ref(&tracking, h)?;
    }
    Ok(delta.head_commit_id)
}

/// `muse pull REMOTE BRANCH`: fetches the hub's `branch` and brings the branch checked out
/// up to it: fast-forward when it can, otherwise a three-way merge of the snapshots; a
/// conflict leaves the folder and the branch as they were and lists every conflicting path.
pub async fn pull(repo: &Repo, remote_name: &str, branch: &str) -> Result<Pulled> {
    let remote = remote(repo, remote_name)?;
    let Some(theirs) = fetch(repo, &remote, remote_name, branch).await? else {
        return Ok(Pulled::UpToDate);
    };
    integrate(repo, &theirs, &format!("{remote_name}/{branch}"))
}

/// Brings the branch checked out up to commit `theirs` (see [`pull`]).
pub fn integrate(repo: &Repo, theirs: &str, label: &str) -> Result<Pulled> {
    let local = repo.head()?;
    let current = repo.current_branch()?;
    let Some(ours) = local else {
        worktree::require_clean(repo)?;
        let to = repo.manifest_of(Some(theirs))?;
        worktree::checkout(repo, &repo.index()?, &to)?;
        repo.write_ref(&format!("heads/{current}"), theirs)?;
        return Ok(Pulled::FastForward(theirs.to_string()));
    };
    if ours == theirs || repo.history(&ours)?.iter().any(|c| c.commit_id == theirs) {
        return Ok(Pulled::UpToDate);
    }
    worktree::require_clean(repo)?;
    let ours_m = repo.manifest_of(Some(&ours))?;
    let theirs_m = repo.manifest_of(Some(theirs))?;
    if repo.history(theirs)?.iter().any(|c| c.commit_id == ours) {
        worktree::checkout(repo, &ours_m, &theirs_m)?;
        repo.write_ref(&format!("heads/{current}"), theirs)?;
        return Ok(Pulled::FastForward(theirs.to_string()));
    }
    let all = repo.all_commits()?;
    let base = muse_core::merge::merge_base(&LocalGraph(&all), &ours, theirs);
    let base_m = repo.manifest_of(base.as_deref())?;
    let outcome = muse_core::merge::three_way(&base_m, &ours_m, &theirs_m);
    if !outcome.conflicts.is_empty() {
        return Err(MuseError::Conflicts {
            base: base.unwrap_or_else(|| "none".into()),
            conflicts: outcome.conflicts,
        });
    }
    worktree::checkout(repo, &ours_m, &outcome.merged)?;
    let snapshot = repo.write_snapshot(&outcome.merged)?;
    let author = repo.config()?.author()?;
    let c = CommitRecord::new(
        vec![ours, theirs.to_string()],
        Some(snapshot),
        &author,
        &now(),
        &format!("Merge {label} into {current}"),
    )?;
    repo.write_commit(&c)?;
    repo.write_ref(&format!("heads/{current}"), &c.commit_id)?;
    Ok(Pulled::Merged(c.commit_id))
}

/// `muse clone URL DIR`: a new repository in `dir` (which must not exist, or be empty) with
/// `origin` set to `url`, on `branch` (default: the hub's default branch), its files checked
/// out.
pub async fn clone(url: &str, dir: &Path, branch: Option<&str>) -> Result<(Repo, String)> {
    if dir.exists()
        && std::fs::read_dir(dir)
            .map_err(MuseError::io("list", dir))?
            .next()
            .is_some()
    {
        return Err(MuseError::State(format!(
            "{} exists and is not empty",
            dir.display()
        )));
    }
    // The user's key (if any) signs the first requests: a private repository needs it.
    let global = Config {
        repo: Default::default(),
        global: match crate::config::global_file() {
            Some(p) => Some(crate::config::ConfigFile::load(&p)?),
            None => None,
        },
    };
    let remote = Remote::new(url, signer(&global)?)?;
    let refs = remote.refs().await?;
    let branch = branch.unwrap_or(&refs.default_branch).to_string();
    // An empty repository clones to an empty folder on its default branch.
    let empty = refs.branches.values().all(Option::is_none) && branch == refs.default_branch;
    if !refs.branches.contains_key(&branch) && !empty {
        return Err(MuseError::Unknown(format!(
            "the hub has no branch '{branch}'"
        )));
    }
    std::fs::create_dir_all(dir).map_err(MuseError::io("create", dir))?;
    let repo = Repo::init(dir, &branch)?;
    repo.config()?.repo.set("remote.origin.url", url)?;
    if !empty && let Some(theirs) = fetch(&repo, &remote, "origin", &branch).await? {
        integrate(&repo, &theirs, &format!("origin/{branch}"))?;
    }
    Ok((repo, branch))
}
