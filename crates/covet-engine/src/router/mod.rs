//! Starlette-style routing: path patterns with converters, methods, mounts, 405s and
//! trailing-slash redirects.
//!
//! Routes are tried in registration order and the first full match wins. Exact static paths are
//! found through a hash map; only parameterised routes and mounts registered before the static
//! hit are tried one by one.

mod pattern;

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use pattern::Pattern;

/// A converted path parameter. `path` and `uuid` values are strings (uuids lower-cased).
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// From the `str` and `path` converters.
    Str(String),
    /// From the `uuid` converter: the canonical lower-case text.
    Uuid(String),
    /// From the `int` converter.
    Int(i64),
    /// From the `float` converter.
    Float(f64),
}

/// The pseudo-method WebSocket routes are registered under. `@` is not a token character, so
/// no HTTP request line can carry it: a WebSocket route only matches an upgrade.
pub const WEBSOCKET: &str = "@WEBSOCKET";

/// The outcome of [`Router::lookup`].
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    /// A route matched. `head_from_get`: the request was HEAD and matched only through a GET
    /// route (the caller sends the headers without the body).
    Found {
        /// The endpoint given at registration.
        endpoint: usize,
        /// The converted path parameters, in pattern order.
        params: Vec<(String, ParamValue)>,
        /// True when a HEAD request matched a GET-only route.
        head_from_get: bool,
    },
    /// A mount matched.
    Mount {
        /// The endpoint given at registration.
        endpoint: usize,
        /// The mount prefix, without a trailing slash ("" for a root mount).
        root_path: String,
        /// The rest of the path, starting with "/".
        rest: String,
    },
    /// Some routes match the path, none the method.
    MethodNotAllowed {
        /// The value for the `Allow` header, e.g. "GET, HEAD, POST".
        allow: String,
    },
    /// Nothing matched, but the path with its trailing slash added or removed would.
    Redirect {
        /// The path to redirect to.
        location_path: String,
    },
    /// Nothing matched.
    NotFound,
}

/// The `Location` for a redirect to the decoded `path`: percent-encoded (a `\` or a control
/// byte never reaches the header as itself) and starting with exactly one `/`, so a browser
/// can never read it as scheme-relative (`//evil.example/` or `/\evil.example/`). A `.` or
/// `..` segment (sent as `%2E%2E`) stays encoded, so the browser does not resolve it away.
fn location_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 8);
    for segment in path.trim_start_matches('/').split('/') {
        out.push('/');
        match segment {
            "." => out.push_str("%2E"),
            ".." => out.push_str("%2E%2E"),
            _ => pattern::encode_into(&mut out, segment, false),
        }
    }
    out
}

/// A routing error: a bad pattern, a conflict, a duplicate name or a failed URL build.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteError(pub String);

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RouteError {}

/// What an entry matches.
#[derive(Debug)]
enum Target {
    Route {
        pattern: Pattern,
        /// Upper-case method names; `None` accepts any method.
        methods: Option<Vec<String>>,
    },
    /// A mount prefix without trailing slash; "" mounts everything.
    Mount { prefix: String },
}

#[derive(Debug)]
struct Entry {
    target: Target,
    endpoint: usize,
    name: Option<String>,
}

impl Entry {
    /// Whether the entry takes `method`: `Some(head_from_get)` or `None`.
    fn accepts(&self, method: &str) -> Option<bool> {
        let Target::Route {
            methods: Some(methods),
            ..
        } = &self.target
        else {
            return Some(false);
        };
        if methods.iter().any(|m| m == method) {
            Some(false)
        } else if method == "HEAD" && methods.iter().any(|m| m == "GET") {
            Some(true)
        } else {
            None
        }
    }

    /// The lookup result when `path` matches this entry (the method is already accepted).
    fn match_path(&self, path: &str, head_from_get: bool) -> Option<Lookup> {
        match &self.target {
            Target::Route { pattern, .. } => pattern.captures(path).map(|params| Lookup::Found {
                endpoint: self.endpoint,
                params,
                head_from_get,
            }),
            Target::Mount { prefix } => {
                let rest = path.strip_prefix(prefix.as_str())?;
                let rest = match rest {
                    "" => "/",
                    r if r.starts_with('/') => r,
                    _ => return None,
                };
                Some(Lookup::Mount {
                    endpoint: self.endpoint,
                    root_path: prefix.clone(),
                    rest: rest.to_owned(),
                })
            }
        }
    }

    /// How the entry reads in messages, e.g. "GET /users/{id}" or "mount /static".
    fn describe(&self) -> String {
        match &self.target {
            Target::Route { pattern, methods } => {
                let methods = methods.as_ref().map_or("ANY".to_owned(), |m| m.join(","));
                format!("{methods} {}", pattern.source)
            }
            Target::Mount { prefix } => format!("mount {prefix}"),
        }
    }

    /// Whether both entries would take the same requests (same shape, overlapping methods).
    fn conflicts_with(&self, other: &Entry) -> bool {
        match (&self.target, &other.target) {
            (
                Target::Route {
                    pattern: a,
                    methods: ma,
                },
                Target::Route {
                    pattern: b,
                    methods: mb,
                },
            ) => {
                a.same_shape(b)
                    && match (ma, mb) {
                        (Some(ma), Some(mb)) => ma.iter().any(|m| mb.contains(m)),
                        _ => true,
                    }
            }
            (Target::Mount { prefix: a }, Target::Mount { prefix: b }) => a == b,
            _ => false,
        }
    }
}

/// An ordered set of routes and mounts.
#[derive(Debug)]
pub struct Router {
    redirect_slashes: bool,
    entries: Vec<Entry>,
    /// Exact static paths to the indices of the routes with that path, in order.
    statics: HashMap<String, Vec<usize>>,
    /// Indices of parameterised routes and mounts, in order.
    dynamic: Vec<usize>,
    names: HashMap<String, usize>,
}

impl Router {
    /// An empty router; `redirect_slashes` enables trailing-slash redirects.
    pub fn new(redirect_slashes: bool) -> Self {
        Router {
            redirect_slashes,
            entries: Vec::new(),
            statics: HashMap::new(),
            dynamic: Vec::new(),
            names: HashMap::new(),
        }
    }

    /// Registers a route. `methods`: `None` accepts any method; names are upper-cased.
    ///
    /// Errors: a bad pattern, an empty method list, a duplicate route name, or a conflict with
    /// an earlier route of the same shape (same static segments and converters) whose methods
    /// overlap.
    pub fn add(
        &mut self,
        path: &str,
        methods: Option<&[&str]>,
        endpoint: usize,
        name: Option<&str>,
    ) -> Result<(), RouteError> {
        let pattern = Pattern::parse(path)?;
        let methods = match methods {
            Some([]) => {
                return Err(RouteError(format!(
                    "Route {path} needs at least one method"
                )))
            }
            Some(list) => {
                let mut upper: Vec<String> = list.iter().map(|m| m.to_ascii_uppercase()).collect();
                upper.sort();
                upper.dedup();
                Some(upper)
            }
            None => None,
        };
        let is_static = pattern.is_static();
        let key = pattern.source.clone();
        let entry = Entry {
            target: Target::Route { pattern, methods },
            endpoint,
            name: name.map(str::to_owned),
        };
        let index = self.push(entry)?;
        if is_static {
            self.statics.entry(key).or_default().push(index);
        } else {
            self.dynamic.push(index);
        }
        Ok(())
    }

    /// Registers a mount: every path equal to `prefix` or under `prefix + "/"` gives
    /// [`Lookup::Mount`] (unless an earlier route matches first). Trailing slashes are dropped
    /// from the prefix; "" (or "/") mounts everything. Prefixes cannot hold parameters.
    pub fn mount(
        &mut self,
        prefix: &str,
        endpoint: usize,
        name: Option<&str>,
    ) -> Result<(), RouteError> {
        let trimmed = prefix.trim_end_matches('/');
        if !(trimmed.is_empty() || trimmed.starts_with('/')) {
            return Err(RouteError(format!(
                "Invalid mount prefix '{prefix}': prefixes must start with '/'"
            )));
        }
        if trimmed.contains(['{', '}']) {
            return Err(RouteError(format!(
                "Invalid mount prefix '{prefix}': prefixes cannot have parameters"
            )));
        }
        let entry = Entry {
            target: Target::Mount {
                prefix: trimmed.to_owned(),
            },
            endpoint,
            name: name.map(str::to_owned),
        };
        let index = self.push(entry)?;
        self.dynamic.push(index);
        Ok(())
    }

    /// Checks names and conflicts, then stores the entry and returns its index.
    fn push(&mut self, entry: Entry) -> Result<usize, RouteError> {
        if let Some(earlier) = self.entries.iter().find(|e| entry.conflicts_with(e)) {
            let kind = match entry.target {
                Target::Route { .. } => "route",
                Target::Mount { .. } => "",
            };
            let message = format!(
                "{kind} {} conflicts with {} registered earlier",
                entry.describe(),
                earlier.describe()
            );
            return Err(RouteError(message.trim_start().to_owned()));
        }
        let index = self.entries.len();
        if let Some(name) = &entry.name {
            // Names may repeat (two handlers both called `list_items`); as in Starlette,
            // `url_path_for` builds the first route registered under a name.
            self.names.entry(name.clone()).or_insert(index);
        }
        self.entries.push(entry);
        Ok(index)
    }

    /// Finds what handles `method` on the (decoded) `path`.
    ///
    /// The first route in registration order that matches both path and method wins; HEAD
    /// matches GET routes. When routes match the path but not the method: `MethodNotAllowed`
    /// with the union of their methods. When nothing matches, `redirect_slashes` is on and the
    /// path is not "/", the path with its trailing slash toggled is tried: `Redirect` if that
    /// matches anything. Otherwise `NotFound`.
    pub fn lookup(&self, method: &str, path: &str) -> Lookup {
        let found = self.find(method, path);
        if found != Lookup::NotFound || !self.redirect_slashes || path == "/" || path.is_empty() {
            return found;
        }
        let toggled = match path.strip_suffix('/') {
            Some(stripped) => stripped.to_owned(),
            None => format!("{path}/"),
        };
        match self.find(method, &toggled) {
            Lookup::NotFound => Lookup::NotFound,
            _ => Lookup::Redirect {
                location_path: location_path(&toggled),
            },
        }
    }

    fn find(&self, method: &str, path: &str) -> Lookup {
        let statics = self.statics.get(path).map_or(&[][..], Vec::as_slice);
        let static_hit = statics
            .iter()
            .find_map(|&i| self.entries[i].accepts(method).map(|head| (i, head)));
        let limit = static_hit.map_or(usize::MAX, |(i, _)| i);
        for &i in self.dynamic.iter().take_while(|&&i| i < limit) {
            let entry = &self.entries[i];
            if let Some(head_from_get) = entry.accepts(method) {
                if let Some(found) = entry.match_path(path, head_from_get) {
                    return found;
                }
            }
        }
        if let Some((i, head_from_get)) = static_hit {
            return Lookup::Found {
                endpoint: self.entries[i].endpoint,
                params: Vec::new(),
                head_from_get,
            };
        }
        self.not_allowed(path, statics)
    }

    /// `MethodNotAllowed` with the methods of every route matching `path`, or `NotFound`.
    fn not_allowed(&self, path: &str, statics: &[usize]) -> Lookup {
        let dynamic = self
            .dynamic
            .iter()
            .filter(|&&i| match &self.entries[i].target {
                Target::Route { pattern, .. } => pattern.matches(path),
                Target::Mount { .. } => false,
            });
        let mut allow = BTreeSet::new();
        for &i in statics.iter().chain(dynamic) {
            if let Target::Route {
                methods: Some(methods),
                ..
            } = &self.entries[i].target
            {
                // WebSocket routes are not reachable by an HTTP method: they never show in Allow.
                allow.extend(
                    methods
                        .iter()
                        .map(String::as_str)
                        .filter(|m| *m != WEBSOCKET),
                );
            }
        }
        if allow.is_empty() {
            return Lookup::NotFound;
        }
        if allow.contains("GET") {
            allow.insert("HEAD");
        }
        Lookup::MethodNotAllowed {
            allow: allow.into_iter().collect::<Vec<_>>().join(", "),
        }
    }

    /// Builds the path of the route called `name` from string parameters, checking each
    /// against its converter and percent-encoding characters a path segment cannot hold
    /// (`/` is kept in `path` parameters).
    ///
    /// For a mount, the only parameter is an optional `path` appended to the prefix.
    pub fn url_path_for(&self, name: &str, params: &[(&str, &str)]) -> Result<String, RouteError> {
        let index = *self
            .names
            .get(name)
            .ok_or_else(|| RouteError(format!("No route named '{name}'")))?;
        match &self.entries[index].target {
            Target::Route { pattern, .. } => pattern.build(name, params),
            Target::Mount { prefix } => mount_path(name, prefix, params),
        }
    }

    /// The number of routes and mounts.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn mount_path(name: &str, prefix: &str, params: &[(&str, &str)]) -> Result<String, RouteError> {
    let mut rest = "";
    for &(key, value) in params {
        if key != "path" {
            return Err(RouteError(format!(
                "Route '{name}' has no parameter '{key}'"
            )));
        }
        if !(value.is_empty() || value.starts_with('/')) {
            return Err(RouteError(format!(
                "Parameter 'path' of mount '{name}' must start with '/': '{value}'"
            )));
        }
        rest = value;
    }
    let mut path = prefix.to_owned();
    pattern::encode_into(&mut path, rest, true);
    if path.is_empty() {
        path.push('/');
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(endpoint: usize) -> Lookup {
        Lookup::Found {
            endpoint,
            params: Vec::new(),
            head_from_get: false,
        }
    }

    fn router() -> Router {
        let mut r = Router::new(true);
        r.add("/", Some(&["GET"]), 0, Some("home")).unwrap();
        r.add("/users", Some(&["GET", "post"]), 1, Some("users"))
            .unwrap();
        r.add("/users/{id:int}", Some(&["GET"]), 2, Some("user"))
            .unwrap();
        r.add("/users/{id:int}", Some(&["DELETE"]), 3, None)
            .unwrap();
        r.add("/users/me", Some(&["GET"]), 4, None).unwrap();
        r.add("/docs/", None, 5, None).unwrap();
        r
    }

    #[test]
    fn static_routes() {
        let r = router();
        assert_eq!(r.lookup("GET", "/"), found(0));
        assert_eq!(r.lookup("POST", "/users"), found(1));
        assert_eq!(r.lookup("PATCH", "/docs/"), found(5));
        assert_eq!(r.lookup("GET", "/nope"), Lookup::NotFound);
        assert_eq!(r.len(), 6);
        assert!(!r.is_empty());
        assert!(Router::new(false).is_empty());
    }

    #[test]
    fn params_and_method_split() {
        let r = router();
        let expected = Lookup::Found {
            endpoint: 2,
            params: vec![("id".into(), ParamValue::Int(7))],
            head_from_get: false,
        };
        assert_eq!(r.lookup("GET", "/users/7"), expected);
        assert!(matches!(
            r.lookup("DELETE", "/users/7"),
            Lookup::Found { endpoint: 3, .. }
        ));
        assert_eq!(r.lookup("GET", "/users/me"), found(4));
    }

    #[test]
    fn first_match_in_registration_order() {
        let mut r = Router::new(false);
        r.add("/items/{name}", Some(&["GET"]), 0, None).unwrap();
        r.add("/items/special", Some(&["GET"]), 1, None).unwrap();
        r.add("/other/fixed", Some(&["GET"]), 2, None).unwrap();
        r.add("/other/{name}", Some(&["GET"]), 3, None).unwrap();
        assert!(matches!(
            r.lookup("GET", "/items/special"),
            Lookup::Found { endpoint: 0, .. }
        ));
        assert_eq!(r.lookup("GET", "/other/fixed"), found(2));
        assert!(matches!(
            r.lookup("GET", "/other/x"),
            Lookup::Found { endpoint: 3, .. }
        ));
        // A static route that refuses the method does not hide a later dynamic one.
        let mut r = Router::new(false);
        r.add("/a/b", Some(&["POST"]), 0, None).unwrap();
        r.add("/a/{x}", Some(&["GET"]), 1, None).unwrap();
        assert!(matches!(
            r.lookup("GET", "/a/b"),
            Lookup::Found { endpoint: 1, .. }
        ));
    }

    #[test]
    fn websocket_routes_match_only_their_pseudo_method() {
        let mut r = Router::new(true);
        r.add("/ws/{room}", Some(&[WEBSOCKET]), 1, None).unwrap();
        r.add("/both", Some(&[WEBSOCKET]), 2, None).unwrap();
        r.add("/both", Some(&["GET"]), 3, None).unwrap();
        assert!(matches!(
            r.lookup(WEBSOCKET, "/ws/a"),
            Lookup::Found { endpoint: 1, .. }
        ));
        assert_eq!(r.lookup("GET", "/ws/a"), Lookup::NotFound);
        assert!(matches!(
            r.lookup("GET", "/both"),
            Lookup::Found { endpoint: 3, .. }
        ));
        assert!(matches!(
            r.lookup(WEBSOCKET, "/both"),
            Lookup::Found { endpoint: 2, .. }
        ));
        assert_eq!(
            r.lookup("POST", "/both"),
            Lookup::MethodNotAllowed {
                allow: "GET, HEAD".into()
            }
        );
    }

    #[test]
    fn method_not_allowed_and_head() {
        let r = router();
        let allow = |s: &str| Lookup::MethodNotAllowed { allow: s.into() };
        assert_eq!(r.lookup("PUT", "/users"), allow("GET, HEAD, POST"));
        assert_eq!(r.lookup("PUT", "/users/3"), allow("DELETE, GET, HEAD"));
        let head = Lookup::Found {
            endpoint: 1,
            params: Vec::new(),
            head_from_get: true,
        };
        assert_eq!(r.lookup("HEAD", "/users"), head);
        let mut r = Router::new(false);
        r.add("/h", Some(&["HEAD", "GET"]), 9, None).unwrap();
        assert_eq!(r.lookup("HEAD", "/h"), found(9));
        r.add("/p", Some(&["POST"]), 8, None).unwrap();
        assert_eq!(r.lookup("HEAD", "/p"), allow("POST"));
    }

    #[test]
    fn trailing_slash_redirects() {
        let r = router();
        let redirect = |s: &str| Lookup::Redirect {
            location_path: s.into(),
        };
        assert_eq!(r.lookup("GET", "/users/"), redirect("/users"));
        assert_eq!(r.lookup("GET", "/docs"), redirect("/docs/"));
        assert_eq!(r.lookup("PUT", "/users/5/"), redirect("/users/5"));
        assert_eq!(r.lookup("GET", "/nothing/"), Lookup::NotFound);
        let mut r = Router::new(true);
        r.add("/{slug}/", None, 0, None).unwrap();
        assert_eq!(
            r.lookup("GET", "/\\evil.example"),
            redirect("/%5Cevil.example/")
        );
        assert_eq!(r.lookup("GET", "/a b%\u{e9}"), redirect("/a%20b%25%C3%A9/"));
        assert_eq!(location_path("//evil.example/"), "/evil.example/");
        assert_eq!(location_path("///\\evil.example/"), "/%5Cevil.example/");
        assert_eq!(location_path("/../a/./"), "/%2E%2E/a/%2E/");
        assert_eq!(location_path("/a..b/"), "/a..b/");
        let mut r = Router::new(true);
        r.add("/x", None, 0, None).unwrap();
        assert_eq!(r.lookup("GET", "/"), Lookup::NotFound);
        let mut r = Router::new(false);
        r.add("/x", None, 0, None).unwrap();
        assert_eq!(r.lookup("GET", "/x/"), Lookup::NotFound);
    }

    #[test]
    fn conflicts_and_names() {
        let mut r = Router::new(false);
        r.add("/users/{id}", Some(&["GET"]), 0, Some("user"))
            .unwrap();
        let e = r
            .add("/users/{uid}", Some(&["GET", "POST"]), 1, None)
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "route GET,POST /users/{uid} conflicts with GET /users/{id} registered earlier"
        );
        r.add("/users/{uid}", Some(&["POST"]), 1, None).unwrap();
        r.add("/users/{id:int}", Some(&["GET"]), 2, None).unwrap();
        assert!(r.add("/users/{x}", None, 3, None).is_err());
        // A repeated name is allowed; url_path_for keeps building the first route.
        r.add("/other", None, 4, Some("user")).unwrap();
        assert_eq!(r.url_path_for("user", &[("id", "7")]).unwrap(), "/users/7");
        assert!(r.add("/users/{a}/{a}", None, 5, None).is_err());
        assert!(r.add("/x", Some(&[]), 6, None).is_err());
        r.mount("/static", 7, None).unwrap();
        let e = r.mount("/static/", 8, None).unwrap_err();
        assert_eq!(
            e.0,
            "mount /static conflicts with mount /static registered earlier"
        );
        assert!(r.mount("static", 9, None).is_err());
        assert!(r.mount("/s/{x}", 9, None).is_err());
    }

    #[test]
    fn mounts() {
        let mut r = Router::new(true);
        r.add("/static/special", Some(&["GET"]), 0, None).unwrap();
        r.mount("/static", 1, Some("static")).unwrap();
        r.add("/static/late", Some(&["GET"]), 2, None).unwrap();
        let mount = |rest: &str| Lookup::Mount {
            endpoint: 1,
            root_path: "/static".into(),
            rest: rest.into(),
        };
        assert_eq!(r.lookup("GET", "/static/special"), found(0));
        assert_eq!(r.lookup("GET", "/static/late"), mount("/late"));
        assert_eq!(r.lookup("POST", "/static"), mount("/"));
        assert_eq!(r.lookup("GET", "/static/a/b"), mount("/a/b"));
        assert_eq!(r.lookup("GET", "/staticx"), Lookup::NotFound);
        r.mount("/", 3, Some("root")).unwrap();
        let root = Lookup::Mount {
            endpoint: 3,
            root_path: String::new(),
            rest: "/anything/else".into(),
        };
        assert_eq!(r.lookup("GET", "/anything/else"), root);
        assert_eq!(r.url_path_for("static", &[]).unwrap(), "/static");
        let css = r
            .url_path_for("static", &[("path", "/css/a b.css")])
            .unwrap();
        assert_eq!(css, "/static/css/a%20b.css");
        assert_eq!(r.url_path_for("root", &[]).unwrap(), "/");
        assert!(r.url_path_for("static", &[("x", "/a")]).is_err());
        assert!(r.url_path_for("static", &[("path", "a")]).is_err());
    }

    #[test]
    fn url_path_for() {
        let mut r = router();
        r.add("/f/{name}/{rest:path}", None, 9, Some("file"))
            .unwrap();
        assert_eq!(r.url_path_for("home", &[]).unwrap(), "/");
        assert_eq!(
            r.url_path_for("user", &[("id", "12")]).unwrap(),
            "/users/12"
        );
        let file = r.url_path_for("file", &[("name", "a?b"), ("rest", "x/y#z")]);
        assert_eq!(file.unwrap(), "/f/a%3Fb/x/y%23z");
        let err = |name, params: &[(&str, &str)]| r.url_path_for(name, params).unwrap_err().0;
        assert_eq!(err("nope", &[]), "No route named 'nope'");
        assert_eq!(err("user", &[]), "Route 'user' needs parameter 'id'");
        assert_eq!(
            err("user", &[("id", "1"), ("x", "2")]),
            "Route 'user' has no parameter 'x'"
        );
        assert_eq!(
            err("user", &[("id", "abc")]),
            "Parameter 'id' of route 'user' is not a valid int: 'abc'"
        );
    }

    #[test]
    fn pattern_errors_surface() {
        let mut r = Router::new(false);
        let e = r.add("/files/{name}.txt", None, 0, None).unwrap_err();
        assert!(e.0.contains("/files/{name}.txt") && e.0.contains("whole path segment"));
        assert!(r
            .add("/{x:foo}", None, 0, None)
            .unwrap_err()
            .0
            .contains("unknown converter"));
        assert!(r.is_empty());
    }
}
