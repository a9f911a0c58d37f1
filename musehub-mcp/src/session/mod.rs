//! Handshake-era sessions (`Mcp-Session-Id`): what was negotiated, what the client
//! subscribed to, its pending server-to-client requests, running calls and SSE streams.

pub mod events;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::protocol::jsonrpc::RequestId;
use crate::protocol::types::LogLevel;
use crate::protocol::version::ProtocolVersion;
use crate::util::random_id;
pub use events::EventStream;

/// The answer to a server-to-client request: `Ok(result)` or `Err(error object)`.
pub type PeerAnswer = Result<Value, Value>;

/// One client session.
pub struct Session {
    id: Arc<str>,
    /// Negotiated revision.
    pub protocol_version: ProtocolVersion,
    /// The client's `capabilities` from `initialize`.
    pub client_capabilities: Arc<Value>,
    /// The client's `clientInfo`.
    pub client_info: Value,
    /// The MSign handle that created the session, if signed.
    pub owner: Option<String>,
    created: Instant,
    last_active_ms: AtomicU64,
    initialized: AtomicBool,
    log_level: Mutex<Option<LogLevel>>,
    subscriptions: Mutex<HashSet<String>>,
    pending: Mutex<HashMap<String, oneshot::Sender<PeerAnswer>>>,
    next_request: AtomicU64,
    running: Mutex<HashMap<String, CancellationToken>>,
    streams: Mutex<HashMap<String, Arc<EventStream>>>,
    standalone: Arc<EventStream>,
    closed: CancellationToken,
    replay_events: usize,
    open_streams: AtomicU64,
}

/// One open SSE stream of a session; dropping it frees the slot.
pub struct StreamSlot(Arc<Session>);

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.0.open_streams.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Session {
    fn new(
        protocol_version: ProtocolVersion,
        client_capabilities: Value,
        client_info: Value,
        owner: Option<String>,
        replay_events: usize,
    ) -> Self {
        Self {
            id: random_id(24).into(),
            protocol_version,
            client_capabilities: Arc::new(client_capabilities),
            client_info,
            owner,
            created: Instant::now(),
            last_active_ms: AtomicU64::new(0),
            initialized: AtomicBool::new(false),
            log_level: Mutex::new(None),
            subscriptions: Mutex::new(HashSet::new()),
            pending: Mutex::new(HashMap::new()),
            next_request: AtomicU64::new(1),
            running: Mutex::new(HashMap::new()),
            streams: Mutex::new(HashMap::new()),
            standalone: Arc::new(EventStream::new(random_id(6), replay_events)),
            closed: CancellationToken::new(),
            replay_events,
            open_streams: AtomicU64::new(0),
        }
    }

    /// The session id sent in `Mcp-Session-Id`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Records activity, postponing idle expiry.
    pub fn touch(&self) {
        self.last_active_ms
            .store(self.created.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_active_ms.load(Ordering::Relaxed));
        self.created.elapsed().saturating_sub(last)
    }

    /// Marks `notifications/initialized` as received.
    pub fn mark_initialized(&self) {
        self.initialized.store(true, Ordering::Relaxed);
    }

    /// The minimum level of log notifications, once the client set one.
    pub fn log_level(&self) -> Option<LogLevel> {
        *self.log_level.lock()
    }

    /// Sets the minimum log level (`logging/setLevel`).
    pub fn set_log_level(&self, level: LogLevel) {
        *self.log_level.lock() = Some(level);
    }

    /// Subscribes to `notifications/resources/updated` for a URI.
    pub fn subscribe(&self, uri: &str) {
        self.subscriptions.lock().insert(uri.to_string());
    }

    /// Unsubscribes from a URI.
    pub fn unsubscribe(&self, uri: &str) {
        self.subscriptions.lock().remove(uri);
    }

    /// True when the client subscribed to `uri`.
    pub fn is_subscribed(&self, uri: &str) -> bool {
        self.subscriptions.lock().contains(uri)
    }

    /// Allocates an id for a server-to-client request and the receiver of its answer; `None`
    /// when `limit` requests already await answers.
    pub fn register_request(
        &self,
        limit: usize,
    ) -> Option<(RequestId, oneshot::Receiver<PeerAnswer>)> {
        let mut pending = self.pending.lock();
        if pending.len() >= limit {
            return None;
        }
        let n = self.next_request.fetch_add(1, Ordering::Relaxed);
        let id = format!("srv-{n}");
        let (tx, rx) = oneshot::channel();
        pending.insert(id.clone(), tx);
        Some((Value::String(id), rx))
    }

    /// Requests being served on this session.
    pub fn in_flight(&self) -> usize {
        self.running.lock().len()
    }

    /// Counts an SSE stream opened on this session while the returned guard lives; `None`
    /// when `limit` streams are already open.
    pub fn open_stream_slot(self: &Arc<Self>, limit: usize) -> Option<StreamSlot> {
        let n = self.open_streams.fetch_add(1, Ordering::SeqCst);
        if n >= limit as u64 {
            self.open_streams.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        Some(StreamSlot(self.clone()))
    }

    /// Drops a pending server-to-client request (timed out or abandoned).
    pub fn forget_request(&self, id: &RequestId) {
        if let Some(k) = id.as_str() {
            self.pending.lock().remove(k);
        }
    }

    /// Routes a client's response to the waiting request. False when nothing waits for it.
    pub fn resolve_request(&self, id: &RequestId, answer: PeerAnswer) -> bool {
        let Some(k) = id.as_str() else {
            return false;
        };
        match self.pending.lock().remove(k) {
            Some(tx) => tx.send(answer).is_ok(),
            None => false,
        }
    }

    /// Registers a running request so `notifications/cancelled` can stop it.
    pub fn start_request(&self, id: &RequestId) -> CancellationToken {
        let token = self.closed.child_token();
        self.running.lock().insert(id.to_string(), token.clone());
        token
    }

    /// Forgets a finished request.
    pub fn finish_request(&self, id: &RequestId) {
        self.running.lock().remove(&id.to_string());
    }

    /// Cancels a running request by id. False when it is not running.
    pub fn cancel_request(&self, id: &RequestId) -> bool {
        match self.running.lock().remove(&id.to_string()) {
            Some(t) => {
                t.cancel();
                true
            }
            None => false,
        }
    }

    /// A new resumable stream for a POST response.
    pub fn open_stream(&self) -> Arc<EventStream> {
        let stream = Arc::new(EventStream::new(random_id(6), self.replay_events));
        let mut streams = self.streams.lock();
        // Forget streams that are done and were fully delivered long enough ago to be useless;
        // keep at most a bounded number for late resumption.
        if streams.len() >= 64 {
            streams.retain(|_, s| !s.is_finished());
        }
        streams.insert(stream.id().to_string(), stream.clone());
        stream
    }

    /// A stream by id, for `Last-Event-ID` resumption (including the standalone stream).
    pub fn stream(&self, id: &str) -> Option<Arc<EventStream>> {
        if self.standalone.id() == id {
            return Some(self.standalone.clone());
        }
        self.streams.lock().get(id).cloned()
    }

    /// The standalone (GET) stream for messages unrelated to a request.
    pub fn standalone(&self) -> &Arc<EventStream> {
        &self.standalone
    }

    /// Fires when the session ends.
    pub fn closed(&self) -> &CancellationToken {
        &self.closed
    }

    fn close(&self) {
        self.closed.cancel();
        self.pending.lock().clear();
        self.standalone.finish();
        for s in self.streams.lock().values() {
            s.finish();
        }
    }
}

/// Why a session could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the server has reached its session capacity ({0})")]
pub struct AtCapacity(pub usize);

/// All live sessions of this process.
pub struct SessionStore {
    sessions: RwLock<HashMap<Arc<str>, Arc<Session>>>,
    capacity: usize,
    idle_timeout: Duration,
    replay_events: usize,
}

impl SessionStore {
    /// An empty store.
    pub fn new(capacity: usize, idle_timeout: Duration, replay_events: usize) -> Self {
        Self {
            sessions: RwLock::new(HashMap::new()),
            capacity,
            idle_timeout,
            replay_events,
        }
    }

    /// Creates a session for a successful `initialize`.
    pub fn create(
        &self,
        protocol_version: ProtocolVersion,
        client_capabilities: Value,
        client_info: Value,
        owner: Option<String>,
    ) -> Result<Arc<Session>, AtCapacity> {
        let mut map = self.sessions.write();
        if map.len() >= self.capacity {
            return Err(AtCapacity(self.capacity));
        }
        let s = Arc::new(Session::new(
            protocol_version,
            client_capabilities,
            client_info,
            owner,
            self.replay_events,
        ));
        s.touch();
        map.insert(s.id.clone(), s.clone());
        Ok(s)
    }

    /// A live session by id (expired ones are gone).
    pub fn get(&self, id: &str) -> Option<Arc<Session>> {
        let s = self.sessions.read().get(id).cloned()?;
        if s.idle_for() > self.idle_timeout {
            self.remove(id);
            return None;
        }
        Some(s)
    }

    /// Ends a session; true when it existed.
    pub fn remove(&self, id: &str) -> bool {
        let s = self.sessions.write().remove(id);
        match s {
            Some(s) => {
                s.close();
                true
            }
            None => false,
        }
    }

    /// Number of live sessions.
    pub fn len(&self) -> usize {
        self.sessions.read().len()
    }

    /// True when there are no sessions.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every live session (for broadcasting list-changed and resource-updated notifications).
    pub fn all(&self) -> Vec<Arc<Session>> {
        self.sessions.read().values().cloned().collect()
    }

    /// Ends every session idle past the timeout; returns how many.
    pub fn sweep(&self) -> usize {
        let expired: Vec<Arc<str>> = self
            .sessions
            .read()
            .iter()
            .filter(|(_, s)| s.idle_for() > self.idle_timeout)
            .map(|(k, _)| k.clone())
            .collect();
        for id in &expired {
            self.remove(id);
        }
        expired.len()
    }

    /// Ends every session (shutdown).
    pub fn clear(&self) {
        let all: Vec<_> = self.sessions.write().drain().collect();
        for (_, s) in all {
            s.close();
        }
    }
}
