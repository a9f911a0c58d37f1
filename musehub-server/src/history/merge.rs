//! Three-way merge of snapshots: what a proposal merge does with two lines of history that
//! both moved since they split. The algorithm is `muse_core::merge`, shared with the `muse`
//! client (whose `muse pull` merges the same way); this module lets it walk the hub's commit
//! graph.

use std::collections::HashMap;

pub use muse_core::merge::{
    Conflict, ConflictKind, Graph, Manifest, MergeOutcome, NotConflicting, Resolution, ancestors,
    merge_base, resolve, three_way,
};
pub use muse_core::snapshot_id;

use crate::history::CommitView;

/// The hub's commits by id, as the merge walks them.
pub struct CommitGraph<'a>(pub &'a HashMap<String, CommitView>);

impl Graph for CommitGraph<'_> {
    fn parents(&self, id: &str) -> Option<&[String]> {
        self.0.get(id).map(|c| c.parent_ids.as_slice())
    }
    fn timestamp(&self, id: &str) -> &str {
        self.0.get(id).map(|c| c.timestamp.as_str()).unwrap_or("")
    }
}
