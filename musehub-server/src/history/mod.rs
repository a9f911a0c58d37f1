//! History: branches, commits, snapshots and the stored files, the comparison of refs, the
//! state view and insights, and the three-way merge ([`merge`]).

pub mod merge;
pub mod model;
pub mod objects;
pub mod resources;
pub mod tools;
pub mod view;

pub use model::*;
pub(crate) use objects::insert_object;
pub use objects::{
    OBJECT_COLUMNS, ObjectView, inline_content, mime_for, move_inline_objects, object, object_url,
};
pub use tools::{BranchList, CommitDetail, CommitList};
pub(crate) use tools::{commit_detail, resolve_existing_ref};
pub(crate) use view::insights;
pub use view::{InsightDimension, Insights};
