//! Changes clients subscribe to (lists and resources), and how a 2026-07-28
//! `subscriptions/listen` stream speaks of them (basic/patterns/subscriptions.mdx): the
//! acknowledgement, one notification per opted-in change tagged with the subscription id,
//! and the closing result. Both transports write these same bytes.

use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::protocol::jsonrpc::{RequestId, encode_message};
use crate::protocol::modern::META_SUBSCRIPTION;

/// A change clients may subscribe to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// A list changed: `tools`, `resources` or `prompts`.
    ListChanged(String),
    /// A resource's contents changed.
    ResourceUpdated(String),
}

impl Change {
    /// The notification's method.
    pub fn method(&self) -> String {
        match self {
            Change::ListChanged(kind) => format!("notifications/{kind}/list_changed"),
            Change::ResourceUpdated(_) => "notifications/resources/updated".into(),
        }
    }

    /// The notification's params (without `_meta`).
    pub fn params(&self) -> Map<String, Value> {
        let mut m = Map::new();
        if let Change::ResourceUpdated(uri) = self {
            m.insert("uri".into(), uri.clone().into());
        }
        m
    }

    /// Does a `subscriptions/listen` filter (a `SubscriptionFilter`) opt in to this change?
    pub fn wanted_by(&self, filter: &Value) -> bool {
        let flag = |k: &str| filter.get(k).and_then(Value::as_bool).unwrap_or(false);
        match self {
            Change::ListChanged(kind) => match kind.as_str() {
                "tools" => flag("toolsListChanged"),
                "prompts" => flag("promptsListChanged"),
                "resources" => flag("resourcesListChanged"),
                _ => false,
            },
            Change::ResourceUpdated(uri) => filter
                .get("resourceSubscriptions")
                .and_then(Value::as_array)
                .is_some_and(|uris| uris.iter().any(|u| u.as_str() == Some(uri))),
        }
    }

    /// The handshake-era notification (no subscription tag).
    pub(crate) fn notification(&self) -> Bytes {
        encode_message(None, &self.method(), &Value::Object(self.params()))
    }

    /// The notification on the listen stream `subscription`.
    pub(crate) fn tagged(&self, subscription: &RequestId) -> Bytes {
        let mut params = self.params();
        params.insert("_meta".into(), json!({ META_SUBSCRIPTION: subscription }));
        encode_message(None, &self.method(), &Value::Object(params))
    }
}

/// The first message of a listen stream: the filter the server agreed to.
pub(crate) fn acknowledgement(filter: &Value, subscription: &RequestId) -> Bytes {
    encode_message(
        None,
        "notifications/subscriptions/acknowledged",
        &json!({ "notifications": filter, "_meta": { META_SUBSCRIPTION: subscription } }),
    )
}

#[cfg(feature = "http")]
/// The listen request's result, sent when the server ends the stream (at shutdown).
pub(crate) fn closing(subscription: &RequestId, result_meta: &Value) -> Bytes {
    let mut meta = result_meta.clone();
    if let Value::Object(m) = &mut meta {
        m.insert(META_SUBSCRIPTION.into(), subscription.clone());
    }
    crate::protocol::jsonrpc::encode_value(
        subscription,
        &json!({ "resultType": "complete", "_meta": meta }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_opt_in_per_kind_and_uri() {
        let filter = json!({"toolsListChanged": true, "resourceSubscriptions": ["a://1"]});
        assert!(Change::ListChanged("tools".into()).wanted_by(&filter));
        assert!(!Change::ListChanged("prompts".into()).wanted_by(&filter));
        assert!(Change::ResourceUpdated("a://1".into()).wanted_by(&filter));
        assert!(!Change::ResourceUpdated("a://2".into()).wanted_by(&filter));
    }

    #[cfg(feature = "http")]
    #[test]
    fn listen_messages_carry_the_subscription_id() {
        let id = json!("sub-1");
        let n: Value =
            serde_json::from_slice(&Change::ResourceUpdated("a://1".into()).tagged(&id)).unwrap();
        assert_eq!(n["method"], "notifications/resources/updated");
        assert_eq!(n["params"]["uri"], "a://1");
        assert_eq!(n["params"]["_meta"][META_SUBSCRIPTION], "sub-1");
        let c: Value = serde_json::from_slice(&closing(&id, &json!({"s": 1}))).unwrap();
        assert_eq!(c["id"], "sub-1");
        assert_eq!(
            c["result"]["_meta"],
            json!({"s": 1, META_SUBSCRIPTION: "sub-1"})
        );
        let a: Value = serde_json::from_slice(&acknowledgement(&json!({}), &id)).unwrap();
        assert_eq!(a["method"], "notifications/subscriptions/acknowledged");
    }
}
