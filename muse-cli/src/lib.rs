//! The `muse` client's library: a working folder under Muse version control, and the HTTP
//! remote of a MuseHub (`docs/muse-protocol.md`).
//!
//! A repository is a working folder with a `.muse/` folder beside its files:
//!
//! | path | what |
//! |---|---|
//! | `.muse/HEAD` | `ref: refs/heads/<branch>`, the branch checked out |
//! | `.muse/refs/heads/<branch>` | a branch's head commit id |
//! | `.muse/refs/remotes/<remote>/<branch>` | where a remote's branch was last seen |
//! | `.muse/objects/ab/cdef…` | file contents, named by their SHA-256 |
//! | `.muse/snapshots/<id>.json` | manifests (path to object id) |
//! | `.muse/commits/<id>.json` | commits (parents, snapshot, author, time, message) |
//! | `.muse/index.json` | the manifest the next commit records (`muse add` changes it) |
//! | `.muse/config.toml` | `user.*` and `remote.<name>.url` |
//!
//! Ids are computed with `muse_core`, exactly as the hub verifies them. Nothing here holds a
//! whole large file in memory: files are hashed and copied in blocks, uploaded in signed
//! pieces and downloaded as streams.

pub mod config;
pub mod enroll;
pub mod error;
pub mod keyfile;
pub mod remote;
pub mod repo;
pub mod sync;
pub mod worktree;

pub use error::MuseError;
