//! Per-connection limits.

use std::time::Duration;

/// Size and time limits applied to every connection.
///
/// The size limits are enforced by the parser; the timeouts are decided by the connection's
/// [`Timers`](crate::timers::Timers), on the clock of the caller, which owns the real timer.
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

/// How fast a request body must keep arriving once its head is in: the defence against
/// clients that hold a connection by dripping a body a byte at a time.
///
/// A body is too slow when it has been silent for longer than `timeout`, or when it has taken
/// longer than `timeout` plus one second for every `min_rate` bytes received (a client that
/// keeps sending at least `min_rate` bytes a second is never cut off). The caller owns the
/// clock and asks [`BodyPace::too_slow`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BodyPace {
    /// Longest silence between two reads of a body, and the time every body gets before the
    /// rate applies.
    pub timeout: Duration,
    /// Bytes per second a body must average past `timeout`; 0 turns the rate check off.
    pub min_rate: usize,
}

impl Default for BodyPace {
    fn default() -> Self {
        BodyPace {
            timeout: Duration::from_secs(10),
            min_rate: 500,
        }
    }
}

impl BodyPace {
    /// True when a body that started `elapsed` ago, was last read `silence` ago and has
    /// `received` bytes so far must be cut off.
    pub fn too_slow(&self, elapsed: Duration, silence: Duration, received: usize) -> bool {
        if silence > self.timeout {
            return true;
        }
        if self.min_rate == 0 {
            return false;
        }
        let earned = Duration::from_secs_f64(received as f64 / self.min_rate as f64);
        elapsed > self.timeout + earned
    }

    /// True when a body that started `elapsed` ago (at least a second) has `received` fewer
    /// bytes than the minimum rate asks for: not yet cut off, but the first to give way when
    /// the server needs room for a new connection.
    pub fn behind(&self, elapsed: Duration, received: usize) -> bool {
        self.min_rate > 0
            && elapsed >= Duration::from_secs(1)
            && (received as f64) < self.min_rate as f64 * elapsed.as_secs_f64()
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

    #[test]
    fn body_pace() {
        let pace = BodyPace {
            timeout: Duration::from_secs(10),
            min_rate: 1000,
        };
        let s = Duration::from_secs;
        // Silent for longer than the timeout: cut, however much arrived.
        assert!(pace.too_slow(s(11), s(11), 1_000_000));
        // A byte every 5 s: within the first 10 s it may go on, then the rate catches it.
        assert!(!pace.too_slow(s(9), s(4), 2));
        assert!(pace.too_slow(s(11), s(1), 3));
        // At the minimum rate it is never cut off.
        assert!(!pace.too_slow(s(100), s(1), 90_000));
        // Rate off: only silence counts.
        let silence_only = BodyPace {
            min_rate: 0,
            ..pace
        };
        assert!(!silence_only.too_slow(s(1000), s(1), 1));
        assert_eq!(
            BodyPace::default(),
            BodyPace {
                timeout: s(10),
                min_rate: 500
            }
        );
        // Behind the rate (but within its time) only once a second has passed.
        assert!(!pace.behind(Duration::from_millis(500), 0));
        assert!(pace.behind(s(2), 1999));
        assert!(!pace.behind(s(2), 2000));
        assert!(!silence_only.behind(s(100), 0));
    }
}
