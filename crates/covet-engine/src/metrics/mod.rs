//! Request metrics counted on the engine's own path, for Prometheus.
//!
//! One [`HttpMetrics`] per worker holds every series in flat arrays of relaxed atomics, sized
//! once from the route table: recording a request is a handful of `fetch_add`s with no lock, no
//! allocation and no lookup by string. Series are keyed by route *template* (the index of the
//! matched route, never the raw path), method and status class, so their number is bounded by
//! the app's routes whatever clients send. A [`Snapshot`] reads the figures out (non-zero series
//! only) for the exporter, which sums the snapshots of every worker process.
//!
//! * [`histogram`]: fixed-bucket latency histograms.
//! * [`http`]: the per-worker counters and what one request records.
//! * [`snapshot`]: the figures read out, with their label values.

pub mod histogram;
pub mod http;
pub mod snapshot;

pub use histogram::{Histogram, BUCKETS_SECONDS};
pub use http::{Finished, HttpMetrics, Method, Refusal, StatusClass, UNMATCHED};
pub use snapshot::{RequestSeries, Snapshot};
