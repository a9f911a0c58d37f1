//! The Muse protocol: what `muse push`, `muse pull`, `muse remote` and `muse config` do.

pub mod pull;
pub mod push;
pub mod remote;

pub use remote::RemoteInfo;
pub(crate) use remote::remote_info;
