//! The client's working folder without a hub: staging, committing with ids the hub accepts,
//! status, branches, and bringing a branch up to another (fast-forward, a three-way merge that
//! keeps both sides, a conflict that lists the path and changes nothing).

use std::path::{Path, PathBuf};

use muse_cli::MuseError;
use muse_cli::repo::Repo;
use muse_cli::sync::{Pulled, integrate};
use muse_cli::worktree::{self, ChangeKind};

fn temp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("muse-{tag}-{}", uuid()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn uuid() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

fn repo(tag: &str) -> Repo {
    let root = temp(tag);
    let r = Repo::init(&root, "main").unwrap();
    r.config()
        .unwrap()
        .repo
        .set("user.handle", "alice")
        .unwrap();
    r
}

fn write(r: &Repo, path: &str, text: &str) {
    let p = r.root.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn read(r: &Repo, path: &str) -> Option<String> {
    std::fs::read_to_string(r.root.join(path)).ok()
}

fn add(r: &Repo, paths: &[&str]) {
    let paths: Vec<PathBuf> = paths.iter().map(PathBuf::from).collect();
    worktree::add(r, &r.root, &paths).unwrap();
}

fn switch(r: &Repo, branch: &str) {
    let target = r.read_ref(&format!("heads/{branch}")).unwrap().unwrap();
    let from = r.manifest_of(r.head().unwrap().as_deref()).unwrap();
    let to = r.manifest_of(Some(&target)).unwrap();
    worktree::checkout(r, &from, &to).unwrap();
    r.set_current_branch(branch).unwrap();
}

#[test]
fn commits_carry_ids_the_hub_verifies() {
    let r = repo("ids");
    write(&r, "tracks/bass.mid", "bass");
    write(&r, "README.md", "# Song\n");
    let s = worktree::status(&r).unwrap();
    assert_eq!(s.untracked, vec!["README.md", "tracks/bass.mid"]);
    add(&r, &["."]);
    let c = worktree::commit(&r, "first", false).unwrap();
    assert!(c.verifies());
    assert_eq!(c.author, "alice");
    let m = r.manifest_of(Some(&c.commit_id)).unwrap();
    assert_eq!(m["tracks/bass.mid"], muse_core::object_id(b"bass"));
    assert_eq!(
        c.snapshot_id.as_deref(),
        Some(muse_core::snapshot_id(&m).as_str())
    );
    assert!(worktree::status(&r).unwrap().is_clean());
    assert!(matches!(
        worktree::commit(&r, "again", false),
        Err(MuseError::NothingToCommit)
    ));

    // Edits and deletions: seen by status, staged by commit -a.
    write(&r, "README.md", "# Song, v2\n");
    std::fs::remove_file(r.root.join("tracks/bass.mid")).unwrap();
    let s = worktree::status(&r).unwrap();
    assert_eq!(
        s.unstaged,
        vec![
            ("README.md".to_string(), ChangeKind::Modified),
            ("tracks/bass.mid".to_string(), ChangeKind::Deleted)
        ]
    );
    let c2 = worktree::commit(&r, "second", true).unwrap();
    assert_eq!(c2.parent_ids, vec![c.commit_id.clone()]);
    let m2 = r.manifest_of(Some(&c2.commit_id)).unwrap();
    assert_eq!(m2.keys().collect::<Vec<_>>(), vec!["README.md"]);
    assert_eq!(r.history(&c2.commit_id).unwrap().len(), 2);
    // The .muse folder is never content, and paths outside the folder are refused.
    assert!(worktree::add(&r, &r.root, &[PathBuf::from(".muse/HEAD")]).is_err());
    assert!(worktree::add(&r, &r.root, &[PathBuf::from("../elsewhere")]).is_err());
    cleanup(&r.root);
}

#[test]
fn branches_that_moved_apart_merge_keeping_both_sides() {
    let r = repo("merge");
    write(&r, "README.md", "# Duet\n");
    add(&r, &["README.md"]);
    let root = worktree::commit(&r, "root", false).unwrap();
    r.write_ref("heads/drums", &root.commit_id).unwrap();

    write(&r, "bass.mid", "bass");
    add(&r, &["bass.mid"]);
    let main = worktree::commit(&r, "bass", false).unwrap();

    switch(&r, "drums");
    assert_eq!(read(&r, "bass.mid"), None, "checkout removed main's file");
    write(&r, "kit/drums.mid", "drums");
    add(&r, &["kit"]);
    let drums = worktree::commit(&r, "drums", false).unwrap();

    // The two branches split at the root: merging drums into main is three-way.
    switch(&r, "main");
    let out = integrate(&r, &drums.commit_id, "drums").unwrap();
    let Pulled::Merged(m) = out else {
        panic!("expected a merge, got {out:?}")
    };
    let merge = r.commit(&m).unwrap();
    assert!(merge.verifies());
    assert_eq!(
        merge.parent_ids,
        vec![main.commit_id.clone(), drums.commit_id.clone()]
    );
    assert_eq!(read(&r, "bass.mid").as_deref(), Some("bass"));
    assert_eq!(read(&r, "kit/drums.mid").as_deref(), Some("drums"));
    assert!(worktree::status(&r).unwrap().is_clean());
    // Again: up to date; and the drums branch fast-forwards to the merge.
    assert_eq!(
        integrate(&r, &drums.commit_id, "drums").unwrap(),
        Pulled::UpToDate
    );
    switch(&r, "drums");
    assert_eq!(
        integrate(&r, &m, "main").unwrap(),
        Pulled::FastForward(m.clone())
    );
    assert_eq!(read(&r, "bass.mid").as_deref(), Some("bass"));
    cleanup(&r.root);
}

#[test]
fn a_conflict_is_listed_and_nothing_changes() {
    let r = repo("conflict");
    write(&r, "README.md", "# Duet\n");
    add(&r, &["README.md"]);
    let root = worktree::commit(&r, "root", false).unwrap();
    r.write_ref("heads/other", &root.commit_id).unwrap();
    write(&r, "README.md", "ours\n");
    worktree::commit(&r, "ours", true).unwrap();
    switch(&r, "other");
    write(&r, "README.md", "theirs\n");
    let theirs = worktree::commit(&r, "theirs", true).unwrap();
    switch(&r, "main");
    let head = r.head().unwrap();

    match integrate(&r, &theirs.commit_id, "other") {
        Err(MuseError::Conflicts { base, conflicts }) => {
            assert_eq!(base, root.commit_id);
            assert_eq!(conflicts.len(), 1);
            assert_eq!(conflicts[0].path, "README.md");
            assert_eq!(
                conflicts[0].theirs.as_deref(),
                Some(muse_core::object_id(b"theirs\n").as_str())
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(read(&r, "README.md").as_deref(), Some("ours\n"));
    assert_eq!(r.head().unwrap(), head);

    // Uncommitted changes are never overwritten.
    write(&r, "README.md", "work in progress\n");
    assert!(matches!(
        integrate(&r, &theirs.commit_id, "other"),
        Err(MuseError::Dirty(_))
    ));
    assert_eq!(read(&r, "README.md").as_deref(), Some("work in progress\n"));
    cleanup(&r.root);
}

#[test]
fn checkout_refuses_to_clobber_an_untracked_file() {
    let r = repo("untracked");
    write(&r, "a.mid", "a");
    add(&r, &["a.mid"]);
    let c = worktree::commit(&r, "a", false).unwrap();
    r.write_ref("heads/b", &c.commit_id).unwrap();
    switch(&r, "b");
    write(&r, "b.mid", "b");
    add(&r, &["b.mid"]);
    let b = worktree::commit(&r, "b", false).unwrap();
    switch(&r, "main");
    assert_eq!(read(&r, "b.mid"), None);
    write(&r, "b.mid", "mine, untracked");
    let from = r.manifest_of(r.head().unwrap().as_deref()).unwrap();
    let to = r.manifest_of(Some(&b.commit_id)).unwrap();
    assert!(matches!(
        worktree::checkout(&r, &from, &to),
        Err(MuseError::Dirty(_))
    ));
    assert_eq!(read(&r, "b.mid").as_deref(), Some("mine, untracked"));
    cleanup(&r.root);
}

fn cleanup(p: &Path) {
    let _ = std::fs::remove_dir_all(p);
}
