use musehub_mcp::prelude::*;

/// A file handle is neither a JSON argument nor an injected value.
#[tool]
fn read(file: std::fs::File) -> String {
    format!("{file:?}")
}

fn main() {}
