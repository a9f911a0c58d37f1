//! Transports: Streamable HTTP on axum, and stdio.

pub mod http;
pub mod stdio;
