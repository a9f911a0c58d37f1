//! People: who the caller is, users and their profiles, agent tokens, and connections to
//! outside services.

pub mod connections;
pub mod enroll;
pub mod model;
pub mod prompts;
pub mod resources;
pub mod tools;

pub use model::*;
