//! The live sessions of one process.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::RwLock;
use serde_json::Value;

use super::{NewSession, Session, SessionRecord};
use crate::protocol::version::ProtocolVersion;

/// Why a session could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the server has reached its session capacity ({0})")]
pub struct AtCapacity(pub usize);

/// Why a session stored elsewhere could not be replicated here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdoptError {
    /// This instance is full.
    #[error(transparent)]
    AtCapacity(#[from] AtCapacity),
    /// The record names a revision this version does not speak.
    #[error("the stored session uses unknown protocol revision `{0}`")]
    Version(String),
}

/// All live sessions of this process (with a shared store: the replicas of the sessions
/// this instance serves).
pub struct SessionStore {
    sessions: RwLock<HashMap<Arc<str>, Arc<Session>>>,
    capacity: usize,
    idle_timeout: Duration,
    replay_events: usize,
    // With a shared store, idle expiry is the store's (a session busy on another instance is
    // idle here), so local lookups never expire a replica.
    local_expiry: bool,
    request_prefix: Arc<str>,
}

impl SessionStore {
    /// An empty store.
    pub fn new(capacity: usize, idle_timeout: Duration, replay_events: usize) -> Self {
        Self {
            sessions: RwLock::new(HashMap::new()),
            capacity,
            idle_timeout,
            replay_events,
            local_expiry: true,
            request_prefix: "srv-".into(),
        }
    }

    /// An empty store of replicas for an instance sharing its sessions through a
    /// [`crate::shared::Backplane`]: server-to-client request ids carry the instance id
    /// (`srv-<instance>-<n>`) so an answer routed through another instance finds its way
    /// back, and idle expiry is left to the shared store.
    pub fn shared(
        capacity: usize,
        idle_timeout: Duration,
        replay_events: usize,
        instance: &str,
    ) -> Self {
        Self {
            local_expiry: false,
            request_prefix: format!("srv-{instance}-").into(),
            ..Self::new(capacity, idle_timeout, replay_events)
        }
    }

    /// The local replica of a session stored elsewhere: the existing one, or a new one built
    /// from the record.
    pub fn adopt(&self, record: &SessionRecord) -> Result<Arc<Session>, AdoptError> {
        let version = record
            .protocol_version
            .parse::<ProtocolVersion>()
            .map_err(|_| AdoptError::Version(record.protocol_version.clone()))?;
        let mut map = self.sessions.write();
        if let Some(s) = map.get(record.id.as_str()) {
            return Ok(s.clone());
        }
        if map.len() >= self.capacity {
            return Err(AdoptError::AtCapacity(AtCapacity(self.capacity)));
        }
        let s = Arc::new(Session::new(
            NewSession {
                id: Some(record.id.clone()),
                standalone: Some(record.standalone.clone()),
                created_unix_ms: Some(record.created_ms),
                protocol_version: version,
                client_capabilities: record.client_capabilities.clone(),
                client_info: record.client_info.clone(),
                owner: record.owner.clone(),
            },
            self.replay_events,
            self.request_prefix.clone(),
        ));
        s.touch();
        map.insert(s.id.clone(), s.clone());
        Ok(s)
    }

    /// Sessions unused here for longer than the idle timeout (with a shared store, the
    /// sweeper asks the store whether they still exist).
    pub fn idle(&self) -> Vec<Arc<Session>> {
        self.sessions
            .read()
            .values()
            .filter(|s| s.idle_for() > self.idle_timeout)
            .cloned()
            .collect()
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
            NewSession {
                id: None,
                standalone: None,
                created_unix_ms: None,
                protocol_version,
                client_capabilities,
                client_info,
                owner,
            },
            self.replay_events,
            self.request_prefix.clone(),
        ));
        s.touch();
        map.insert(s.id.clone(), s.clone());
        Ok(s)
    }

    /// A session by id as held here, without expiry checks (for bus messages).
    pub fn peek(&self, id: &str) -> Option<Arc<Session>> {
        self.sessions.read().get(id).cloned()
    }

    /// A live session by id (expired ones are gone).
    pub fn get(&self, id: &str) -> Option<Arc<Session>> {
        let s = self.sessions.read().get(id).cloned()?;
        if self.local_expiry && s.idle_for() > self.idle_timeout {
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

    /// Every live session (for broadcasting list-changed and resource-updated notifications).
    pub fn all(&self) -> Vec<Arc<Session>> {
        self.sessions.read().values().cloned().collect()
    }

    /// Ends every session idle past the timeout; returns how many.
    pub fn sweep(&self) -> usize {
        if !self.local_expiry {
            return 0;
        }
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
