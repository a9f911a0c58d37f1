//! Small helpers shared by the runtime.

/// Cuts `s` to at most `max` bytes on a character boundary, so that error messages and logs
/// never echo an unbounded amount of client-controlled text.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A cryptographically random identifier of `bytes` random bytes, as URL-safe base64
/// (visible ASCII only, as `Mcp-Session-Id` requires).
pub fn random_id(bytes: usize) -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("abc", 10), "abc");
    }

    #[test]
    fn random_ids_are_visible_ascii_and_distinct() {
        let a = random_id(24);
        let b = random_id(24);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| (0x21..=0x7e).contains(&c)));
        assert_eq!(a.len(), 32);
    }
}
