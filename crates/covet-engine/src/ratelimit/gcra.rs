//! GCRA on one key.
//!
//! The state of a key is one number, its *theoretical arrival time* (TAT): the moment at which
//! the key would be back to a full allowance. Each request of cost `c` pushes the TAT forward
//! by `c` emission intervals (`period / limit`); a request is refused when that would push the
//! TAT further than `burst` intervals past now. A key whose TAT is in the past holds no
//! information and may be forgotten.

use std::fmt;
use std::time::Duration;

/// How much a key may do: `limit` requests per `period`, at most `burst` of them at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Quota {
    limit: u64,
    period: Duration,
    burst: u64,
    /// `period / limit` in nanoseconds: the time one unit of cost takes to come back.
    interval: u64,
}

/// Why a [`Quota`] could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuotaError {
    /// The limit was 0.
    ZeroLimit,
    /// The burst was 0.
    ZeroBurst,
    /// The period was shorter than one nanosecond per allowed request.
    PeriodTooShort,
}

impl fmt::Display for QuotaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QuotaError::ZeroLimit => "the limit must be at least 1",
            QuotaError::ZeroBurst => "the burst must be at least 1",
            QuotaError::PeriodTooShort => "the period is too short for the limit",
        })
    }
}

impl std::error::Error for QuotaError {}

impl Quota {
    /// A quota of `limit` per `period`, letting `burst` requests through at once (a burst
    /// equal to the limit is the usual choice: a whole period's allowance may be used at once).
    pub fn new(limit: u64, period: Duration, burst: u64) -> Result<Quota, QuotaError> {
        if limit == 0 {
            return Err(QuotaError::ZeroLimit);
        }
        if burst == 0 {
            return Err(QuotaError::ZeroBurst);
        }
        let nanos = u64::try_from(period.as_nanos()).unwrap_or(u64::MAX);
        let interval = nanos / limit;
        if interval == 0 {
            return Err(QuotaError::PeriodTooShort);
        }
        Ok(Quota {
            limit,
            period,
            burst,
            interval,
        })
    }

    /// Requests allowed per period.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// The period the limit applies to.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Requests allowed at once, from a full allowance.
    pub fn burst(&self) -> u64 {
        self.burst
    }

    /// The time one unit of cost takes to come back (`period / limit`).
    pub fn interval(&self) -> Duration {
        Duration::from_nanos(self.interval)
    }

    /// How far past now the TAT may be after an allowed request.
    fn tolerance(&self) -> u64 {
        self.interval.saturating_mul(self.burst)
    }

    /// Applies a request of `cost` at `now` (nanoseconds) to a key whose TAT is `tat` (`None`
    /// for a key never seen or forgotten). Returns the decision and the key's new TAT.
    pub fn apply(&self, tat: Option<u64>, cost: u64, now: u64) -> (Decision, u64) {
        let tat = tat.map_or(now, |t| t.max(now));
        let tolerance = self.tolerance();
        let Some(new_tat) = self
            .interval
            .checked_mul(cost)
            .and_then(|c| tat.checked_add(c))
        else {
            // A cost past the end of time: never allowed.
            return (self.decision(false, tat, now, u64::MAX - now), tat);
        };
        let allow_at = new_tat.saturating_sub(tolerance);
        if allow_at > now {
            let decision = self.decision(false, tat, now, allow_at - now);
            return (decision, tat);
        }
        (self.decision(true, new_tat, now, 0), new_tat)
    }

    fn decision(&self, allowed: bool, tat: u64, now: u64, retry_after: u64) -> Decision {
        let used = tat - now; // tat >= now here
        let remaining = self.tolerance().saturating_sub(used) / self.interval;
        Decision {
            allowed,
            limit: self.burst,
            remaining,
            reset_after: Duration::from_nanos(used),
            retry_after: Duration::from_nanos(retry_after),
        }
    }
}

/// The answer to one check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may go ahead (its cost was taken from the allowance).
    pub allowed: bool,
    /// The most requests the key could ever make at once (the quota's burst).
    pub limit: u64,
    /// Requests of cost 1 the key may still make right now.
    pub remaining: u64,
    /// Time until the key is back to its full allowance.
    pub reset_after: Duration,
    /// For a refused request, the time after which the same request would be allowed; zero
    /// when allowed. A cost above the burst is never allowed, whatever the wait.
    pub retry_after: Duration,
}

impl Decision {
    /// `RateLimit-Reset`: whole seconds until the allowance is full again, rounded up.
    pub fn reset_secs(&self) -> u64 {
        ceil_secs(self.reset_after)
    }

    /// `Retry-After` for a refusal: whole seconds, rounded up, at least 1.
    pub fn retry_after_secs(&self) -> u64 {
        ceil_secs(self.retry_after).max(1)
    }
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn quota(limit: u64, secs: u64, burst: u64) -> Quota {
        Quota::new(limit, Duration::from_secs(secs), burst).unwrap()
    }

    #[test]
    fn burst_then_refusal() {
        let q = quota(10, 1, 3);
        let now = 50 * S;
        let mut tat = None;
        for expected_remaining in [2, 1, 0] {
            let (d, t) = q.apply(tat, 1, now);
            assert!(d.allowed);
            assert_eq!(d.remaining, expected_remaining);
            assert_eq!(d.limit, 3);
            tat = Some(t);
        }
        let (d, t) = q.apply(tat, 1, now);
        assert!(!d.allowed);
        assert_eq!(d.remaining, 0);
        assert_eq!(d.retry_after, Duration::from_millis(100));
        assert_eq!(d.reset_after, Duration::from_millis(300));
        assert_eq!((d.reset_secs(), d.retry_after_secs()), (1, 1));
        assert_eq!(Some(t), tat, "a refusal does not move the TAT");
    }

    #[test]
    fn recovers_one_interval_at_a_time() {
        let q = quota(10, 1, 2);
        let (_, t) = q.apply(None, 1, 0);
        let (_, t) = q.apply(Some(t), 1, 0);
        assert!(!q.apply(Some(t), 1, 0).0.allowed);
        assert!(!q.apply(Some(t), 1, S / 10 - 1).0.allowed);
        let (d, t) = q.apply(Some(t), 1, S / 10);
        assert!(d.allowed);
        assert_eq!(d.remaining, 0);
        // After the whole reset time the allowance is full again.
        let (d, _) = q.apply(Some(t), 1, S / 10 + 2 * S / 10);
        assert!(d.allowed);
        assert_eq!(d.remaining, 1);
    }

    #[test]
    fn cost_counts_as_several_requests() {
        let q = quota(100, 60, 100);
        let (d, t) = q.apply(None, 60, 0);
        assert!(d.allowed);
        assert_eq!(d.remaining, 40);
        let (d, _) = q.apply(Some(t), 41, 0);
        assert!(!d.allowed);
        assert_eq!(d.retry_after, Duration::from_millis(600));
        assert!(
            !q.apply(None, 101, 0).0.allowed,
            "a cost above the burst is never allowed"
        );
    }

    #[test]
    fn zero_cost_peeks() {
        let q = quota(5, 1, 5);
        let (_, t) = q.apply(None, 2, 0);
        let (d, t2) = q.apply(Some(t), 0, 0);
        assert!(d.allowed);
        assert_eq!(d.remaining, 3);
        assert_eq!(t, t2);
    }

    #[test]
    fn invalid_quotas() {
        assert_eq!(
            Quota::new(0, Duration::from_secs(1), 1),
            Err(QuotaError::ZeroLimit)
        );
        assert_eq!(
            Quota::new(1, Duration::from_secs(1), 0),
            Err(QuotaError::ZeroBurst)
        );
        assert_eq!(
            Quota::new(10, Duration::from_nanos(5), 1),
            Err(QuotaError::PeriodTooShort)
        );
    }

    #[test]
    fn huge_costs_do_not_overflow() {
        let q = quota(1, 1, 1);
        let (d, t) = q.apply(Some(u64::MAX - 5), u64::MAX, u64::MAX - 10);
        assert!(!d.allowed);
        assert_eq!(t, u64::MAX - 5);
    }
}
