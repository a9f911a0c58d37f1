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

/// Concurrency counters by key (requests in flight per client address): a slot is held by
/// the returned guard and freed when it drops; keys at zero are forgotten.
pub struct Counters<K>(std::sync::Arc<parking_lot::Mutex<std::collections::HashMap<K, usize>>>);

impl<K> Default for Counters<K> {
    fn default() -> Self {
        Self(Default::default())
    }
}

impl<K> Clone for Counters<K> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

/// One counted slot of [`Counters`].
pub struct CounterSlot<K: std::hash::Hash + Eq> {
    counters: Counters<K>,
    key: K,
}

impl<K: std::hash::Hash + Eq + Clone> Counters<K> {
    /// Takes a slot for `key`, unless `limit` are already taken.
    pub fn acquire(&self, key: K, limit: usize) -> Option<CounterSlot<K>> {
        let mut map = self.0.lock();
        let n = map.entry(key.clone()).or_insert(0);
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(CounterSlot {
            counters: self.clone(),
            key,
        })
    }

    /// Slots taken for `key`.
    #[cfg(test)]
    pub fn get(&self, key: &K) -> usize {
        self.0.lock().get(key).copied().unwrap_or(0)
    }
}

impl<K: std::hash::Hash + Eq> Drop for CounterSlot<K> {
    fn drop(&mut self) {
        let mut map = self.counters.0.lock();
        if let Some(n) = map.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_cap_and_free_slots() {
        let c = Counters::default();
        let a = c.acquire("ip", 2).unwrap();
        let _b = c.acquire("ip", 2).unwrap();
        assert!(c.acquire("ip", 2).is_none());
        assert!(c.acquire("other", 2).is_some());
        drop(a);
        assert_eq!(c.get(&"ip"), 1);
        assert!(c.acquire("ip", 2).is_some());
    }

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
