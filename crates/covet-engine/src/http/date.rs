//! The `Date` header value in IMF-fixdate form, e.g. `Wed, 25 Nov 2026 17:09:01 GMT`.
//!
//! Formatting is done by hand from the Unix time and cached per thread for one second, so the
//! hot path only compares an integer and copies 29 bytes.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

/// Length of an IMF-fixdate string.
pub const DATE_LEN: usize = 29;

thread_local! {
    static CACHE: Cell<(u64, [u8; DATE_LEN])> = const { Cell::new((u64::MAX, [0; DATE_LEN])) };
}

/// The current time as an IMF-fixdate, cached per second in a thread local.
pub fn now() -> [u8; DATE_LEN] {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    CACHE.with(|cache| {
        let (cached_secs, cached) = cache.get();
        if cached_secs == secs {
            return cached;
        }
        let fresh = format_unix(secs);
        cache.set((secs, fresh));
        fresh
    })
}

/// Appends the current time as an IMF-fixdate to `out`.
pub fn write_now(out: &mut Vec<u8>) {
    out.extend_from_slice(&now());
}

const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Formats seconds since the Unix epoch as an IMF-fixdate.
pub fn format_unix(secs: u64) -> [u8; DATE_LEN] {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let mut out = [0u8; DATE_LEN];
    out[..3].copy_from_slice(DAYS[(days % 7) as usize]);
    out[3..5].copy_from_slice(b", ");
    two_digits(&mut out[5..7], day);
    out[7] = b' ';
    out[8..11].copy_from_slice(MONTHS[(month - 1) as usize]);
    out[11] = b' ';
    two_digits(&mut out[12..14], (year / 100) % 100);
    two_digits(&mut out[14..16], year % 100);
    out[16] = b' ';
    two_digits(&mut out[17..19], rem / 3600);
    out[19] = b':';
    two_digits(&mut out[20..22], (rem / 60) % 60);
    out[22] = b':';
    two_digits(&mut out[23..25], rem % 60);
    out[25..].copy_from_slice(b" GMT");
    out
}

fn two_digits(dst: &mut [u8], value: u64) {
    dst[0] = b'0' + (value / 10 % 10) as u8;
    dst[1] = b'0' + (value % 10) as u8;
}

/// Converts days since 1970-01-01 to (year, month 1-12, day 1-31) in the proleptic Gregorian
/// calendar (the "days from civil" algorithm, run backwards).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(secs: u64) -> String {
        String::from_utf8(format_unix(secs).to_vec()).unwrap()
    }

    #[test]
    fn known_timestamps() {
        assert_eq!(fmt(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(fmt(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(fmt(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(fmt(1_795_626_541), "Wed, 25 Nov 2026 17:09:01 GMT");
        assert_eq!(fmt(4_102_444_799), "Thu, 31 Dec 2099 23:59:59 GMT");
    }

    #[test]
    fn now_has_imf_fixdate_shape() {
        let s = String::from_utf8(now().to_vec()).unwrap();
        let b = s.as_bytes();
        assert_eq!(b.len(), DATE_LEN);
        assert!(DAYS.iter().any(|d| b[..3] == d[..]));
        assert_eq!(&b[3..5], b", ");
        assert!(MONTHS.iter().any(|m| b[8..11] == m[..]));
        assert_eq!(b[19], b':');
        assert!(s.ends_with(" GMT"));
        let mut out = Vec::new();
        write_now(&mut out);
        assert_eq!(out.len(), DATE_LEN);
    }
}
