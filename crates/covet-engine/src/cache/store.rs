//! What an eviction policy provides: one shard's bounded map.

use super::entry::Entry;

/// A bounded map from keys to entries under one eviction policy. Times are nanoseconds on the
/// cache's clock; an expired entry is never returned and is dropped when met.
pub trait Store: Send {
    /// The live entry for `key`, counted as a read by the policy.
    fn get(&mut self, key: &[u8], now: u64) -> Option<Entry>;
    /// Stores `entry` under `key` (replacing any), evicting as the bounds require; returns how
    /// many entries were evicted. An entry heavier than the whole byte bound is not stored.
    fn insert(&mut self, key: &[u8], entry: Entry, now: u64) -> usize;
    /// Drops `key`; true when it was there.
    fn remove(&mut self, key: &[u8]) -> bool;
    /// Drops every entry for which `keep` says false; returns how many.
    fn retain(&mut self, keep: &mut dyn FnMut(&[u8], &Entry) -> bool) -> usize;
    /// Entries held (expired ones included until met).
    fn len(&self) -> usize;
    /// True when nothing is held.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Weighed bytes held.
    fn bytes(&self) -> usize;
}
