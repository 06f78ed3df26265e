//! Reading request text as numbers and booleans, only where every parser agrees.
//!
//! Used to convert simple typed parameters without a validation library: a value outside
//! these canonical forms (`+5`, ` 5`, `5_000`, `1e3`, `True`...) is left for the full
//! validator to accept or refuse, so behaviour never depends on which path ran.

/// `-?[0-9]{1,18}`: what every integer parser agrees on.
pub fn canonical_int(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `-?[0-9]+(\.[0-9]+)?`, short enough to parse exactly as Python would.
pub fn canonical_float(text: &str) -> Option<f64> {
    let body = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) || body.len() > 17 {
        return None;
    }
    text.parse().ok()
}

/// The words pydantic reads as booleans, in lower case (other spellings go to pydantic).
pub fn bool_word(text: &str) -> Option<bool> {
    match text {
        "true" | "1" | "yes" | "on" | "t" | "y" => Some(true),
        "false" | "0" | "no" | "off" | "f" | "n" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_numbers_are_converted() {
        assert_eq!(canonical_int("42"), Some(42));
        assert_eq!(canonical_int("-7"), Some(-7));
        assert_eq!(canonical_int("007"), Some(7));
        for other in [
            "",
            "-",
            "+5",
            " 5",
            "5_0",
            "1e3",
            "4.0",
            "1234567890123456789",
        ] {
            assert_eq!(canonical_int(other), None, "{other}");
        }
        assert_eq!(canonical_float("1.5"), Some(1.5));
        assert_eq!(canonical_float("-2"), Some(-2.0));
        for other in [
            "",
            ".5",
            "1.",
            "1e5",
            "inf",
            "nan",
            "1.2.3",
            "123456789012345678",
        ] {
            assert_eq!(canonical_float(other), None, "{other}");
        }
        assert_eq!(bool_word("yes"), Some(true));
        assert_eq!(bool_word("off"), Some(false));
        assert_eq!(bool_word("True"), None);
    }
}
