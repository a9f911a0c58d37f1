use musehub_mcp::prelude::*;

/// Misspelt option.
#[tool(read_onyl)]
fn search(query: String) -> String {
    query
}

fn main() {}
