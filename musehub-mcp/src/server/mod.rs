//! The server: the engine with everything around it that a transport needs — the sessions,
//! the store shared with other instances, the authentication schemes, the rate limits, and
//! the background work (session sweeping, the shared bus) that runs for as long as the
//! server does, whichever transport serves it.

mod builder;
mod inprocess;
mod lifecycle;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::future::BoxFuture;
use serde_json::Value;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

pub use builder::{BuildError, ServerBuilder};
pub use inprocess::InProcessOutcome;

use crate::auth::Authenticators;
#[cfg(feature = "rate-limits")]
use crate::auth::RateLimits;
use crate::config::ServerConfig;
use crate::config::docs::DocsOptions;
use crate::engine::{Change, Engine, Hub, ServerInfo};
use crate::handler::ctx::ChangeSink;
use crate::protocol::jsonrpc::RequestId;
use crate::registry::Registry;
use crate::session::SessionStore;
use crate::shared::{Backplane, BusMessage};
use crate::util::Counters;

/// A built server, shared by every transport through an `Arc`.
pub struct Server {
    pub(crate) engine: Arc<Engine>,
    pub(crate) sessions: SessionStore,
    pub(crate) backplane: Option<Arc<dyn Backplane>>,
    pub(crate) auth: Authenticators,
    #[cfg(feature = "rate-limits")]
    pub(crate) limits: Option<Arc<RateLimits>>,
    /// Requests being handled per client address.
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(crate) in_flight_by_ip: Counters<Option<IpAddr>>,
    /// The feed of the 2026-07-28 listen streams.
    pub(crate) changes: broadcast::Sender<Change>,
    /// Fires when the server starts shutting down (ends listen streams at once).
    pub(crate) shutdown: CancellationToken,
    /// Fires when the server has shut down (stops the background tasks).
    pub(crate) stop: CancellationToken,
    /// False until the MRTR key was agreed with the other instances; true from the start
    /// without a backplane or with a configured key.
    state_key_synced: AtomicBool,
    /// True while the backplane's bus is subscribed (always true without one).
    pub(crate) bus_up: AtomicBool,
    /// True once the background tasks run.
    started: AtomicBool,
    docs: DocsOptions,
}

impl Server {
    /// Starts configuring a server named `name`.
    pub fn builder(name: impl Into<String>) -> ServerBuilder {
        ServerBuilder::new(name.into())
    }

    /// The settings.
    pub fn config(&self) -> &ServerConfig {
        &self.engine.config
    }

    /// The documentation settings (see [`ServerBuilder::docs`]).
    pub fn docs_options(&self) -> &DocsOptions {
        &self.docs
    }

    /// The registry served.
    pub fn registry(&self) -> &'static Registry {
        self.engine.registry
    }

    /// Server name, version, title and instructions.
    pub fn info(&self) -> &ServerInfo {
        &self.engine.info
    }

    /// The capabilities advertised, derived from what is registered.
    pub fn capabilities(&self) -> &Value {
        self.engine.capabilities()
    }

    /// The authentication schemes accepted.
    pub fn authenticators(&self) -> &Authenticators {
        &self.auth
    }

    /// Live handshake-era sessions on this instance.
    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }

    /// The store shared with other instances, if any.
    pub fn backplane(&self) -> Option<&Arc<dyn Backplane>> {
        self.backplane.as_ref()
    }

    /// True when this instance hears the others: always without a backplane; with one, while
    /// its bus subscription is up, so changes, answers and stream events raised on other
    /// instances reach it. For readiness probes.
    pub fn is_ready(&self) -> bool {
        self.bus_up.load(Ordering::Acquire)
    }

    /// A receiver of every change from now on (one per `subscriptions/listen` stream).
    pub(crate) fn subscribe_changes(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// Tells every session subscribed to `uri` that it changed
    /// (`notifications/resources/updated`), on every instance, and the listen streams that
    /// opted in.
    pub fn notify_resource_updated(&self, uri: &str) {
        let change = Change::ResourceUpdated(uri.to_string());
        let msg = change.notification();
        match &self.backplane {
            Some(b) => {
                let (store, uri_owned) = (b.clone(), uri.to_string());
                spawn(async move {
                    match store.subscribers(&uri_owned).await {
                        Ok(targets) => append_all(&*store, targets, msg).await,
                        Err(e) => tracing::warn!(error = %e, "resource-updated not shared"),
                    }
                });
            }
            None => {
                for s in self.sessions.all() {
                    if s.is_subscribed(uri) {
                        s.standalone().push(msg.clone());
                    }
                }
            }
        }
        self.announce(change);
    }

    /// Tells every session and listen stream that a list changed: `kind` is `tools`,
    /// `resources` or `prompts`.
    pub fn notify_list_changed(&self, kind: &str) {
        let change = Change::ListChanged(kind.to_string());
        let msg = change.notification();
        match &self.backplane {
            Some(b) => {
                let store = b.clone();
                spawn(async move {
                    match store.sessions().await {
                        Ok(targets) => append_all(&*store, targets, msg).await,
                        Err(e) => tracing::warn!(error = %e, "list-changed not shared"),
                    }
                });
            }
            None => {
                for s in self.sessions.all() {
                    s.standalone().push(msg.clone());
                }
            }
        }
        self.announce(change);
    }

    /// Sends a notification to every handshake-era session of this instance that belongs to
    /// `handle` (on its GET stream, which replays it if the client is not reading just now);
    /// returns how many sessions it reached. For events that concern one person, such as
    /// `notifications/elicitation/complete` when they finished a URL step in their browser.
    pub fn notify_sessions_of(&self, handle: &str, method: &str, params: &Value) -> usize {
        let msg = crate::protocol::jsonrpc::encode_message(None, method, params);
        let mut n = 0;
        for s in self.sessions.all() {
            if s.owner.as_deref() == Some(handle) {
                s.standalone().push(msg.clone());
                n += 1;
            }
        }
        n
    }

    /// Tells the listen streams about a change: this instance's at once (whether or not a
    /// shared store answers), the other instances' through the bus.
    fn announce(&self, change: Change) {
        if let Some(b) = &self.backplane {
            self.spawn_publish(BusMessage::Changed {
                origin: b.instance().to_string(),
                change: change.clone(),
            });
        }
        // No listener is not an error.
        let _ = self.changes.send(change);
    }

    /// Publishes on the shared bus in the background (no-op without a shared store).
    pub(crate) fn spawn_publish(&self, message: BusMessage) {
        if let Some(b) = &self.backplane {
            let b = b.clone();
            spawn(async move {
                if let Err(e) = b.publish(message).await {
                    tracing::warn!(error = %e, "bus message not published");
                }
            });
        }
    }

    /// The `_meta` of 2026-07-28 results.
    pub(crate) fn modern_result_meta(&self) -> &Value {
        &self.engine.modern.meta
    }
}

impl ChangeSink for Server {
    fn list_changed(&self, kind: &str) {
        self.notify_list_changed(kind);
    }
    fn resource_updated(&self, uri: &str) {
        self.notify_resource_updated(uri);
    }
}

impl Hub for Server {
    fn share_subscription(
        &self,
        session: &str,
        uri: &str,
        on: bool,
    ) -> BoxFuture<'static, Result<(), String>> {
        let Some(b) = self.backplane.clone() else {
            return Box::pin(async { Ok(()) });
        };
        let (session, uri) = (session.to_string(), uri.to_string());
        Box::pin(async move {
            let stored = if on {
                b.subscribe(&session, &uri).await
            } else {
                b.unsubscribe(&session, &uri).await
            };
            stored.map_err(|e| e.to_string())
        })
    }

    fn cancel_elsewhere(&self, session: &str, id: &RequestId) {
        self.spawn_publish(BusMessage::Cancel {
            session: session.to_string(),
            id: id.clone(),
        });
    }
}

/// Runs a task on the current runtime, if any (notifications raised outside one are dropped
/// with a warning rather than panicking).
fn spawn(f: impl Future<Output = ()> + Send + 'static) {
    match tokio::runtime::Handle::try_current() {
        Ok(h) => {
            h.spawn(f);
        }
        Err(_) => tracing::warn!("no async runtime: a shared notification was dropped"),
    }
}

/// Appends one message to the standalone stream of each `(session, stream)`; the bus brings
/// it to whichever instance holds the session's GET stream.
async fn append_all(b: &dyn Backplane, targets: Vec<(String, String)>, msg: bytes::Bytes) {
    for (session, stream) in targets {
        if let Err(e) = b.append_event(&session, &stream, &msg).await {
            tracing::warn!(error = %e, "notification not stored");
            return;
        }
    }
}
