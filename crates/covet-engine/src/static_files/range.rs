//! `Range: bytes=...` (RFC 9110 §14.2): which byte ranges of a representation of a known length
//! the client asked for.
//!
//! A header in another unit is ignored (the whole file is sent); a malformed `bytes=` one is
//! unsatisfiable (416), as nginx answers it. One asking for more ranges than [`MAX_RANGES`] or
//! for more bytes in total than the file has is ignored too (a client overlapping ranges to
//! multiply the work is served the file once instead).

/// Most ranges one request may ask for before the header is ignored.
pub const MAX_RANGES: usize = 64;

/// What to send for a `Range` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ranges {
    /// The whole representation (no header, an invalid one, or one not worth honouring).
    Full,
    /// These ranges, as `[start, end)` byte offsets, in the order asked.
    Partial(Vec<(u64, u64)>),
    /// None of the ranges overlaps the representation: 416.
    Unsatisfiable,
}

/// The ranges `header` asks for out of `len` bytes.
pub fn parse(header: &[u8], len: u64) -> Ranges {
    let Ok(text) = std::str::from_utf8(header) else {
        return Ranges::Full;
    };
    let Some(specs) = text.trim().strip_prefix("bytes=") else {
        return Ranges::Full;
    };
    let mut ranges = Vec::new();
    let mut count = 0;
    for spec in specs.split(',') {
        let spec = spec.trim();
        if spec.is_empty() {
            continue;
        }
        count += 1;
        if count > MAX_RANGES {
            return Ranges::Full;
        }
        let Some((first, last)) = spec.split_once('-') else {
            return Ranges::Unsatisfiable;
        };
        let (first, last) = (first.trim(), last.trim());
        let range = if first.is_empty() {
            let Some(suffix) = number(last) else {
                return Ranges::Unsatisfiable;
            };
            (suffix > 0 && len > 0).then(|| (len.saturating_sub(suffix), len))
        } else {
            let Some(start) = number(first) else {
                return Ranges::Unsatisfiable;
            };
            let end = if last.is_empty() {
                len
            } else {
                match number(last) {
                    Some(end) if end >= start => end.saturating_add(1).min(len),
                    _ => return Ranges::Unsatisfiable,
                }
            };
            (start < len).then_some((start, end))
        };
        ranges.extend(range);
    }
    if count == 0 {
        return Ranges::Unsatisfiable;
    }
    if ranges.is_empty() {
        return Ranges::Unsatisfiable;
    }
    let total: u64 = ranges.iter().map(|(s, e)| e - s).sum();
    if total > len {
        return Ranges::Full;
    }
    Ranges::Partial(ranges)
}

/// A decimal number of digits only (no sign, no spaces inside).
fn number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partial(v: &[(u64, u64)]) -> Ranges {
        Ranges::Partial(v.to_vec())
    }

    #[test]
    fn single_ranges() {
        assert_eq!(parse(b"bytes=0-9", 100), partial(&[(0, 10)]));
        assert_eq!(parse(b"bytes=90-", 100), partial(&[(90, 100)]));
        assert_eq!(parse(b"bytes=-10", 100), partial(&[(90, 100)]));
        assert_eq!(parse(b"bytes=-1000", 100), partial(&[(0, 100)]));
        assert_eq!(parse(b"bytes=50-1000", 100), partial(&[(50, 100)]));
    }

    #[test]
    fn several_ranges() {
        assert_eq!(parse(b"bytes=0-0, -1", 100), partial(&[(0, 1), (99, 100)]));
        assert_eq!(parse(b"bytes=0-1,200-300", 100), partial(&[(0, 2)]));
    }

    #[test]
    fn unsatisfiable() {
        assert_eq!(parse(b"bytes=100-", 100), Ranges::Unsatisfiable);
        assert_eq!(parse(b"bytes=-0", 100), Ranges::Unsatisfiable);
        assert_eq!(parse(b"bytes=0-", 0), Ranges::Unsatisfiable);
    }

    #[test]
    fn other_units_are_ignored_and_malformed_bytes_unsatisfiable() {
        for h in [&b"items=0-1"[..], b"\xff"] {
            assert_eq!(parse(h, 100), Ranges::Full);
        }
        for h in [
            &b"bytes=5-1"[..],
            b"bytes=a-b",
            b"bytes=",
            b"bytes=1",
            b"bytes=+1-2",
        ] {
            assert_eq!(parse(h, 100), Ranges::Unsatisfiable);
        }
    }

    #[test]
    fn abusive_headers_get_the_whole_file() {
        let many = format!("bytes={}", vec!["0-0"; MAX_RANGES + 1].join(","));
        assert_eq!(parse(many.as_bytes(), 100), Ranges::Full);
        assert_eq!(parse(b"bytes=0-99,0-99", 100), Ranges::Full);
    }
}
