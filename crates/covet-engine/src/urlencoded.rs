//! `application/x-www-form-urlencoded` decoding, used for query strings (and later form bodies).
//!
//! Behaves like Python's `urllib.parse.parse_qsl(keep_blank_values=True)`: pairs split on `&`,
//! `+` is a space, `%XX` escapes are decoded, invalid escapes are kept as they are and invalid
//! UTF-8 is replaced with U+FFFD.

/// Decodes a query string into its (name, value) pairs, in order, keeping blank values.
pub fn parse_pairs(input: &[u8]) -> Vec<(String, String)> {
    input
        .split(|&b| b == b'&')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let (name, value) = match part.iter().position(|&b| b == b'=') {
                Some(eq) => (&part[..eq], &part[eq + 1..]),
                None => (part, &b""[..]),
            };
            (decode_component(name), decode_component(value))
        })
        .collect()
}

/// Decodes one form component: `+` to space and `%XX` escapes.
pub fn decode_component(input: &[u8]) -> String {
    if !input.iter().any(|&b| b == b'%' || b == b'+') {
        return String::from_utf8_lossy(input).into_owned();
    }
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < input.len() => match (hex(input[i + 1]), hex(input[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(s: &str) -> Vec<(String, String)> {
        parse_pairs(s.as_bytes())
    }

    #[test]
    fn splits_and_keeps_blank_values() {
        assert_eq!(
            pairs("a=1&b=&c&a=2"),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "".into()),
                ("c".into(), "".into()),
                ("a".into(), "2".into())
            ]
        );
        assert!(pairs("").is_empty());
        assert_eq!(pairs("&&x=1&"), vec![("x".into(), "1".into())]);
    }

    #[test]
    fn decodes_escapes_and_plus() {
        assert_eq!(pairs("q=a+b%20c%2Fd"), vec![("q".into(), "a b c/d".into())]);
        assert_eq!(pairs("n%C3%A9=%E2%82%AC"), vec![("né".into(), "€".into())]);
        assert_eq!(pairs("v=1=2"), vec![("v".into(), "1=2".into())]);
    }

    #[test]
    fn keeps_invalid_escapes() {
        assert_eq!(decode_component(b"100%"), "100%");
        assert_eq!(decode_component(b"%zz%4"), "%zz%4");
        assert_eq!(decode_component(b"%ff"), "\u{fffd}");
    }
}
