use musehub_mcp::prelude::*;

#[tool]
fn undocumented(query: String) -> String {
    query
}

fn main() {}
