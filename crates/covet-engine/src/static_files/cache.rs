//! A bounded cache of small files' bytes, so a hot small file costs an `open` and an `fstat`
//! per request but no read. An entry is used only while the file's inode, size and
//! modification time are the ones it was read with; past the byte budget, entries are dropped
//! to make room.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// What identifies one version of a file on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    /// Device and inode.
    pub dev_ino: (u64, u64),
    /// Modification time in nanoseconds.
    pub mtime_ns: i128,
    /// Size in bytes.
    pub size: u64,
}

/// The entries by key, and the bytes they hold in all.
type Entries = (HashMap<String, (Version, Arc<[u8]>)>, u64);

/// Small files' contents, keyed by their path, within a byte budget.
#[derive(Debug)]
pub struct FileCache {
    max_file: u64,
    max_bytes: u64,
    inner: Mutex<Entries>,
}

impl FileCache {
    /// Files up to `max_file` bytes are kept, `max_bytes` in all (0 turns the cache off).
    pub fn new(max_file: u64, max_bytes: u64) -> Self {
        FileCache {
            max_file: max_file.min(max_bytes),
            max_bytes,
            inner: Mutex::new((HashMap::new(), 0)),
        }
    }

    /// Whether a file of `size` bytes may be kept.
    pub fn admits(&self, size: u64) -> bool {
        size <= self.max_file && self.max_bytes > 0
    }

    /// The bytes kept for `key`, if they are of this `version`.
    pub fn get(&self, key: &str, version: &Version) -> Option<Arc<[u8]>> {
        let inner = self.inner.lock().ok()?;
        match inner.0.get(key) {
            Some((v, data)) if v == version => Some(data.clone()),
            _ => None,
        }
    }

    /// Keeps `data` for `key`, dropping other entries while over the budget.
    pub fn put(&self, key: &str, version: Version, data: Arc<[u8]>) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        let (map, used) = &mut *inner;
        if let Some((_, old)) = map.remove(key) {
            *used -= old.len() as u64;
        }
        while *used + data.len() as u64 > self.max_bytes {
            let Some(victim) = map.keys().next().cloned() else {
                break;
            };
            if let Some((_, old)) = map.remove(&victim) {
                *used -= old.len() as u64;
            }
        }
        *used += data.len() as u64;
        map.insert(key.to_owned(), (version, data));
    }

    /// Bytes held now.
    pub fn used(&self) -> u64 {
        self.inner.lock().map(|i| i.1).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ver(n: u64) -> Version {
        Version {
            dev_ino: (1, n),
            mtime_ns: 5,
            size: 4,
        }
    }

    #[test]
    fn stays_within_its_budget_and_checks_versions() {
        let cache = FileCache::new(4, 8);
        assert!(cache.admits(4) && !cache.admits(5));
        for n in 0..5 {
            cache.put(&format!("f{n}"), ver(n), Arc::from(&b"abcd"[..]));
            assert!(cache.used() <= 8);
        }
        assert!(cache.get("f4", &ver(4)).is_some());
        assert!(cache.get("f4", &ver(9)).is_none());
    }
}
