//! Transports: Streamable HTTP on axum, and stdio.

pub mod accept;
pub mod http;
pub mod http_modern;
pub mod stdio;
