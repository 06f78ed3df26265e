//! A bounded in-memory cache shared by threads: covet's memory cache level, and the store the
//! engine answers cached responses from.
//!
//! Keys are spread over shards by a randomly seeded SipHash, each shard behind its own mutex
//! and bounded by its share of the entry and byte bounds. Each shard evicts by a [`Policy`]:
//! S3-FIFO by default (see [`s3fifo`] for why), plain LRU on request. Entries carry an expiry
//! and tags; invalidation by prefix or tag scans the (bounded) shards.
//!
//! Sans-IO like the rest of the engine: every call takes `now`, the caller's monotonic clock.

mod entry;
mod lru;
pub mod response;
mod s3fifo;
mod store;
pub mod zipf;

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use entry::{Bounds, Entry};
pub use lru::Lru;
pub use s3fifo::S3Fifo;
pub use store::Store;

const SHARDS: usize = 16;

/// How a full shard picks the entry to drop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// S3-FIFO: a small probation queue, a main queue and a ghost queue (the default).
    S3Fifo,
    /// Least recently used.
    Lru,
}

impl Policy {
    /// The policy named `s3fifo` or `lru`.
    pub fn parse(name: &str) -> Option<Policy> {
        match name {
            "s3fifo" | "s3-fifo" => Some(Policy::S3Fifo),
            "lru" => Some(Policy::Lru),
            _ => None,
        }
    }

    fn store(self, bounds: Bounds) -> Box<dyn Store> {
        match self {
            Policy::S3Fifo => Box::new(S3Fifo::new(bounds)),
            Policy::Lru => Box::new(Lru::new(bounds)),
        }
    }
}

/// Counters of one cache since it was made.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Reads that found a live entry.
    pub hits: u64,
    /// Reads that found nothing (or an expired entry).
    pub misses: u64,
    /// Entries stored.
    pub sets: u64,
    /// Entries dropped to keep within the bounds.
    pub evictions: u64,
    /// Entries dropped by `remove`, `remove_prefix`, `remove_tags` or `clear`.
    pub invalidations: u64,
}

#[derive(Debug, Default)]
struct Counters {
    hits: AtomicU64,
    misses: AtomicU64,
    sets: AtomicU64,
    evictions: AtomicU64,
    invalidations: AtomicU64,
}

/// A sharded, bounded, thread-safe cache of byte values.
pub struct MemoryCache {
    policy: Policy,
    bounds: Bounds,
    hasher: RandomState,
    shards: Vec<Mutex<Box<dyn Store>>>,
    counters: Counters,
}

impl std::fmt::Debug for MemoryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCache")
            .field("policy", &self.policy)
            .field("bounds", &self.bounds)
            .finish()
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl MemoryCache {
    /// A cache of at most about `bounds.items` entries and `bounds.bytes` bytes. Small bounds
    /// use fewer shards, so that each shard still holds enough entries to evict well.
    pub fn new(bounds: Bounds, policy: Policy) -> MemoryCache {
        let shards = (bounds.items / 256).clamp(1, SHARDS);
        let per_shard = bounds.split(shards);
        MemoryCache {
            policy,
            bounds,
            hasher: RandomState::new(),
            shards: (0..shards)
                .map(|_| Mutex::new(policy.store(per_shard)))
                .collect(),
            counters: Counters::default(),
        }
    }

    /// The eviction policy.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// The bounds given at construction.
    pub fn bounds(&self) -> Bounds {
        self.bounds
    }

    fn shard(&self, key: &[u8]) -> std::sync::MutexGuard<'_, Box<dyn Store>> {
        let index = (self.hasher.hash_one(key) as usize) % self.shards.len();
        self.shards[index].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The live entry for `key` at `now`, counted as a hit or a miss.
    pub fn get(&self, key: &[u8], now: Duration) -> Option<Entry> {
        let found = self.shard(key).get(key, nanos(now));
        let counter = if found.is_some() {
            &self.counters.hits
        } else {
            &self.counters.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Stores `value` under `key` for `ttl` from `now` (`None`: until evicted), with `tags`.
    pub fn set(
        &self,
        key: &[u8],
        value: impl Into<Arc<[u8]>>,
        ttl: Option<Duration>,
        tags: &[&str],
        now: Duration,
    ) {
        let expires = ttl.map_or(u64::MAX, |t| nanos(now).saturating_add(nanos(t)));
        let entry = Entry {
            value: value.into(),
            expires,
            tags: tags.iter().map(|t| Box::from(*t)).collect(),
        };
        let evicted = self.shard(key).insert(key, entry, nanos(now));
        self.counters.sets.fetch_add(1, Ordering::Relaxed);
        self.counters
            .evictions
            .fetch_add(evicted as u64, Ordering::Relaxed);
    }

    /// Drops `key`; true when it was there.
    pub fn remove(&self, key: &[u8]) -> bool {
        let gone = self.shard(key).remove(key);
        self.counters
            .invalidations
            .fetch_add(u64::from(gone), Ordering::Relaxed);
        gone
    }

    fn retain_all(&self, keep: &mut dyn FnMut(&[u8], &Entry) -> bool) -> usize {
        let mut gone = 0;
        for shard in &self.shards {
            gone += shard.lock().unwrap_or_else(|e| e.into_inner()).retain(keep);
        }
        self.counters
            .invalidations
            .fetch_add(gone as u64, Ordering::Relaxed);
        gone
    }

    /// Drops every key starting with `prefix`; returns how many.
    pub fn remove_prefix(&self, prefix: &[u8]) -> usize {
        self.retain_all(&mut |key, _| !key.starts_with(prefix))
    }

    /// Drops every entry carrying one of `tags`; returns how many.
    pub fn remove_tags(&self, tags: &[&str]) -> usize {
        self.retain_all(&mut |_, entry| !entry.tags.iter().any(|t| tags.contains(&&**t)))
    }

    /// Drops everything.
    pub fn clear(&self) -> usize {
        self.retain_all(&mut |_, _| false)
    }

    /// Entries held (expired ones included until met).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Weighed bytes held.
    pub fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).bytes())
            .sum()
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        let c = &self.counters;
        Stats {
            hits: c.hits.load(Ordering::Relaxed),
            misses: c.misses.load(Ordering::Relaxed),
            sets: c.sets.load(Ordering::Relaxed),
            evictions: c.evictions.load(Ordering::Relaxed),
            invalidations: c.invalidations.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests;
