use musehub_mcp::prelude::*;

/// A repository.
#[resource(uri = "musehub://repos/{owner}")]
fn repo(owner: String, slug: String) -> String {
    format!("{owner}/{slug}")
}

fn main() {}
