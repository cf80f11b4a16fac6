//! Brute-force defence on sign-in: per account and per client, consecutive failures lead to
//! lockouts that double each time (1 minute, 2, 4, … up to a day); credential stuffing — many
//! accounts from one client, or one account from many clients within ten minutes — locks as well.
//! Every lockout is a security event. The state of each key is small and serialisable, so the
//! Worker keeps it in the key's Durable Object and the local platform in memory.

use serde::{Deserialize, Serialize};

const MINUTE_US: u64 = 60_000_000;

/// The thresholds. One set for accounts, one for clients.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Consecutive failures before the first lockout.
    pub failures: u32,
    /// Distinct counterparts (clients for an account, accounts for a client) within the window.
    pub distinct: usize,
    pub window_us: u64,
    pub first_lockout_us: u64,
    pub max_lockout_us: u64,
}

pub const ACCOUNT: Limits = Limits {
    failures: 5,
    distinct: 10,
    window_us: 10 * MINUTE_US,
    first_lockout_us: MINUTE_US,
    max_lockout_us: 24 * 60 * MINUTE_US,
};

pub const CLIENT: Limits = Limits {
    failures: 20,
    distinct: 10,
    window_us: 10 * MINUTE_US,
    first_lockout_us: MINUTE_US,
    max_lockout_us: 24 * 60 * MINUTE_US,
};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuardState {
    pub failures: u32,
    pub lockouts: u32,
    pub locked_until_us: u64,
    pub window_start_us: u64,
    /// Keyed hashes of the counterparts seen in the window (bounded).
    pub seen: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum GuardOp {
    /// May a sign-in attempt proceed?
    Check,
    /// The outcome of an attempt, with the counterpart's hash.
    Failure {
        counterpart: String,
    },
    Success,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum GuardReply {
    Open,
    Locked {
        retry_after_secs: u64,
    },
    /// This outcome started a lockout (reported once, as a security event).
    LockedNow {
        retry_after_secs: u64,
        reason: LockReason,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockReason {
    TooManyFailures,
    CredentialStuffing,
}

fn lockout_length(limits: &Limits, lockouts: u32) -> u64 {
    let doubled = limits
        .first_lockout_us
        .saturating_mul(1u64 << lockouts.min(20));
    doubled.min(limits.max_lockout_us)
}

/// Applies one operation to one key's state.
pub fn apply(state: &mut GuardState, limits: &Limits, op: &GuardOp, now_us: u64) -> GuardReply {
    let retry = |until: u64| until.saturating_sub(now_us).div_ceil(1_000_000).max(1);
    match op {
        GuardOp::Check => {
            if state.locked_until_us > now_us {
                GuardReply::Locked {
                    retry_after_secs: retry(state.locked_until_us),
                }
            } else {
                GuardReply::Open
            }
        }
        GuardOp::Success => {
            state.failures = 0;
            state.lockouts = 0;
            GuardReply::Open
        }
        GuardOp::Failure { counterpart } => {
            if now_us.saturating_sub(state.window_start_us) > limits.window_us {
                state.window_start_us = now_us;
                state.seen.clear();
            }
            if !state.seen.contains(counterpart) && state.seen.len() < 256 {
                state.seen.push(counterpart.clone());
            }
            state.failures += 1;
            let reason = if state.seen.len() >= limits.distinct {
                Some(LockReason::CredentialStuffing)
            } else if state.failures >= limits.failures {
                Some(LockReason::TooManyFailures)
            } else {
                None
            };
            match reason {
                Some(reason) if state.locked_until_us <= now_us => {
                    state.locked_until_us = now_us + lockout_length(limits, state.lockouts);
                    state.lockouts += 1;
                    state.failures = 0;
                    if reason == LockReason::CredentialStuffing {
                        state.seen.clear();
                        state.window_start_us = now_us;
                    }
                    GuardReply::LockedNow {
                        retry_after_secs: retry(state.locked_until_us),
                        reason,
                    }
                }
                _ if state.locked_until_us > now_us => GuardReply::Locked {
                    retry_after_secs: retry(state.locked_until_us),
                },
                _ => GuardReply::Open,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail(state: &mut GuardState, limits: &Limits, who: &str, now: u64) -> GuardReply {
        apply(
            state,
            limits,
            &GuardOp::Failure {
                counterpart: who.into(),
            },
            now,
        )
    }

    #[test]
    fn lockouts_double() {
        let mut s = GuardState::default();
        let mut now = 1_000 * MINUTE_US;
        for round in 0..3u32 {
            for i in 0..4 {
                assert_eq!(
                    fail(&mut s, &ACCOUNT, "ip1", now),
                    GuardReply::Open,
                    "round {round} failure {i}"
                );
            }
            let expected = 60 * (1 << round);
            assert_eq!(
                fail(&mut s, &ACCOUNT, "ip1", now),
                GuardReply::LockedNow {
                    retry_after_secs: expected,
                    reason: LockReason::TooManyFailures
                }
            );
            assert_eq!(
                apply(&mut s, &ACCOUNT, &GuardOp::Check, now),
                GuardReply::Locked {
                    retry_after_secs: expected
                }
            );
            now += expected * 1_000_000;
            assert_eq!(
                apply(&mut s, &ACCOUNT, &GuardOp::Check, now),
                GuardReply::Open
            );
        }
        apply(&mut s, &ACCOUNT, &GuardOp::Success, now);
        assert_eq!(s.lockouts, 0);
    }

    #[test]
    fn many_accounts_from_one_client_is_credential_stuffing() {
        let mut s = GuardState::default();
        let now = 5 * MINUTE_US;
        for i in 0..9 {
            assert_eq!(
                fail(&mut s, &CLIENT, &format!("account{i}"), now),
                GuardReply::Open
            );
        }
        assert!(matches!(
            fail(&mut s, &CLIENT, "account9", now),
            GuardReply::LockedNow {
                reason: LockReason::CredentialStuffing,
                ..
            }
        ));
    }

    #[test]
    fn the_window_forgets() {
        let mut s = GuardState::default();
        for i in 0..9 {
            fail(&mut s, &CLIENT, &format!("a{i}"), i * MINUTE_US);
        }
        // Eleven minutes after the window opened, the counterparts start over.
        assert_eq!(
            fail(&mut s, &CLIENT, "a9", 11 * MINUTE_US),
            GuardReply::Open
        );
        assert_eq!(s.seen.len(), 1);
    }
}
