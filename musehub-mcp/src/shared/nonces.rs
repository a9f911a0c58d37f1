//! MSign nonces remembered for the skew window, so a captured request cannot be replayed:
//! in process ([`MemoryNonceStore`]), or in the shared store so that a request replayed to
//! another instance is refused there too.

use std::collections::{HashSet, VecDeque};

use futures::future::BoxFuture;
use parking_lot::Mutex;

use super::SharedError;

/// Remembers nonces for the skew window so a captured request cannot be replayed.
pub trait NonceStore: Send + Sync + 'static {
    /// Records `(handle, nonce)` until `expires_at` (Unix seconds). `Ok(false)` when it was
    /// already recorded.
    fn insert<'a>(
        &'a self,
        handle: &'a str,
        nonce: &'a str,
        now: u64,
        expires_at: u64,
    ) -> BoxFuture<'a, Result<bool, SharedError>>;
}

/// An in-memory nonce store with a hard capacity: entries expire with the window; when the
/// store is full of unexpired nonces, new signed requests are refused (503) rather than
/// forgetting a nonce early, which would reopen replay.
pub struct MemoryNonceStore {
    capacity: usize,
    inner: Mutex<NonceLog>,
}

/// The nonces remembered, and their expiries in arrival order.
type NonceLog = (HashSet<(String, String)>, VecDeque<(u64, String, String)>);

impl MemoryNonceStore {
    /// A store holding at most `capacity` nonces.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            inner: Mutex::new((HashSet::new(), VecDeque::new())),
        }
    }

    /// Nonces currently remembered.
    pub fn len(&self) -> usize {
        self.inner.lock().0.len()
    }

    /// True when no nonce is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl NonceStore for MemoryNonceStore {
    fn insert<'a>(
        &'a self,
        handle: &'a str,
        nonce: &'a str,
        now: u64,
        expires_at: u64,
    ) -> BoxFuture<'a, Result<bool, SharedError>> {
        let outcome = {
            let mut guard = self.inner.lock();
            let (set, order) = &mut *guard;
            // Expiries are nearly ordered (ts varies within the window), so popping expired
            // entries from the front reclaims almost all of them; stragglers go next time.
            while order.front().is_some_and(|e| e.0 < now) {
                if let Some((_, h, n)) = order.pop_front() {
                    set.remove(&(h, n));
                }
            }
            let key = (handle.to_string(), nonce.to_string());
            if set.contains(&key) {
                Ok(false)
            } else if set.len() >= self.capacity {
                Err(SharedError::Unavailable(
                    "the replay cache is full; retry shortly".into(),
                ))
            } else {
                set.insert(key);
                order.push_back((expires_at, handle.to_string(), nonce.to_string()));
                Ok(true)
            }
        };
        Box::pin(async move { outcome })
    }
}
