//! Proposals (pull requests): opening, commenting, reviewing (also interactively) and merging.

pub mod interactive_review;
pub mod merge_tool;
pub mod model;
pub mod prompts;
pub mod resources;
pub mod reviews;
pub mod tools;

pub use model::*;
pub use tools::{PrDetail, PrList, PrStateFilter};
pub(crate) use tools::{find_pr, list_prs, pr_detail};
