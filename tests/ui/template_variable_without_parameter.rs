use musehub_mcp::prelude::*;

/// A repository.
#[resource(uri = "musehub://repos/{owner}/{slug}")]
fn repo(owner: String) -> String {
    owner
}

fn main() {}
