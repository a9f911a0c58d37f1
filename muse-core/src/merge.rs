//! Three-way merge of snapshots: what a proposal merge (and a client's pull) does with two
//! lines of history that both moved since they split.
//!
//! A snapshot is a manifest, `path -> object id`. The merge compares each path on three
//! sides: the merge base (the newest common ancestor), ours (the target branch) and theirs
//! (the proposal branch). A path changed on one side only takes that side; a path changed the
//! same way on both sides takes that change; a path changed differently on both sides is a
//! conflict, which is reported, never decided silently. Deleting a path is a change like any
//! other, so "one side deleted, the other edited" is a conflict too.
//!
//! Everything here is pure (no database, no files), so the hub and the `muse` client merge
//! alike, and the property tests below can run it over random histories.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use serde::Serialize;

pub use crate::ids::Manifest;

/// What the merge needs to know about a commit history: each commit's parents and time.
pub trait Graph {
    /// The parents of `id`, `None` for a commit the graph does not hold.
    fn parents(&self, id: &str) -> Option<&[String]>;
    /// The authoring time of `id` (RFC 3339, compared as text), `""` when unknown.
    fn timestamp(&self, id: &str) -> &str;
}

/// One commit of a [`Graph`] held in a map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Parent ids.
    pub parents: Vec<String>,
    /// Authoring time, RFC 3339.
    pub timestamp: String,
}

impl Graph for HashMap<String, Node> {
    fn parents(&self, id: &str) -> Option<&[String]> {
        self.get(id).map(|n| n.parents.as_slice())
    }
    fn timestamp(&self, id: &str) -> &str {
        self.get(id).map(|n| n.timestamp.as_str()).unwrap_or("")
    }
}

/// A resolution named a path that does not conflict.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' does not conflict; resolutions name conflicting paths only")]
pub struct NotConflicting(pub String);

/// The newest common ancestor of `a` and `b` in `graph`, or `None` when the two histories
/// share no commit.
///
/// Of all common ancestors it keeps those that no other common ancestor descends from (the
/// "best" ones, as git calls them); when history criss-crosses and there are several, the
/// newest (by timestamp, then id) is taken. A base that is too old only turns clean merges
/// into conflicts: it can never make a change disappear.
pub fn merge_base<G: Graph + ?Sized>(graph: &G, a: &str, b: &str) -> Option<String> {
    let ours = ancestors(graph, a);
    let common: HashSet<String> = ancestors(graph, b)
        .into_iter()
        .filter(|c| ours.contains(c))
        .collect();
    // A common ancestor is redundant when it is a proper ancestor of another common one.
    let mut redundant = HashSet::new();
    for c in &common {
        if redundant.contains(c) {
            continue;
        }
        for p in ancestors(graph, c) {
            if &p != c {
                redundant.insert(p);
            }
        }
    }
    common
        .into_iter()
        .filter(|c| !redundant.contains(c))
        .max_by(|x, y| {
            graph
                .timestamp(x)
                .cmp(graph.timestamp(y))
                .then_with(|| x.cmp(y))
        })
}

/// `head` and every commit it descends from (the commits known to `graph`).
pub fn ancestors<G: Graph + ?Sized>(graph: &G, head: &str) -> HashSet<String> {
    let mut seen = HashSet::new();
    let mut queue = VecDeque::from([head.to_string()]);
    while let Some(id) = queue.pop_front() {
        let Some(parents) = graph.parents(&id) else {
            continue;
        };
        if seen.insert(id.clone()) {
            queue.extend(parents.iter().cloned());
        }
    }
    seen
}

/// How a path conflicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictKind {
    /// Both sides changed the file, differently.
    BothModified,
    /// Both sides added the path, with different content.
    BothAdded,
    /// The target branch deleted it; the proposal changed it.
    DeletedByUs,
    /// The proposal deleted it; the target branch changed it.
    DeletedByThem,
}

/// One conflicting path, with the object id on each side (`None` where the path is absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    /// The path.
    pub path: String,
    /// How it conflicts.
    pub kind: ConflictKind,
    /// The object at the merge base.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// The object on the target branch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ours: Option<String>,
    /// The object on the proposal branch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theirs: Option<String>,
}

/// What the caller decides for a conflicting path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Keep the target branch's version (or its deletion).
    Ours,
    /// Take the proposal's version (or its deletion).
    Theirs,
    /// Delete the path.
    Delete,
    /// Use this object (it must already be on the hub).
    Object(String),
}

impl Resolution {
    /// Reads `ours`, `theirs`, `delete` or an object id.
    pub fn parse(s: &str) -> Self {
        match s {
            "ours" => Self::Ours,
            "theirs" => Self::Theirs,
            "delete" => Self::Delete,
            other => Self::Object(other.to_string()),
        }
    }
}

/// The result of a three-way merge: the merged manifest (conflicting paths keep the target
/// branch's version there until resolved) and the conflicts, sorted by path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeOutcome {
    /// The merged manifest.
    pub merged: Manifest,
    /// The paths both sides changed differently.
    pub conflicts: Vec<Conflict>,
}

/// Merges `theirs` into `ours` relative to `base`, path by path.
pub fn three_way(base: &Manifest, ours: &Manifest, theirs: &Manifest) -> MergeOutcome {
    let paths: std::collections::BTreeSet<&String> = base
        .keys()
        .chain(ours.keys())
        .chain(theirs.keys())
        .collect();
    let mut merged = Manifest::new();
    let mut conflicts = Vec::new();
    for path in paths {
        let (b, o, t) = (base.get(path), ours.get(path), theirs.get(path));
        let pick = if o == t || t == b {
            o
        } else if o == b {
            t
        } else {
            let kind = match (b, o, t) {
                (None, _, _) => ConflictKind::BothAdded,
                (Some(_), None, _) => ConflictKind::DeletedByUs,
                (Some(_), _, None) => ConflictKind::DeletedByThem,
                _ => ConflictKind::BothModified,
            };
            conflicts.push(Conflict {
                path: path.clone(),
                kind,
                base: b.cloned(),
                ours: o.cloned(),
                theirs: t.cloned(),
            });
            o
        };
        if let Some(oid) = pick {
            merged.insert(path.clone(), oid.clone());
        }
    }
    MergeOutcome { merged, conflicts }
}

/// Applies the caller's resolutions to a merge. Every conflict needs one, and every resolution
/// must name a conflicting path (a resolution for a clean path is a mistake worth reporting,
/// not something to apply behind the caller's back). Returns the conflicts left unresolved.
pub fn resolve(
    outcome: &mut MergeOutcome,
    resolutions: &BTreeMap<String, Resolution>,
) -> Result<Vec<Conflict>, NotConflicting> {
    for path in resolutions.keys() {
        if !outcome.conflicts.iter().any(|c| &c.path == path) {
            return Err(NotConflicting(path.clone()));
        }
    }
    let mut left = Vec::new();
    for c in std::mem::take(&mut outcome.conflicts) {
        let chosen = match resolutions.get(&c.path) {
            None => {
                left.push(c);
                continue;
            }
            Some(Resolution::Ours) => c.ours.clone(),
            Some(Resolution::Theirs) => c.theirs.clone(),
            Some(Resolution::Delete) => None,
            Some(Resolution::Object(oid)) => Some(oid.clone()),
        };
        match chosen {
            Some(oid) => outcome.merged.insert(c.path.clone(), oid),
            None => outcome.merged.remove(&c.path),
        };
    }
    Ok(left)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(entries: &[(&str, &str)]) -> Manifest {
        entries
            .iter()
            .map(|(p, o)| (p.to_string(), o.to_string()))
            .collect()
    }

    fn commit(id: &str, parents: &[&str], ts: &str) -> (String, Node) {
        (
            id.to_string(),
            Node {
                parents: parents.iter().map(|p| p.to_string()).collect(),
                timestamp: ts.into(),
            },
        )
    }

    fn graph(commits: &[(String, Node)]) -> HashMap<String, Node> {
        commits.iter().cloned().collect()
    }

    #[test]
    fn both_sides_adding_different_files_keeps_both() {
        // The reported data loss: main gained bass.mid, the branch gained drums.mid.
        let base = m(&[("README.md", "r")]);
        let ours = m(&[("README.md", "r"), ("bass.mid", "b")]);
        let theirs = m(&[("README.md", "r"), ("drums.mid", "d")]);
        let out = three_way(&base, &ours, &theirs);
        assert!(out.conflicts.is_empty());
        assert_eq!(
            out.merged,
            m(&[("README.md", "r"), ("bass.mid", "b"), ("drums.mid", "d")])
        );
    }

    #[test]
    fn one_sided_changes_and_deletions_apply() {
        let base = m(&[("a", "1"), ("b", "1"), ("c", "1")]);
        let ours = m(&[("a", "2"), ("b", "1")]);
        let theirs = m(&[("a", "1"), ("c", "1"), ("d", "9")]);
        let out = three_way(&base, &ours, &theirs);
        assert!(out.conflicts.is_empty());
        // a edited by us, b deleted by them, c deleted by us, d added by them.
        assert_eq!(out.merged, m(&[("a", "2"), ("d", "9")]));
    }

    #[test]
    fn identical_changes_on_both_sides_do_not_conflict() {
        let base = m(&[("a", "1")]);
        let both = m(&[("a", "2"), ("n", "x")]);
        let out = three_way(&base, &both, &both);
        assert!(out.conflicts.is_empty());
        assert_eq!(out.merged, both);
    }

    #[test]
    fn divergent_changes_are_conflicts_of_the_right_kind() {
        let base = m(&[("edit", "1"), ("gone-ours", "1"), ("gone-theirs", "1")]);
        let ours = m(&[("edit", "2"), ("gone-theirs", "2"), ("new", "o")]);
        let theirs = m(&[("edit", "3"), ("gone-ours", "3"), ("new", "t")]);
        let out = three_way(&base, &ours, &theirs);
        let kinds: Vec<_> = out
            .conflicts
            .iter()
            .map(|c| (c.path.as_str(), c.kind))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("edit", ConflictKind::BothModified),
                ("gone-ours", ConflictKind::DeletedByUs),
                ("gone-theirs", ConflictKind::DeletedByThem),
                ("new", ConflictKind::BothAdded),
            ]
        );
        assert_eq!(out.conflicts[0].ours.as_deref(), Some("2"));
        assert_eq!(out.conflicts[0].theirs.as_deref(), Some("3"));
        assert_eq!(out.conflicts[1].ours, None);
    }

    #[test]
    fn resolutions_settle_conflicts_and_refuse_clean_paths() {
        let base = m(&[("a", "1"), ("b", "1"), ("c", "1")]);
        let ours = m(&[("a", "2"), ("b", "2"), ("c", "2"), ("clean", "k")]);
        let theirs = m(&[("a", "3"), ("b", "3"), ("c", "3")]);
        let mut out = three_way(&base, &ours, &theirs);
        let mut res = BTreeMap::new();
        res.insert("a".to_string(), Resolution::parse("theirs"));
        res.insert("b".to_string(), Resolution::parse("delete"));
        let left = resolve(&mut out, &res).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].path, "c");
        assert_eq!(out.merged.get("a").map(String::as_str), Some("3"));
        assert!(!out.merged.contains_key("b"));
        assert_eq!(out.merged.get("clean").map(String::as_str), Some("k"));

        let mut out = three_way(&base, &ours, &theirs);
        let mut bad = BTreeMap::new();
        bad.insert("clean".to_string(), Resolution::Ours);
        assert_eq!(
            resolve(&mut out, &bad).unwrap_err(),
            NotConflicting("clean".into())
        );
    }

    #[test]
    fn merge_base_is_the_newest_common_ancestor() {
        //   r - a - b  (main)
        //        \
        //         c - d (feature)
        let g = graph(&[
            commit("r", &[], "1"),
            commit("a", &["r"], "2"),
            commit("b", &["a"], "3"),
            commit("c", &["a"], "4"),
            commit("d", &["c"], "5"),
        ]);
        assert_eq!(merge_base(&g, "b", "d").as_deref(), Some("a"));
        assert_eq!(merge_base(&g, "d", "b").as_deref(), Some("a"));
        // One side contains the other: the older head is the base.
        assert_eq!(merge_base(&g, "d", "c").as_deref(), Some("c"));
        // After a merge commit, the merged head is the new base.
        let mut g2 = g.clone();
        g2.extend([commit("m", &["b", "d"], "6"), commit("e", &["d"], "7")]);
        assert_eq!(merge_base(&g2, "m", "e").as_deref(), Some("d"));
        // Unrelated histories.
        g2.extend([commit("x", &[], "8")]);
        assert_eq!(merge_base(&g2, "m", "x"), None);
    }

    /// One random edit of a manifest: add, change or delete paths from a small alphabet so
    /// that the two sides collide often.
    fn edits() -> impl Strategy<Value = Vec<(u8, Option<u8>)>> {
        proptest::collection::vec((0u8..8, proptest::option::of(0u8..4)), 0..8)
    }

    fn apply(base: &Manifest, edits: &[(u8, Option<u8>)], side: &str) -> Manifest {
        let mut out = base.clone();
        for (p, v) in edits {
            let path = format!("f{p}.mid");
            match v {
                Some(v) => out.insert(path, format!("{side}{v}")),
                None => out.remove(&path),
            };
        }
        out
    }

    proptest! {
        /// No change on either side is lost: every path one side changed (relative to the
        /// base) either carries that side's change in the merge or is listed as a conflict,
        /// and every path neither side touched is as it was.
        #[test]
        fn no_change_is_lost(
            base_edits in edits(),
            ours_edits in edits(),
            theirs_edits in edits(),
        ) {
            let base = apply(&Manifest::new(), &base_edits, "b");
            let ours = apply(&base, &ours_edits, "o");
            let theirs = apply(&base, &theirs_edits, "t");
            let out = three_way(&base, &ours, &theirs);
            let conflicted: HashSet<&str> = out.conflicts.iter().map(|c| c.path.as_str()).collect();
            let all: HashSet<&String> = base.keys().chain(ours.keys()).chain(theirs.keys()).collect();
            for path in all {
                let (b, o, t, r) = (base.get(path), ours.get(path), theirs.get(path), out.merged.get(path));
                if conflicted.contains(path.as_str()) {
                    prop_assert!(o != b && t != b && o != t);
                    prop_assert_eq!(r, o, "a conflict keeps ours until resolved");
                    continue;
                }
                if o != b { prop_assert_eq!(r, o, "our change to {} was lost", path); }
                if t != b { prop_assert_eq!(r, t, "their change to {} was lost", path); }
                if o == b && t == b { prop_assert_eq!(r, b); }
            }
            // Merging is symmetric up to which side a conflict keeps.
            let swapped = three_way(&base, &theirs, &ours);
            prop_assert_eq!(swapped.conflicts.len(), out.conflicts.len());
            if out.conflicts.is_empty() {
                prop_assert_eq!(swapped.merged, out.merged);
            }
        }

        /// The merge base of two branches cut from one history is a common ancestor that
        /// neither branch's later commits are part of.
        #[test]
        fn merge_base_of_random_branches(trunk in 1usize..6, left in 0usize..5, right in 0usize..5, cut in 0usize..6) {
            let cut = cut.min(trunk - 1);
            let mut commits = Vec::new();
            for i in 0..trunk {
                let parents: Vec<String> = if i == 0 { vec![] } else { vec![format!("t{}", i - 1)] };
                let p: Vec<&str> = parents.iter().map(String::as_str).collect();
                commits.push(commit(&format!("t{i}"), &p, &format!("{i:03}")));
            }
            let mut tip = |prefix: &str, n: usize| {
                let mut last = format!("t{cut}");
                for j in 0..n {
                    let id = format!("{prefix}{j}");
                    commits.push(commit(&id, &[&last], &format!("{:03}", 100 + j)));
                    last = id;
                }
                last
            };
            let l = tip("l", left);
            let r = tip("r", right);
            let g = graph(&commits);
            let expected = if left == 0 { l.clone() } else if right == 0 { r.clone() } else { format!("t{cut}") };
            prop_assert_eq!(merge_base(&g, &l, &r), Some(expected));
        }
    }
}
