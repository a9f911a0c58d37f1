//! Transports: Streamable HTTP on axum, and stdio.

pub mod http;
pub mod http_modern;
pub mod stdio;
