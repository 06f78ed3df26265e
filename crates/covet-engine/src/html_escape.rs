//! HTML text escaping, byte for byte what markupsafe (Jinja2's autoescape) writes: `&`, `<`,
//! `>`, `"` and `'` become `&amp;`, `&lt;`, `&gt;`, `&#34;` and `&#39;`. Used by the binding's
//! template escaper; kept here, free of Python, so it is tested with the engine.

/// The entity for a byte that must be escaped, or None.
#[inline]
fn entity(b: u8) -> Option<&'static str> {
    match b {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        b'"' => Some("&#34;"),
        b'\'' => Some("&#39;"),
        _ => None,
    }
}

/// The index of the first byte that must be escaped, if any.
fn find_special(text: &str) -> Option<usize> {
    text.bytes().position(|b| entity(b).is_some())
}

/// `text` escaped, or None when nothing in it needs escaping (the caller keeps the original).
pub fn escape(text: &str) -> Option<String> {
    let first = find_special(text)?;
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(&text[..first]);
    let mut run = first; // start of the bytes not yet copied
    for (i, &b) in bytes.iter().enumerate().skip(first) {
        if let Some(entity) = entity(b) {
            // The escaped bytes are ASCII, so `i` and `run` are always on char boundaries.
            out.push_str(&text[run..i]);
            out.push_str(entity);
            run = i + 1;
        }
    }
    out.push_str(&text[run..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_is_left_alone() {
        assert_eq!(escape(""), None);
        assert_eq!(escape("Hello, World! — ありがとう"), None);
    }

    #[test]
    fn every_special_byte_becomes_markupsafes_entity() {
        assert_eq!(
            escape(r#"<script>alert("x" & 'y');</script>"#).as_deref(),
            Some("&lt;script&gt;alert(&#34;x&#34; &amp; &#39;y&#39;);&lt;/script&gt;")
        );
        assert_eq!(escape("&").as_deref(), Some("&amp;"));
        assert_eq!(escape("a>").as_deref(), Some("a&gt;"));
    }

    #[test]
    fn multibyte_text_around_specials_is_kept_whole() {
        assert_eq!(escape("é<ü>ß").as_deref(), Some("é&lt;ü&gt;ß"));
        assert_eq!(find_special("日本<"), Some(6));
    }
}
