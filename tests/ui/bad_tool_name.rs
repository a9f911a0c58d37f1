use musehub_mcp::prelude::*;

/// Spaces are not allowed in tool names.
#[tool(name = "search repos")]
fn search(query: String) -> String {
    query
}

fn main() {}
