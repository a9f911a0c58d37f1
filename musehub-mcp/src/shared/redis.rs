//! The Redis [`Backplane`]: one reconnecting multiplexed connection for commands, one
//! pub/sub connection for the bus, and every operation bounded by a timeout so a missing
//! Redis answers 503 at once instead of hanging requests.
//!
//! Keys (`P` is the configured prefix, default `musehub`):
//!
//! | key | type | what |
//! |---|---|---|
//! | `P:s:<session>` | hash | `rec` (the JSON [`SessionRecord`]), `get` (standalone stream id), `seq:<stream>` (last sequence), `done:<stream>`; expires after the idle timeout |
//! | `P:ev:<session>:<stream>` | stream | the events, ids `<seq>-0`, field `d`; `MAXLEN` = replay count; expires with the idle timeout after its last event |
//! | `P:sessions` | set | live session ids (for list-changed broadcasts; pruned lazily) |
//! | `P:sub:<uri>` | set | sessions subscribed to a resource |
//! | `P:nonce:<handle>:<nonce>` | string | an MSign nonce, `SET NX EX` for the skew window |
//! | `P:secret:<name>` | string | a secret the instances agree on (the MRTR `requestState` key when none is configured); first writer wins, no expiry |
//! | `P:rl:<class>:<who>` | string | a rate-limit bucket's theoretical arrival time (GCRA, µs on Redis's clock); expires when the bucket is full again |
//! | `P:bus` | channel | [`BusMessage`]s |

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use futures::future::BoxFuture;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::mpsc;

use super::nonces::NonceStore;
use super::{Backplane, BusMessage, SessionRecord, SharedError, StoredEvents};

/// Appends one event: the sequence comes from the session hash (so it survives the log's
/// own expiry), the log is trimmed to the replay count, and the event is published in the
/// same atomic step, so every instance receives a stream's events in sequence order.
/// Returns -1 when the session is gone.
const APPEND: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local seq = redis.call('HINCRBY', KEYS[1], 'seq:' .. ARGV[6], 1)
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[2], seq .. '-0', 'd', ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], 'E\n' .. ARGV[5] .. '\n' .. ARGV[6] .. '\n' .. seq .. '\n' .. ARGV[1])
return seq
"#;

/// Marks a stream finished and announces it.
const FINISH: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'done:' .. ARGV[3], '1')
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1
"#;

/// One request against a GCRA bucket, on Redis's own clock so every instance agrees (a
/// write after `TIME` needs script effects replication: Redis 5 or later).
/// ARGV: the emission interval and the burst window, in µs. Returns 0 when allowed (and
/// stores the new arrival time until the bucket is full again), else the wait in µs.
/// (µs since the epoch stay exact in Lua's doubles until the year 2255.)
const RATE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local ahead = tat + tonumber(ARGV[1]) - now
if ahead > tonumber(ARGV[2]) then return ahead - tonumber(ARGV[2]) end
redis.call('SET', KEYS[1], string.format('%.0f', now + ahead), 'PX', math.max(1, math.ceil(ahead / 1000)))
return 0
"#;

/// The Redis backplane. Cheap to clone.
#[derive(Clone)]
pub struct RedisBackplane {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    conn: ConnectionManager,
    prefix: String,
    instance: String,
    idle_ms: u64,
    replay: usize,
    timeout: Duration,
    append: redis::Script,
    finish: redis::Script,
    rate: redis::Script,
}

fn unavailable(e: redis::RedisError) -> SharedError {
    SharedError::Unavailable(format!("redis: {e}"))
}

impl RedisBackplane {
    /// A backplane on `url` (`redis://host:port/db`). Connects lazily: a server starts even
    /// while Redis is down, and answers 503 until it is back.
    ///
    /// `idle` is the session idle timeout (the records' TTL), `replay` the events kept per
    /// stream, `timeout` the longest any one operation may take.
    pub fn new(
        url: &str,
        prefix: &str,
        idle: Duration,
        replay: usize,
        timeout: Duration,
    ) -> Result<Self, SharedError> {
        let client = redis::Client::open(url).map_err(|e| SharedError::Config(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let conn = client
            .get_connection_manager_lazy(config)
            .map_err(|e| SharedError::Config(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                conn,
                prefix: prefix.to_string(),
                instance: crate::util::random_id(6),
                idle_ms: (idle.as_millis() as u64).max(1),
                replay: replay.max(1),
                timeout,
                append: redis::Script::new(APPEND),
                finish: redis::Script::new(FINISH),
                rate: redis::Script::new(RATE),
            }),
        })
    }

    fn key(&self, parts: &[&str]) -> String {
        let mut k = self.inner.prefix.clone();
        for p in parts {
            k.push(':');
            k.push_str(p);
        }
        k
    }

    fn channel(&self) -> String {
        self.key(&["bus"])
    }

    /// Runs one operation under the timeout, mapping every failure to `Unavailable`.
    async fn run<T>(
        &self,
        f: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, SharedError> {
        match tokio::time::timeout(self.inner.timeout, f).await {
            Ok(r) => r.map_err(unavailable),
            Err(_) => Err(SharedError::Unavailable(format!(
                "redis did not answer within {} ms",
                self.inner.timeout.as_millis()
            ))),
        }
    }

    fn conn(&self) -> ConnectionManager {
        self.inner.conn.clone()
    }

    /// `(session, standalone id)` for session ids, dropping the ones that are gone.
    async fn with_standalone(
        &self,
        ids: Vec<String>,
    ) -> Result<Vec<(String, String)>, SharedError> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let mut c = self.conn();
            let key = self.key(&["s", &id]);
            let get: Option<String> = self.run(c.hget(&key, "get")).await?;
            if let Some(g) = get {
                out.push((id, g));
            }
        }
        Ok(out)
    }
}

impl Backplane for RedisBackplane {
    fn instance(&self) -> &str {
        &self.inner.instance
    }

    fn create_session<'a>(
        &'a self,
        record: &'a SessionRecord,
    ) -> BoxFuture<'a, Result<(), SharedError>> {
        Box::pin(async move {
            let json =
                serde_json::to_string(record).map_err(|e| SharedError::Corrupt(e.to_string()))?;
            let key = self.key(&["s", &record.id]);
            let mut c = self.conn();
            let mut pipe = redis::pipe();
            pipe.atomic()
                .hset_multiple(&key, &[("rec", json.as_str()), ("get", &record.standalone)])
                .ignore()
                .pexpire(&key, self.inner.idle_ms as i64)
                .ignore()
                .sadd(self.key(&["sessions"]), &record.id)
                .ignore();
            self.run(pipe.query_async::<()>(&mut c)).await
        })
    }

    fn load_session<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<SessionRecord>, SharedError>> {
        Box::pin(async move {
            let key = self.key(&["s", id]);
            let mut c = self.conn();
            let mut pipe = redis::pipe();
            pipe.hget(&key, "rec")
                .pexpire(&key, self.inner.idle_ms as i64)
                .ignore();
            let (rec,): (Option<String>,) = self.run(pipe.query_async(&mut c)).await?;
            match rec {
                Some(json) => serde_json::from_str(&json)
                    .map(Some)
                    .map_err(|e| SharedError::Corrupt(e.to_string())),
                None => Ok(None),
            }
        })
    }

    fn touch_session<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, SharedError>> {
        Box::pin(async move {
            let mut c = self.conn();
            self.run(c.pexpire(self.key(&["s", id]), self.inner.idle_ms as i64))
                .await
        })
    }

    fn session_exists<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, SharedError>> {
        Box::pin(async move {
            let mut c = self.conn();
            self.run(c.exists(self.key(&["s", id]))).await
        })
    }

    fn delete_session<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, SharedError>> {
        Box::pin(async move {
            let mut c = self.conn();
            let mut pipe = redis::pipe();
            pipe.atomic()
                .del(self.key(&["s", id]))
                .srem(self.key(&["sessions"]), id)
                .ignore()
                .publish(
                    self.channel(),
                    BusMessage::Deleted {
                        session: id.to_string(),
                    }
                    .encode(),
                )
                .ignore();
            let (n,): (u64,) = self.run(pipe.query_async(&mut c)).await?;
            Ok(n > 0)
        })
    }

    fn sessions(&self) -> BoxFuture<'_, Result<Vec<(String, String)>, SharedError>> {
        Box::pin(async move {
            let mut c = self.conn();
            let set = self.key(&["sessions"]);
            let ids: Vec<String> = self.run(c.smembers(&set)).await?;
            let live = self.with_standalone(ids.clone()).await?;
            // Prune ids whose record expired.
            let gone: Vec<&String> = ids
                .iter()
                .filter(|id| !live.iter().any(|(l, _)| l == *id))
                .collect();
            if !gone.is_empty() {
                let _: Result<(), _> = self.run(c.srem(&set, gone)).await;
            }
            Ok(live)
        })
    }

    fn append_event<'a>(
        &'a self,
        session: &'a str,
        stream: &'a str,
        data: &'a Bytes,
    ) -> BoxFuture<'a, Result<Option<u64>, SharedError>> {
        Box::pin(async move {
            let mut c = self.conn();
            let mut inv = self.inner.append.prepare_invoke();
            inv.key(self.key(&["s", session]))
                .key(self.key(&["ev", session, stream]))
                .arg(data.as_ref())
                .arg(self.inner.replay)
                .arg(self.inner.idle_ms)
                .arg(self.channel())
                .arg(session)
                .arg(stream);
            let seq: i64 = self.run(inv.invoke_async(&mut c)).await?;
            Ok(u64::try_from(seq).ok())
        })
    }

    fn finish_stream<'a>(
        &'a self,
        session: &'a str,
        stream: &'a str,
    ) -> BoxFuture<'a, Result<(), SharedError>> {
        Box::pin(async move {
            let mut c = self.conn();
            let msg = BusMessage::Finished {
                session: session.to_string(),
                stream: stream.to_string(),
            }
            .encode();
            let mut inv = self.inner.finish.prepare_invoke();
            inv.key(self.key(&["s", session]))
                .arg(self.channel())
                .arg(msg)
                .arg(stream);
            let _: i64 = self.run(inv.invoke_async(&mut c)).await?;
            Ok(())
        })
    }

    fn read_events<'a>(
        &'a self,
        session: &'a str,
        stream: &'a str,
        after: u64,
    ) -> BoxFuture<'a, Result<Option<StoredEvents>, SharedError>> {
        Box::pin(async move {
            let mut c = self.conn();
            let hash = self.key(&["s", session]);
            let mut pipe = redis::pipe();
            pipe.hget(&hash, format!("seq:{stream}"))
                .hget(&hash, "get")
                .hexists(&hash, format!("done:{stream}"))
                .cmd("XRANGE")
                .arg(self.key(&["ev", session, stream]))
                .arg(format!("{}-0", after.saturating_add(1)))
                .arg("+");
            type Reply = (
                Option<u64>,
                Option<String>,
                bool,
                Vec<(String, Vec<Vec<u8>>)>,
            );
            let (last, standalone, finished, entries): Reply =
                self.run(pipe.query_async(&mut c)).await?;
            // A stream exists once it has an event; the standalone stream exists with its
            // session even before its first event.
            if last.is_none() && standalone.as_deref() != Some(stream) {
                return Ok(None);
            }
            let mut events = Vec::with_capacity(entries.len());
            for (id, fields) in entries {
                let seq = id
                    .split('-')
                    .next()
                    .and_then(|s| s.parse::<u64>().ok())
                    .ok_or_else(|| SharedError::Corrupt(format!("event id `{id}`")))?;
                // fields = [name, value]
                let data = fields
                    .into_iter()
                    .nth(1)
                    .ok_or_else(|| SharedError::Corrupt(format!("event `{id}` has no data")))?;
                events.push((seq, Bytes::from(data)));
            }
            Ok(Some(StoredEvents { events, finished }))
        })
    }

    fn publish(&self, message: BusMessage) -> BoxFuture<'_, Result<(), SharedError>> {
        Box::pin(async move {
            let mut c = self.conn();
            let _: i64 = self
                .run(c.publish(self.channel(), message.encode()))
                .await?;
            Ok(())
        })
    }

    fn subscribe<'a>(
        &'a self,
        session: &'a str,
        uri: &'a str,
    ) -> BoxFuture<'a, Result<(), SharedError>> {
        Box::pin(async move {
            let mut c = self.conn();
            let key = self.key(&["sub", uri]);
            let mut pipe = redis::pipe();
            pipe.sadd(&key, session)
                .ignore()
                .pexpire(&key, self.inner.idle_ms as i64)
                .ignore();
            self.run(pipe.query_async::<()>(&mut c)).await
        })
    }

    fn unsubscribe<'a>(
        &'a self,
        session: &'a str,
        uri: &'a str,
    ) -> BoxFuture<'a, Result<(), SharedError>> {
        Box::pin(async move {
            let mut c = self.conn();
            let _: i64 = self.run(c.srem(self.key(&["sub", uri]), session)).await?;
            Ok(())
        })
    }

    fn subscribers<'a>(
        &'a self,
        uri: &'a str,
    ) -> BoxFuture<'a, Result<Vec<(String, String)>, SharedError>> {
        Box::pin(async move {
            let mut c = self.conn();
            let ids: Vec<String> = self.run(c.smembers(self.key(&["sub", uri]))).await?;
            self.with_standalone(ids).await
        })
    }

    fn nonces(&self) -> Arc<dyn NonceStore> {
        Arc::new(RedisNonceStore {
            backplane: self.clone(),
        })
    }

    fn shared_secret<'a>(
        &'a self,
        name: &'a str,
        candidate: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, SharedError>> {
        Box::pin(async move {
            let key = self.key(&["secret", name]);
            let mut c = self.conn();
            let mut pipe = redis::pipe();
            pipe.atomic()
                .cmd("SET")
                .arg(&key)
                .arg(candidate)
                .arg("NX")
                .ignore()
                .get(&key);
            let (stored,): (Option<Vec<u8>>,) = self.run(pipe.query_async(&mut c)).await?;
            stored.ok_or_else(|| SharedError::Corrupt(format!("`{key}` vanished")))
        })
    }

    fn rate_check<'a>(
        &'a self,
        key: &'a str,
        per_minute: u32,
    ) -> BoxFuture<'a, Result<Option<Duration>, SharedError>> {
        Box::pin(async move {
            let (interval, window) = super::memory::gcra(per_minute);
            let mut c = self.conn();
            let mut inv = self.inner.rate.prepare_invoke();
            inv.key(self.key(&["rl", key]))
                .arg(interval.as_micros() as u64)
                .arg(window.as_micros() as u64);
            let wait_us: i64 = self.run(inv.invoke_async(&mut c)).await?;
            Ok((wait_us > 0).then(|| Duration::from_micros(wait_us as u64)))
        })
    }

    fn listen(&self, tx: mpsc::UnboundedSender<BusMessage>) -> BoxFuture<'static, ()> {
        let this = self.clone();
        Box::pin(async move {
            let channel = this.channel();
            let mut warned = false;
            while !tx.is_closed() {
                let connected = async {
                    let mut ps = this.inner.client.get_async_pubsub().await?;
                    ps.subscribe(&channel).await?;
                    Ok::<_, redis::RedisError>(ps)
                };
                match tokio::time::timeout(this.inner.timeout, connected).await {
                    Ok(Ok(ps)) => {
                        if warned {
                            tracing::info!("redis bus reconnected");
                        }
                        if tx.send(BusMessage::Connected).is_err() {
                            return;
                        }
                        let mut messages = ps.into_on_message();
                        loop {
                            tokio::select! {
                                m = messages.next() => match m {
                                    Some(m) => {
                                        if let Some(msg) = BusMessage::decode(m.get_payload_bytes())
                                            && tx.send(msg).is_err()
                                        {
                                            return;
                                        }
                                    }
                                    None => break,
                                },
                                _ = tx.closed() => return,
                            }
                        }
                        tracing::warn!("redis bus disconnected; reconnecting");
                        if tx.send(BusMessage::Disconnected).is_err() {
                            return;
                        }
                        warned = true;
                    }
                    Ok(Err(e)) if !warned => {
                        tracing::warn!(error = %e, "redis bus unavailable; retrying");
                        warned = true;
                    }
                    Err(_) if !warned => {
                        tracing::warn!("redis bus connection timed out; retrying");
                        warned = true;
                    }
                    _ => {}
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                    _ = tx.closed() => return,
                }
            }
        })
    }
}

/// MSign nonces in Redis: `SET P:nonce:<handle>:<nonce> 1 NX EX <window>`, so a request
/// replayed to another instance is refused too. Redis unavailable → 503, never a silent pass.
pub struct RedisNonceStore {
    backplane: RedisBackplane,
}

impl NonceStore for RedisNonceStore {
    fn insert<'a>(
        &'a self,
        handle: &'a str,
        nonce: &'a str,
        now: u64,
        expires_at: u64,
    ) -> BoxFuture<'a, Result<bool, SharedError>> {
        Box::pin(async move {
            let b = &self.backplane;
            let key = b.key(&["nonce", handle, nonce]);
            let secs = expires_at.saturating_sub(now).max(1);
            let mut c = b.conn();
            let mut cmd = redis::cmd("SET");
            cmd.arg(&key).arg(1).arg("NX").arg("EX").arg(secs);
            let set: Option<String> = b
                .run(cmd.query_async(&mut c))
                .await
                .map_err(|e| SharedError::Unavailable(e.to_string()))?;
            Ok(set.is_some())
        })
    }
}
