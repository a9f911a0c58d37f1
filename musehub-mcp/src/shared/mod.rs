//! What several instances of one server must share to serve any request of any session
//! without sticky sessions (issue 8): session records, the per-stream event logs behind
//! `Last-Event-ID` replay, answers to server-to-client requests, resource subscriptions,
//! MSign nonces and rate-limit buckets.
//!
//! A server without a [`Backplane`] (the default) keeps all of it in process: the
//! session store with its per-stream event logs and pending
//! requests, and a [`MemoryNonceStore`]. Nothing changes for it. With a backplane
//! (`RedisBackplane`, feature `redis`, selected by [`crate::ServerConfig::redis_url`] /
//! `MUSEHUB_REDIS_URL`, or [`MemoryBackplane`] shared by servers of one process) each instance
//! keeps a *replica* of the sessions it serves: the record is loaded from the backplane on
//! first use, every event is appended to the shared log before it is delivered, and the bus
//! ([`BusMessage`]) carries what one instance must tell the others (a new event for a stream
//! whose reader it holds, an answer for a request it awaits, a deletion).

pub mod memory;
pub mod nonces;
#[cfg(feature = "redis")]
pub mod redis;

use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::handler::ctx::PeerAnswer;
use crate::protocol::jsonrpc::RequestId;
pub use crate::session::SessionRecord;

pub use self::memory::MemoryBackplane;
pub use self::nonces::{MemoryNonceStore, NonceStore};
#[cfg(feature = "redis")]
pub use self::redis::RedisBackplane;

/// Why the shared store could not be used. Requests that need it are answered with HTTP 503
/// and this message; the server keeps running and recovers when the store returns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SharedError {
    /// The store cannot be reached, or did not answer in time.
    #[error("the shared session store is unavailable: {0}")]
    Unavailable(String),
    /// The store holds something this version cannot read.
    #[error("the shared session store holds unreadable data: {0}")]
    Corrupt(String),
    /// The configuration names no usable store (a malformed Redis URL).
    #[error("the shared session store is misconfigured: {0}")]
    Config(String),
}

/// A stream's log as the shared store holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredEvents {
    /// Events after the requested cursor, oldest first, as `(sequence, message)`.
    pub events: Vec<(u64, Bytes)>,
    /// True once the stream was finished (its request answered).
    pub finished: bool,
}

/// What one instance tells the others through the bus. Every instance receives every
/// message (its own included) and acts only on the sessions it holds a replica of.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum BusMessage {
    /// An event was appended to a stream's shared log.
    Event {
        /// Session id.
        session: String,
        /// Stream id.
        stream: String,
        /// The event's sequence number in that stream.
        seq: u64,
        /// The JSON-RPC message.
        data: Bytes,
    },
    /// A stream was finished.
    Finished {
        /// Session id.
        session: String,
        /// Stream id.
        stream: String,
    },
    /// A client answered a server-to-client request on another instance.
    Answer {
        /// Session id.
        session: String,
        /// The request id (as the server sent it).
        id: RequestId,
        /// The result, or the JSON-RPC error object.
        answer: PeerAnswer,
    },
    /// A client cancelled a request (`notifications/cancelled`) on another instance.
    Cancel {
        /// Session id.
        session: String,
        /// The cancelled request's id.
        id: RequestId,
    },
    /// A session was deleted.
    Deleted {
        /// Session id.
        session: String,
    },
    /// A list or a resource changed: every other instance tells its 2026-07-28
    /// `subscriptions/listen` streams (the origin told its own at once; handshake-era
    /// sessions get it through their logs).
    Changed {
        /// The [`Backplane::instance`] that raised it.
        origin: String,
        /// What changed.
        change: crate::engine::Change,
    },
    /// The bus (re)connected; messages sent while it was down were not received, so readers
    /// should catch up from the shared logs.
    Connected,
    /// The bus connection was lost (the listener reconnects by itself).
    Disconnected,
}

impl BusMessage {
    /// The wire form: a tag line, then fields on their own lines (ids never hold newlines;
    /// the last field, a JSON message, may). The Redis append script writes `E` itself.
    pub fn encode(&self) -> Vec<u8> {
        let text = match self {
            BusMessage::Event {
                session,
                stream,
                seq,
                data,
            } => {
                let mut out = format!("E\n{session}\n{stream}\n{seq}\n").into_bytes();
                out.extend_from_slice(data);
                return out;
            }
            BusMessage::Finished { session, stream } => format!("F\n{session}\n{stream}"),
            BusMessage::Answer {
                session,
                id,
                answer,
            } => {
                let body = match answer {
                    Ok(r) => serde_json::json!({ "id": id, "result": r }),
                    Err(e) => serde_json::json!({ "id": id, "error": e }),
                };
                format!("A\n{session}\n{body}")
            }
            BusMessage::Cancel { session, id } => format!("C\n{session}\n{id}"),
            BusMessage::Deleted { session } => format!("D\n{session}"),
            BusMessage::Changed { origin, change } => match change {
                crate::engine::Change::ListChanged(kind) => format!("L\n{origin}\n{kind}"),
                // A URI holds no newline (RFC 3986), but decoding keeps the rest anyway.
                crate::engine::Change::ResourceUpdated(uri) => format!("U\n{origin}\n{uri}"),
            },
            BusMessage::Connected => "R".to_string(),
            BusMessage::Disconnected => "X".to_string(),
        };
        text.into_bytes()
    }

    /// Parses the wire form; `None` for anything malformed (ignored by the listener).
    pub fn decode(payload: &[u8]) -> Option<Self> {
        let mut parts = payload.splitn(5, |b| *b == b'\n');
        let tag = parts.next()?;
        let text = |b: &[u8]| std::str::from_utf8(b).ok().map(str::to_string);
        match tag {
            b"E" => Some(BusMessage::Event {
                session: text(parts.next()?)?,
                stream: text(parts.next()?)?,
                seq: text(parts.next()?)?.parse().ok()?,
                data: Bytes::copy_from_slice(parts.next()?),
            }),
            b"F" => Some(BusMessage::Finished {
                session: text(parts.next()?)?,
                stream: text(parts.next()?)?,
            }),
            b"A" => {
                let session = text(parts.next()?)?;
                // The JSON body may hold newlines: rejoin what the split cut.
                let rest: Vec<&[u8]> = parts.collect();
                let body: Value = serde_json::from_slice(&rest.join(&b'\n')).ok()?;
                let id = body.get("id")?.clone();
                let answer = match (body.get("result"), body.get("error")) {
                    (Some(r), _) => Ok(r.clone()),
                    (None, Some(e)) => Err(e.clone()),
                    (None, None) => return None,
                };
                Some(BusMessage::Answer {
                    session,
                    id,
                    answer,
                })
            }
            b"C" => {
                let session = text(parts.next()?)?;
                let rest: Vec<&[u8]> = parts.collect();
                let id: Value = serde_json::from_slice(&rest.join(&b'\n')).ok()?;
                Some(BusMessage::Cancel { session, id })
            }
            b"D" => Some(BusMessage::Deleted {
                session: text(parts.next()?)?,
            }),
            b"L" | b"U" => {
                let origin = text(parts.next()?)?;
                let what = text(&rest_of(parts))?;
                let change = if tag == b"L" {
                    crate::engine::Change::ListChanged(what)
                } else {
                    crate::engine::Change::ResourceUpdated(what)
                };
                Some(BusMessage::Changed { origin, change })
            }
            b"R" => Some(BusMessage::Connected),
            b"X" => Some(BusMessage::Disconnected),
            _ => None,
        }
    }
}

/// What is left of a split payload, rejoined.
fn rest_of<'a>(parts: impl Iterator<Item = &'a [u8]>) -> Vec<u8> {
    parts.collect::<Vec<_>>().join(&b'\n')
}

/// The storage every instance shares. Implementations must be cheap to call concurrently and
/// must fail fast (bounded by their own timeout) rather than hang a request.
///
/// Expiry: a session record lives for the server's idle timeout after its last use
/// ([`Backplane::touch_session`]); event logs keep at most the configured replay count and
/// expire with the same idle timeout after their last event.
pub trait Backplane: Send + Sync + 'static {
    /// A short id of this instance, unique among the instances sharing the store: it prefixes
    /// server-to-client request ids, which must not collide across instances.
    fn instance(&self) -> &str;

    /// Stores a new session.
    fn create_session<'a>(
        &'a self,
        record: &'a SessionRecord,
    ) -> BoxFuture<'a, Result<(), SharedError>>;

    /// A session by id, refreshing its expiry; `None` when unknown, expired or deleted.
    fn load_session<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<SessionRecord>, SharedError>>;

    /// Refreshes a session's expiry; false when it no longer exists.
    fn touch_session<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, SharedError>>;

    /// True while the session exists (does not refresh its expiry).
    fn session_exists<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, SharedError>>;

    /// Deletes a session everywhere (and tells every instance through the bus); false when
    /// it did not exist.
    fn delete_session<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, SharedError>>;

    /// Every live session's id and standalone stream id (for list-changed broadcasts).
    fn sessions(&self) -> BoxFuture<'_, Result<Vec<(String, String)>, SharedError>>;

    /// Appends a message to a stream's log (and announces it on the bus); returns its
    /// sequence number, or `None` when the session no longer exists.
    fn append_event<'a>(
        &'a self,
        session: &'a str,
        stream: &'a str,
        data: &'a Bytes,
    ) -> BoxFuture<'a, Result<Option<u64>, SharedError>>;

    /// Marks a stream finished (and announces it on the bus).
    fn finish_stream<'a>(
        &'a self,
        session: &'a str,
        stream: &'a str,
    ) -> BoxFuture<'a, Result<(), SharedError>>;

    /// The events of a stream after `after`; `None` when the session has no such stream.
    fn read_events<'a>(
        &'a self,
        session: &'a str,
        stream: &'a str,
        after: u64,
    ) -> BoxFuture<'a, Result<Option<StoredEvents>, SharedError>>;

    /// Publishes a message on the bus (answers, cancellations).
    fn publish(&self, message: BusMessage) -> BoxFuture<'_, Result<(), SharedError>>;

    /// Records a resource subscription of a session.
    fn subscribe<'a>(
        &'a self,
        session: &'a str,
        uri: &'a str,
    ) -> BoxFuture<'a, Result<(), SharedError>>;

    /// Removes a resource subscription.
    fn unsubscribe<'a>(
        &'a self,
        session: &'a str,
        uri: &'a str,
    ) -> BoxFuture<'a, Result<(), SharedError>>;

    /// The sessions subscribed to `uri`, with their standalone stream ids.
    fn subscribers<'a>(
        &'a self,
        uri: &'a str,
    ) -> BoxFuture<'a, Result<Vec<(String, String)>, SharedError>>;

    /// The shared MSign replay cache.
    fn nonces(&self) -> Arc<dyn NonceStore>;

    /// A secret every instance must agree on (the MRTR `requestState` key): stores
    /// `candidate` under `name` unless a value is there already, and returns the stored one.
    fn shared_secret<'a>(
        &'a self,
        name: &'a str,
        candidate: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, SharedError>>;

    /// Counts one request against the shared GCRA bucket `key`, which allows `per_minute`
    /// requests a minute with bursts of as many: `None` when allowed, or how long to wait.
    /// The store keeps time by its own clock, so instances with skewed clocks agree.
    fn rate_check<'a>(
        &'a self,
        key: &'a str,
        per_minute: u32,
    ) -> BoxFuture<'a, Result<Option<std::time::Duration>, SharedError>>;

    /// Delivers every bus message to `tx` until `tx` closes, reconnecting by itself (with a
    /// [`BusMessage::Connected`] after each (re)connection and a [`BusMessage::Disconnected`]
    /// when the connection is lost).
    fn listen(&self, tx: mpsc::UnboundedSender<BusMessage>) -> BoxFuture<'static, ()>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bus_messages_round_trip() {
        let all = [
            BusMessage::Event {
                session: "s-1".into(),
                stream: "ab_c".into(),
                seq: 7,
                data: Bytes::from_static(b"{\"a\":\n1}"),
            },
            BusMessage::Finished {
                session: "s".into(),
                stream: "x".into(),
            },
            BusMessage::Answer {
                session: "s".into(),
                id: json!("srv-a-1"),
                answer: Ok(json!({"action": "accept", "content": {"name": "A\nB"}})),
            },
            BusMessage::Answer {
                session: "s".into(),
                id: json!(3),
                answer: Err(json!({"code": -1, "message": "no"})),
            },
            BusMessage::Cancel {
                session: "s".into(),
                id: json!("r1"),
            },
            BusMessage::Deleted {
                session: "s".into(),
            },
            BusMessage::Changed {
                origin: "i1".into(),
                change: crate::engine::Change::ListChanged("tools".into()),
            },
            BusMessage::Changed {
                origin: "i2".into(),
                change: crate::engine::Change::ResourceUpdated("musehub://repos/a/b\nc".into()),
            },
            BusMessage::Connected,
            BusMessage::Disconnected,
        ];
        for m in all {
            assert_eq!(BusMessage::decode(&m.encode()), Some(m));
        }
        assert_eq!(BusMessage::decode(b"E\nonly"), None);
        assert_eq!(BusMessage::decode(b"Z"), None);
    }
}
