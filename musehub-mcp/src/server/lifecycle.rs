//! The server's background work, started once whatever transport serves it and stopped by
//! [`Server::shutdown`]: the session sweeper (which also forgets idle rate-limit buckets and
//! re-agrees the request-state key), and with a backplane the shared bus.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::mpsc;

use super::Server;
use crate::engine::mrtr::StateKey;
use crate::shared::BusMessage;

impl Server {
    /// Starts the background tasks, once; a no-op outside a Tokio runtime (the transports
    /// call it again when they start serving).
    pub(crate) fn start(self: &Arc<Self>) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        handle.spawn(sweeper(Arc::downgrade(self), self.stop.clone()));
        if let Some(b) = self.backplane.clone() {
            let (tx, rx) = mpsc::unbounded_channel();
            let stop = self.stop.clone();
            let listen = b.listen(tx);
            handle.spawn(async move {
                tokio::select! {
                    _ = listen => {}
                    _ = stop.cancelled() => {}
                }
            });
            handle.spawn(bus(Arc::downgrade(self), rx, self.stop.clone()));
        }
    }

    /// Stops serving: listen streams get their closing result, every session ends (its
    /// streams close and its pending requests fail), and the background tasks stop. The
    /// HTTP accept loop calls it after its grace period; call it yourself when you embed the
    /// server elsewhere.
    pub async fn shutdown(&self) {
        self.shutdown.cancel();
        self.sessions.clear();
        self.stop.cancel();
        // Let the background tasks see the cancellation before returning.
        tokio::task::yield_now().await;
    }

    /// The key that seals MRTR request states: the configured one (`state_key`), else, with
    /// a backplane, the one agreed with the other instances through the store, so a state
    /// sealed by one opens on any; else this process's random key.
    pub(crate) async fn ensure_state_key(&self) {
        if !self.state_key_synced.load(Ordering::Acquire) {
            self.sync_state_key().await;
        }
    }

    /// Offers this instance's key to the store and adopts the one it holds (the first offered
    /// wins). Runs on first use, after each bus (re)connection and at every sweep, so a Redis
    /// that restarted empty gets it back from the instances that hold it. While the store is
    /// unreachable the instance keeps its own key and tries again on the next use.
    pub(crate) async fn sync_state_key(&self) {
        let Some(b) = &self.backplane else { return };
        if self.engine.config.state_key.is_some() {
            return;
        }
        let ours = self.engine.state_key().to_bytes();
        match b.shared_secret("mrtr-state-key", &ours).await {
            Ok(bytes) => match StateKey::from_bytes(&bytes) {
                Some(key) => {
                    let was_synced = self.state_key_synced.load(Ordering::Acquire);
                    if was_synced && key.to_bytes() != ours {
                        tracing::warn!(
                            "the shared requestState key changed (the store lost it and another \
                             instance set a new one); states sealed before no longer open"
                        );
                    }
                    self.engine.set_state_key(key);
                    self.state_key_synced.store(true, Ordering::Release);
                }
                None => {
                    self.state_key_synced.store(false, Ordering::Release);
                    tracing::warn!("the shared store holds a malformed requestState key");
                }
            },
            Err(e) => {
                self.state_key_synced.store(false, Ordering::Release);
                tracing::warn!(error = %e, "requestState key not agreed yet");
            }
        }
    }

    /// Catches this instance's live streams up with the shared logs (while the bus was down,
    /// messages sent meanwhile were not received).
    async fn resync(&self) {
        let Some(b) = &self.backplane else { return };
        for s in self.sessions.all() {
            for st in s.live_streams() {
                let after = st.next_seq().saturating_sub(1);
                match b.read_events(s.id(), st.id(), after).await {
                    Ok(Some(stored)) => {
                        for (seq, data) in stored.events {
                            st.merge(seq, data);
                        }
                        if stored.finished {
                            st.finish();
                        }
                    }
                    Ok(None) => {}
                    Err(_) => return,
                }
            }
        }
    }

    /// Applies one bus message to this instance's replicas.
    fn on_bus(&self, message: BusMessage) {
        match message {
            BusMessage::Event {
                session,
                stream,
                seq,
                data,
            } => {
                if let Some(s) = self.sessions.peek(&session)
                    && let Some(st) = s.stream(&stream)
                {
                    st.merge(seq, data);
                }
            }
            BusMessage::Finished { session, stream } => {
                if let Some(s) = self.sessions.peek(&session)
                    && let Some(st) = s.stream(&stream)
                {
                    st.finish();
                }
            }
            BusMessage::Answer {
                session,
                id,
                answer,
            } => {
                if let Some(s) = self.sessions.peek(&session) {
                    s.resolve_request(&id, answer);
                }
            }
            BusMessage::Cancel { session, id } => {
                if let Some(s) = self.sessions.peek(&session) {
                    s.cancel_request(&id);
                }
            }
            BusMessage::Deleted { session } => {
                self.sessions.remove(&session);
            }
            BusMessage::Changed { origin, change } => {
                let ours = self
                    .backplane
                    .as_ref()
                    .is_some_and(|b| b.instance() == origin);
                if !ours {
                    let _ = self.changes.send(change);
                }
            }
            BusMessage::Connected | BusMessage::Disconnected => {}
        }
    }
}

/// Ends idle sessions, forgets idle rate-limit buckets and, with a backplane, re-agrees the
/// request-state key and drops replicas of sessions the store no longer has. Ends with the
/// server.
async fn sweeper(weak: Weak<Server>, stop: tokio_util::sync::CancellationToken) {
    let every = match weak.upgrade() {
        Some(s) => s
            .engine
            .config
            .session_sweep_interval
            .max(Duration::from_millis(10)),
        None => return,
    };
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.cancelled() => return,
        }
        let Some(server) = weak.upgrade() else { return };
        let mut n = server.sessions.sweep();
        #[cfg(feature = "rate-limits")]
        if let Some(limits) = &server.limits {
            limits.forget_idle();
        }
        // With a shared store, a replica idle here may be busy elsewhere: only the store's
        // expiry (or deletion) ends it.
        if let Some(b) = server.backplane.clone() {
            server.sync_state_key().await;
            for s in server.sessions.idle() {
                if let Ok(false) = b.session_exists(s.id()).await {
                    server.sessions.remove(s.id());
                    n += 1;
                }
            }
        }
        if n > 0 {
            tracing::debug!(expired = n, "idle sessions ended");
        }
    }
}

/// Follows the shared bus: events for streams read here, answers for requests awaited here,
/// deletions, changes for the listen streams.
async fn bus(
    weak: Weak<Server>,
    mut rx: mpsc::UnboundedReceiver<BusMessage>,
    stop: tokio_util::sync::CancellationToken,
) {
    loop {
        let msg = tokio::select! {
            m = rx.recv() => match m {
                Some(m) => m,
                None => return,
            },
            _ = stop.cancelled() => return,
        };
        let Some(server) = weak.upgrade() else { return };
        match msg {
            BusMessage::Connected => {
                server.sync_state_key().await;
                server.resync().await;
                server.bus_up.store(true, Ordering::Release);
            }
            BusMessage::Disconnected => server.bus_up.store(false, Ordering::Release),
            msg => server.on_bus(msg),
        }
    }
}
