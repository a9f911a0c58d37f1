//! Token-bucket rate limits per identity (GCRA): agents, humans and anonymous callers (by IP)
//! each have their own rate, and individual tools (MuseHub's pushes) can have a separate one.
//!
//! One instance keeps its buckets in process (governor; the clock is injectable so tests
//! control time). Instances sharing a [`Backplane`] keep them in the shared store instead
//! ([`Backplane::rate_check`]), so N instances behind a load balancer allow what one would,
//! not N times as much. When the shared store cannot be reached the instance falls back to
//! its own buckets (logged once per outage): read traffic keeps flowing during an outage and
//! is still bounded, each instance enforcing the configured rate on its own.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock, FakeRelativeClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use serde::Deserialize;

use crate::handler::ctx::Caller;
use crate::shared::Backplane;

/// Requests per minute for each class of caller, and per tool.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct RateLimitConfig {
    /// Signed requests from agent keys. Default 600/min.
    pub agent_per_minute: u32,
    /// Signed requests from human keys. Default 300/min.
    pub human_per_minute: u32,
    /// Unsigned requests, per client IP. Default 120/min (one MCP client session alone sends
    /// ten or more requests before its first tool call).
    pub anonymous_per_minute: u32,
    /// Calls of particular tools, per identity, on top of the above (MuseHub: `muse_push`
    /// 30/min). Default none.
    pub tools_per_minute: HashMap<String, u32>,
}

impl RateLimitConfig {
    /// Limits per minute for agents, humans and anonymous callers (per address).
    pub fn new(agent_per_minute: u32, human_per_minute: u32, anonymous_per_minute: u32) -> Self {
        Self {
            agent_per_minute,
            human_per_minute,
            anonymous_per_minute,
            tools_per_minute: HashMap::new(),
        }
    }

    /// Gives `tool` its own limit per caller, on top of the caller's.
    pub fn tool(mut self, tool: impl Into<String>, per_minute: u32) -> Self {
        self.tools_per_minute.insert(tool.into(), per_minute);
        self
    }
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            agent_per_minute: 600,
            human_per_minute: 300,
            anonymous_per_minute: 120,
            tools_per_minute: HashMap::new(),
        }
    }
}

/// A refusal: how long to wait, and the limit that was hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limited {
    /// Time until a request would be allowed.
    pub retry_after: Duration,
    /// The limit per minute.
    pub limit: u32,
}

trait Bucket: Send + Sync {
    fn check(&self, key: &str) -> Result<(), Limited>;
    /// Forgets keys whose bucket is full again (nothing to remember about them).
    fn forget_idle(&self);
}

struct Keyed<C: Clock> {
    limiter: RateLimiter<String, DashMapStateStore<String>, C, StateInformationMiddleware>,
    clock: C,
    limit: u32,
}

impl<C> Bucket for Keyed<C>
where
    C: Clock + Send + Sync,
    C::Instant: Send + Sync,
{
    fn check(&self, key: &str) -> Result<(), Limited> {
        match self.limiter.check_key(&key.to_string()) {
            Ok(_) => Ok(()),
            Err(not_until) => Err(Limited {
                retry_after: not_until.wait_time_from(self.clock.now()),
                limit: self.limit,
            }),
        }
    }
    fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

fn quota(per_minute: u32) -> (Quota, u32) {
    let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
    (Quota::per_minute(n), n.get())
}

fn bucket<C>(per_minute: u32, clock: &C) -> (Box<dyn Bucket>, u32)
where
    C: Clock + Send + Sync + Clone + 'static,
    C::Instant: Send + Sync,
{
    let (q, limit) = quota(per_minute);
    let local = Box::new(Keyed {
        limiter: RateLimiter::dashmap_with_clock(q, clock.clone())
            .with_middleware::<StateInformationMiddleware>(),
        clock: clock.clone(),
        limit,
    });
    (local, limit)
}

/// One class of caller (or one tool): its rate, its name in the shared store, and the
/// instance's own bucket.
struct Class {
    name: String,
    limit: u32,
    local: Box<dyn Bucket>,
}

/// The limits of one server.
pub struct RateLimits {
    agent: Class,
    human: Class,
    anonymous: Class,
    tools: HashMap<String, Class>,
    /// True while the shared store is failing and the local buckets stand in for it.
    degraded: AtomicBool,
    /// While degraded, the store is tried again only after this many milliseconds since
    /// `epoch` (so a hanging Redis costs one timeout per [`SHARED_RETRY`], not one per request).
    retry_shared_at: AtomicU64,
    epoch: Instant,
}

/// How long the local buckets stand in alone after the shared store failed, before it is
/// tried again.
pub const SHARED_RETRY: Duration = Duration::from_secs(1);

impl RateLimits {
    /// Limits on the real clock.
    pub fn new(config: &RateLimitConfig) -> Arc<Self> {
        Arc::new(Self::with_clock(config, &DefaultClock::default()))
    }

    /// Limits on a fake clock that the test advances (the local buckets only; the shared
    /// store keeps time by its own clock).
    pub fn with_fake_clock(config: &RateLimitConfig) -> (Arc<Self>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        (Arc::new(Self::with_clock(config, &clock)), clock)
    }

    fn with_clock<C>(config: &RateLimitConfig, clock: &C) -> Self
    where
        C: Clock + Send + Sync + Clone + 'static,
        C::Instant: Send + Sync,
    {
        let class = |name: String, per_minute: u32| {
            let (local, limit) = bucket(per_minute, clock);
            Class { name, limit, local }
        };
        Self {
            agent: class("agent".into(), config.agent_per_minute),
            human: class("human".into(), config.human_per_minute),
            anonymous: class("anon".into(), config.anonymous_per_minute),
            tools: config
                .tools_per_minute
                .iter()
                .map(|(name, n)| (name.clone(), class(format!("tool:{name}"), *n)))
                .collect(),
            degraded: AtomicBool::new(false),
            retry_shared_at: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    /// Forgets the in-process buckets of callers idle long enough to be full again, so the
    /// number of remembered callers stays bounded by recent traffic (the server's sweeper
    /// calls it).
    pub fn forget_idle(&self) {
        for class in [&self.agent, &self.human, &self.anonymous]
            .into_iter()
            .chain(self.tools.values())
        {
            class.local.forget_idle();
        }
    }

    /// Checks one request of `caller` (anonymous callers are keyed by `ip`), in the shared
    /// store when there is one.
    pub async fn check_caller(
        &self,
        caller: &Caller,
        ip: &str,
        shared: Option<&dyn Backplane>,
    ) -> Result<(), Limited> {
        match &caller.identity {
            Some(id) if id.is_agent => self.check(&self.agent, &id.handle, shared).await,
            Some(id) => self.check(&self.human, &id.handle, shared).await,
            None => self.check(&self.anonymous, ip, shared).await,
        }
    }

    /// Checks a call of `tool`, when that tool has its own limit.
    pub async fn check_tool(
        &self,
        tool: &str,
        caller: &Caller,
        ip: &str,
        shared: Option<&dyn Backplane>,
    ) -> Result<(), Limited> {
        match self.tools.get(tool) {
            Some(class) => {
                self.check(class, caller.handle().unwrap_or(ip), shared)
                    .await
            }
            None => Ok(()),
        }
    }

    async fn check(
        &self,
        class: &Class,
        who: &str,
        shared: Option<&dyn Backplane>,
    ) -> Result<(), Limited> {
        let now_ms = self.epoch.elapsed().as_millis() as u64;
        let store = shared.filter(|_| now_ms >= self.retry_shared_at.load(Ordering::Relaxed));
        if let Some(store) = store {
            let key = format!("{}:{who}", class.name);
            match store.rate_check(&key, class.limit).await {
                Ok(verdict) => {
                    if self.degraded.swap(false, Ordering::Relaxed) {
                        tracing::info!("shared rate limits are back");
                    }
                    return match verdict {
                        None => Ok(()),
                        Some(retry_after) => Err(Limited {
                            retry_after,
                            limit: class.limit,
                        }),
                    };
                }
                Err(e) => {
                    self.retry_shared_at
                        .store(now_ms + SHARED_RETRY.as_millis() as u64, Ordering::Relaxed);
                    if !self.degraded.swap(true, Ordering::Relaxed) {
                        tracing::warn!(
                            error = %e,
                            "shared rate limits unavailable; each instance enforces them alone \
                             until the store returns"
                        );
                    }
                }
            }
        }
        class.local.check(who)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler::ctx::{Identity, Scheme};

    #[tokio::test]
    async fn classes_have_their_own_buckets_and_refill() {
        let config = RateLimitConfig {
            agent_per_minute: 3,
            human_per_minute: 1,
            anonymous_per_minute: 2,
            tools_per_minute: [("push".to_string(), 1)].into(),
        };
        let (limits, clock) = RateLimits::with_fake_clock(&config);
        let human = Caller {
            identity: Some(Identity::new("ada", Scheme::MSign)),
        };
        let agent = Caller {
            identity: Some(Identity::new("bot", Scheme::MSign).agent(Some("b".into()))),
        };
        let anon = Caller::anonymous();
        assert!(limits.check_caller(&human, "1.2.3.4", None).await.is_ok());
        let refused = limits
            .check_caller(&human, "1.2.3.4", None)
            .await
            .unwrap_err();
        assert_eq!(refused.limit, 1);
        assert_eq!(refused.retry_after, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(limits.check_caller(&agent, "1.2.3.4", None).await.is_ok());
        }
        assert!(limits.check_caller(&agent, "1.2.3.4", None).await.is_err());
        assert!(limits.check_caller(&anon, "9.9.9.9", None).await.is_ok());
        assert!(limits.check_caller(&anon, "9.9.9.9", None).await.is_ok());
        assert!(limits.check_caller(&anon, "9.9.9.9", None).await.is_err());
        assert!(
            limits.check_caller(&anon, "8.8.8.8", None).await.is_ok(),
            "another IP"
        );
        assert!(limits.check_tool("push", &agent, "x", None).await.is_ok());
        assert!(limits.check_tool("push", &agent, "x", None).await.is_err());
        assert!(limits.check_tool("other", &agent, "x", None).await.is_ok());
        clock.advance(Duration::from_secs(60));
        assert!(
            limits.check_caller(&human, "1.2.3.4", None).await.is_ok(),
            "refilled after a minute"
        );
    }

    #[tokio::test]
    async fn a_shared_store_holds_the_buckets_of_every_instance() {
        let config = RateLimitConfig {
            human_per_minute: 2,
            ..RateLimitConfig::default()
        };
        let store = crate::shared::MemoryBackplane::new(Duration::from_secs(60), 16);
        let a = RateLimits::new(&config);
        let b = RateLimits::new(&config);
        let ada = Caller {
            identity: Some(Identity::new("ada", Scheme::MSign)),
        };
        assert!(a.check_caller(&ada, "ip", Some(&store)).await.is_ok());
        assert!(b.check_caller(&ada, "ip", Some(&store)).await.is_ok());
        let refused = a.check_caller(&ada, "ip", Some(&store)).await.unwrap_err();
        assert_eq!(refused.limit, 2);
        assert!(
            refused.retry_after > Duration::from_secs(25)
                && refused.retry_after <= Duration::from_secs(30),
            "one token every 30 s: {:?}",
            refused.retry_after
        );
        assert!(
            b.check_caller(&ada, "ip", Some(&store)).await.is_err(),
            "the other instance sees the same bucket"
        );
        // Without the store each instance only knows its own requests.
        assert!(b.check_caller(&ada, "ip", None).await.is_ok());
    }
}
