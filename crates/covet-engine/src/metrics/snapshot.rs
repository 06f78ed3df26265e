//! The figures of one worker read out, with their label values, for the exporter.

/// One (route, method) series.
#[derive(Clone, Debug, PartialEq)]
pub struct RequestSeries {
    /// The route template (or `<unmatched>`).
    pub route: String,
    /// The method label.
    pub method: &'static str,
    /// Requests answered, per status class label (`1xx` ... `5xx`).
    pub by_class: Vec<(&'static str, u64)>,
    /// Cumulative latency bucket counts, one per bound of `BUCKETS_SECONDS`, then `+Inf`.
    pub buckets: Vec<u64>,
    /// Total latency in seconds.
    pub sum_seconds: f64,
    /// Request body bytes received.
    pub request_bytes: u64,
    /// Response bytes written, heads included.
    pub response_bytes: u64,
}

impl RequestSeries {
    /// Requests answered with a status of this class (`"2xx"`...).
    pub fn count(&self, class: &str) -> u64 {
        self.by_class
            .iter()
            .find(|(c, _)| *c == class)
            .map_or(0, |(_, n)| *n)
    }
}

/// Everything one worker counted.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// Series that have seen at least one request.
    pub requests: Vec<RequestSeries>,
    /// Refusals by reason (every reason, zero or not).
    pub refusals: Vec<(&'static str, u64)>,
}
