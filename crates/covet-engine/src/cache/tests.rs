use std::time::Duration;

use super::zipf::Zipf;
use super::{Bounds, MemoryCache, Policy};

const T0: Duration = Duration::from_secs(1);

fn cache(items: usize, policy: Policy) -> MemoryCache {
    MemoryCache::new(
        Bounds {
            items,
            bytes: usize::MAX / 2,
        },
        policy,
    )
}

#[test]
fn get_set_remove_and_counters() {
    for policy in [Policy::S3Fifo, Policy::Lru] {
        let c = cache(100, policy);
        assert!(c.get(b"a", T0).is_none());
        c.set(b"a", &b"1"[..], None, &[], T0);
        assert_eq!(&*c.get(b"a", T0).unwrap().value, b"1");
        c.set(b"a", &b"22"[..], None, &[], T0);
        assert_eq!(&*c.get(b"a", T0).unwrap().value, b"22");
        assert_eq!(c.len(), 1);
        assert!(c.remove(b"a"));
        assert!(!c.remove(b"a"));
        assert!(c.get(b"a", T0).is_none());
        let s = c.stats();
        assert_eq!((s.hits, s.misses, s.sets, s.invalidations), (2, 2, 2, 1));
        assert_eq!(c.bytes(), 0);
    }
}

#[test]
fn ttl_expires() {
    for policy in [Policy::S3Fifo, Policy::Lru] {
        let c = cache(100, policy);
        c.set(b"k", &b"v"[..], Some(Duration::from_secs(2)), &[], T0);
        assert!(c.get(b"k", T0 + Duration::from_millis(1999)).is_some());
        assert!(c.get(b"k", T0 + Duration::from_secs(2)).is_none());
        assert_eq!(c.len(), 0, "an expired entry met on read is dropped");
    }
}

#[test]
fn bounded_by_entries() {
    for policy in [Policy::S3Fifo, Policy::Lru] {
        let c = cache(1000, policy);
        for i in 0..10_000u32 {
            c.set(&i.to_le_bytes(), &b"x"[..], None, &[], T0);
        }
        assert!(c.len() <= 1000, "{policy:?} holds {}", c.len());
        assert!(c.len() >= 900, "{policy:?} holds only {}", c.len());
        assert_eq!(c.stats().evictions as usize, 10_000 - c.len());
    }
}

#[test]
fn bounded_by_bytes() {
    for policy in [Policy::S3Fifo, Policy::Lru] {
        let c = MemoryCache::new(
            Bounds {
                items: 1_000_000,
                bytes: 100_000,
            },
            policy,
        );
        let value = vec![7u8; 1000];
        for i in 0..1000u32 {
            c.set(&i.to_le_bytes(), value.clone(), None, &[], T0);
        }
        assert!(c.bytes() <= 100_000, "{policy:?} holds {} bytes", c.bytes());
        assert!(c.len() >= 80, "{policy:?} holds only {}", c.len());
        // Heavier than the whole bound: not stored, and an older value under that key goes.
        c.set(b"big", vec![0u8; 200_000], None, &[], T0);
        assert!(c.get(b"big", T0).is_none());
    }
}

#[test]
fn prefix_and_tag_invalidation() {
    let c = cache(1000, Policy::S3Fifo);
    c.set(b"user:1:name", &b"a"[..], None, &["user:1"], T0);
    c.set(b"user:1:mail", &b"b"[..], None, &[], T0);
    c.set(b"user:2:name", &b"c"[..], None, &["user:2", "names"], T0);
    c.set(b"post:9", &b"d"[..], None, &["user:1"], T0);
    assert_eq!(c.remove_tags(&["user:1"]), 2);
    assert!(c.get(b"post:9", T0).is_none());
    assert!(c.get(b"user:1:mail", T0).is_some());
    assert_eq!(c.remove_prefix(b"user:"), 2);
    assert!(c.is_empty());
    assert_eq!(c.stats().invalidations, 4);
}

#[test]
fn a_read_key_survives_a_scan_under_s3fifo() {
    // One hot key read between a flood of keys read once: S3-FIFO keeps it, LRU does too only
    // while it is recent; after a scan longer than the cache, LRU has lost it.
    let c = cache(100, Policy::S3Fifo);
    c.set(b"hot", &b"v"[..], None, &[], T0);
    for _ in 0..3 {
        c.get(b"hot", T0);
    }
    for i in 0..1000u32 {
        c.set(&i.to_le_bytes(), &b"x"[..], None, &[], T0);
    }
    assert!(c.get(b"hot", T0).is_some());
    let l = cache(100, Policy::Lru);
    l.set(b"hot", &b"v"[..], None, &[], T0);
    l.get(b"hot", T0);
    for i in 0..1000u32 {
        l.set(&i.to_le_bytes(), &b"x"[..], None, &[], T0);
    }
    assert!(l.get(b"hot", T0).is_none());
}

#[test]
fn many_removes_keep_the_queues_bounded() {
    let c = cache(1000, Policy::S3Fifo);
    for i in 0..200_000u32 {
        c.set(&i.to_le_bytes(), &b"x"[..], None, &[], T0);
        c.remove(&i.to_le_bytes());
    }
    assert!(c.is_empty());
}

/// The hit rate of a read-through cache of `items` entries on a Zipf trace.
fn zipf_hit_rate(policy: Policy, keys: usize, items: usize, requests: usize) -> f64 {
    let c = cache(items, policy);
    let mut hits = 0;
    for rank in Zipf::new(keys, 1.0, 42).take(requests) {
        let key = (rank as u64).to_le_bytes();
        if c.get(&key, T0).is_some() {
            hits += 1;
        } else {
            c.set(&key, &b"v"[..], None, &[], T0);
        }
    }
    hits as f64 / requests as f64
}

#[test]
fn s3fifo_beats_lru_on_zipf() {
    let s3 = zipf_hit_rate(Policy::S3Fifo, 100_000, 10_000, 1_000_000);
    let lru = zipf_hit_rate(Policy::Lru, 100_000, 10_000, 1_000_000);
    eprintln!("zipf s=1.0, 100k keys, 10k entries: s3fifo {s3:.4}, lru {lru:.4}");
    assert!(s3 > lru, "s3fifo {s3:.4} vs lru {lru:.4}");
}

#[test]
fn shared_by_threads() {
    let c = std::sync::Arc::new(cache(10_000, Policy::S3Fifo));
    let handles: Vec<_> = (0..4u32)
        .map(|t| {
            let c = c.clone();
            std::thread::spawn(move || {
                for i in 0..10_000u32 {
                    let key = (t * 100_000 + i).to_le_bytes();
                    c.set(&key, &b"v"[..], None, &[], T0);
                    c.get(&key, T0);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert!(c.len() <= 10_000);
    assert_eq!(c.stats().sets, 40_000);
}
