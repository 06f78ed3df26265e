//! A bounded in-memory map from keys to their GCRA state, shared by threads.
//!
//! Keys are spread over shards by a randomly seeded SipHash (clients cannot aim at one shard),
//! each shard behind its own mutex, so a sweep or an eviction pauses one shard only.
//!
//! Memory is bounded by `max_keys`:
//! * every `period` a shard forgets the keys whose allowance is full again (their TAT is past):
//!   forgetting such a key changes nothing, the next check sees a fresh key either way;
//! * when a shard is full and a new key arrives, the shard first forgets those expired keys;
//!   if it is still full, it forgets the eighth of its keys nearest to a full allowance (the
//!   smallest TATs). Those clients get their allowance back early: under a flood of distinct
//!   keys the limiter errs on the lenient side for the least-active keys, never on the busiest.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Mutex;
use std::time::Duration;

use super::gcra::{Decision, Quota};

const SHARDS: usize = 16;

/// A GCRA rate limiter for many keys under one [`Quota`].
#[derive(Debug)]
pub struct RateLimiter {
    quota: Quota,
    hasher: RandomState,
    shards: Vec<Mutex<Shard>>,
    shard_cap: usize,
}

#[derive(Debug, Default)]
struct Shard {
    tats: HashMap<Box<[u8]>, u64>,
    next_sweep: u64,
}

impl RateLimiter {
    /// A limiter holding at most about `max_keys` keys (at least one per shard).
    pub fn new(quota: Quota, max_keys: usize) -> RateLimiter {
        RateLimiter {
            quota,
            hasher: RandomState::new(),
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            shard_cap: max_keys.div_ceil(SHARDS).max(1),
        }
    }

    /// The quota every key is held to.
    pub fn quota(&self) -> &Quota {
        &self.quota
    }

    /// Takes `cost` from `key`'s allowance at time `now` if it has enough, and says so.
    /// A cost of 0 reports the allowance without changing it.
    pub fn check(&self, key: &[u8], cost: u64, now: Duration) -> Decision {
        let now = nanos(now);
        let index = (self.hasher.hash_one(key) as usize) % SHARDS;
        let mut shard = self.shards[index].lock().unwrap_or_else(|e| e.into_inner());
        if now >= shard.next_sweep {
            shard.forget_expired(now);
            shard.next_sweep = now.saturating_add(nanos(self.quota.period()));
        }
        let tat = shard.tats.get(key).copied();
        let (decision, new_tat) = self.quota.apply(tat, cost, now);
        if Some(new_tat) != tat && new_tat > now {
            if tat.is_none() && shard.tats.len() >= self.shard_cap {
                shard.make_room(now, self.shard_cap);
            }
            match shard.tats.get_mut(key) {
                Some(slot) => *slot = new_tat,
                None => {
                    shard.tats.insert(key.into(), new_tat);
                }
            }
        }
        decision
    }

    /// Keys currently held (expired ones included until the next sweep).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).tats.len())
            .sum()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every key whose allowance is full again at `now`.
    pub fn forget_expired(&self, now: Duration) {
        let now = nanos(now);
        for shard in &self.shards {
            shard
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .forget_expired(now);
        }
    }
}

impl Shard {
    fn forget_expired(&mut self, now: u64) {
        self.tats.retain(|_, tat| *tat > now);
    }

    /// Frees at least one slot: expired keys first, then the eighth nearest to a full allowance.
    fn make_room(&mut self, now: u64, cap: usize) {
        self.forget_expired(now);
        if self.tats.len() < cap {
            return;
        }
        let mut tats: Vec<u64> = self.tats.values().copied().collect();
        let drop = (tats.len() / 8).max(1);
        let (_, threshold, _) = tats.select_nth_unstable(drop - 1);
        let threshold = *threshold;
        let mut left = drop;
        self.tats.retain(|_, tat| {
            if left > 0 && *tat <= threshold {
                left -= 1;
                return false;
            }
            true
        });
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn limiter(limit: u64, burst: u64, max_keys: usize) -> RateLimiter {
        RateLimiter::new(Quota::new(limit, secs(1), burst).unwrap(), max_keys)
    }

    #[test]
    fn keys_are_independent() {
        let l = limiter(1, 1, 100);
        assert!(l.check(b"a", 1, secs(10)).allowed);
        assert!(!l.check(b"a", 1, secs(10)).allowed);
        assert!(l.check(b"b", 1, secs(10)).allowed);
        assert!(l.check(b"a", 1, secs(11)).allowed);
    }

    #[test]
    fn periodic_sweep_forgets_full_keys() {
        let l = limiter(10, 10, 1000);
        for i in 0..50u32 {
            l.check(&i.to_be_bytes(), 1, secs(10));
        }
        assert_eq!(l.len(), 50);
        // One check per shard after a period has passed sweeps every shard it lands in.
        l.forget_expired(secs(12));
        assert!(l.is_empty());
    }

    #[test]
    fn refused_and_peek_checks_store_nothing_new() {
        let l = limiter(1, 1, 100);
        assert!(l.check(b"a", 0, secs(5)).allowed);
        assert!(!l.check(b"b", 2, secs(5)).allowed);
        assert!(l.is_empty());
    }

    #[test]
    fn memory_stays_bounded_and_busiest_keys_are_kept() {
        let max_keys = 64;
        let l = limiter(1, 1000, max_keys);
        let now = secs(100);
        // A busy key: its TAT is far ahead, so eviction should not pick it.
        for _ in 0..900 {
            l.check(b"busy", 1, now);
        }
        for i in 0..10_000u32 {
            l.check(&i.to_be_bytes(), 1, now);
        }
        assert!(l.len() <= max_keys.div_ceil(SHARDS) * SHARDS);
        let d = l.check(b"busy", 1, now);
        assert_eq!(d.remaining, 1000 - 901, "the busy key kept its state");
    }
}
