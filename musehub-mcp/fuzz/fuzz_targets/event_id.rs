//! The SSE `Last-Event-ID` parser on arbitrary text.
//!
//! Invariants: nothing panics; an accepted id names a stream of 1-64 bytes, and the id the
//! server would write for that stream and sequence parses back to the same pair.
#![no_main]

use libfuzzer_sys::fuzz_target;
use musehub_mcp::__fuzz::parse_event_id;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some((stream, seq)) = parse_event_id(text) else {
        return;
    };
    assert!(!stream.is_empty() && stream.len() <= 64);
    assert!(text.starts_with(stream));
    let written = format!("{stream}_{seq}");
    assert_eq!(parse_event_id(&written), Some((stream, seq)), "{written:?}");
});
