//! Route path patterns: compilation, matching and URL building.
//!
//! Syntax (Starlette's): static segments and `{name}` / `{name:converter}` parameters, each
//! parameter occupying a whole segment. Converters: `str` (default), `int`, `float`, `path`
//! (the rest of the path, last segment only) and `uuid`.

use super::{ParamValue, RouteError};

/// How a parameter segment is matched and converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Converter {
    Str,
    Int,
    Float,
    Path,
    Uuid,
}

impl Converter {
    fn from_name(name: &str) -> Option<Converter> {
        Some(match name {
            "str" => Converter::Str,
            "int" => Converter::Int,
            "float" => Converter::Float,
            "path" => Converter::Path,
            "uuid" => Converter::Uuid,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Converter::Str => "str",
            Converter::Int => "int",
            Converter::Float => "float",
            Converter::Path => "path",
            Converter::Uuid => "uuid",
        }
    }

    /// Whether `value` is acceptable for this converter (`value` is one segment, except for
    /// `path`, where it is the rest of the path).
    fn accepts(self, value: &str) -> bool {
        match self {
            Converter::Str => !value.is_empty() && !value.contains('/'),
            Converter::Int => is_int(value),
            Converter::Float => is_float(value),
            Converter::Path => true,
            Converter::Uuid => is_uuid(value),
        }
    }

    /// Converts an accepted value.
    fn convert(self, value: &str) -> ParamValue {
        match self {
            Converter::Int => ParamValue::Int(value.parse().unwrap_or(0)),
            Converter::Float => ParamValue::Float(value.parse().unwrap_or(0.0)),
            Converter::Uuid => ParamValue::Uuid(value.to_ascii_lowercase()),
            Converter::Str | Converter::Path => ParamValue::Str(value.to_owned()),
        }
    }
}

fn is_int(value: &str) -> bool {
    !value.is_empty() && value.len() <= 18 && value.bytes().all(|b| b.is_ascii_digit())
}

fn is_float(value: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match value.split_once('.') {
        Some((int, frac)) => digits(int) && digits(frac),
        None => digits(value),
    }
}

fn is_uuid(value: &str) -> bool {
    value.len() == 36
        && value.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// One `/`-separated piece of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Static(String),
    Param { name: String, conv: Converter },
}

/// A compiled route path.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    /// The path as registered.
    pub source: String,
    segments: Vec<Segment>,
    /// The literal text before the first parameter: a cheap first check when matching.
    prefix: String,
}

impl Pattern {
    /// Compiles a route path such as `/users/{id:int}`.
    pub fn parse(path: &str) -> Result<Pattern, RouteError> {
        let fail = |why: &str| Err(RouteError(format!("Invalid route path '{path}': {why}")));
        let Some(rest) = path.strip_prefix('/') else {
            return fail("paths must start with '/'");
        };
        let mut segments = Vec::new();
        for piece in rest.split('/') {
            let segment = match parse_segment(piece) {
                Ok(segment) => segment,
                Err(why) => return fail(&why),
            };
            if let Segment::Param { name, .. } = &segment {
                if segments
                    .iter()
                    .any(|s| matches!(s, Segment::Param { name: n, .. } if n == name))
                {
                    return fail(&format!("duplicate parameter name '{name}'"));
                }
            }
            if let Some(Segment::Param {
                conv: Converter::Path,
                ..
            }) = segments.last()
            {
                return fail("a 'path' parameter must be the last segment");
            }
            segments.push(segment);
        }
        let prefix = literal_prefix(&segments);
        Ok(Pattern {
            source: path.to_owned(),
            segments,
            prefix,
        })
    }

    /// True when the pattern has no parameters.
    pub fn is_static(&self) -> bool {
        self.segments
            .iter()
            .all(|s| matches!(s, Segment::Static(_)))
    }

    /// True when both patterns match exactly the same paths (parameter names aside).
    pub fn same_shape(&self, other: &Pattern) -> bool {
        self.segments.len() == other.segments.len()
            && self
                .segments
                .iter()
                .zip(&other.segments)
                .all(|pair| match pair {
                    (Segment::Static(a), Segment::Static(b)) => a == b,
                    (Segment::Param { conv: a, .. }, Segment::Param { conv: b, .. }) => a == b,
                    _ => false,
                })
    }

    /// The parameter names, in order.
    pub fn param_names(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Param { name, .. } => Some(name.as_str()),
            Segment::Static(_) => None,
        })
    }

    /// Whether `path` matches; allocates nothing.
    pub fn matches(&self, path: &str) -> bool {
        path.starts_with(self.prefix.as_str()) && self.walk(path, |_, _| {})
    }

    /// The converted parameters of a matching `path`, or `None` when it does not match.
    pub fn captures(&self, path: &str) -> Option<Vec<(String, ParamValue)>> {
        if !self.matches(path) {
            return None;
        }
        let mut params = Vec::new();
        self.walk(path, |segment, value| {
            if let Segment::Param { name, conv } = segment {
                params.push((name.clone(), conv.convert(value)));
            }
        });
        Some(params)
    }

    /// Walks `path` segment by segment, calling `visit` with each pattern segment and the
    /// matching part of the path; returns whether the whole path matched.
    fn walk<'p>(&self, path: &'p str, mut visit: impl FnMut(&Segment, &'p str)) -> bool {
        let Some(mut rest) = path.strip_prefix('/') else {
            return false;
        };
        let mut more = true;
        for segment in &self.segments {
            if !more {
                return false;
            }
            let piece = match segment {
                Segment::Param {
                    conv: Converter::Path,
                    ..
                } => {
                    more = false;
                    rest
                }
                _ => match rest.split_once('/') {
                    Some((piece, tail)) => {
                        rest = tail;
                        piece
                    }
                    None => {
                        more = false;
                        rest
                    }
                },
            };
            let ok = match segment {
                Segment::Static(s) => s == piece,
                Segment::Param { conv, .. } => conv.accepts(piece),
            };
            if !ok {
                return false;
            }
            visit(segment, piece);
        }
        !more
    }

    /// Builds a path from string parameters, checking each against its converter and
    /// percent-encoding what a path segment cannot hold. `route` names the route in errors.
    pub fn build(&self, route: &str, params: &[(&str, &str)]) -> Result<String, RouteError> {
        for (given, _) in params {
            if !self.param_names().any(|n| n == *given) {
                return Err(RouteError(format!(
                    "Route '{route}' has no parameter '{given}'"
                )));
            }
        }
        let mut out = String::with_capacity(self.source.len() + 16);
        for segment in &self.segments {
            out.push('/');
            match segment {
                Segment::Static(s) => encode_into(&mut out, s, false),
                Segment::Param { name, conv } => {
                    let value = params
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| *v)
                        .ok_or_else(|| {
                            RouteError(format!("Route '{route}' needs parameter '{name}'"))
                        })?;
                    if !conv.accepts(value) {
                        return Err(RouteError(format!(
                            "Parameter '{name}' of route '{route}' is not a valid {}: '{value}'",
                            conv.name()
                        )));
                    }
                    let value = match conv {
                        Converter::Uuid => value.to_ascii_lowercase(),
                        _ => value.to_owned(),
                    };
                    encode_into(&mut out, &value, *conv == Converter::Path);
                }
            }
        }
        Ok(out)
    }
}

/// The path text every match starts with: `/` plus the static segments before the first
/// parameter, each followed by `/` (the whole path for static patterns).
fn literal_prefix(segments: &[Segment]) -> String {
    let mut prefix = String::from("/");
    for (i, segment) in segments.iter().enumerate() {
        let Segment::Static(s) = segment else { break };
        if i > 0 {
            prefix.push('/');
        }
        prefix.push_str(s);
        if matches!(segments.get(i + 1), Some(Segment::Param { .. })) {
            prefix.push('/');
        }
    }
    prefix
}

/// Parses one segment: static text or a whole-segment `{name[:conv]}`.
fn parse_segment(piece: &str) -> Result<Segment, String> {
    let opens = piece.matches('{').count();
    let closes = piece.matches('}').count();
    if opens == 0 && closes == 0 {
        return Ok(Segment::Static(piece.to_owned()));
    }
    let inner = piece.strip_prefix('{').and_then(|p| p.strip_suffix('}'));
    let inner = match inner {
        Some(inner) if opens == 1 && closes == 1 => inner,
        _ if opens != closes || piece.find('}') < piece.find('{') => {
            return Err("unbalanced braces".to_owned())
        }
        _ => return Err("parameters must occupy a whole path segment".to_owned()),
    };
    let (name, conv) = inner.split_once(':').unwrap_or((inner, "str"));
    if name.is_empty() {
        return Err("empty parameter name".to_owned());
    }
    let identifier = name
        .bytes()
        .enumerate()
        .all(|(i, b)| b == b'_' || b.is_ascii_alphabetic() || (i > 0 && b.is_ascii_digit()));
    if !identifier {
        return Err(format!("invalid parameter name '{name}'"));
    }
    let conv = Converter::from_name(conv).ok_or_else(|| format!("unknown converter '{conv}'"))?;
    Ok(Segment::Param {
        name: name.to_owned(),
        conv,
    })
}

/// Appends `value`, percent-encoding bytes that are not RFC 3986 `pchar`s (and `/` unless
/// `keep_slash`).
pub(crate) fn encode_into(out: &mut String, value: &str, keep_slash: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value.as_bytes() {
        let plain = b.is_ascii_alphanumeric()
            || b"-._~!$&'()*+,;=:@".contains(&b)
            || (keep_slash && b == b'/');
        if plain {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0xf)] as char);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(path: &str) -> Pattern {
        Pattern::parse(path).unwrap()
    }

    fn err(path: &str) -> String {
        Pattern::parse(path).unwrap_err().0
    }

    #[test]
    fn static_patterns() {
        assert!(p("/").is_static());
        assert!(p("/").matches("/"));
        assert!(!p("/").matches("//"));
        assert!(p("/a/b").matches("/a/b"));
        assert!(!p("/a/b").matches("/a/b/"));
        assert!(p("/a/").matches("/a/"));
        assert!(!p("/a/").matches("/a"));
        assert!(!p("/a").matches("a"));
    }

    #[test]
    fn str_and_int_params() {
        let pat = p("/users/{name}/posts/{id:int}");
        assert!(!pat.is_static());
        assert_eq!(pat.param_names().collect::<Vec<_>>(), ["name", "id"]);
        assert_eq!(
            pat.captures("/users/bob/posts/42"),
            Some(vec![
                ("name".to_string(), ParamValue::Str("bob".into())),
                ("id".to_string(), ParamValue::Int(42)),
            ])
        );
        assert!(!pat.matches("/users//posts/42"));
        assert!(!pat.matches("/users/bob/posts/4x"));
        assert!(!pat.matches("/users/bob/posts/-1"));
        assert!(pat.matches("/users/bob/posts/999999999999999999"));
        assert!(!pat.matches("/users/bob/posts/1000000000000000000"));
        assert!(!pat.matches("/users/bob/posts/42/x"));
    }

    #[test]
    fn float_uuid_and_path_params() {
        let f = p("/f/{x:float}");
        assert_eq!(f.captures("/f/1.5").unwrap()[0].1, ParamValue::Float(1.5));
        assert_eq!(f.captures("/f/2").unwrap()[0].1, ParamValue::Float(2.0));
        for bad in ["/f/1.", "/f/.5", "/f/1e5", "/f/-1", "/f/1.2.3"] {
            assert!(!f.matches(bad), "{bad}");
        }
        let u = p("/u/{id:uuid}");
        let v = u
            .captures("/u/123E4567-e89b-12d3-A456-426614174000")
            .unwrap();
        let lower = "123e4567-e89b-12d3-a456-426614174000";
        assert_eq!(v[0].1, ParamValue::Uuid(lower.into()));
        assert!(!u.matches("/u/123e4567e89b12d3a456426614174000"));
        assert!(!u.matches("/u/123e4567-e89b-12d3-a456-42661417400g"));
        let path = p("/files/{rest:path}");
        let get = |s| path.captures(s).map(|v| v[0].1.clone());
        assert_eq!(
            get("/files/a/b/c.txt"),
            Some(ParamValue::Str("a/b/c.txt".into()))
        );
        assert_eq!(get("/files/"), Some(ParamValue::Str("".into())));
        assert_eq!(get("/files"), None);
    }

    #[test]
    fn literal_prefixes() {
        assert_eq!(p("/").prefix, "/");
        assert_eq!(p("/a/b/").prefix, "/a/b/");
        assert_eq!(p("/a/b").prefix, "/a/b");
        assert_eq!(p("/a/{x}/b").prefix, "/a/");
        assert_eq!(p("/{x}").prefix, "/");
    }

    #[test]
    fn shapes() {
        assert!(p("/u/{id}").same_shape(&p("/u/{uid}")));
        assert!(!p("/u/{id:int}").same_shape(&p("/u/{id}")));
        assert!(!p("/u/{id}").same_shape(&p("/u/x")));
        assert!(!p("/u/{id}").same_shape(&p("/u/{id}/x")));
    }

    #[test]
    fn pattern_errors() {
        assert!(err("users").contains("must start with '/'"));
        assert!(err("/files/{name}.txt").contains("whole path segment"));
        assert!(err("/files/{name}.txt").contains("'/files/{name}.txt'"));
        assert!(err("/x/{a:foo}").contains("unknown converter 'foo'"));
        assert!(err("/x/{a").contains("unbalanced"));
        assert!(err("/x/a}").contains("unbalanced"));
        assert!(err("/x/}a{").contains("unbalanced"));
        assert!(err("/x/{}").contains("empty parameter name"));
        assert!(err("/x/{:int}").contains("empty parameter name"));
        assert!(err("/x/{1a}").contains("invalid parameter name"));
        assert!(err("/x/{{a}}").contains("whole path segment"));
        assert!(err("/{a}/{a:int}").contains("duplicate parameter name 'a'"));
        assert!(err("/{p:path}/x").contains("'path' parameter must be the last"));
    }

    #[test]
    fn building() {
        let pat = p("/u/{name}/{id:int}/{rest:path}");
        let params = [("id", "7"), ("name", "a b?é"), ("rest", "x/y z")];
        assert_eq!(
            pat.build("r", &params).unwrap(),
            "/u/a%20b%3F%C3%A9/7/x/y%20z"
        );
        let slash = [("id", "7"), ("name", "a/b"), ("rest", "")];
        assert!(pat.build("r", &slash).is_err());
        let e = pat.build("r", &[("id", "7"), ("rest", "")]).unwrap_err();
        assert_eq!(e.0, "Route 'r' needs parameter 'name'");
        let e = pat
            .build("r", &[("id", "x"), ("name", "n"), ("rest", "")])
            .unwrap_err();
        assert_eq!(e.0, "Parameter 'id' of route 'r' is not a valid int: 'x'");
        let e = pat.build("r", &[("zz", "1")]).unwrap_err();
        assert_eq!(e.0, "Route 'r' has no parameter 'zz'");
        let u = p("/u/{id:uuid}");
        let id = "123E4567-E89B-12D3-A456-426614174000";
        assert_eq!(
            u.build("u", &[("id", id)]).unwrap(),
            "/u/123e4567-e89b-12d3-a456-426614174000"
        );
        assert!(u.build("u", &[("id", "nope")]).is_err());
        assert_eq!(p("/").build("root", &[]).unwrap(), "/");
        assert_eq!(p("/a/").build("a", &[]).unwrap(), "/a/");
    }
}
