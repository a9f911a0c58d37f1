//! Handshake-era sessions (`Mcp-Session-Id`): what was negotiated, what the client
//! subscribed to, its pending server-to-client requests, running calls and SSE streams.
//! [`SessionStore`] holds the live sessions of this process; [`SessionRecord`] is what other
//! instances need to know of one; [`events`] are the resumable SSE logs; [`binding`] says who
//! may use a session.

pub mod binding;
pub mod events;
mod record;
mod store;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::engine::Conversation;
use crate::handler::ctx::{ClientLink, PeerAnswer};
use crate::protocol::jsonrpc::RequestId;
use crate::protocol::types::LogLevel;
use crate::protocol::version::ProtocolVersion;
use crate::util::random_id;
pub use events::EventStream;
pub use record::SessionRecord;
pub use store::SessionStore;

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
    created_unix_ms: u64,
    request_prefix: Arc<str>,
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

/// What a new [`Session`] is made of.
pub(crate) struct NewSession {
    pub(crate) id: Option<String>,
    pub(crate) standalone: Option<String>,
    pub(crate) created_unix_ms: Option<u64>,
    pub(crate) protocol_version: ProtocolVersion,
    pub(crate) client_capabilities: Value,
    pub(crate) client_info: Value,
    pub(crate) owner: Option<String>,
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Session {
    pub(crate) fn new(n: NewSession, replay_events: usize, request_prefix: Arc<str>) -> Self {
        let NewSession {
            id,
            standalone,
            created_unix_ms,
            protocol_version,
            client_capabilities,
            client_info,
            owner,
        } = n;
        Self {
            id: id.unwrap_or_else(|| random_id(24)).into(),
            protocol_version,
            client_capabilities: Arc::new(client_capabilities),
            client_info,
            owner,
            created: Instant::now(),
            created_unix_ms: created_unix_ms.unwrap_or_else(unix_ms),
            request_prefix,
            last_active_ms: AtomicU64::new(0),
            initialized: AtomicBool::new(false),
            log_level: Mutex::new(None),
            subscriptions: Mutex::new(HashSet::new()),
            pending: Mutex::new(HashMap::new()),
            next_request: AtomicU64::new(1),
            running: Mutex::new(HashMap::new()),
            streams: Mutex::new(HashMap::new()),
            standalone: Arc::new(EventStream::new(
                standalone.unwrap_or_else(|| random_id(6)),
                replay_events,
            )),
            closed: CancellationToken::new(),
            replay_events,
            open_streams: AtomicU64::new(0),
        }
    }

    /// The session id sent in `Mcp-Session-Id`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What every instance must know about this session (multi-instance deployments).
    pub fn to_record(&self) -> SessionRecord {
        SessionRecord {
            id: self.id.to_string(),
            protocol_version: self.protocol_version.as_str().to_string(),
            client_capabilities: (*self.client_capabilities).clone(),
            client_info: self.client_info.clone(),
            owner: self.owner.clone(),
            standalone: self.standalone.id().to_string(),
            created_ms: self.created_unix_ms,
        }
    }

    /// Records activity, postponing idle expiry.
    pub fn touch(&self) {
        self.last_active_ms
            .store(self.created.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    pub(crate) fn idle_for(&self) -> Duration {
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
        let id = format!("{}{n}", self.request_prefix);
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

    /// The local copy of a stream another instance writes (multi-instance deployments): the
    /// existing one, or a new empty one with that id.
    pub fn adopt_stream(&self, id: &str) -> Arc<EventStream> {
        if let Some(s) = self.stream(id) {
            return s;
        }
        let mut streams = self.streams.lock();
        if streams.len() >= 64 {
            streams.retain(|_, s| !s.is_finished());
        }
        streams
            .entry(id.to_string())
            .or_insert_with(|| Arc::new(EventStream::new(id.to_string(), self.replay_events)))
            .clone()
    }

    /// A stream by id, for `Last-Event-ID` resumption (including the standalone stream).
    pub fn stream(&self, id: &str) -> Option<Arc<EventStream>> {
        if self.standalone.id() == id {
            return Some(self.standalone.clone());
        }
        self.streams.lock().get(id).cloned()
    }

    /// The standalone stream and every unfinished stream.
    pub fn live_streams(&self) -> Vec<Arc<EventStream>> {
        let mut out = vec![self.standalone.clone()];
        out.extend(
            self.streams
                .lock()
                .values()
                .filter(|s| !s.is_finished())
                .cloned(),
        );
        out
    }

    /// The standalone (GET) stream for messages unrelated to a request.
    pub fn standalone(&self) -> &Arc<EventStream> {
        &self.standalone
    }

    /// Fires when the session ends.
    pub fn closed(&self) -> &CancellationToken {
        &self.closed
    }

    pub(crate) fn close(&self) {
        self.closed.cancel();
        self.pending.lock().clear();
        self.standalone.finish();
        for s in self.streams.lock().values() {
            s.finish();
        }
    }
}

impl ClientLink for Session {
    fn id(&self) -> &str {
        &self.id
    }
    fn log_level(&self) -> Option<LogLevel> {
        Session::log_level(self)
    }
    fn register_request(&self, limit: usize) -> Option<(RequestId, oneshot::Receiver<PeerAnswer>)> {
        Session::register_request(self, limit)
    }
    fn forget_request(&self, id: &RequestId) {
        Session::forget_request(self, id)
    }
}

impl Conversation for Session {
    fn subscribe(&self, uri: &str) {
        Session::subscribe(self, uri)
    }
    fn unsubscribe(&self, uri: &str) {
        Session::unsubscribe(self, uri)
    }
    fn set_log_level(&self, level: LogLevel) {
        Session::set_log_level(self, level)
    }
    fn mark_initialized(&self) {
        Session::mark_initialized(self)
    }
    fn cancel_request(&self, id: &RequestId) -> bool {
        Session::cancel_request(self, id)
    }
}
