//! The MSign `Authorization` header parser on arbitrary text.
//!
//! Invariants: nothing panics; an accepted header respects every documented field rule and
//! its canonical form parses back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use musehub_mcp::auth::MSignHeader;
use musehub_mcp::__fuzz::MAX_HEADER_LEN;

fn b64url(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(h) = MSignHeader::parse(text) else {
        return;
    };
    assert!(text.len() <= MAX_HEADER_LEN);
    assert!(!h.handle.is_empty() && h.handle.len() <= 64);
    assert!(
        h.handle
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    );
    assert!(!h.kid.is_empty() && h.kid.len() <= 64 && b64url(&h.kid));
    assert!((16..=128).contains(&h.nonce.len()) && b64url(&h.nonce));
    assert!(h.sig.len() == 86 && b64url(&h.sig));
    assert!(h.ts < 1_000_000_000_000);
    let canonical = h.to_header_value();
    assert_eq!(
        MSignHeader::parse(&canonical).as_ref(),
        Ok(&h),
        "canonical form {canonical:?} does not parse back"
    );
});
