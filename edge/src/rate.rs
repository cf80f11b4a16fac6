//! Rate limiting with GCRA (the generic cell rate algorithm): per key, a theoretical arrival time
//! moves forward by one emission interval per request; a request is refused while that time lies
//! further ahead than the burst allows. One number of state per key, exact, and O(1).
//!
//! In the Worker the state of each key lives in a Durable Object chosen by the key's shard, so the
//! limit holds worldwide; natively (`regrooter serve`) it lives in this process.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// A rate: `rate` requests per `period_secs`, with bursts of up to `burst` requests at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Microseconds between requests at the sustained rate.
    pub emission_interval_us: u64,
    pub burst: u32,
}

impl Quota {
    pub const fn per_minute(rate: u32, burst: u32) -> Self {
        Self {
            emission_interval_us: 60_000_000 / if rate == 0 { 1 } else { rate as u64 },
            burst: if burst == 0 { 1 } else { burst },
        }
    }

    pub const fn per_hour(rate: u32, burst: u32) -> Self {
        Self {
            emission_interval_us: 3_600_000_000 / if rate == 0 { 1 } else { rate as u64 },
            burst: if burst == 0 { 1 } else { burst },
        }
    }

    fn tolerance_us(&self) -> u64 {
        self.emission_interval_us * u64::from(self.burst.saturating_sub(1))
    }
}

/// The state of one key: its theoretical arrival time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcraState {
    pub tat_us: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum RateDecision {
    Allow { remaining: u32 },
    Deny { retry_after_secs: u64 },
}

#[derive(Debug, Clone, Copy)]
pub struct Gcra {
    quota: Quota,
}

impl Gcra {
    pub const fn new(quota: Quota) -> Self {
        Self { quota }
    }

    /// Decides one request at `now_us` (microseconds on any monotonic scale) and updates `state`.
    pub fn check(&self, state: &mut GcraState, now_us: u64) -> RateDecision {
        let t = self.quota.emission_interval_us;
        let tolerance = self.quota.tolerance_us();
        let tat = state.tat_us.max(now_us);
        if tat - now_us > tolerance {
            let wait = tat - tolerance - now_us;
            return RateDecision::Deny {
                retry_after_secs: wait.div_ceil(1_000_000).max(1),
            };
        }
        state.tat_us = tat + t;
        let used = (state.tat_us - now_us).div_ceil(t.max(1));
        RateDecision::Allow {
            remaining: u32::try_from(u64::from(self.quota.burst).saturating_sub(used)).unwrap_or(0),
        }
    }

    /// When the key's state no longer matters (it can be forgotten).
    pub fn idle_after(&self, state: &GcraState) -> u64 {
        state.tat_us
    }
}

/// Classes of routes with their own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteClass {
    /// Sign-in and token endpoints: tight, brute force is guarded separately too.
    Auth,
    /// The public security report intake.
    Report,
    /// Stripe's webhook (Stripe retries; generous).
    Webhook,
    /// The authenticated API.
    Api,
    /// Everything else (pages, security.txt, health).
    Public,
}

impl RouteClass {
    pub fn of(method: &str, path: &str) -> Self {
        // Sign-in steps, the API's and the portal's posts (the portal's session pages themselves
        // are ordinary page views).
        if path.starts_with("/auth/")
            || (web::paths::is_within(path, web::paths::SESSION)
                && method.eq_ignore_ascii_case("POST"))
        {
            RouteClass::Auth
        } else if path.starts_with("/security/reports") && method.eq_ignore_ascii_case("POST") {
            RouteClass::Report
        } else if path == "/stripe/webhook" {
            RouteClass::Webhook
        } else if path.starts_with("/api/") {
            RouteClass::Api
        } else {
            RouteClass::Public
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RouteClass::Auth => "auth",
            RouteClass::Report => "report",
            RouteClass::Webhook => "webhook",
            RouteClass::Api => "api",
            RouteClass::Public => "public",
        }
    }

    /// The limit per client IP.
    pub fn quota(self) -> Quota {
        match self {
            RouteClass::Auth => Quota::per_minute(10, 5),
            RouteClass::Report => Quota::per_hour(20, 5),
            RouteClass::Webhook => Quota::per_minute(600, 200),
            RouteClass::Api => Quota::per_minute(300, 60),
            RouteClass::Public => Quota::per_minute(120, 40),
        }
    }
}

/// How many Durable Objects share the keys: enough to spread load, few enough to stay warm.
pub const SHARDS: u32 = 64;

/// The shard of a key (FNV-1a, stable across platforms and versions).
pub fn shard_of(key: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for b in key.bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash % SHARDS
}

/// The key of a client on a route class.
pub fn key(client: &str, class: RouteClass) -> String {
    format!("{}:{client}", class.as_str())
}

/// An in-process limiter: what one Durable Object holds for its shard, and what the local
/// platform uses for all keys.
#[derive(Debug, Default)]
pub struct MemoryLimiter {
    states: Mutex<HashMap<String, GcraState>>,
}

impl MemoryLimiter {
    pub fn check(&self, key: &str, quota: Quota, now_us: u64) -> RateDecision {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        if states.len() > 100_000 {
            // Forget keys whose allowance has fully recovered.
            states.retain(|_, s| s.tat_us > now_us);
        }
        let state = states.entry(key.to_string()).or_default();
        Gcra::new(quota).check(state, now_us)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000_000;

    #[test]
    fn bursts_then_the_sustained_rate() {
        let gcra = Gcra::new(Quota::per_minute(60, 5)); // one per second, bursts of 5
        let mut s = GcraState::default();
        let t0 = 1_000 * SECOND;
        for i in 0..5 {
            assert!(
                matches!(gcra.check(&mut s, t0), RateDecision::Allow { .. }),
                "burst request {i}"
            );
        }
        assert_eq!(
            gcra.check(&mut s, t0),
            RateDecision::Deny {
                retry_after_secs: 1
            }
        );
        // A second later exactly one more fits.
        assert!(matches!(
            gcra.check(&mut s, t0 + SECOND),
            RateDecision::Allow { .. }
        ));
        assert!(matches!(
            gcra.check(&mut s, t0 + SECOND),
            RateDecision::Deny { .. }
        ));
        // After a long pause the full burst is back.
        for _ in 0..5 {
            assert!(matches!(
                gcra.check(&mut s, t0 + 100 * SECOND),
                RateDecision::Allow { .. }
            ));
        }
    }

    #[test]
    fn retry_after_says_when_to_come_back() {
        let gcra = Gcra::new(Quota::per_hour(20, 1)); // one every 3 minutes
        let mut s = GcraState::default();
        assert!(matches!(gcra.check(&mut s, 0), RateDecision::Allow { .. }));
        assert_eq!(
            gcra.check(&mut s, 0),
            RateDecision::Deny {
                retry_after_secs: 180
            }
        );
        assert_eq!(
            gcra.check(&mut s, 60 * SECOND),
            RateDecision::Deny {
                retry_after_secs: 120
            }
        );
        assert!(matches!(
            gcra.check(&mut s, 180 * SECOND),
            RateDecision::Allow { .. }
        ));
    }

    #[test]
    fn shards_are_stable_and_spread() {
        assert_eq!(shard_of("auth:abc"), shard_of("auth:abc"));
        let shards: std::collections::HashSet<u32> =
            (0..1000).map(|i| shard_of(&format!("api:{i}"))).collect();
        assert!(shards.len() > 50);
        assert_eq!(
            RouteClass::of("POST", "/security/reports"),
            RouteClass::Report
        );
        assert_eq!(
            RouteClass::of("GET", "/security/reports/rep_1/status"),
            RouteClass::Public
        );
        assert_eq!(RouteClass::of("POST", "/auth/sign-in"), RouteClass::Auth);
        assert_eq!(
            RouteClass::of("POST", "/portal/session/sign-in"),
            RouteClass::Auth
        );
        assert_eq!(
            RouteClass::of("GET", "/portal/session/sign-in"),
            RouteClass::Public
        );
        assert_eq!(RouteClass::of("GET", "/portal/"), RouteClass::Public);
    }
}
