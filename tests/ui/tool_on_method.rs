use musehub_mcp::prelude::*;

struct Hub;

impl Hub {
    /// A method cannot be a tool.
    #[tool]
    fn search(&self, query: String) -> String {
        query
    }
}

fn main() {}
