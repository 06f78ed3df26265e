//! Rate limiting with GCRA, the generic cell rate algorithm.
//!
//! * [`gcra`]: the algorithm on one key: a [`Quota`] (limit per period, burst) and the
//!   [`Decision`] a check returns.
//! * [`store`]: a bounded, sharded in-memory map from keys to their state ([`RateLimiter`]).
//!
//! Time is passed in by the caller as a [`Duration`](std::time::Duration) since any fixed
//! origin (a monotonic clock), so the engine reads no clock and tests are deterministic.
//!
//! ```
//! use std::time::Duration;
//! use covet_engine::ratelimit::{Quota, RateLimiter};
//!
//! let limiter = RateLimiter::new(Quota::new(2, Duration::from_secs(1), 2).unwrap(), 10_000);
//! let now = Duration::from_secs(100);
//! assert!(limiter.check(b"1.2.3.4", 1, now).allowed);
//! assert!(limiter.check(b"1.2.3.4", 1, now).allowed);
//! let refused = limiter.check(b"1.2.3.4", 1, now);
//! assert!(!refused.allowed);
//! assert_eq!(refused.retry_after, Duration::from_millis(500));
//! ```

pub mod gcra;
pub mod store;

pub use gcra::{Decision, Quota, QuotaError};
pub use store::RateLimiter;
