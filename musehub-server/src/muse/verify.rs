//! What a push's ids must be (docs/muse-protocol.md): an object's the SHA-256 of its bytes,
//! a snapshot's the hash of its manifest, a commit's the hash of its fields, and every path
//! one a client may write. Each refusal names the expected id in `data`.

use muse_core::ids::{CommitFields, is_id};
use muse_core::paths::check_path;
use musehub_mcp::prelude::*;
use musehub_mcp::serde_json::json;

use crate::muse::push::{InlineObject, PushCommit, PushSnapshot, push_error};

/// Verifies an inline object's id against its bytes.
pub(crate) fn check_inline(o: &InlineObject) -> Result<(), ToolError> {
    if o.object_id.is_empty() || o.path.is_empty() {
        return Err(push_error(
            "push_failed",
            "every object needs an object_id and a path",
        ));
    }
    check_path(&o.path).map_err(|e| push_error("invalid_path", e.to_string()))?;
    let actual = muse_core::object_id(&o.bytes);
    if actual != o.object_id {
        return Err(push_error(
            "object_id_mismatch",
            format!(
                "object '{}' ({}) hashes to {actual}: an object's id is the SHA-256 of its bytes",
                o.object_id, o.path
            ),
        )
        .with_data(json!({ "object_id": o.object_id, "expected": actual, "path": o.path })));
    }
    Ok(())
}

/// Verifies a snapshot's id against its manifest and its paths.
pub(crate) fn check_snapshot(s: &PushSnapshot) -> Result<(), ToolError> {
    for (path, oid) in &s.manifest {
        check_path(path).map_err(|e| push_error("invalid_path", e.to_string()))?;
        if !is_id(oid) {
            return Err(push_error(
                "push_failed",
                format!(
                    "snapshot '{}' names '{oid}' at '{path}', which is not an object id",
                    s.snapshot_id
                ),
            ));
        }
    }
    let expected = muse_core::snapshot_id(&s.manifest);
    if expected != s.snapshot_id {
        return Err(push_error(
            "snapshot_id_mismatch",
            format!(
                "snapshot '{}' has the id {expected}: a snapshot's id is the SHA-256 over its manifest",
                s.snapshot_id
            ),
        )
        .with_data(json!({ "snapshot_id": s.snapshot_id, "expected": expected })));
    }
    Ok(())
}

/// Verifies a commit's id against its fields.
pub(crate) fn check_commit(c: &PushCommit) -> Result<(), ToolError> {
    let expected = muse_core::commit_id(&CommitFields {
        parents: &c.parent_ids,
        snapshot_id: c.snapshot_id.as_deref(),
        author: &c.author,
        timestamp: &c.timestamp,
        message: &c.message,
    })
    .map_err(|e| push_error("invalid_commit", format!("commit '{}': {e}", c.commit_id)))?;
    if expected != c.commit_id {
        return Err(push_error(
            "commit_id_mismatch",
            format!(
                "commit '{}' has the id {expected}: a commit's id is the SHA-256 of its canonical encoding",
                c.commit_id
            ),
        )
        .with_data(json!({ "commit_id": c.commit_id, "expected": expected })));
    }
    Ok(())
}
