//! Issues: listing, reading, opening, updating and commenting, and their labels.

pub mod labels;
pub mod model;
pub mod prompts;
pub mod resources;
pub mod tools;

pub(crate) use labels::check_labels;
pub use model::*;
pub use tools::{IssueDetail, IssueList, IssueStateFilter};
pub(crate) use tools::{issue_detail, list_issues};
