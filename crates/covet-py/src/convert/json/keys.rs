//! A small cache of encoded dict keys (`"key":`) for one encoding call.
//!
//! A list of dicts usually repeats the same key objects (the same interned strings), so a key
//! seen once is written again by copying its finished bytes, without reading or escaping the
//! string. Entries are found by the key object's address, which is only trusted while no Python
//! code runs: the encoder clears the cache whenever it calls back into Python.
//!
//! The table is two-way: an address hashes to a pair of slots, and a new key takes the pair's
//! first slot, pushing the older one to the second. A direct-mapped table let two keys of one
//! dict share a slot and evict each other on every object (on the bench's `/large`, 9% of the
//! instructions went to re-encoding keys); two ways keep any two such keys.

use covet_engine::json_escape::Short;

/// Slots in the table, in pairs.
const SLOTS: usize = 256;
/// Longest encoded key (quotes and colon included) remembered: it is held in two words.
const MAX_KEY: usize = 16;

#[derive(Clone, Copy, Default)]
struct Slot {
    key: usize,
    generation: u32,
    encoded: Short,
}

/// Encoded keys by object address, valid for the current generation only.
pub struct KeyCache {
    slots: [Slot; SLOTS],
    generation: u32,
}

thread_local! {
    static SPARE: std::cell::Cell<Option<Box<KeyCache>>> = const { std::cell::Cell::new(None) };
}

impl KeyCache {
    /// The thread's cache, emptied, or a new one when it is in use (a nested encoding call).
    pub fn take() -> Box<KeyCache> {
        let mut cache = SPARE.with(|s| s.take()).unwrap_or_else(|| {
            Box::new(KeyCache {
                slots: [Slot::default(); SLOTS],
                generation: 0,
            })
        });
        cache.clear();
        cache
    }

    /// Gives the cache back to the thread for the next call.
    pub fn give_back(cache: Box<KeyCache>) {
        SPARE.with(|s| s.set(Some(cache)));
    }

    /// Forgets every entry, in constant time.
    pub fn clear(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // After 2^32 calls, stale slots could match again: wipe them for real.
            self.slots = [Slot::default(); SLOTS];
            self.generation = 1;
        }
    }

    /// The first slot of the pair `key` hashes to (Fibonacci hashing of the address, whose low
    /// bits are the allocator's alignment).
    fn pair(key: usize) -> usize {
        let hash = (key >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (hash >> (usize::BITS - SLOTS.trailing_zeros())) & !1
    }

    /// Appends the remembered bytes for `key` to `out`; false when it is not remembered.
    #[inline]
    pub fn write_cached<T>(&self, key: *const T, out: &mut Vec<u8>) -> bool {
        let key = key as usize;
        let first = Self::pair(key);
        for slot in &self.slots[first..first + 2] {
            if slot.key == key && slot.generation == self.generation {
                slot.encoded.store(out);
                return true;
            }
        }
        false
    }

    /// Remembers the encoded form of `key`, when it is short enough.
    pub fn remember<T>(&mut self, key: *const T, encoded: &[u8]) {
        if encoded.len() > MAX_KEY {
            return;
        }
        let first = Self::pair(key as usize);
        self.slots[first + 1] = self.slots[first];
        self.slots[first] = Slot {
            key: key as usize,
            generation: self.generation,
            encoded: Short::load(encoded),
        };
    }
}
