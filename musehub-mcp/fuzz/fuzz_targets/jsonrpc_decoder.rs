//! The JSON-RPC decoder: the nesting pre-check, the JSON parse and the classification, on
//! arbitrary bytes, the way both transports run them.
//!
//! Invariants: nothing panics; a body the pre-check lets through never nests deeper than the
//! limit once parsed; a classified request has a string id within `max_id_bytes` or a number
//! id, and a rejection never echoes an id the classifier refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use musehub_mcp::protocol::jsonrpc::{Message, classify, nesting_exceeds};
use serde_json::Value;

const MAX_DEPTH: usize = 64;
const MAX_ID: usize = 256;

fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fn id_ok(id: &Value) -> bool {
    match id {
        Value::String(s) => s.len() <= MAX_ID,
        Value::Number(_) => true,
        _ => false,
    }
}

fn check_one(value: Value) {
    match classify(value, MAX_ID) {
        Ok(Message::Request(r)) => assert!(id_ok(&r.id), "accepted id {:?}", r.id),
        Ok(Message::Response { id, .. }) => assert!(id_ok(&id), "accepted response id {id:?}"),
        Ok(Message::Notification(_)) => {}
        Err(rejected) => {
            if let Some(id) = &rejected.id {
                assert!(id_ok(id), "rejection echoes an invalid id {id:?}");
            }
            // The error must serialise (it is written to the wire).
            let _ = rejected.error.to_value();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if nesting_exceeds(data, MAX_DEPTH) {
        return;
    }
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    assert!(
        depth(&value) <= MAX_DEPTH,
        "nesting_exceeds let a body nested {} deep through",
        depth(&value)
    );
    match value {
        Value::Array(items) => items.into_iter().for_each(check_one),
        other => check_one(other),
    }
});
