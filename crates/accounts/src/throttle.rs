//! Sign-in throttling per account and per source address. Failures beyond a free allowance impose
//! a growing wait before the next attempt, capped so that a stranger hammering an account can
//! delay its owner by at most `account_max_wait_secs`, never lock them out. Keys are the typed
//! user name whether or not the account exists, so throttling reveals nothing.

use std::collections::HashMap;
use std::sync::Mutex;

use clef_core::Timestamp;

#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    /// Failures per account allowed before waits begin.
    pub account_free_failures: u32,
    pub account_max_wait_secs: i64,
    /// Failures per address allowed before waits begin.
    pub address_free_failures: u32,
    pub address_max_wait_secs: i64,
    /// Failures older than this are forgotten.
    pub window_secs: i64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        ThrottlePolicy {
            account_free_failures: 5,
            account_max_wait_secs: 60,
            address_free_failures: 20,
            address_max_wait_secs: 300,
            window_secs: 15 * 60,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    last_failure: Timestamp,
}

/// The in-memory throttle shared by every sign-in path.
#[derive(Debug, Default)]
pub struct Throttle {
    policy: ThrottlePolicy,
    accounts: Mutex<HashMap<String, Entry>>,
    addresses: Mutex<HashMap<String, Entry>>,
}

const MAX_KEYS: usize = 100_000;

impl Throttle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        Throttle {
            policy,
            ..Default::default()
        }
    }

    fn wait(&self, e: Option<&Entry>, free: u32, cap: i64, now: Timestamp) -> i64 {
        let Some(e) = e else { return 0 };
        if now >= e.last_failure.plus_secs(self.policy.window_secs) || e.failures < free {
            return 0;
        }
        let step = (e.failures - free).min(20);
        let delay = (1i64 << step).min(cap);
        let ready = e.last_failure.plus_secs(delay);
        if now >= ready {
            0
        } else {
            (ready.0 - now.0 + 999) / 1000
        }
    }

    /// Seconds to wait before this attempt may be made; 0 means go ahead.
    pub fn retry_after(&self, account: &str, address: &str, now: Timestamp) -> i64 {
        let p = self.policy;
        let a = lock(&self.accounts).get(account).copied();
        let b = lock(&self.addresses).get(address).copied();
        self.wait(
            a.as_ref(),
            p.account_free_failures,
            p.account_max_wait_secs,
            now,
        )
        .max(self.wait(
            b.as_ref(),
            p.address_free_failures,
            p.address_max_wait_secs,
            now,
        ))
    }

    pub fn record_failure(&self, account: &str, address: &str, now: Timestamp) {
        let window = self.policy.window_secs;
        for (map, key) in [(&self.accounts, account), (&self.addresses, address)] {
            let mut m = lock(map);
            if m.len() >= MAX_KEYS {
                m.retain(|_, e| now < e.last_failure.plus_secs(window));
            }
            let e = m.entry(key.to_owned()).or_insert(Entry {
                failures: 0,
                last_failure: now,
            });
            if now >= e.last_failure.plus_secs(window) {
                e.failures = 0;
            }
            e.failures = e.failures.saturating_add(1);
            e.last_failure = now;
        }
    }

    /// A successful sign-in clears the account's failures (not the address's: one good account
    /// must not reset a sprayer's count).
    pub fn record_success(&self, account: &str) {
        lock(&self.accounts).remove(account);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_then_cap_and_expire() {
        let t = Throttle::new(ThrottlePolicy::default());
        let now = Timestamp(1_000_000);
        for _ in 0..5 {
            assert_eq!(t.retry_after("anna", "1.2.3.4", now), 0);
            t.record_failure("anna", "1.2.3.4", now);
        }
        assert_eq!(t.retry_after("anna", "9.9.9.9", now), 1);
        for _ in 0..10 {
            t.record_failure("anna", "5.5.5.5", now);
        }
        assert_eq!(t.retry_after("anna", "9.9.9.9", now), 60, "capped");
        assert_eq!(
            t.retry_after("anna", "9.9.9.9", now.plus_secs(60)),
            0,
            "owner gets back in"
        );
        assert_eq!(
            t.retry_after("bob", "9.9.9.9", now),
            0,
            "other accounts untouched"
        );
        t.record_success("anna");
        assert_eq!(t.retry_after("anna", "9.9.9.9", now), 0);
    }
}
