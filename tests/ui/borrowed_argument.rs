use musehub_mcp::prelude::*;

/// Arguments are deserialised, so they must be owned.
#[tool]
fn search(query: &str) -> String {
    query.to_string()
}

fn main() {}
