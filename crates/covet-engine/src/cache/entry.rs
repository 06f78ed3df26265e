//! What the memory cache keeps for one key, and the limits it keeps it within.

use std::sync::Arc;

/// A cached value with its expiry and tags.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The stored bytes (shared: a hit hands out a reference, not a copy).
    pub value: Arc<[u8]>,
    /// Nanoseconds on the cache's clock after which the entry is gone; `u64::MAX` for never.
    pub expires: u64,
    /// Tags the entry can be invalidated by, besides its key.
    pub tags: Arc<[Box<str>]>,
}

impl Entry {
    /// An entry that never expires and has no tags.
    pub fn new(value: impl Into<Arc<[u8]>>) -> Entry {
        Entry {
            value: value.into(),
            expires: u64::MAX,
            tags: Arc::from(Vec::new()),
        }
    }

    /// Whether the entry has expired at `now`.
    pub fn expired(&self, now: u64) -> bool {
        now >= self.expires
    }

    /// The bytes the entry is counted for against the byte bound (key, value, tags and a fixed
    /// overhead for the bookkeeping around them).
    pub fn weight(&self, key: &[u8]) -> usize {
        const OVERHEAD: usize = 96;
        key.len() + self.value.len() + self.tags.iter().map(|t| t.len()).sum::<usize>() + OVERHEAD
    }
}

/// The bound of one store: at most `items` entries and `bytes` weighed bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Most entries held.
    pub items: usize,
    /// Most bytes held, as [`Entry::weight`] counts them.
    pub bytes: usize,
}

impl Bounds {
    /// The bound split evenly over `parts` shards (rounded down: at least one entry each).
    pub fn split(self, parts: usize) -> Bounds {
        Bounds {
            items: (self.items / parts).max(1),
            bytes: (self.bytes / parts).max(1),
        }
    }
}
