//! The per-worker request counters: what one finished request records, and the refusals the
//! engine makes before a request reaches a route.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use super::histogram::Histogram;
use super::snapshot::{RequestSeries, Snapshot};

/// The route label of a request that matched no route (a 404, 405 or redirect, or one the
/// engine middleware answered before routing).
pub const UNMATCHED: &str = "<unmatched>";

/// Request methods with a series of their own; anything else counts as `OTHER`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Method(u8);

const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER",
];

impl Method {
    /// The method's index among the counted ones (an unknown method is `OTHER`: a client must
    /// not be able to add series by inventing methods).
    pub fn from_name(name: &str) -> Method {
        let i = METHODS[..7].iter().position(|m| *m == name).unwrap_or(7);
        Method(i as u8)
    }

    /// The label value.
    pub fn name(self) -> &'static str {
        METHODS[self.0 as usize]
    }
}

/// `1xx` ... `5xx`: the status label, five values whatever the handlers answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusClass(u8);

const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

impl StatusClass {
    /// The class of a status code (anything out of 100..=599 counts as `5xx`).
    pub fn of(status: u16) -> StatusClass {
        match status {
            100..=599 => StatusClass((status / 100 - 1) as u8),
            _ => StatusClass(4),
        }
    }

    /// The label value.
    pub fn name(self) -> &'static str {
        CLASSES[self.0 as usize]
    }
}

/// Why the engine refused a request before (or instead of) its handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A rate-limit rule answered 429.
    RateLimited,
    /// A JWT guard answered 401 or 403.
    Jwt,
    /// The parser or the connection limits refused it, with this status.
    Http(u16),
}

const REASONS: [&str; 8] = [
    "rate_limited",
    "jwt",
    "bad_request",
    "timeout",
    "body_too_large",
    "head_too_large",
    "over_capacity",
    "other",
];

impl Refusal {
    fn index(self) -> usize {
        match self {
            Refusal::RateLimited => 0,
            Refusal::Jwt => 1,
            Refusal::Http(400) => 2,
            Refusal::Http(408) => 3,
            Refusal::Http(413) => 4,
            Refusal::Http(431) => 5,
            Refusal::Http(503) => 6,
            Refusal::Http(_) => 7,
        }
    }
}

/// One (route, method) pair's figures.
#[derive(Default)]
struct Series {
    by_class: [AtomicU64; 5],
    latency: Histogram,
    request_bytes: AtomicU64,
    response_bytes: AtomicU64,
}

/// Every request series of one worker, sized once from its route templates.
pub struct HttpMetrics {
    /// Route labels by route index; the last is [`UNMATCHED`].
    routes: Vec<String>,
    series: Box<[Series]>,
    refusals: [AtomicU64; REASONS.len()],
}

/// What one finished request records.
#[derive(Clone, Copy, Debug)]
pub struct Finished {
    /// Index of the matched route, or `None` when it matched none.
    pub route: Option<usize>,
    /// Its method.
    pub method: Method,
    /// The status answered.
    pub status: u16,
    /// From the request head parsed to the response handed to the transport.
    pub elapsed: Duration,
    /// Request body bytes.
    pub request_bytes: u64,
    /// Response bytes written, head included.
    pub response_bytes: u64,
}

impl HttpMetrics {
    /// Metrics for an app whose routes (in the router's endpoint order) have these templates.
    pub fn new(templates: Vec<String>) -> HttpMetrics {
        let mut routes = templates;
        routes.push(UNMATCHED.to_owned());
        let series = (0..routes.len() * METHODS.len())
            .map(|_| Series::default())
            .collect();
        HttpMetrics {
            routes,
            series,
            refusals: Default::default(),
        }
    }

    /// The route index a request without a route is counted under.
    fn slot(&self, route: Option<usize>, method: Method) -> &Series {
        let unmatched = self.routes.len() - 1;
        let route = route.filter(|r| *r < unmatched).unwrap_or(unmatched);
        &self.series[route * METHODS.len() + method.0 as usize]
    }

    /// Records a finished request.
    #[inline]
    pub fn record(&self, done: &Finished) {
        let series = self.slot(done.route, done.method);
        series.by_class[StatusClass::of(done.status).0 as usize].fetch_add(1, Relaxed);
        series.latency.observe(done.elapsed);
        if done.request_bytes > 0 {
            series.request_bytes.fetch_add(done.request_bytes, Relaxed);
        }
        series
            .response_bytes
            .fetch_add(done.response_bytes, Relaxed);
    }

    /// Counts a refusal by the engine (the request itself is counted by `record` as well
    /// when it got a response).
    pub fn refused(&self, why: Refusal) {
        self.refusals[why.index()].fetch_add(1, Relaxed);
    }

    /// Reads every series that has seen a request, and every refusal count.
    pub fn snapshot(&self) -> Snapshot {
        let mut requests = Vec::new();
        for (i, series) in self.series.iter().enumerate() {
            let counts: Vec<u64> = series.by_class.iter().map(|c| c.load(Relaxed)).collect();
            if counts.iter().all(|c| *c == 0) {
                continue;
            }
            let (buckets, sum_seconds) = series.latency.read();
            requests.push(RequestSeries {
                route: self.routes[i / METHODS.len()].clone(),
                method: METHODS[i % METHODS.len()],
                by_class: CLASSES.iter().copied().zip(counts).collect(),
                buckets,
                sum_seconds,
                request_bytes: series.request_bytes.load(Relaxed),
                response_bytes: series.response_bytes.load(Relaxed),
            });
        }
        let refusals = REASONS
            .iter()
            .zip(&self.refusals)
            .map(|(reason, n)| (*reason, n.load(Relaxed)))
            .collect();
        Snapshot { requests, refusals }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(route: Option<usize>, method: &str, status: u16, micros: u64) -> Finished {
        Finished {
            route,
            method: Method::from_name(method),
            status,
            elapsed: Duration::from_micros(micros),
            request_bytes: 10,
            response_bytes: 100,
        }
    }

    #[test]
    fn requests_are_counted_by_route_template_method_and_status_class() {
        let m = HttpMetrics::new(vec!["/items/{id}".into(), "/".into()]);
        m.record(&done(Some(0), "GET", 200, 50));
        m.record(&done(Some(0), "GET", 201, 2000));
        m.record(&done(Some(0), "GET", 404, 50));
        m.record(&done(Some(1), "POST", 500, 50));
        let snap = m.snapshot();
        assert_eq!(snap.requests.len(), 2);
        let items = &snap.requests[0];
        assert_eq!((items.route.as_str(), items.method), ("/items/{id}", "GET"));
        assert_eq!(items.count("2xx"), 2);
        assert_eq!(items.count("4xx"), 1);
        assert_eq!(items.count("5xx"), 0);
        assert_eq!(*items.buckets.last().unwrap(), 3);
        assert_eq!(items.buckets[0], 2); // the two 50 µs ones
        assert_eq!((items.request_bytes, items.response_bytes), (30, 300));
        let root = &snap.requests[1];
        assert_eq!((root.route.as_str(), root.method), ("/", "POST"));
        assert_eq!(root.count("5xx"), 1);
    }

    #[test]
    fn unknown_methods_and_unrouted_requests_share_bounded_series() {
        let m = HttpMetrics::new(vec!["/".into()]);
        m.record(&done(None, "BREW", 404, 5));
        m.record(&done(None, "PROPFIND", 405, 5));
        m.record(&done(Some(99), "GET", 404, 5)); // out of range: unmatched, never a panic
        let snap = m.snapshot();
        assert_eq!(snap.requests.len(), 2);
        assert_eq!(snap.requests[0].route, UNMATCHED);
        assert_eq!(snap.requests[0].method, "GET");
        assert_eq!(snap.requests[1].method, "OTHER");
        assert_eq!(snap.requests[1].count("4xx"), 2);
    }

    #[test]
    fn refusals_are_counted_by_reason() {
        let m = HttpMetrics::new(vec![]);
        m.refused(Refusal::RateLimited);
        m.refused(Refusal::RateLimited);
        m.refused(Refusal::Jwt);
        m.refused(Refusal::Http(413));
        m.refused(Refusal::Http(418));
        let snap = m.snapshot();
        let get = |r: &str| snap.refusals.iter().find(|(k, _)| *k == r).unwrap().1;
        assert_eq!(get("rate_limited"), 2);
        assert_eq!(get("jwt"), 1);
        assert_eq!(get("body_too_large"), 1);
        assert_eq!(get("other"), 1);
        assert_eq!(get("timeout"), 0);
    }

    #[test]
    fn status_classes_cover_every_code() {
        assert_eq!(StatusClass::of(101).name(), "1xx");
        assert_eq!(StatusClass::of(204).name(), "2xx");
        assert_eq!(StatusClass::of(399).name(), "3xx");
        assert_eq!(StatusClass::of(499).name(), "4xx");
        assert_eq!(StatusClass::of(503).name(), "5xx");
        assert_eq!(StatusClass::of(999).name(), "5xx");
    }
}
