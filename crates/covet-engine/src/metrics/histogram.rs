//! A latency histogram with fixed buckets: one relaxed atomic per bucket, the sum in
//! nanoseconds. Buckets are counted one by one (not cumulatively) so an observation touches
//! one bucket; the snapshot makes them cumulative, as Prometheus expects.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of the buckets, in seconds (`+Inf` follows). Finer than Prometheus's defaults
/// below 5 ms, where a Rust-served request lives.
pub const BUCKETS_SECONDS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The bucket bounds in nanoseconds, for comparing without floating point.
const BOUNDS_NS: [u64; 14] = [
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];

/// One histogram: a count per bucket (the last is `+Inf`) and the sum of observations.
#[derive(Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS_SECONDS.len() + 1],
    sum_ns: AtomicU64,
}

impl Histogram {
    /// Records one duration.
    #[inline]
    pub fn observe(&self, elapsed: Duration) {
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let i = BOUNDS_NS.partition_point(|&bound| bound < ns);
        self.buckets[i].fetch_add(1, Relaxed);
        self.sum_ns.fetch_add(ns, Relaxed);
    }

    /// How many durations were recorded.
    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Relaxed)).sum()
    }

    /// Cumulative counts per bucket (`le` each bound, then `+Inf`), and the sum in seconds.
    pub fn read(&self) -> (Vec<u64>, f64) {
        let mut total = 0;
        let cumulative = self
            .buckets
            .iter()
            .map(|b| {
                total += b.load(Relaxed);
                total
            })
            .collect();
        (cumulative, self.sum_ns.load(Relaxed) as f64 / 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_the_first_bucket_that_holds_them() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(100)); // le 0.0005
        h.observe(Duration::from_micros(500)); // exactly on the bound: le 0.0005
        h.observe(Duration::from_millis(3)); // le 0.005
        h.observe(Duration::from_secs(60)); // +Inf only
        let (cumulative, sum) = h.read();
        assert_eq!(cumulative.len(), BUCKETS_SECONDS.len() + 1);
        assert_eq!(cumulative[0], 2);
        assert_eq!(cumulative[2], 2);
        assert_eq!(cumulative[3], 3);
        assert_eq!(cumulative[13], 3);
        assert_eq!(cumulative[14], 4);
        assert_eq!(h.count(), 4);
        assert!((sum - 60.0036).abs() < 1e-9);
    }

    #[test]
    fn bounds_in_nanoseconds_match_the_bounds_in_seconds() {
        for (ns, s) in BOUNDS_NS.iter().zip(BUCKETS_SECONDS) {
            assert_eq!(*ns, (s * 1e9).round() as u64);
        }
    }
}
