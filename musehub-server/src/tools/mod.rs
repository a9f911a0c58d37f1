//! The 42 tools, by category: read, write, the Muse CLI analogues (push, pull, remote,
//! config) and the interactive tools that elicit input from the user.

pub mod interactive;
pub mod muse;
pub mod read;
pub mod write;
