//! From the path a client asked for to a path relative to the served directory, refusing every
//! way out of it before the filesystem is touched.
//!
//! The path arrives percent-decoded (`%2e%2e` is already `..`, `%2f` already `/`). Dot segments
//! are resolved lexically, as a browser would (`a/../b` is `b`); a path that climbs above the
//! root, or holds a NUL or a backslash, is refused. Hidden names (a segment starting with `.`)
//! are refused unless the directory allows them.

/// Why a path was refused: each is answered 404, never with a hint of what is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A NUL byte or a backslash (a Windows separator some file layers still honour).
    BadByte,
    /// `..` segments that would leave the root.
    Escapes,
    /// A segment naming a hidden file or directory, such as `.env` or `.git`.
    Hidden,
}

/// The relative path (segments joined by `/`, empty for the root itself) that `asked` names,
/// or why it is refused.
pub fn relative(asked: &str, allow_hidden: bool) -> Result<String, Refusal> {
    if asked.bytes().any(|b| b == 0 || b == b'\\') {
        return Err(Refusal::BadByte);
    }
    let mut kept: Vec<&str> = Vec::new();
    for segment in asked.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if kept.pop().is_none() {
                    return Err(Refusal::Escapes);
                }
            }
            s if s.starts_with('.') && !allow_hidden => return Err(Refusal::Hidden),
            s => kept.push(s),
        }
    }
    Ok(kept.join("/"))
}

/// Whether `rel` matches `pattern`, where `*` stands for any run of characters (`/` included):
/// `*.css`, `assets/*`, `*` or an exact path.
pub fn glob_match(pattern: &str, rel: &str) -> bool {
    let (p, s) = (pattern.as_bytes(), rel.as_bytes());
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, si));
            pi += 1;
        } else if pi < p.len() && p[pi] == s[si] {
            pi += 1;
            si += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_pass() {
        assert_eq!(relative("/css/app.css", false), Ok("css/app.css".into()));
        assert_eq!(relative("/", false), Ok(String::new()));
        assert_eq!(relative("//a///b/./c", false), Ok("a/b/c".into()));
    }

    #[test]
    fn dot_segments_resolve_inside_the_root() {
        assert_eq!(relative("/a/../b.txt", false), Ok("b.txt".into()));
        assert_eq!(relative("/../etc/passwd", false), Err(Refusal::Escapes));
        assert_eq!(
            relative("/a/../../etc/passwd", false),
            Err(Refusal::Escapes)
        );
        assert_eq!(relative("/..", false), Err(Refusal::Escapes));
    }

    #[test]
    fn bad_bytes_are_refused() {
        assert_eq!(relative("/a\0.txt", false), Err(Refusal::BadByte));
        assert_eq!(
            relative("/..\\..\\etc\\passwd", false),
            Err(Refusal::BadByte)
        );
    }

    #[test]
    fn hidden_names_need_permission() {
        assert_eq!(relative("/.env", false), Err(Refusal::Hidden));
        assert_eq!(relative("/a/.git/config", false), Err(Refusal::Hidden));
        assert_eq!(relative("/.env", true), Ok(".env".into()));
        assert_eq!(relative("/a/..b", false), Err(Refusal::Hidden));
    }

    #[test]
    fn globs() {
        assert!(glob_match("*.css", "a/b/app.css"));
        assert!(!glob_match("*.css", "app.js"));
        assert!(glob_match("assets/*", "assets/x/y.png"));
        assert!(!glob_match("assets/*", "other/assets/y.png"));
        assert!(glob_match("*", "anything"));
        assert!(glob_match("robots.txt", "robots.txt"));
        assert!(glob_match("*.*.css", "app.3f2a1c.css"));
        assert!(!glob_match("*.*.css", "app.css"));
    }
}
