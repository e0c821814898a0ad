//! Password-guess throttling per account and per source address, kept in the store so that it
//! holds across a restart and across nodes.
//!
//! An attempt is *reserved* before its password is hashed: a free allowance of attempts may be
//! in flight or failed at once, and beyond it a growing wait separates single attempts. Attempts
//! whose answer is not known yet hold their place, so however many guesses arrive together, no
//! more than the allowance is ever verified; an attempt that finds the allowance held by
//! undecided ones waits for them (briefly) instead of being refused, so that a family signing
//! in on six devices at once is not turned away. The wait is capped at `account_max_wait_secs`:
//! a stranger hammering an account delays its owner, never locks them out. Keys are digests of
//! the typed user name (whether or not the account exists, so throttling reveals nothing, and a
//! password typed into the name field is never stored) and of the address.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clef_core::{Clock, SecretToken, Timestamp};
use clef_store::{AttemptCount, Store};
use tokio::sync::Notify;

use crate::error::{AccountsError, AccountsResult};

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

/// An attempt whose answer never came (its node stopped mid-check) counts as a failure after this.
const PENDING_TTL_SECS: i64 = 30;
/// How long an attempt waits for undecided ones to free the allowance before it is refused.
const BUSY_WAIT: Duration = Duration::from_secs(30);
/// How often a waiting attempt looks again when the deciding attempt runs on another node.
const BUSY_POLL: Duration = Duration::from_millis(100);
/// Every this many reservations, counts past their window are swept from the store.
const SWEEP_EVERY: u64 = 256;

/// What the counts say about one more attempt now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Go,
    /// The allowance is held by attempts not yet decided.
    Busy,
    /// Wait this many seconds.
    Wait(i64),
}

/// The throttle shared by every password check.
#[derive(Debug, Default)]
pub struct Throttle {
    policy: ThrottlePolicy,
    /// Woken whenever an attempt on this node is decided.
    decided: Notify,
    reservations: AtomicU64,
}

impl Throttle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        Throttle {
            policy,
            ..Default::default()
        }
    }

    /// Reserves one password check for `account` (as typed) from `address`, waiting briefly
    /// while undecided attempts hold the allowance; `Throttled` when the back-off says wait.
    pub(crate) async fn reserve(
        self: &Arc<Self>,
        store: &Arc<dyn Store>,
        clock: &Arc<dyn Clock>,
        account: &str,
        address: &str,
    ) -> AccountsResult<Attempt> {
        let keys = [
            digest("account", &account.trim().to_lowercase()),
            digest("address", address),
        ];
        let deadline = tokio::time::Instant::now() + BUSY_WAIT;
        loop {
            let decided = self.decided.notified();
            tokio::pin!(decided);
            decided.as_mut().enable();
            let now = clock.now();
            let p = self.policy;
            let mut verdict = Verdict::Go;
            store
                .update_attempts(&[&keys[0], &keys[1]], &mut |c| {
                    verdict = reserve(&p, c, now);
                })
                .await?;
            match verdict {
                Verdict::Go => {
                    self.sweep(store, now).await;
                    return Ok(Attempt {
                        throttle: self.clone(),
                        store: store.clone(),
                        clock: clock.clone(),
                        keys: Some(keys),
                    });
                }
                Verdict::Wait(secs) => {
                    return Err(AccountsError::Throttled {
                        retry_after_secs: secs,
                    })
                }
                Verdict::Busy if tokio::time::Instant::now() >= deadline => {
                    return Err(AccountsError::Throttled {
                        retry_after_secs: 1,
                    })
                }
                Verdict::Busy => {
                    let _ = tokio::time::timeout(BUSY_POLL, decided).await;
                }
            }
        }
    }

    async fn sweep(&self, store: &Arc<dyn Store>, now: Timestamp) {
        if self.reservations.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY != SWEEP_EVERY - 1 {
            return;
        }
        let cutoff = now.minus_secs(self.policy.window_secs);
        if let Err(e) = store.forget_attempts(cutoff).await {
            tracing::warn!(error = %e, "could not sweep old sign-in attempt counts");
        }
    }
}

/// A reserved password check. Say how it ended with `succeeded` or `failed`; dropped undecided
/// (the request went away mid-check), it counts as a failure.
pub(crate) struct Attempt {
    throttle: Arc<Throttle>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    keys: Option<[String; 2]>,
}

impl Attempt {
    pub async fn succeeded(mut self) {
        if let Some(keys) = self.keys.take() {
            self.decide(keys, true).await;
        }
    }

    pub async fn failed(mut self) {
        if let Some(keys) = self.keys.take() {
            self.decide(keys, false).await;
        }
    }

    async fn decide(&self, keys: [String; 2], ok: bool) {
        decide(&self.throttle, &self.store, &self.clock, &keys, ok).await;
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        let Some(keys) = self.keys.take() else { return };
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (throttle, store, clock) = (
            self.throttle.clone(),
            self.store.clone(),
            self.clock.clone(),
        );
        rt.spawn(async move { decide(&throttle, &store, &clock, &keys, false).await });
    }
}

async fn decide(
    throttle: &Throttle,
    store: &Arc<dyn Store>,
    clock: &Arc<dyn Clock>,
    keys: &[String; 2],
    ok: bool,
) {
    let now = clock.now();
    let p = throttle.policy;
    let r = store
        .update_attempts(&[&keys[0], &keys[1]], &mut |c| {
            settle(&p, c, now, ok);
        })
        .await;
    if let Err(e) = r {
        tracing::error!(error = %e, "could not record how a sign-in attempt ended");
    }
    throttle.decided.notify_waiters();
}

fn digest(kind: &str, key: &str) -> String {
    SecretToken::from_presented(&format!("{kind}\0{key}"))
        .hash()
        .0
}

/// Attempts left undecided past their time count as failures; failures past the window are
/// forgotten.
fn age(c: &mut AttemptCount, p: &ThrottlePolicy, now: Timestamp) {
    if c.pending > 0 && now >= c.pending_since.plus_secs(PENDING_TTL_SECS) {
        c.failures += c.pending;
        c.last_failure = c.last_failure.max(c.pending_since);
        c.pending = 0;
    }
    if c.pending == 0 && now >= c.last_failure.plus_secs(p.window_secs) {
        c.failures = 0;
    }
}

fn verdict(c: &AttemptCount, free: u32, cap: i64, now: Timestamp) -> Verdict {
    let free = i64::from(free);
    if c.failures + c.pending < free {
        return Verdict::Go;
    }
    if c.pending > 0 {
        return Verdict::Busy;
    }
    let step = (c.failures - free).clamp(0, 20);
    let ready = c.last_failure.plus_secs((1i64 << step).min(cap));
    if now >= ready {
        Verdict::Go
    } else {
        Verdict::Wait((ready.0 - now.0 + 999) / 1000)
    }
}

/// `[account, address]`: reserves an attempt under both when both allow one.
fn reserve(p: &ThrottlePolicy, c: &mut [AttemptCount], now: Timestamp) -> Verdict {
    for x in c.iter_mut() {
        age(x, p, now);
    }
    let v = [
        verdict(&c[0], p.account_free_failures, p.account_max_wait_secs, now),
        verdict(&c[1], p.address_free_failures, p.address_max_wait_secs, now),
    ];
    let out = match v {
        [Verdict::Wait(a), Verdict::Wait(b)] => Verdict::Wait(a.max(b)),
        [Verdict::Wait(a), _] | [_, Verdict::Wait(a)] => Verdict::Wait(a),
        [Verdict::Busy, _] | [_, Verdict::Busy] => Verdict::Busy,
        [Verdict::Go, Verdict::Go] => Verdict::Go,
    };
    if out == Verdict::Go {
        for x in c.iter_mut() {
            x.pending += 1;
            x.pending_since = now;
        }
    }
    out
}

/// A decided attempt leaves the pending count; a failure counts under both keys, a success clears
/// the account's failures (not the address's: one good account must not reset a sprayer's count).
fn settle(p: &ThrottlePolicy, c: &mut [AttemptCount], now: Timestamp, ok: bool) {
    for (i, x) in c.iter_mut().enumerate() {
        age(x, p, now);
        x.pending = (x.pending - 1).max(0);
        if ok {
            if i == 0 {
                x.failures = 0;
            }
        } else {
            x.failures += 1;
            x.last_failure = now;
        }
    }
}

/// Counts one request of `kind` (a password-reset e-mail) for `account` as typed and from
/// `address`, refusing it when either has had its share of the window. Keyed, like sign-in, by
/// what was typed, so the answer is the same whether or not the account exists.
pub(crate) async fn count_request(
    store: &Arc<dyn Store>,
    now: Timestamp,
    kind: &str,
    account: &str,
    address: &str,
    limits: crate::config::RequestLimits,
) -> AccountsResult<()> {
    let keys = [
        digest(&format!("{kind}-account"), &account.trim().to_lowercase()),
        digest(&format!("{kind}-address"), address),
    ];
    let caps = [limits.per_account, limits.per_address];
    let mut wait = None;
    store
        .update_attempts(&[&keys[0], &keys[1]], &mut |counts| {
            // `failures` counts requests; `last_failure` is when the window began.
            for c in counts.iter_mut() {
                if c.last_failure <= now.minus_secs(limits.window_secs) {
                    c.failures = 0;
                }
            }
            if let Some(full) = counts.iter().zip(caps).find(|(c, cap)| c.failures >= *cap) {
                let ends = full.0.last_failure.plus_secs(limits.window_secs);
                wait = Some(((ends.0 - now.0) / 1000).max(1));
                return;
            }
            for c in counts.iter_mut() {
                if c.failures == 0 {
                    c.last_failure = now;
                }
                c.failures += 1;
            }
        })
        .await?;
    match wait {
        Some(retry_after_secs) => Err(AccountsError::Throttled { retry_after_secs }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(p: &ThrottlePolicy, c: &mut [AttemptCount; 2], now: Timestamp, ok: bool) -> Verdict {
        let v = reserve(p, c, now);
        if v == Verdict::Go {
            settle(p, c, now, ok);
        }
        v
    }

    #[test]
    fn waits_grow_then_cap_and_expire() {
        let p = ThrottlePolicy::default();
        let mut anna = [AttemptCount::ZERO; 2];
        let now = Timestamp(1_000_000);
        for _ in 0..5 {
            assert_eq!(attempt(&p, &mut anna, now, false), Verdict::Go);
        }
        assert_eq!(reserve(&p, &mut anna, now), Verdict::Wait(1));
        for i in 0..10 {
            let t = now.plus_secs(60 * (i + 1));
            assert_eq!(attempt(&p, &mut anna, t, false), Verdict::Go, "attempt {i}");
        }
        let last = now.plus_secs(600);
        assert_eq!(reserve(&p, &mut anna, last), Verdict::Wait(60), "capped");
        assert_eq!(
            attempt(&p, &mut anna, last.plus_secs(60), true),
            Verdict::Go,
            "the owner gets back in"
        );
        assert_eq!(anna[0].failures, 0, "and clears the account's count");
        assert_eq!(anna[1].failures, 15, "not the address's");
        let mut gone = [
            AttemptCount {
                failures: 9,
                last_failure: now,
                ..AttemptCount::ZERO
            },
            AttemptCount::ZERO,
        ];
        assert_eq!(
            reserve(&p, &mut gone, now.plus_secs(p.window_secs)),
            Verdict::Go,
            "forgotten after the window"
        );
    }

    #[test]
    fn undecided_attempts_hold_the_allowance() {
        let p = ThrottlePolicy::default();
        let mut c = [AttemptCount::ZERO; 2];
        let now = Timestamp(5_000);
        let verdicts: Vec<Verdict> = (0..200).map(|_| reserve(&p, &mut c, now)).collect();
        assert_eq!(verdicts.iter().filter(|v| **v == Verdict::Go).count(), 5);
        assert!(verdicts[5..].iter().all(|v| *v == Verdict::Busy));
        // Their answers arrive: the next attempt waits out the back-off, not the crowd.
        for _ in 0..5 {
            settle(&p, &mut c, now, false);
        }
        assert_eq!(reserve(&p, &mut c, now), Verdict::Wait(1));
        // A check whose node died is counted as failed once its time is up.
        let mut stuck = [AttemptCount::ZERO; 2];
        for _ in 0..5 {
            reserve(&p, &mut stuck, now);
        }
        assert_eq!(reserve(&p, &mut stuck, now), Verdict::Busy);
        let later = now.plus_secs(PENDING_TTL_SECS);
        assert_eq!(reserve(&p, &mut stuck, later), Verdict::Go);
        assert_eq!((stuck[0].failures, stuck[0].pending), (5, 1));
    }
}
