//! Per-connection limits.

use std::time::Duration;

/// Size and time limits applied to every connection.
///
/// The size limits are enforced by the parser; the timeouts are only stored here and enforced by
/// the caller, which owns the timers.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Largest request head (request line plus headers) in bytes; over it the request gets 431.
    pub max_head_bytes: usize,
    /// Largest number of header fields in a request; over it the request gets 431.
    pub max_headers: usize,
    /// Largest request body in bytes; over it the request gets 413.
    pub max_body_bytes: usize,
    /// How long a client may take to send a complete request head.
    pub header_timeout: Duration,
    /// How long an idle keep-alive connection stays open between requests.
    pub keepalive_timeout: Duration,
    /// A body larger than this is not collected: the request is handed over at once and its
    /// body follows in chunks ([`Event::Stream`](crate::connection::Event::Stream)).
    pub stream_threshold: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head_bytes: 16 * 1024,
            max_headers: 100,
            max_body_bytes: 10 * 1024 * 1024,
            header_timeout: Duration::from_secs(10),
            keepalive_timeout: Duration::from_secs(5),
            stream_threshold: 1024 * 1024,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let l = Limits::default();
        assert_eq!(l.max_head_bytes, 16384);
        assert_eq!(l.max_headers, 100);
        assert_eq!(l.max_body_bytes, 10 * 1024 * 1024);
        assert_eq!(l.header_timeout, Duration::from_secs(10));
        assert_eq!(l.keepalive_timeout, Duration::from_secs(5));
        assert_eq!(l.stream_threshold, 1024 * 1024);
    }
}
