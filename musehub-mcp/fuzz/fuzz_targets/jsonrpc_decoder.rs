//! The JSON-RPC decoder: the nesting pre-check and the one-pass decode into typed params, on
//! arbitrary bytes, the way both transports run them.
//!
//! Invariants: nothing panics; a body the pre-check lets through never nests deeper than the
//! limit once parsed; a classified request has a string id within `max_id_bytes` or a number
//! id, and a rejection never echoes an id the classifier refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use musehub_mcp::__fuzz::{Body, Incoming, Rejected, decode_body, nesting_exceeds};
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

fn check_one(item: Result<Incoming<'_>, Rejected>) {
    match item {
        Ok(Incoming::Request(r)) => {
            assert!(id_ok(&r.id), "accepted id {:?}", r.id);
            if let Err(e) = &r.params {
                assert_eq!(e.code, -32602, "params errors are invalid params");
            }
        }
        Ok(Incoming::Response(r)) => assert!(id_ok(&r.id), "accepted response id {:?}", r.id),
        Ok(Incoming::Notification(_)) => {}
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
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // What the decoder accepts is JSON no deeper than the limit.
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        assert!(
            depth(&value) <= MAX_DEPTH,
            "nesting_exceeds let a body nested {} deep through",
            depth(&value)
        );
    }
    match decode_body(text, MAX_ID) {
        Ok(Body::Single(m)) => check_one(Ok(m)),
        Ok(Body::Batch(items)) => items.into_iter().for_each(check_one),
        Err(rejected) => check_one(Err(rejected)),
    }
});
