//! JSON numbers: finite floats written as ryu writes them (the shortest text that reads back as
//! the same value), with a short path for the common values of few decimal places.

use crate::json_escape::push_bytes;

/// Most decimal places the short path tries.
const MAX_PLACES: usize = 4;
const POW10: [f64; MAX_PLACES + 1] = [1.0, 10.0, 100.0, 1_000.0, 10_000.0];
/// The short path's bound on `|v| * 10^places`: below it, doubles are closer together than a
/// quarter of `10^-places`, so at most one decimal of that many places reads back as `v`.
const LIMIT: f64 = (1u64 << 50) as f64;

/// Appends finite `v` (the caller has checked) exactly as `ryu::Buffer::format_finite` would.
#[inline]
pub fn write_f64(out: &mut Vec<u8>, v: f64) {
    if !short_decimal(out, v) {
        push_bytes(out, ryu::Buffer::new().format_finite(v).as_bytes());
    }
}

/// Writes `v` when it is `m / 10^k` for the smallest `k <= MAX_PLACES` (an integer `m`, read back
/// exactly by division): that is the shortest text reading back as `v`, which ryu also writes,
/// in plain decimal notation at these magnitudes. Returns false, writing nothing, otherwise.
#[inline]
fn short_decimal(out: &mut Vec<u8>, v: f64) -> bool {
    let a = v.abs();
    // Zero (and -0.0, whose sign ryu keeps) and tiny values take ryu's path.
    if !(1e-4..LIMIT).contains(&a) {
        return false;
    }
    for (places, &scale) in POW10.iter().enumerate() {
        let scaled = a * scale;
        if scaled >= LIMIT {
            return false;
        }
        let m = scaled.round();
        // Division by an exact power of ten is correctly rounded: equal means `m / 10^places`
        // reads back as `a`.
        if m / scale == a {
            write_decimal(out, v.is_sign_negative(), m as u64, places);
            return true;
        }
    }
    false
}

/// `-`? + `m` with a decimal point `places` digits from its end (`.0` when there are none).
fn write_decimal(out: &mut Vec<u8>, negative: bool, m: u64, places: usize) {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(m).as_bytes();
    let mut buf = [0u8; 32];
    let mut len = 0;
    if negative {
        buf[0] = b'-';
        len = 1;
    }
    if places == 0 {
        buf[len..len + digits.len()].copy_from_slice(digits);
        len += digits.len();
        buf[len..len + 2].copy_from_slice(b".0");
        len += 2;
    } else if digits.len() > places {
        let int = digits.len() - places;
        buf[len..len + int].copy_from_slice(&digits[..int]);
        len += int;
        buf[len] = b'.';
        len += 1;
        buf[len..len + places].copy_from_slice(&digits[int..]);
        len += places;
    } else {
        // Below one: `0.` and the leading zeros of the fraction.
        let zeros = places - digits.len();
        buf[len..len + 2].copy_from_slice(b"0.");
        len += 2;
        buf[len..len + zeros].fill(b'0');
        len += zeros;
        buf[len..len + digits.len()].copy_from_slice(digits);
        len += digits.len();
    }
    push_bytes(out, &buf[..len]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ryu_text(v: f64) -> String {
        ryu::Buffer::new().format_finite(v).to_owned()
    }

    fn ours(v: f64) -> String {
        let mut out = b"x".to_vec();
        write_f64(&mut out, v);
        String::from_utf8(out[1..].to_vec()).unwrap()
    }

    #[test]
    fn decimals_of_few_places_match_ryu() {
        for m in (0..200_000i64).chain([999_999_999, 123_456_789_012, 4_503_599_627_370_495]) {
            for places in 0..7 {
                let v = m as f64 / 10f64.powi(places);
                for v in [v, -v] {
                    assert_eq!(ours(v), ryu_text(v), "{v:?}");
                }
            }
        }
    }

    #[test]
    fn neighbours_and_awkward_values_match_ryu() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..1_000_000 {
            let base = (next() % 10_000_000) as f64 / 1000.0;
            // The value itself, its neighbours, and arbitrary bit patterns.
            for v in [
                base,
                f64::from_bits(base.to_bits() + 1),
                f64::from_bits(base.to_bits().saturating_sub(1)),
                f64::from_bits(next()),
            ] {
                if v.is_finite() {
                    assert_eq!(ours(v), ryu_text(v), "{v:?}");
                }
            }
        }
        for v in [
            0.0,
            -0.0,
            1e-4,
            1e-5,
            0.1,
            0.2,
            0.3,
            1e15,
            1e16,
            1e17,
            1.5e300,
            5e-324,
            0.30000000000000004,
            1125899906842623.5,
            2251799813685247.0,
            9007199254740993.0,
        ] {
            assert_eq!(ours(v), ryu_text(v), "{v:?}");
            assert_eq!(ours(-v), ryu_text(-v), "{v:?}");
        }
    }
}
