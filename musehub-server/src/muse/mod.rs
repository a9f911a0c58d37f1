//! The Muse protocol: what `muse push`, `muse pull`, `muse remote` and `muse config` do, over
//! MCP (the `muse_*` tools) and over the HTTP remote the `muse` client talks to.

pub mod pull;
pub mod push;
pub mod push_tool;
pub mod remote;
pub mod remote_http;
pub mod transfer;
pub mod verify;

pub use remote::RemoteInfo;
pub(crate) use remote::remote_info;
