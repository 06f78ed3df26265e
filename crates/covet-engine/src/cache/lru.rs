//! Plain LRU: the least recently read or written key leaves first. Kept as the baseline the
//! default policy (S3-FIFO) is measured against, and for workloads where recency is all.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::entry::{Bounds, Entry};
use super::store::Store;

#[derive(Debug)]
struct Slot {
    entry: Entry,
    weight: usize,
    tick: u64,
}

/// One shard's LRU store (recency order in a BTreeMap: O(log n) per touch).
#[derive(Debug)]
pub struct Lru {
    bounds: Bounds,
    map: HashMap<Arc<[u8]>, Slot>,
    order: BTreeMap<u64, Arc<[u8]>>,
    bytes: usize,
    tick: u64,
}

impl Lru {
    /// An empty store within `bounds`.
    pub fn new(bounds: Bounds) -> Lru {
        Lru {
            bounds,
            map: HashMap::new(),
            order: BTreeMap::new(),
            bytes: 0,
            tick: 0,
        }
    }

    fn touch(&mut self, key: &[u8]) {
        self.tick += 1;
        if let Some(slot) = self.map.get_mut(key) {
            if let Some(k) = self.order.remove(&slot.tick) {
                self.order.insert(self.tick, k);
            }
            slot.tick = self.tick;
        }
    }
}

impl Store for Lru {
    fn get(&mut self, key: &[u8], now: u64) -> Option<Entry> {
        let slot = self.map.get(key)?;
        if slot.entry.expired(now) {
            self.remove(key);
            return None;
        }
        let entry = slot.entry.clone();
        self.touch(key);
        Some(entry)
    }

    fn insert(&mut self, key: &[u8], entry: Entry, _now: u64) -> usize {
        let weight = entry.weight(key);
        self.remove(key);
        if weight > self.bounds.bytes {
            return 0;
        }
        self.tick += 1;
        let key: Arc<[u8]> = Arc::from(key);
        self.order.insert(self.tick, key.clone());
        let slot = Slot {
            entry,
            weight,
            tick: self.tick,
        };
        self.map.insert(key, slot);
        self.bytes += weight;
        let mut evicted = 0;
        while self.map.len() > self.bounds.items || self.bytes > self.bounds.bytes {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            if let Some(slot) = self.map.remove(&oldest) {
                self.bytes -= slot.weight;
                evicted += 1;
            }
        }
        evicted
    }

    fn remove(&mut self, key: &[u8]) -> bool {
        let Some(slot) = self.map.remove(key) else {
            return false;
        };
        self.order.remove(&slot.tick);
        self.bytes -= slot.weight;
        true
    }

    fn retain(&mut self, keep: &mut dyn FnMut(&[u8], &Entry) -> bool) -> usize {
        let doomed: Vec<Arc<[u8]>> = self
            .map
            .iter()
            .filter(|(k, s)| !keep(k, &s.entry))
            .map(|(k, _)| k.clone())
            .collect();
        for key in &doomed {
            self.remove(key);
        }
        doomed.len()
    }

    fn len(&self) -> usize {
        self.map.len()
    }

    fn bytes(&self) -> usize {
        self.bytes
    }
}
