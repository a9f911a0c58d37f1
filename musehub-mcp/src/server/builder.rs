//! Configuring and building a [`Server`].

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Weak};

use tokio_util::sync::CancellationToken;

use super::Server;
#[cfg(feature = "msign")]
use crate::auth::MSignVerifier;
#[cfg(feature = "rate-limits")]
use crate::auth::RateLimits;
use crate::auth::{Authenticator, Authenticators};
use crate::config::ServerConfig;
use crate::config::docs::DocsOptions;
use crate::engine::{Engine, Hub, ServerInfo};
use crate::handler::ctx::{ChangeSink, StateMap};
use crate::registry::{Registry, RegistryError};
use crate::session::SessionStore;
use crate::shared::{Backplane, SharedError};

/// Why a server could not be built. Reported at start-up, before serving.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The registry is inconsistent (duplicates, unusable schemas).
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The shared store (`redis_url`) cannot be set up: the configuration is unusable.
    #[error(transparent)]
    SharedStore(#[from] SharedError),
    /// An authentication scheme cannot be set up (a resource URL that is not absolute, a key
    /// set that does not parse).
    #[error("authentication: {0}")]
    Auth(String),
}

/// Configures and builds a [`Server`].
pub struct ServerBuilder {
    info: ServerInfo,
    config: ServerConfig,
    state: StateMap,
    docs: DocsOptions,
    #[cfg(feature = "msign")]
    msign: Option<MSignVerifier>,
    auth: Vec<Arc<dyn Authenticator>>,
    #[cfg(feature = "rate-limits")]
    limits: Option<Arc<RateLimits>>,
    backplane: Option<Arc<dyn Backplane>>,
}

impl ServerBuilder {
    pub(super) fn new(name: String) -> Self {
        Self {
            info: ServerInfo {
                name,
                version: env!("CARGO_PKG_VERSION").into(),
                title: None,
                instructions: None,
            },
            config: ServerConfig::default(),
            state: StateMap::default(),
            docs: DocsOptions::default(),
            #[cfg(feature = "msign")]
            msign: None,
            auth: Vec::new(),
            #[cfg(feature = "rate-limits")]
            limits: None,
            backplane: None,
        }
    }

    /// Shares sessions, event logs, answers, subscriptions and MSign nonces with other
    /// instances through this store (instead of the one [`ServerConfig::redis_url`] names).
    pub fn backplane(mut self, backplane: Arc<dyn Backplane>) -> Self {
        self.backplane = Some(backplane);
        self
    }

    #[cfg(feature = "msign")]
    /// Accepts MSign request signatures (docs/msign.md), verified against the verifier's key
    /// store. Unsigned requests stay anonymous; write tools then need credentials (HTTP 401
    /// with the challenge, realm = the server name).
    pub fn auth(mut self, verifier: MSignVerifier) -> Self {
        self.msign = Some(verifier);
        self
    }

    /// Accepts one more authentication scheme (bearer tokens, or your own); schemes are
    /// offered side by side, each chosen by the first word of `Authorization`.
    pub fn authenticator(mut self, a: Arc<dyn Authenticator>) -> Self {
        self.auth.push(a);
        self
    }

    #[cfg(feature = "rate-limits")]
    /// Applies per-identity rate limits (HTTP 429 past them).
    pub fn rate_limits(mut self, limits: Arc<RateLimits>) -> Self {
        self.limits = Some(limits);
        self
    }

    /// The server's display title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.info.title = Some(title.into());
        self
    }

    /// The server's version (defaults to this crate's).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.info.version = version.into();
        self
    }

    /// Instructions sent to the client in `initialize` and `server/discover`.
    pub fn instructions(mut self, text: impl Into<String>) -> Self {
        self.info.instructions = Some(text.into());
        self
    }

    /// Replaces the settings.
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }

    /// Configures the documentation surfaces (`/mcp/docs`, `/mcp/docs.json`): auth schemes,
    /// categories, public URL, or [`DocsOptions::disabled`].
    pub fn docs(mut self, options: DocsOptions) -> Self {
        self.docs = options;
        self
    }

    /// Registers shared state, extracted in tools with `State<T>`.
    pub fn state<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(value);
        self
    }

    /// Builds the registry (once per process) and the server around it, and starts its
    /// background work when called inside a Tokio runtime (otherwise the first transport
    /// starts it). Fails on duplicate names or unusable schemas, naming the declarations at
    /// fault, and on an unusable shared store configuration.
    pub fn build(self) -> Result<Arc<Server>, BuildError> {
        let registry = Registry::global().map_err(Clone::clone)?;
        let backplane: Option<Arc<dyn Backplane>> = match (self.backplane, &self.config.redis_url) {
            (Some(b), _) => Some(b),
            #[cfg(feature = "redis")]
            (None, Some(url)) => Some(Arc::new(crate::shared::RedisBackplane::new(
                url,
                &self.config.redis_prefix,
                self.config.session_idle_timeout,
                self.config.sse_replay_events,
                self.config.redis_timeout,
            )?)),
            #[cfg(not(feature = "redis"))]
            (None, Some(_)) => {
                return Err(BuildError::SharedStore(SharedError::Config(
                    "redis_url is set, but musehub-mcp was built without its `redis` feature"
                        .into(),
                )));
            }
            (None, None) => None,
        };
        let mut auth = Authenticators::new(self.info.name.clone());
        #[cfg(feature = "msign")]
        if let Some(mut msign) = self.msign {
            // Nonces must be shared too, or a request replayed to another instance would pass.
            if let Some(b) = &backplane {
                msign.share_nonces(b.nonces());
            }
            auth = auth.with(Arc::new(msign));
        }
        for a in self.auth {
            auth = auth.with(a);
        }
        let writes: Vec<&str> = registry.write_tools().map(|t| t.def.name).collect();
        if auth.is_empty() && !writes.is_empty() {
            tracing::warn!(
                tools = %writes.join(", "),
                "these write tools need an authenticated caller, but the server accepts no \
                 credentials: over HTTP they always answer 401. Add a scheme with \
                 ServerBuilder::auth or ::authenticator, or serve them over stdio as a trusted \
                 caller"
            );
        }
        let sessions = match &backplane {
            Some(b) => SessionStore::shared(
                self.config.max_sessions,
                self.config.session_idle_timeout,
                self.config.sse_replay_events,
                b.instance(),
            ),
            None => SessionStore::new(
                self.config.max_sessions,
                self.config.session_idle_timeout,
                self.config.sse_replay_events,
            ),
        };
        let key_synced = backplane.is_none() || self.config.state_key.is_some();
        let bus_up = backplane.is_none();
        let listen_buffer = self.config.listen_buffer.max(1);
        #[cfg(feature = "rate-limits")]
        let limits = self.limits;
        let (info, config, state, docs) = (self.info, self.config, self.state, self.docs);
        let server = Arc::new_cyclic(|me: &Weak<Server>| {
            let changes: Weak<dyn ChangeSink> = me.clone();
            let hub: Weak<dyn Hub> = me.clone();
            Server {
                engine: Arc::new(Engine::new(info, config, registry, state, changes, hub)),
                sessions,
                backplane,
                auth,
                #[cfg(feature = "rate-limits")]
                limits,
                in_flight_by_ip: Default::default(),
                changes: tokio::sync::broadcast::channel(listen_buffer).0,
                shutdown: CancellationToken::new(),
                stop: CancellationToken::new(),
                state_key_synced: AtomicBool::new(key_synced),
                bus_up: AtomicBool::new(bus_up),
                started: AtomicBool::new(false),
                docs,
            }
        });
        server.start();
        Ok(server)
    }
}
