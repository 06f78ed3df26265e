//! JSON string literals: finding the bytes that need escaping and writing the escaped text.
//! Used by the binding's JSON encoder; kept here, free of Python, so it is tested with the engine.

/// Bytes a JSON string cannot hold as they are: controls, the quote and the backslash.
static NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// The index of the first byte that needs escaping. Long runs are checked sixteen bytes at a
/// time (SSE2, always present on x86_64) or eight at a time elsewhere.
#[inline]
fn find_escape(bytes: &[u8]) -> Option<usize> {
    let skipped = clean_prefix(bytes);
    bytes[skipped..]
        .iter()
        .position(|&b| NEEDS_ESCAPE[b as usize])
        .map(|p| skipped + p)
}

/// The length of a prefix, in whole blocks, known to need no escaping.
#[cfg(target_arch = "x86_64")]
#[inline]
fn clean_prefix(bytes: &[u8]) -> usize {
    use std::arch::x86_64::*;
    let mut i = 0;
    // SAFETY: SSE2 is part of the x86_64 baseline; loads are unaligned and in bounds.
    unsafe {
        let quote = _mm_set1_epi8(b'"' as i8);
        let backslash = _mm_set1_epi8(b'\\' as i8);
        // Bytes below 0x20 are exactly those for which max(b, 0x1f) == 0x1f, unsigned.
        let space_minus_one = _mm_set1_epi8(0x1f);
        while i + 16 <= bytes.len() {
            let v = _mm_loadu_si128(bytes.as_ptr().add(i) as *const __m128i);
            let control = _mm_cmpeq_epi8(_mm_max_epu8(v, space_minus_one), space_minus_one);
            let special = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
            if _mm_movemask_epi8(_mm_or_si128(control, special)) != 0 {
                break;
            }
            i += 16;
        }
    }
    i
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn clean_prefix(bytes: &[u8]) -> usize {
    let mut i = 0;
    while i + 8 <= bytes.len() {
        if word_needs_escape(u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap())) {
            break;
        }
        i += 8;
    }
    i
}

/// Writes `bytes` (UTF-8) as a JSON string literal; non-ASCII text is kept as UTF-8.
///
/// Short strings (most keys and values) are written inline, with no call; longer ones by
/// `write_long`.
#[inline(always)]
pub fn write_str(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.len() <= 16 {
        let short = Short::load(bytes);
        if !short.needs_escape() {
            short.store_quoted(out);
            return;
        }
    }
    write_long(out, bytes);
}

/// A string over sixteen bytes, or one that needs escaping.
#[inline(never)]
fn write_long(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.len() > 16 && clean_prefix(bytes) + 16 > bytes.len() && !tail_needs_escape(bytes) {
        let len = bytes.len();
        out.reserve(len + 2);
        let at = out.len();
        // SAFETY: `len + 2` bytes from `at` are reserved and written below.
        unsafe {
            let dst = out.as_mut_ptr().add(at);
            *dst = b'"';
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), dst.add(1), len);
            *dst.add(len + 1) = b'"';
            out.set_len(at + len + 2);
        }
        return;
    }
    write_escaped(out, bytes);
}

/// Appends `bytes` to `out`; short runs (numbers, literals, cached keys) are copied without a
/// call to `memcpy`.
#[inline(always)]
pub fn push_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.len() <= 16 {
        Short::load(bytes).store(out);
    } else {
        out.extend_from_slice(bytes);
    }
}

/// Whether the last sixteen bytes (overlapping what `clean_prefix` checked) need escaping.
#[inline]
fn tail_needs_escape(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len() - 16..];
    clean_prefix(tail) != 16
}

/// A string of at most sixteen bytes held in two words, read and written without a call to
/// `memcpy`: the two halves overlap when the string is shorter than sixteen bytes.
#[derive(Clone, Copy, Default)]
pub struct Short {
    len: usize,
    lo: u64,
    hi: u64,
}

impl Short {
    /// Reads `bytes` (at most 16) with a few overlapping loads. Under eight bytes, the word's
    /// unused high bytes are spaces (never escaped); overlapping loads only repeat the
    /// string's own bytes, so the escape check sees nothing else.
    #[inline]
    pub fn load(bytes: &[u8]) -> Short {
        let len = bytes.len();
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
        if len >= 8 {
            return Short {
                len,
                lo: word(0),
                hi: word(len - 8),
            };
        }
        let half = |at: usize| u64::from(u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()));
        let lo = if len >= 4 {
            half(0) | half(len - 4) << (8 * (len - 4))
        } else if len > 0 {
            let byte = |at: usize| u64::from(bytes[at]) << (8 * at);
            byte(0) | byte(len / 2) | byte(len - 1)
        } else {
            0
        };
        // The string's bytes, below the spaces.
        let low = if len == 0 {
            0
        } else {
            u64::MAX >> (64 - 8 * len)
        };
        let lo = lo | (0x2020_2020_2020_2020u64 & !low);
        Short { len, lo, hi: lo }
    }

    #[inline]
    fn needs_escape(&self) -> bool {
        escape_bits(self.lo) | escape_bits(self.hi) != 0
    }

    /// Appends `"` + the string + `"`, reserving room once.
    #[inline]
    fn store_quoted(&self, out: &mut Vec<u8>) {
        let len = self.len;
        // Room for the whole words even when the string is shorter than one.
        out.reserve(18);
        let at = out.len();
        // SAFETY: 18 bytes from `at` are reserved; the writes below stay within them, and
        // `set_len` covers the quotes and exactly the string's bytes.
        unsafe {
            let dst = out.as_mut_ptr().add(at);
            *dst = b'"';
            dst.add(1)
                .cast::<[u8; 8]>()
                .write_unaligned(self.lo.to_le_bytes());
            if len > 8 {
                dst.add(1 + len - 8)
                    .cast::<[u8; 8]>()
                    .write_unaligned(self.hi.to_le_bytes());
            }
            *dst.add(1 + len) = b'"';
            out.set_len(at + len + 2);
        }
    }

    /// Appends the string.
    #[inline]
    pub fn store(&self, out: &mut Vec<u8>) {
        let len = self.len;
        // Room for the whole words even when the string is shorter than one.
        out.reserve(16);
        let at = out.len();
        // SAFETY: 16 bytes from `at` are reserved; the writes below stay within them, and
        // `set_len` covers exactly the string's bytes.
        unsafe {
            let dst = out.as_mut_ptr().add(at);
            dst.cast::<[u8; 8]>().write_unaligned(self.lo.to_le_bytes());
            if len > 8 {
                dst.add(len - 8)
                    .cast::<[u8; 8]>()
                    .write_unaligned(self.hi.to_le_bytes());
            }
            out.set_len(at + len);
        }
    }
}

/// Nonzero when any of the eight bytes of `word` is a control byte, a quote or a backslash.
#[inline]
fn escape_bits(word: u64) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let has_zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
    let control = word.wrapping_sub(LO * 0x20) & !word & HI;
    let quote = has_zero(word ^ (LO * u64::from(b'"')));
    let backslash = has_zero(word ^ (LO * u64::from(b'\\')));
    control | quote | backslash
}

/// Whether any of the eight bytes of `word` is a control byte, a quote or a backslash.
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn word_needs_escape(word: u64) -> bool {
    escape_bits(word) != 0
}

/// The general case: copies the runs between escapes and writes each escape.
#[cold]
fn write_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut rest = bytes;
    out.reserve(rest.len() + 2);
    out.push(b'"');
    while let Some(pos) = find_escape(rest) {
        out.extend_from_slice(&rest[..pos]);
        let b = rest[pos];
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 0xf) as usize],
            ]),
        }
        rest = &rest[pos + 1..];
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(s: &str) -> String {
        let mut out = Vec::new();
        write_str(&mut out, s.as_bytes());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_every_special_byte_wherever_it_falls() {
        for len in 0..40 {
            for special in ['"', '\\', '\n', '\u{1}', '\u{1f}'] {
                let mut s = "a".repeat(len);
                s.push(special);
                s.push_str("tail é");
                let expected = serde_like(&s);
                assert_eq!(escaped(&s), expected, "len {len} special {special:?}");
            }
        }
    }

    #[test]
    fn finds_a_special_byte_at_every_position_of_every_length() {
        for len in 1..48 {
            for at in 0..len {
                for special in ['"', '\\', '\u{0}', '\u{7f}', 'é'] {
                    let mut s: String = "x".repeat(len);
                    s.replace_range(at..at + 1, &special.to_string());
                    assert_eq!(escaped(&s), serde_like(&s), "len {len} at {at} {special:?}");
                }
            }
        }
    }

    #[test]
    fn appends_after_what_the_buffer_holds() {
        let mut out = b"[1,".to_vec();
        write_str(&mut out, b"abc");
        write_str(&mut out, b"0123456789");
        assert_eq!(out, b"[1,\"abc\"\"0123456789\"");
        for len in 0..40 {
            let text: Vec<u8> = (0..len as u8).map(|i| b'a' + i % 26).collect();
            let mut out = b"x".to_vec();
            push_bytes(&mut out, &text);
            assert_eq!(&out[1..], &text[..]);
        }
    }

    #[test]
    fn keeps_high_bytes_and_space_as_they_are() {
        let s = "plain text with spaces ~ and ünïcödé and more than sixteen bytes";
        assert_eq!(escaped(s), format!("\"{s}\""));
    }

    /// A reference escaper, byte by byte.
    fn serde_like(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
}
