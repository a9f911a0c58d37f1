//! Finding things: search, the domain plugin registry (with the built-in domains), trending
//! repositories, activity feeds, the Muse reference documents and the orientation prompts.

pub mod activity;
pub mod builtin;
pub mod docs;
pub mod domains;
pub mod model;
pub mod prompts;
pub mod resources;
pub mod search;

pub use activity::record_activity;
pub use builtin::ensure_builtin;
pub use domains::{DomainList, DomainManifest};
pub(crate) use domains::{all_domains, domain_manifest};
pub use model::*;
pub(crate) use search::visible_repos;
