//! S3-FIFO eviction (Yang et al., "FIFO queues are all you need for cache eviction", SOSP 2023).
//!
//! New keys enter a small FIFO holding about a tenth of the space. A key read again while
//! there moves to the main FIFO when it reaches the head of the small one; a key never read
//! again leaves, and its hash is remembered in a ghost FIFO, so that if it comes back soon it
//! goes straight to the main queue. The main queue gives every key read since its last pass
//! another round (a CLOCK with up to three lives). One-hit wonders, the bulk of a Zipf tail,
//! so never push a hot key out, which is where plain LRU loses (see `MemoryCache`'s tests and
//! `make bench-cache` for the measured difference).
//!
//! Queues hold `(key, generation)`: a removed or replaced key leaves a stale node behind that
//! is skipped when it reaches the head, and the queues are compacted when stale nodes
//! outnumber live ones, so removal is O(1) and memory stays bounded.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::Arc;

use super::entry::{Bounds, Entry};
use super::store::Store;

const MAX_FREQ: u8 = 3;

#[derive(Debug)]
struct Slot {
    entry: Entry,
    weight: usize,
    freq: u8,
    main: bool,
    generation: u64,
}

/// One shard's S3-FIFO store.
#[derive(Debug)]
pub struct S3Fifo {
    bounds: Bounds,
    map: HashMap<Arc<[u8]>, Slot>,
    small: VecDeque<(Arc<[u8]>, u64)>,
    main: VecDeque<(Arc<[u8]>, u64)>,
    small_items: usize,
    small_bytes: usize,
    bytes: usize,
    ghost: VecDeque<u64>,
    ghost_set: HashMap<u64, u32>,
    hasher: RandomState,
    generation: u64,
}

impl S3Fifo {
    /// An empty store within `bounds`.
    pub fn new(bounds: Bounds) -> S3Fifo {
        S3Fifo {
            bounds,
            map: HashMap::new(),
            small: VecDeque::new(),
            main: VecDeque::new(),
            small_items: 0,
            small_bytes: 0,
            bytes: 0,
            ghost: VecDeque::new(),
            ghost_set: HashMap::new(),
            hasher: RandomState::new(),
            generation: 0,
        }
    }

    fn over(&self) -> bool {
        self.map.len() > self.bounds.items || self.bytes > self.bounds.bytes
    }

    fn small_is_large(&self) -> bool {
        self.small_items * 10 >= self.bounds.items || self.small_bytes * 10 >= self.bounds.bytes
    }

    fn live(&self, key: &Arc<[u8]>, generation: u64, main: bool) -> bool {
        self.map
            .get(key)
            .is_some_and(|s| s.generation == generation && s.main == main)
    }

    /// Evicts until the bounds hold; returns how many entries left.
    fn make_room(&mut self, now: u64) -> usize {
        let mut evicted = 0;
        while self.over() {
            let from_small =
                !self.small.is_empty() && (self.small_is_large() || self.main.is_empty());
            let gone = if from_small {
                self.evict_small(now)
            } else {
                self.evict_main(now)
            };
            evicted += usize::from(gone);
        }
        evicted
    }

    /// Takes the oldest key of the small queue: to the main queue if it was read there, else
    /// out (remembered in the ghost queue). True when an entry left the store.
    fn evict_small(&mut self, now: u64) -> bool {
        while let Some((key, generation)) = self.small.pop_front() {
            if !self.live(&key, generation, false) {
                continue;
            }
            let slot = self.map.get_mut(&key).expect("live key");
            if slot.freq > 0 && !slot.entry.expired(now) {
                self.small_items -= 1;
                self.small_bytes -= slot.weight;
                slot.main = true;
                slot.freq = 0;
                self.main.push_back((key, generation));
                continue;
            }
            self.remember(&key);
            self.drop_slot(&key);
            return true;
        }
        false
    }

    /// Takes the oldest key of the main queue: another round if it was read since its last
    /// pass, else out. True when an entry left the store.
    fn evict_main(&mut self, now: u64) -> bool {
        while let Some((key, generation)) = self.main.pop_front() {
            if !self.live(&key, generation, true) {
                continue;
            }
            let slot = self.map.get_mut(&key).expect("live key");
            if slot.freq > 0 && !slot.entry.expired(now) {
                slot.freq -= 1;
                self.main.push_back((key, generation));
                continue;
            }
            self.drop_slot(&key);
            return true;
        }
        false
    }

    fn remember(&mut self, key: &[u8]) {
        let hash = self.hasher.hash_one(key);
        self.ghost.push_back(hash);
        *self.ghost_set.entry(hash).or_default() += 1;
        while self.ghost.len() > self.bounds.items {
            let old = self.ghost.pop_front().expect("non-empty");
            self.forget_ghost(old);
        }
    }

    fn forget_ghost(&mut self, hash: u64) {
        if let Some(count) = self.ghost_set.get_mut(&hash) {
            *count -= 1;
            if *count == 0 {
                self.ghost_set.remove(&hash);
            }
        }
    }

    /// Whether `key` was evicted from the small queue recently (and forgets it).
    fn take_ghost(&mut self, key: &[u8]) -> bool {
        let hash = self.hasher.hash_one(key);
        let known = self.ghost_set.contains_key(&hash);
        if known {
            self.forget_ghost(hash);
        }
        known
    }

    fn drop_slot(&mut self, key: &[u8]) -> Option<Slot> {
        let slot = self.map.remove(key)?;
        self.bytes -= slot.weight;
        if !slot.main {
            self.small_items -= 1;
            self.small_bytes -= slot.weight;
        }
        Some(slot)
    }

    fn compact(&mut self) {
        if self.small.len() + self.main.len() <= 2 * self.map.len() + 1024 {
            return;
        }
        let map = &self.map;
        let live = |key: &Arc<[u8]>, generation: u64, main: bool| {
            map.get(key)
                .is_some_and(|s| s.generation == generation && s.main == main)
        };
        self.small.retain(|(k, g)| live(k, *g, false));
        self.main.retain(|(k, g)| live(k, *g, true));
    }
}

impl Store for S3Fifo {
    fn get(&mut self, key: &[u8], now: u64) -> Option<Entry> {
        let slot = self.map.get_mut(key)?;
        if slot.entry.expired(now) {
            self.drop_slot(key);
            self.compact();
            return None;
        }
        slot.freq = (slot.freq + 1).min(MAX_FREQ);
        Some(slot.entry.clone())
    }

    fn insert(&mut self, key: &[u8], entry: Entry, now: u64) -> usize {
        let weight = entry.weight(key);
        if weight > self.bounds.bytes {
            self.remove(key);
            return 0;
        }
        if let Some(slot) = self.map.get_mut(key) {
            self.bytes = self.bytes - slot.weight + weight;
            if !slot.main {
                self.small_bytes = self.small_bytes - slot.weight + weight;
            }
            slot.entry = entry;
            slot.weight = weight;
            return self.make_room(now);
        }
        self.generation += 1;
        let key: Arc<[u8]> = Arc::from(key);
        let main = self.take_ghost(&key);
        let node = (key.clone(), self.generation);
        if main {
            self.main.push_back(node);
        } else {
            self.small.push_back(node);
            self.small_items += 1;
            self.small_bytes += weight;
        }
        self.bytes += weight;
        let slot = Slot {
            entry,
            weight,
            freq: 0,
            main,
            generation: self.generation,
        };
        self.map.insert(key, slot);
        let evicted = self.make_room(now);
        self.compact();
        evicted
    }

    fn remove(&mut self, key: &[u8]) -> bool {
        let gone = self.drop_slot(key).is_some();
        self.compact();
        gone
    }

    fn retain(&mut self, keep: &mut dyn FnMut(&[u8], &Entry) -> bool) -> usize {
        let doomed: Vec<Arc<[u8]>> = self
            .map
            .iter()
            .filter(|(k, s)| !keep(k, &s.entry))
            .map(|(k, _)| k.clone())
            .collect();
        for key in &doomed {
            self.drop_slot(key);
        }
        self.compact();
        doomed.len()
    }

    fn len(&self) -> usize {
        self.map.len()
    }

    fn bytes(&self) -> usize {
        self.bytes
    }
}
