//! An in-process [`Backplane`]: several servers of one process (tests, embedding) share it as
//! they would share Redis. A single server needs none: without a backplane it keeps its
//! sessions in its own session store.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::future::BoxFuture;
use parking_lot::Mutex;
use tokio::sync::{broadcast, mpsc};

use super::nonces::{MemoryNonceStore, NonceStore};
use super::{Backplane, BusMessage, SessionRecord, SharedError, StoredEvents};

struct Entry {
    record: SessionRecord,
    expires: Instant,
    seqs: HashMap<String, u64>,
    done: HashSet<String>,
    logs: HashMap<String, BTreeMap<u64, Bytes>>,
}

#[derive(Default)]
struct State {
    sessions: HashMap<String, Entry>,
    subs: HashMap<String, HashSet<String>>,
    /// Rate-limit buckets: each key's theoretical arrival time (GCRA).
    rates: HashMap<String, Instant>,
    /// Secrets the instances agree on, by name.
    secrets: HashMap<String, Vec<u8>>,
}

/// Buckets kept before the ones that refilled completely are swept.
const RATE_SWEEP_AT: usize = 10_000;

/// The in-process backplane. Clone it to hand the same store to each server; each clone is
/// one instance (its own [`Backplane::instance`] id).
#[derive(Clone)]
pub struct MemoryBackplane {
    state: Arc<Mutex<State>>,
    bus: broadcast::Sender<BusMessage>,
    nonces: Arc<MemoryNonceStore>,
    instance: String,
    idle: Duration,
    replay: usize,
}

impl MemoryBackplane {
    /// A store whose sessions expire after `idle` unused and whose logs keep `replay` events.
    pub fn new(idle: Duration, replay: usize) -> Self {
        Self {
            state: Arc::default(),
            bus: broadcast::channel(4096).0,
            nonces: Arc::new(MemoryNonceStore::new(100_000)),
            instance: crate::util::random_id(6),
            idle,
            replay: replay.max(1),
        }
    }

    /// Another instance on the same store.
    pub fn instance_handle(&self) -> Self {
        Self {
            instance: crate::util::random_id(6),
            ..self.clone()
        }
    }

    fn live<'a>(state: &'a mut State, id: &str) -> Option<&'a mut Entry> {
        let expired = state
            .sessions
            .get(id)
            .is_some_and(|e| e.expires <= Instant::now());
        if expired {
            state.sessions.remove(id);
        }
        state.sessions.get_mut(id)
    }

    fn send(&self, m: BusMessage) {
        let _ = self.bus.send(m);
    }
}

/// A GCRA bucket of `per_minute`: the emission interval and the burst window (a full
/// minute's worth of requests may come at once).
pub(crate) fn gcra(per_minute: u32) -> (Duration, Duration) {
    // Above a million a second the interval would round to 0 µs in the Redis script.
    let n = per_minute.clamp(1, 60_000_000);
    let interval = Duration::from_secs(60) / n;
    (interval, interval * n)
}

fn ready<'a, T: Send + 'a>(v: T) -> BoxFuture<'a, T> {
    Box::pin(async move { v })
}

impl Backplane for MemoryBackplane {
    fn instance(&self) -> &str {
        &self.instance
    }

    fn create_session<'a>(
        &'a self,
        record: &'a SessionRecord,
    ) -> BoxFuture<'a, Result<(), SharedError>> {
        self.state.lock().sessions.insert(
            record.id.clone(),
            Entry {
                record: record.clone(),
                expires: Instant::now() + self.idle,
                seqs: HashMap::new(),
                done: HashSet::new(),
                logs: HashMap::new(),
            },
        );
        ready(Ok(()))
    }

    fn load_session<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<SessionRecord>, SharedError>> {
        let mut s = self.state.lock();
        let r = Self::live(&mut s, id).map(|e| {
            e.expires = Instant::now() + self.idle;
            e.record.clone()
        });
        ready(Ok(r))
    }

    fn touch_session<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, SharedError>> {
        let mut s = self.state.lock();
        let r = Self::live(&mut s, id).map(|e| e.expires = Instant::now() + self.idle);
        ready(Ok(r.is_some()))
    }

    fn session_exists<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, SharedError>> {
        let mut s = self.state.lock();
        ready(Ok(Self::live(&mut s, id).is_some()))
    }

    fn delete_session<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, SharedError>> {
        let existed = self.state.lock().sessions.remove(id).is_some();
        self.send(BusMessage::Deleted {
            session: id.to_string(),
        });
        ready(Ok(existed))
    }

    fn sessions(&self) -> BoxFuture<'_, Result<Vec<(String, String)>, SharedError>> {
        let now = Instant::now();
        let mut s = self.state.lock();
        s.sessions.retain(|_, e| e.expires > now);
        let all = s
            .sessions
            .values()
            .map(|e| (e.record.id.clone(), e.record.standalone.clone()))
            .collect();
        ready(Ok(all))
    }

    fn append_event<'a>(
        &'a self,
        session: &'a str,
        stream: &'a str,
        data: &'a Bytes,
    ) -> BoxFuture<'a, Result<Option<u64>, SharedError>> {
        // Sequence and publication under one lock: every listener sees a stream's events in
        // order, as with the Redis script.
        let mut s = self.state.lock();
        let Some(e) = Self::live(&mut s, session) else {
            return ready(Ok(None));
        };
        let seq = e.seqs.entry(stream.to_string()).or_insert(0);
        *seq += 1;
        let seq = *seq;
        let log = e.logs.entry(stream.to_string()).or_default();
        log.insert(seq, data.clone());
        while log.len() > self.replay {
            log.pop_first();
        }
        self.send(BusMessage::Event {
            session: session.to_string(),
            stream: stream.to_string(),
            seq,
            data: data.clone(),
        });
        ready(Ok(Some(seq)))
    }

    fn finish_stream<'a>(
        &'a self,
        session: &'a str,
        stream: &'a str,
    ) -> BoxFuture<'a, Result<(), SharedError>> {
        let mut s = self.state.lock();
        if let Some(e) = Self::live(&mut s, session) {
            e.done.insert(stream.to_string());
            self.send(BusMessage::Finished {
                session: session.to_string(),
                stream: stream.to_string(),
            });
        }
        ready(Ok(()))
    }

    fn read_events<'a>(
        &'a self,
        session: &'a str,
        stream: &'a str,
        after: u64,
    ) -> BoxFuture<'a, Result<Option<StoredEvents>, SharedError>> {
        let mut s = self.state.lock();
        let r = Self::live(&mut s, session).and_then(|e| {
            if !e.seqs.contains_key(stream) && e.record.standalone != stream {
                return None;
            }
            let events = e
                .logs
                .get(stream)
                .map(|l| {
                    l.range(after.saturating_add(1)..)
                        .map(|(k, v)| (*k, v.clone()))
                        .collect()
                })
                .unwrap_or_default();
            Some(StoredEvents {
                events,
                finished: e.done.contains(stream),
            })
        });
        ready(Ok(r))
    }

    fn publish(&self, message: BusMessage) -> BoxFuture<'_, Result<(), SharedError>> {
        self.send(message);
        ready(Ok(()))
    }

    fn subscribe<'a>(
        &'a self,
        session: &'a str,
        uri: &'a str,
    ) -> BoxFuture<'a, Result<(), SharedError>> {
        self.state
            .lock()
            .subs
            .entry(uri.to_string())
            .or_default()
            .insert(session.to_string());
        ready(Ok(()))
    }

    fn unsubscribe<'a>(
        &'a self,
        session: &'a str,
        uri: &'a str,
    ) -> BoxFuture<'a, Result<(), SharedError>> {
        if let Some(set) = self.state.lock().subs.get_mut(uri) {
            set.remove(session);
        }
        ready(Ok(()))
    }

    fn subscribers<'a>(
        &'a self,
        uri: &'a str,
    ) -> BoxFuture<'a, Result<Vec<(String, String)>, SharedError>> {
        let mut s = self.state.lock();
        let ids: Vec<String> = s
            .subs
            .get(uri)
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default();
        let out = ids
            .into_iter()
            .filter_map(|id| Self::live(&mut s, &id).map(|e| (id, e.record.standalone.clone())))
            .collect();
        ready(Ok(out))
    }

    fn nonces(&self) -> Arc<dyn NonceStore> {
        self.nonces.clone()
    }

    fn shared_secret<'a>(
        &'a self,
        name: &'a str,
        candidate: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, SharedError>> {
        let mut s = self.state.lock();
        let v = s
            .secrets
            .entry(name.to_string())
            .or_insert_with(|| candidate.to_vec())
            .clone();
        ready(Ok(v))
    }

    fn rate_check<'a>(
        &'a self,
        key: &'a str,
        per_minute: u32,
    ) -> BoxFuture<'a, Result<Option<Duration>, SharedError>> {
        let (interval, window) = gcra(per_minute);
        let now = Instant::now();
        let mut s = self.state.lock();
        if s.rates.len() >= RATE_SWEEP_AT {
            s.rates.retain(|_, tat| *tat > now);
        }
        let tat = s.rates.get(key).copied().unwrap_or(now).max(now);
        let ahead = (tat + interval) - now;
        let verdict = if ahead > window {
            Some(ahead - window)
        } else {
            s.rates.insert(key.to_string(), tat + interval);
            None
        };
        ready(Ok(verdict))
    }

    fn listen(&self, tx: mpsc::UnboundedSender<BusMessage>) -> BoxFuture<'static, ()> {
        let mut rx = self.bus.subscribe();
        Box::pin(async move {
            if tx.send(BusMessage::Connected).is_err() {
                return;
            }
            loop {
                tokio::select! {
                    m = rx.recv() => match m {
                        Ok(m) => if tx.send(m).is_err() { return },
                        Err(broadcast::error::RecvError::Lagged(_)) => {
                            if tx.send(BusMessage::Connected).is_err() { return }
                        }
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                    _ = tx.closed() => return,
                }
            }
        })
    }
}
