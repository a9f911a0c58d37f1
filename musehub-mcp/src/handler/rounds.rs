//! The handler's side of 2026-07-28 input rounds (basic/patterns/mrtr.mdx): the answers a
//! call already has, and the input requests it made without an answer. The engine seals and
//! opens the `requestState` that carries the answers between rounds (`engine::mrtr`).

use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use serde_json::{Map, Value};

/// The input rounds of one call.
#[derive(Default)]
pub(crate) struct Rounds {
    answers: Map<String, Value>,
    requests: Mutex<Map<String, Value>>,
    counter: AtomicU64,
    missing_capability: Mutex<Option<Value>>,
}

impl Rounds {
    /// A call with these answers known.
    pub(crate) fn new(answers: Map<String, Value>) -> Self {
        Self {
            answers,
            ..Default::default()
        }
    }

    /// A key for an input request the tool did not name: stable across rounds because the
    /// handler makes the same requests in the same order each time.
    pub(crate) fn next_key(&self, method: &str) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        let short = method.split('/').next().unwrap_or(method);
        format!("{short}-{n}")
    }

    /// The client's answer to input request `key`, if given.
    pub(crate) fn answer(&self, key: &str) -> Option<&Value> {
        self.answers.get(key)
    }

    /// Records an input request to send back in an `InputRequiredResult`.
    pub(crate) fn request(&self, key: String, method: &str, params: Value) {
        let mut m = Map::new();
        m.insert("method".into(), method.into());
        m.insert("params".into(), params);
        self.requests.lock().insert(key, Value::Object(m));
    }

    /// Records that the call needs a capability the client did not declare.
    pub(crate) fn require_capability(&self, capabilities: Value) {
        *self.missing_capability.lock() = Some(capabilities);
    }

    /// The input requests made and not answered.
    pub(crate) fn pending(&self) -> Map<String, Value> {
        self.requests.lock().clone()
    }

    /// The capability the call needed and lacked, if any.
    pub(crate) fn missing_capability(&self) -> Option<Value> {
        self.missing_capability.lock().clone()
    }

    /// Every answer known (to carry into the next state).
    pub(crate) fn answers(&self) -> &Map<String, Value> {
        &self.answers
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_stable_per_method_order_and_requests_are_kept() {
        let mut answers = Map::new();
        answers.insert("elicitation-1".into(), json!({"action": "accept"}));
        let r = Rounds::new(answers);
        assert_eq!(r.next_key("elicitation/create"), "elicitation-1");
        assert!(r.answer("elicitation-1").is_some());
        assert_eq!(r.next_key("sampling/createMessage"), "sampling-2");
        r.request("sampling-2".into(), "sampling/createMessage", json!({}));
        assert_eq!(
            Value::Object(r.pending()),
            json!({"sampling-2": {"method": "sampling/createMessage", "params": {}}})
        );
        assert!(r.missing_capability().is_none());
        r.require_capability(json!({"sampling": {}}));
        assert_eq!(r.missing_capability(), Some(json!({"sampling": {}})));
    }
}
