//! The pure parts of the Muse protocol, shared by the hub (`musehub-server`) and the `muse`
//! client so that both compute exactly the same ids and merges:
//!
//! - [`ids`]: content ids. An object's id is the SHA-256 of its bytes, a snapshot's the
//!   SHA-256 of its manifest, a commit's the SHA-256 of a canonical encoding of its fields
//!   (`docs/muse-protocol.md` specifies all three, with test vectors).
//! - [`paths`]: which paths a snapshot may name (relative, no `..`, nothing under `.muse/`),
//!   so that no repository can make a client write outside its working folder.
//! - [`merge`]: the three-way merge of two snapshots against their merge base, path by path.
//!
//! Nothing here touches a database, a file or the network.

pub mod ids;
pub mod merge;
pub mod paths;

pub use ids::{CommitFields, IdError, Manifest, commit_id, is_id, object_id, snapshot_id};
