//! What can go wrong in the client, typed.

use std::path::PathBuf;

use muse_core::merge::Conflict;

/// A client failure.
#[derive(Debug, thiserror::Error)]
pub enum MuseError {
    /// No `.muse/` in this folder or any parent.
    #[error("not a muse repository (no .muse/ here or above {0}); run `muse init` or `muse clone`")]
    NotARepository(PathBuf),
    /// `muse init` where one exists already.
    #[error("{0} is a muse repository already")]
    AlreadyARepository(PathBuf),
    /// The file system failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Something under `.muse/` is not what it should be.
    #[error("the repository is damaged: {0}")]
    Corrupt(String),
    /// A path that may not be in a snapshot.
    #[error(transparent)]
    Path(#[from] muse_core::paths::PathError),
    /// A commit's fields cannot make an id.
    #[error(transparent)]
    Id(#[from] muse_core::IdError),
    /// A configuration key is missing or wrong.
    #[error("{0}")]
    Config(String),
    /// A name the command does not know.
    #[error("{0}")]
    Unknown(String),
    /// The command cannot run in the repository's state.
    #[error("{0}")]
    State(String),
    /// `muse commit` with nothing staged.
    #[error("nothing to commit: the index is the head's snapshot (muse add PATH, or commit -a)")]
    NothingToCommit,
    /// Uncommitted changes a checkout or merge would overwrite.
    #[error("uncommitted changes in {}: commit them first", .0.join(", "))]
    Dirty(Vec<String>),
    /// A pull whose merge conflicts; nothing in the working folder changed.
    #[error("{} path(s) changed differently on both sides since {base}: {}; nothing was merged", .conflicts.len(), .conflicts.iter().map(|c| c.path.as_str()).collect::<Vec<_>>().join(", "))]
    Conflicts {
        /// The merge base (`none` for unrelated histories).
        base: String,
        /// The conflicting paths, each with the object on every side.
        conflicts: Vec<Conflict>,
    },
    /// The hub refused the request (its JSON error).
    #[error("the hub answered {status}: {message} ({code})")]
    Remote {
        /// HTTP status.
        status: u16,
        /// The error code (`non_fast_forward`, `too_large`, ...).
        code: String,
        /// What the hub said.
        message: String,
        /// The error's data.
        data: serde_json::Value,
    },
    /// The request never got an answer.
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    /// Bytes that do not hash to the id they came under.
    #[error("object {expected} arrived as bytes that hash to {actual}")]
    Mismatch {
        /// The id asked for.
        expected: String,
        /// What the bytes hash to.
        actual: String,
    },
}

impl MuseError {
    /// An I/O error on `path`.
    pub fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| MuseError::Io { op, path, source }
    }
}

/// A client result.
pub type Result<T> = std::result::Result<T, MuseError>;
