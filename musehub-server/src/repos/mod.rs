//! Repositories: creating, starring and forking them, who may read or maintain them, their
//! context document, releases, and the composition planner.

pub mod access;
pub mod collaborators;
pub mod compose;
pub mod context;
pub mod model;
pub mod prompts;
pub mod release_interactive;
pub mod releases;
pub mod tools;

pub use access::{can_read, is_maintainer, resolve_repo};
pub(crate) use access::{notify_changed, repo_by_name};
pub(crate) use context::context;
pub use context::{ArtifactSummary, RepoContext};
pub use model::*;
pub(crate) use releases::{NewRelease, create_release};
pub use releases::{RELEASE_COLUMNS, ReleaseList, ReleaseView, releases};
