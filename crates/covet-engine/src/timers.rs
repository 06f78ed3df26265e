//! The clock of one HTTP connection and what its timeouts decide.
//!
//! Sans-IO like the rest of the connection: the caller says when bytes arrived, what the parser
//! is waiting for, when a response was finished, and asks, with the current time, whether a
//! timeout has passed ([`Timers::expired`]) and what to do then ([`Expiry`]). The caller owns
//! the real timer (a periodic sweep) and the socket. The decisions:
//!
//! - a request head still arriving after [`Limits::header_timeout`]: 408, then close;
//! - a body arriving slower than its [`BodyPace`]: 408, then close;
//! - an idle keep-alive connection past [`Limits::keepalive_timeout`] (or, once the server
//!   drains, past [`DRAIN_IDLE_GRACE`] from the drain's start): closed;
//! - a connection lingering after its last response (our side shut, the client's input read
//!   and dropped) for longer than [`LINGER`]: closed.

use std::time::{Duration, Instant};

use crate::http::answer;
use crate::http::error::HttpError;
use crate::limits::{BodyPace, Limits};

/// How long a closing connection keeps reading (and dropping) what the client still sends
/// after our last response, waiting for it to close first.
pub const LINGER: Duration = Duration::from_secs(2);
/// While the server drains, how long an idle keep-alive connection stays open for a request
/// that may already be on its way (capped by the keep-alive timeout).
pub const DRAIN_IDLE_GRACE: Duration = Duration::from_secs(1);
/// A head still arriving after this long may be cut off to make room for a new connection.
pub const SLOW_HEAD: Duration = Duration::from_secs(1);

/// What a passed timeout asks of the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expiry {
    /// Answer with this error (`response::write_error`), log it, and close.
    Refuse(HttpError),
    /// Close without a word (an idle or lingering connection).
    Close,
}

/// Where the connection stands, as far as its timeouts care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Reading: between requests, or a head or body arriving.
    Reading,
    /// Closing after a last response, the client's input read and dropped.
    Lingering,
}

/// When the connection last read, and since when a head or a body has been arriving.
#[derive(Debug, Clone)]
pub struct Timers {
    last_active: Instant,
    head_since: Option<Instant>,
    body_since: Option<Instant>,
    body_bytes: usize,
}

impl Timers {
    /// A connection that was just opened at `now`.
    pub fn new(now: Instant) -> Self {
        Timers {
            last_active: now,
            head_since: None,
            body_since: None,
            body_bytes: 0,
        }
    }

    /// `len` bytes arrived at `now` (0 for the connection's start).
    pub fn read(&mut self, now: Instant, len: usize) {
        self.last_active = now;
        if self.body_since.is_some() {
            // The body's pace counts what arrives.
            self.body_bytes += len;
        }
    }

    /// What the parser waits for after the bytes it has: the rest of a head (`head_partial`),
    /// the rest of a body (`in_body`), or nothing. A head is timed from when it started to
    /// arrive, a body by its pace from when it started.
    pub fn parsed(&mut self, now: Instant, head_partial: bool, in_body: bool) {
        match (head_partial && !in_body, self.head_since) {
            (true, None) => self.head_since = Some(now),
            (false, Some(_)) => self.head_since = None,
            _ => {}
        }
        match (in_body, self.body_since) {
            (true, None) => {
                self.body_since = Some(now);
                self.body_bytes = 0;
            }
            (false, Some(_)) => self.body_since = None,
            _ => {}
        }
    }

    /// A response was finished (or the closing began) at `now`: idle time counts from here.
    pub fn rested(&mut self, now: Instant) {
        self.last_active = now;
    }

    /// Reading resumes at `now` after the caller paused it: the wait was the server's, not the
    /// client's, so the body's pace starts over.
    pub fn resumed(&mut self, now: Instant) {
        self.last_active = now;
        if self.body_since.is_some() {
            self.body_since = Some(now);
            self.body_bytes = 0;
        }
    }

    /// Whether a timeout has passed at `now`, and what to do. `drain_since`: when the server
    /// began to drain, if it has.
    pub fn expired(
        &self,
        now: Instant,
        phase: Phase,
        limits: &Limits,
        pace: &BodyPace,
        drain_since: Option<Instant>,
    ) -> Option<Expiry> {
        if phase == Phase::Lingering {
            return (now.duration_since(self.last_active) > LINGER).then_some(Expiry::Close);
        }
        if let Some(start) = self.body_since {
            let silence = now.duration_since(self.last_active);
            let too_slow = pace.too_slow(now.duration_since(start), silence, self.body_bytes);
            return too_slow.then_some(Expiry::Refuse(answer::BODY_TOO_SLOW));
        }
        if let Some(since) = self.head_since {
            let late = now.duration_since(since) > limits.header_timeout;
            return late.then_some(Expiry::Refuse(answer::REQUEST_TIMEOUT));
        }
        let mut since = self.last_active;
        let mut limit = limits.keepalive_timeout;
        if let Some(at) = drain_since {
            since = since.max(at);
            limit = limit.min(DRAIN_IDLE_GRACE);
        }
        (now.duration_since(since) > limit).then_some(Expiry::Close)
    }

    /// Whether the connection may be closed to make room for a new one, and in which order
    /// (lowest first, then oldest): 0 lingering (already answered), 1 idle keep-alive, 2 a
    /// request arriving slowly (a head for over [`SLOW_HEAD`], a body behind its minimum rate).
    /// None: it is busy with a request arriving at a fair pace.
    pub fn evictable(&self, now: Instant, phase: Phase, pace: &BodyPace) -> Option<(u8, Instant)> {
        if phase == Phase::Lingering {
            return Some((0, self.last_active));
        }
        if let Some(start) = self.body_since {
            let behind = pace.behind(now.duration_since(start), self.body_bytes);
            return behind.then_some((2, start));
        }
        match self.head_since {
            Some(start) if now.duration_since(start) > SLOW_HEAD => Some((2, start)),
            Some(_) => None,
            None => Some((1, self.last_active)),
        }
    }

    /// The refusal a connection evicted while a request arrives gets (None when idle).
    pub fn eviction_refusal(&self) -> Option<HttpError> {
        match (self.body_since, self.head_since) {
            (Some(_), _) => Some(answer::BODY_TOO_SLOW),
            (None, Some(_)) => Some(answer::REQUEST_TIMEOUT),
            (None, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            header_timeout: Duration::from_secs(10),
            keepalive_timeout: Duration::from_secs(5),
            ..Limits::default()
        }
    }

    const PACE: BodyPace = BodyPace {
        timeout: Duration::from_secs(10),
        min_rate: 1000,
    };

    fn s(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn idle_keep_alive_closes_after_its_timeout_and_sooner_when_draining() {
        let t0 = Instant::now();
        let t = Timers::new(t0);
        let check =
            |at: Duration, drain| t.expired(t0 + at, Phase::Reading, &limits(), &PACE, drain);
        assert_eq!(check(s(5), None), None);
        assert_eq!(check(s(6), None), Some(Expiry::Close));
        // Draining from t0+3: the grace (1 s) counts from the drain, not from the last read.
        assert_eq!(check(s(4), Some(t0 + s(3))), None);
        assert_eq!(check(s(5), Some(t0 + s(3))), Some(Expiry::Close));
        assert_eq!(t.evictable(t0 + s(1), Phase::Reading, &PACE), Some((1, t0)));
        assert_eq!(t.eviction_refusal(), None);
    }

    #[test]
    fn a_head_arriving_too_long_is_refused_408() {
        let t0 = Instant::now();
        let mut t = Timers::new(t0);
        t.read(t0 + s(1), 10);
        t.parsed(t0 + s(1), true, false);
        // Reads keep it from being idle, not from the header timeout.
        t.read(t0 + s(9), 10);
        t.parsed(t0 + s(9), true, false);
        assert_eq!(
            t.expired(t0 + s(11), Phase::Reading, &limits(), &PACE, None),
            None
        );
        assert_eq!(
            t.expired(t0 + s(12), Phase::Reading, &limits(), &PACE, None),
            Some(Expiry::Refuse(answer::REQUEST_TIMEOUT))
        );
        assert_eq!(t.evictable(t0 + s(1), Phase::Reading, &PACE), None);
        assert_eq!(
            t.evictable(t0 + s(3), Phase::Reading, &PACE),
            Some((2, t0 + s(1)))
        );
        assert_eq!(t.eviction_refusal(), Some(answer::REQUEST_TIMEOUT));
        // The head completes: no longer timed.
        t.parsed(t0 + s(12), false, false);
        assert_eq!(
            t.expired(t0 + s(13), Phase::Reading, &limits(), &PACE, None),
            None
        );
    }

    #[test]
    fn a_body_is_timed_by_its_pace_which_starts_over_when_reading_resumes() {
        let t0 = Instant::now();
        let mut t = Timers::new(t0);
        t.parsed(t0, false, true);
        t.read(t0 + s(9), 5);
        assert_eq!(
            t.expired(t0 + s(10), Phase::Reading, &limits(), &PACE, None),
            None
        );
        assert_eq!(
            t.expired(t0 + s(12), Phase::Reading, &limits(), &PACE, None),
            Some(Expiry::Refuse(answer::BODY_TOO_SLOW))
        );
        assert_eq!(t.evictable(t0 + s(2), Phase::Reading, &PACE), Some((2, t0)));
        t.resumed(t0 + s(12));
        assert_eq!(
            t.expired(t0 + s(13), Phase::Reading, &limits(), &PACE, None),
            None
        );
        assert_eq!(t.eviction_refusal(), Some(answer::BODY_TOO_SLOW));
    }

    #[test]
    fn a_lingering_connection_closes_after_linger_and_gives_way_first() {
        let t0 = Instant::now();
        let mut t = Timers::new(t0);
        t.rested(t0 + s(1));
        let lingering = |at| t.expired(t0 + at, Phase::Lingering, &limits(), &PACE, None);
        assert_eq!(lingering(s(3)), None);
        assert_eq!(lingering(s(4)), Some(Expiry::Close));
        assert_eq!(
            t.evictable(t0 + s(1), Phase::Lingering, &PACE),
            Some((0, t0 + s(1)))
        );
    }
}
