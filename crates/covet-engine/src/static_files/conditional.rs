//! Validators and conditional requests (RFC 9110 §8.8 and §13): the `ETag` and
//! `Last-Modified` of a file, and what `If-Match`, `If-Unmodified-Since`, `If-None-Match`,
//! `If-Modified-Since` and `If-Range` make of them.
//!
//! The entity tag is nginx's: `"<mtime seconds in hex>-<size in hex>"`, so a file served by
//! covet and by an nginx in front of the same directory carries the same tag.

use std::time::{Duration, UNIX_EPOCH};

use crate::http::date;

/// The conditional headers of a request, as sent.
#[derive(Debug, Default, Clone, Copy)]
pub struct Conditions<'a> {
    /// `If-Match`.
    pub if_match: Option<&'a [u8]>,
    /// `If-Unmodified-Since`.
    pub if_unmodified_since: Option<&'a [u8]>,
    /// `If-None-Match`.
    pub if_none_match: Option<&'a [u8]>,
    /// `If-Modified-Since`.
    pub if_modified_since: Option<&'a [u8]>,
    /// `If-Range`.
    pub if_range: Option<&'a [u8]>,
}

/// What the preconditions decide, before any range is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Serve the file (ranges allowed when `ranges_apply`).
    Serve {
        /// False when an `If-Range` did not match: the whole file is sent.
        ranges_apply: bool,
    },
    /// 304: the client's copy is current.
    NotModified,
    /// 412: a precondition of a write-style request failed.
    PreconditionFailed,
}

/// The validators of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validators {
    /// The strong entity tag, quotes included.
    pub etag: String,
    /// The modification time in whole seconds since the epoch.
    pub mtime: u64,
}

impl Validators {
    /// The validators of a file modified at `mtime` (seconds) holding `size` bytes.
    pub fn new(mtime: u64, size: u64) -> Self {
        Validators {
            etag: format!("\"{mtime:x}-{size:x}\""),
            mtime,
        }
    }

    /// `Last-Modified` as an IMF-fixdate.
    pub fn last_modified(&self) -> [u8; date::DATE_LEN] {
        date::format_unix(self.mtime)
    }

    /// Applies the conditions in the RFC's order (§13.2.2).
    pub fn evaluate(&self, c: &Conditions<'_>, safe_method: bool) -> Verdict {
        if let Some(tags) = c.if_match {
            if !self.matches(tags, false) {
                return Verdict::PreconditionFailed;
            }
        } else if let Some(since) = c.if_unmodified_since.and_then(parse_date) {
            if self.mtime > since {
                return Verdict::PreconditionFailed;
            }
        }
        if let Some(tags) = c.if_none_match {
            if self.matches(tags, true) {
                return if safe_method {
                    Verdict::NotModified
                } else {
                    Verdict::PreconditionFailed
                };
            }
        } else if let Some(since) = c.if_modified_since.and_then(parse_date) {
            if safe_method && self.mtime <= since {
                return Verdict::NotModified;
            }
        }
        let ranges_apply = c.if_range.is_none_or(|v| self.if_range_holds(v));
        Verdict::Serve { ranges_apply }
    }

    /// Whether a list of entity tags (or `*`) names this one; weak comparison ignores `W/`.
    fn matches(&self, tags: &[u8], weak: bool) -> bool {
        let Ok(tags) = std::str::from_utf8(tags) else {
            return false;
        };
        tags.split(',').map(str::trim).any(|tag| {
            if tag == "*" {
                return true;
            }
            match tag.strip_prefix("W/") {
                Some(bare) => weak && bare == self.etag,
                None => tag == self.etag,
            }
        })
    }

    /// `If-Range`: a strong tag equal to ours, or the exact `Last-Modified` date.
    fn if_range_holds(&self, value: &[u8]) -> bool {
        let Ok(value) = std::str::from_utf8(value) else {
            return false;
        };
        let value = value.trim();
        if value.starts_with('"') {
            return value == self.etag;
        }
        if value.starts_with("W/") {
            return false;
        }
        parse_date(value.as_bytes()) == Some(self.mtime)
    }
}

/// An HTTP date (IMF-fixdate, RFC 850 or asctime) as seconds since the epoch.
pub fn parse_date(value: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(value).ok()?;
    let time = httpdate::parse_http_date(text.trim()).ok()?;
    time.duration_since(UNIX_EPOCH)
        .ok()
        .map(|d: Duration| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MTIME: u64 = 1_700_000_000; // Tue, 14 Nov 2023 22:13:20 GMT
    const DATE: &[u8] = b"Tue, 14 Nov 2023 22:13:20 GMT";

    fn v() -> Validators {
        Validators::new(MTIME, 1024)
    }

    fn serve(ranges_apply: bool) -> Verdict {
        Verdict::Serve { ranges_apply }
    }

    #[test]
    fn etag_and_date_look_like_nginx() {
        assert_eq!(v().etag, "\"6553f100-400\"");
        assert_eq!(&v().last_modified()[..], DATE);
    }

    #[test]
    fn if_none_match() {
        let c = |h: &'static [u8]| Conditions {
            if_none_match: Some(h),
            ..Default::default()
        };
        assert_eq!(
            v().evaluate(&c(b"\"6553f100-400\""), true),
            Verdict::NotModified
        );
        assert_eq!(
            v().evaluate(&c(b"\"x\", W/\"6553f100-400\""), true),
            Verdict::NotModified
        );
        assert_eq!(v().evaluate(&c(b"*"), true), Verdict::NotModified);
        assert_eq!(v().evaluate(&c(b"\"other\""), true), serve(true));
    }

    #[test]
    fn if_modified_since_is_ignored_beside_if_none_match() {
        let c = Conditions {
            if_none_match: Some(b"\"other\""),
            if_modified_since: Some(DATE),
            ..Default::default()
        };
        assert_eq!(v().evaluate(&c, true), serve(true));
        let ims = Conditions {
            if_modified_since: Some(DATE),
            ..Default::default()
        };
        assert_eq!(v().evaluate(&ims, true), Verdict::NotModified);
        let older = Conditions {
            if_modified_since: Some(b"Tue, 14 Nov 2023 22:13:19 GMT"),
            ..Default::default()
        };
        assert_eq!(v().evaluate(&older, true), serve(true));
        let junk = Conditions {
            if_modified_since: Some(b"yesterday"),
            ..Default::default()
        };
        assert_eq!(v().evaluate(&junk, true), serve(true));
    }

    #[test]
    fn write_preconditions() {
        let m = Conditions {
            if_match: Some(b"\"nope\""),
            ..Default::default()
        };
        assert_eq!(v().evaluate(&m, true), Verdict::PreconditionFailed);
        let weak = Conditions {
            if_match: Some(b"W/\"6553f100-400\""),
            ..Default::default()
        };
        assert_eq!(v().evaluate(&weak, true), Verdict::PreconditionFailed);
        let u = Conditions {
            if_unmodified_since: Some(b"Mon, 13 Nov 2023 00:00:00 GMT"),
            ..Default::default()
        };
        assert_eq!(v().evaluate(&u, true), Verdict::PreconditionFailed);
    }

    #[test]
    fn if_range() {
        let r = |h: &'static [u8]| Conditions {
            if_range: Some(h),
            ..Default::default()
        };
        assert_eq!(v().evaluate(&r(b"\"6553f100-400\""), true), serve(true));
        assert_eq!(v().evaluate(&r(b"\"old\""), true), serve(false));
        assert_eq!(v().evaluate(&r(b"W/\"6553f100-400\""), true), serve(false));
        assert_eq!(v().evaluate(&r(DATE), true), serve(true));
        assert_eq!(
            v().evaluate(&r(b"Tue, 14 Nov 2023 22:13:21 GMT"), true),
            serve(false)
        );
    }
}
