use std::rc::Rc;

use musehub_mcp::prelude::*;

/// Holds an `Rc` across an await.
#[tool]
async fn counter(step: u32) -> String {
    let shared = Rc::new(step);
    tokio::task::yield_now().await;
    shared.to_string()
}

fn main() {}
