//! Token-bucket rate limits per identity (governor's GCRA): agents, humans and anonymous
//! callers (by IP) each have their own rate, and individual tools (MuseHub's pushes) can have a
//! separate one. The clock is injectable so tests control time.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock, FakeRelativeClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use serde::Deserialize;

use crate::context::Caller;

/// Requests per minute for each class of caller, and per tool.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Signed requests from agent keys. Default 600/min.
    pub agent_per_minute: u32,
    /// Signed requests from human keys. Default 60/min.
    pub human_per_minute: u32,
    /// Unsigned requests, per client IP. Default 20/min.
    pub anonymous_per_minute: u32,
    /// Calls of particular tools, per identity, on top of the above (MuseHub: `muse_push`
    /// 30/min). Default none.
    pub tools_per_minute: HashMap<String, u32>,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            agent_per_minute: 600,
            human_per_minute: 60,
            anonymous_per_minute: 20,
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
}

fn quota(per_minute: u32) -> (Quota, u32) {
    let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
    (Quota::per_minute(n), n.get())
}

fn bucket<C>(per_minute: u32, clock: &C) -> Box<dyn Bucket>
where
    C: Clock + Send + Sync + Clone + 'static,
    C::Instant: Send + Sync,
{
    let (q, limit) = quota(per_minute);
    Box::new(Keyed {
        limiter: RateLimiter::dashmap_with_clock(q, clock.clone())
            .with_middleware::<StateInformationMiddleware>(),
        clock: clock.clone(),
        limit,
    })
}

/// The limits of one server.
pub struct RateLimits {
    agent: Box<dyn Bucket>,
    human: Box<dyn Bucket>,
    anonymous: Box<dyn Bucket>,
    tools: HashMap<String, Box<dyn Bucket>>,
}

impl RateLimits {
    /// Limits on the real clock.
    pub fn new(config: &RateLimitConfig) -> Arc<Self> {
        Arc::new(Self::with_clock(config, &DefaultClock::default()))
    }

    /// Limits on a fake clock that the test advances.
    pub fn with_fake_clock(config: &RateLimitConfig) -> (Arc<Self>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        (Arc::new(Self::with_clock(config, &clock)), clock)
    }

    fn with_clock<C>(config: &RateLimitConfig, clock: &C) -> Self
    where
        C: Clock + Send + Sync + Clone + 'static,
        C::Instant: Send + Sync,
    {
        Self {
            agent: bucket(config.agent_per_minute, clock),
            human: bucket(config.human_per_minute, clock),
            anonymous: bucket(config.anonymous_per_minute, clock),
            tools: config
                .tools_per_minute
                .iter()
                .map(|(name, n)| (name.clone(), bucket(*n, clock)))
                .collect(),
        }
    }

    /// Checks one request of `caller` (anonymous callers are keyed by `ip`).
    pub fn check_caller(&self, caller: &Caller, ip: &str) -> Result<(), Limited> {
        match &caller.identity {
            Some(id) if id.is_agent => self.agent.check(&id.handle),
            Some(id) => self.human.check(&id.handle),
            None => self.anonymous.check(ip),
        }
    }

    /// Checks a call of `tool`, when that tool has its own limit.
    pub fn check_tool(&self, tool: &str, caller: &Caller, ip: &str) -> Result<(), Limited> {
        match self.tools.get(tool) {
            Some(b) => b.check(caller.handle().unwrap_or(ip)),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Identity;

    #[test]
    fn classes_have_their_own_buckets_and_refill() {
        let config = RateLimitConfig {
            agent_per_minute: 3,
            human_per_minute: 1,
            anonymous_per_minute: 2,
            tools_per_minute: [("push".to_string(), 1)].into(),
        };
        let (limits, clock) = RateLimits::with_fake_clock(&config);
        let human = Caller {
            identity: Some(Identity {
                handle: "ada".into(),
                is_agent: false,
                agent_name: None,
            }),
        };
        let agent = Caller {
            identity: Some(Identity {
                handle: "bot".into(),
                is_agent: true,
                agent_name: Some("b".into()),
            }),
        };
        assert!(limits.check_caller(&human, "1.2.3.4").is_ok());
        let refused = limits.check_caller(&human, "1.2.3.4").unwrap_err();
        assert_eq!(refused.limit, 1);
        assert_eq!(refused.retry_after, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(limits.check_caller(&agent, "1.2.3.4").is_ok());
        }
        assert!(limits.check_caller(&agent, "1.2.3.4").is_err());
        assert!(limits.check_caller(&Caller::anonymous(), "9.9.9.9").is_ok());
        assert!(limits.check_caller(&Caller::anonymous(), "9.9.9.9").is_ok());
        assert!(
            limits
                .check_caller(&Caller::anonymous(), "9.9.9.9")
                .is_err()
        );
        assert!(
            limits.check_caller(&Caller::anonymous(), "8.8.8.8").is_ok(),
            "another IP"
        );
        assert!(limits.check_tool("push", &agent, "x").is_ok());
        assert!(limits.check_tool("push", &agent, "x").is_err());
        assert!(limits.check_tool("other", &agent, "x").is_ok());
        clock.advance(Duration::from_secs(60));
        assert!(
            limits.check_caller(&human, "1.2.3.4").is_ok(),
            "refilled after a minute"
        );
    }
}
