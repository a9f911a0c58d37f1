//! What a tool, resource or prompt takes and returns: the call context [`Ctx`] and the
//! helpers injected from it (axum-extractor style, through [`FromCtx`]), and the conversions
//! of return values into results ([`IntoToolResult`] and friends, axum's `IntoResponse`).
//!
//! This layer sits below the registry (whose entries are typed by it) and knows the rest of
//! the runtime only through the `ClientLink` and `ChangeSink` traits of [`ctx`].

pub mod contents;
pub mod ctx;
pub(crate) mod generated;
pub mod inject;
pub mod into;
pub mod peer;
pub(crate) mod rounds;

pub use contents::{IntoPromptResult, IntoResourceContents};
pub use ctx::{Caller, CancellationToken, Ctx, FromCtx, Identity, Scheme, State, StateMap};
pub use inject::{Logger, Progress};
pub use into::{Args, IntoToolResult, Json};
pub use peer::{ElicitResult, Elicitation, MISSING_CAPABILITY, Roots, Sampling};
