//! CORS with the semantics of Starlette's `CORSMiddleware`.
//!
//! A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) is answered here:
//! 200 with the allow headers, or 400 naming what was not allowed (origin, method, headers,
//! private-network). Any other request goes on; its response gets `Vary: Origin` and, when the
//! request had an `Origin`, the allow-credentials/expose headers and the allowed origin (`*`,
//! or the request's origin echoed when only listed origins are allowed or credentials are).

use std::collections::BTreeSet;

use regex::bytes::Regex;

use super::{check_value, Added, Builder, Early, Head, Header, PolicyError, Stage};

/// Every method, for `allow_methods=["*"]`.
const ALL_METHODS: &[&str] = &[
    "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "QUERY",
];
/// Request headers a browser sends without asking, always allowed.
const SAFELISTED: &[&str] = &[
    "Accept",
    "Accept-Language",
    "Content-Language",
    "Content-Type",
];
const PREFLIGHT_VARY: &[u8] = b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers, Access-Control-Request-Private-Network";

/// The options of Starlette's `CORSMiddleware`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsConfig {
    /// Allowed origins, exactly as browsers send them; `*` allows any.
    pub allow_origins: Vec<String>,
    /// Methods a preflight may ask for; `*` allows all.
    pub allow_methods: Vec<String>,
    /// Request headers a preflight may ask for (besides the safelisted ones); `*` allows any.
    pub allow_headers: Vec<String>,
    /// Send `Access-Control-Allow-Credentials: true` (then `*` origins are echoed instead).
    pub allow_credentials: bool,
    /// A regular expression an origin may match in full instead of being listed.
    pub allow_origin_regex: Option<String>,
    /// Answer `Access-Control-Request-Private-Network` preflights positively.
    pub allow_private_network: bool,
    /// Response headers the browser may show to scripts.
    pub expose_headers: Vec<String>,
    /// How long (seconds) a browser may cache a preflight answer.
    pub max_age: u64,
}

impl Default for CorsConfig {
    fn default() -> Self {
        CorsConfig {
            allow_origins: Vec::new(),
            allow_methods: vec!["GET".into()],
            allow_headers: Vec::new(),
            allow_credentials: false,
            allow_origin_regex: None,
            allow_private_network: false,
            expose_headers: Vec::new(),
            max_age: 600,
        }
    }
}

/// The CORS stage.
#[derive(Debug)]
pub struct Cors {
    origins: Vec<String>,
    regex: Option<Regex>,
    methods: Vec<String>,
    /// Allowed request headers, lower-cased.
    headers: Vec<String>,
    allow_all_origins: bool,
    allow_all_headers: bool,
    allow_credentials: bool,
    allow_private_network: bool,
    /// Headers every preflight answer starts with.
    preflight: Vec<Header>,
    /// Fixed headers for a response to a request with an `Origin`.
    simple: u64,
    /// `Vary: Origin`, on every response.
    vary: u64,
}

impl Cors {
    /// Compiles the configuration; refuses a bad regex and header values with CR/LF.
    pub fn new(config: &CorsConfig, builder: &mut Builder) -> Result<Self, PolicyError> {
        let allow_all_origins = config.allow_origins.iter().any(|o| o == "*");
        let allow_all_headers = config.allow_headers.iter().any(|h| h == "*");
        let methods: Vec<String> = if config.allow_methods.iter().any(|m| m == "*") {
            ALL_METHODS.iter().map(|m| m.to_string()).collect()
        } else {
            config.allow_methods.clone()
        };
        let regex = match &config.allow_origin_regex {
            Some(pattern) => Some(Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
                PolicyError(format!("allow_origin_regex {pattern:?} is not valid: {e}"))
            })?),
            None => None,
        };
        let mut allowed: BTreeSet<&str> = SAFELISTED.iter().copied().collect();
        allowed.extend(config.allow_headers.iter().map(String::as_str));
        let allowed: Vec<&str> = allowed.into_iter().collect();

        let mut preflight: Vec<Header> = vec![("vary", PREFLIGHT_VARY.to_vec())];
        if allow_all_origins && !config.allow_credentials {
            preflight.push(("access-control-allow-origin", b"*".to_vec()));
        }
        let method_list = methods.join(", ");
        check_value("allow_methods", method_list.as_bytes())?;
        preflight.push(("access-control-allow-methods", method_list.into_bytes()));
        let max_age = config.max_age.to_string().into_bytes();
        preflight.push(("access-control-max-age", max_age));
        if !allow_all_headers {
            let list = allowed.join(", ");
            check_value("allow_headers", list.as_bytes())?;
            preflight.push(("access-control-allow-headers", list.into_bytes()));
        }
        if config.allow_credentials {
            preflight.push(("access-control-allow-credentials", b"true".to_vec()));
        }

        let mut simple = 0;
        if allow_all_origins && !config.allow_credentials {
            simple |= builder.fixed("access-control-allow-origin", b"*")?;
        }
        if config.allow_credentials {
            simple |= builder.fixed("access-control-allow-credentials", b"true")?;
        }
        if !config.expose_headers.is_empty() {
            let list = config.expose_headers.join(", ");
            let bit = builder.fixed("access-control-expose-headers", list.as_bytes());
            simple |= bit.map_err(|_| {
                PolicyError("expose_headers must not contain CR, LF or NUL characters".into())
            })?;
        }
        let vary = builder.fixed("vary", b"Origin")?;
        Ok(Cors {
            origins: config.allow_origins.clone(),
            regex,
            methods,
            headers: allowed.iter().map(|h| h.to_ascii_lowercase()).collect(),
            allow_all_origins,
            allow_all_headers,
            allow_credentials: config.allow_credentials,
            allow_private_network: config.allow_private_network,
            preflight,
            simple,
            vary,
        })
    }

    fn is_allowed_origin(&self, origin: &[u8]) -> bool {
        self.allow_all_origins
            || self.regex.as_ref().is_some_and(|r| r.is_match(origin))
            || self.origins.iter().any(|o| o.as_bytes() == origin)
    }

    /// The answer to a preflight request.
    fn preflight(&self, head: &Head<'_>, origin: &[u8], method: &[u8]) -> Early {
        let mut headers = self.preflight.clone();
        let mut failures: Vec<&str> = Vec::new();
        if self.is_allowed_origin(origin) {
            if !self.allow_all_origins || self.allow_credentials {
                headers.push(("access-control-allow-origin", origin.to_vec()));
            }
        } else {
            failures.push("origin");
        }
        if !self.methods.iter().any(|m| m.as_bytes() == method) {
            failures.push("method");
        }
        let requested = head.header("access-control-request-headers");
        match requested {
            Some(list) if self.allow_all_headers => {
                headers.push(("access-control-allow-headers", list.to_vec()));
            }
            Some(list) => {
                let allowed = |name: &[u8]| {
                    let name = name.trim_ascii();
                    self.headers
                        .iter()
                        .any(|h| name.eq_ignore_ascii_case(h.as_bytes()))
                };
                if !list.split(|&b| b == b',').all(allowed) {
                    failures.push("headers");
                }
            }
            None => {}
        }
        if head
            .header("access-control-request-private-network")
            .is_some()
        {
            if self.allow_private_network {
                headers.push(("access-control-allow-private-network", b"true".to_vec()));
            } else {
                failures.push("private-network");
            }
        }
        if failures.is_empty() {
            headers.push(("content-type", b"text/plain; charset=utf-8".to_vec()));
            return Early {
                status: 200,
                headers,
                body: b"OK".to_vec(),
                refused: None,
            };
        }
        let mut early = Early::refuse(400, format!("Disallowed CORS {}", failures.join(", ")));
        early.headers.extend(headers);
        early
    }
}

impl Stage for Cors {
    fn check(&self, head: &Head<'_>, added: &mut Added) -> Option<Early> {
        if let Some(origin) = head.header("origin") {
            if head.method == "OPTIONS" {
                if let Some(method) = head.header("access-control-request-method") {
                    return Some(self.preflight(head, origin, method));
                }
            }
            added.fixed |= self.simple;
            let echo = if self.allow_all_origins {
                self.allow_credentials
            } else {
                self.is_allowed_origin(origin)
            };
            if echo {
                added
                    .dynamic
                    .push(("access-control-allow-origin", origin.to_vec()));
            }
        }
        added.fixed |= self.vary;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Decision, Policy};
    use super::*;

    fn policy(config: CorsConfig) -> Policy {
        let mut b = Builder::new();
        let stage = Cors::new(&config, &mut b).unwrap();
        b.push(stage);
        b.build()
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// (status, headers as strings): 0 for a request that goes on.
    fn run(
        policy: &Policy,
        method: &str,
        headers: &[(&str, &str)],
    ) -> (u16, Vec<(String, String)>) {
        let headers: Vec<(String, Vec<u8>)> = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
            .collect();
        let text = |v: &[u8]| String::from_utf8(v.to_vec()).unwrap();
        match policy.check(&Head::new(method, "/", b"/", b"", &headers, false)) {
            Decision::Pass(added) => {
                let list = added.iter(policy).map(|(n, v)| (n.to_owned(), text(v)));
                (0, list.collect())
            }
            Decision::Answer(e) => {
                let list = e.headers.iter().map(|(n, v)| (n.to_string(), text(v)));
                (e.status, list.collect())
            }
        }
    }

    fn get<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn preflight<'a>(origin: &'a str, method: &'a str) -> Vec<(&'a str, &'a str)> {
        vec![
            ("origin", origin),
            ("access-control-request-method", method),
        ]
    }

    #[test]
    fn preflight_allowed_and_refused() {
        let p = policy(CorsConfig {
            allow_origins: strings(&["https://a.com"]),
            allow_methods: strings(&["GET", "POST"]),
            allow_headers: strings(&["X-Token"]),
            ..Default::default()
        });
        let (status, h) = run(&p, "OPTIONS", &preflight("https://a.com", "POST"));
        assert_eq!(status, 200);
        assert_eq!(
            get(&h, "access-control-allow-origin"),
            Some("https://a.com")
        );
        assert_eq!(get(&h, "access-control-allow-methods"), Some("GET, POST"));
        assert_eq!(
            get(&h, "access-control-allow-headers"),
            Some("Accept, Accept-Language, Content-Language, Content-Type, X-Token")
        );
        assert_eq!(get(&h, "access-control-max-age"), Some("600"));
        assert_eq!(
            run(&p, "OPTIONS", &preflight("https://b.com", "POST")).0,
            400
        );
        assert_eq!(
            run(&p, "OPTIONS", &preflight("https://a.com", "PUT")).0,
            400
        );
        let mut asks = preflight("https://a.com", "GET");
        asks.push(("access-control-request-headers", "x-token, content-type"));
        assert_eq!(run(&p, "OPTIONS", &asks).0, 200);
        asks[2].1 = "x-token, x-other";
        assert_eq!(run(&p, "OPTIONS", &asks).0, 400);
    }

    #[test]
    fn refusal_names_every_failure() {
        let p = policy(CorsConfig {
            allow_origins: strings(&["https://a.com"]),
            ..Default::default()
        });
        let headers = vec![
            ("origin".to_owned(), b"https://x.com".to_vec()),
            (
                "access-control-request-method".to_owned(),
                b"DELETE".to_vec(),
            ),
        ];
        match p.check(&Head::new("OPTIONS", "/", b"/", b"", &headers, false)) {
            Decision::Answer(e) => {
                assert_eq!(e.body, b"{\"detail\":\"Disallowed CORS origin, method\"}");
                assert_eq!(e.refused.as_deref(), Some("Disallowed CORS origin, method"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn simple_requests() {
        let listed = policy(CorsConfig {
            allow_origins: strings(&["https://a.com"]),
            expose_headers: strings(&["X-Total"]),
            ..Default::default()
        });
        let (status, h) = run(&listed, "GET", &[("origin", "https://a.com")]);
        assert_eq!(status, 0);
        assert_eq!(
            get(&h, "access-control-allow-origin"),
            Some("https://a.com")
        );
        assert_eq!(get(&h, "access-control-expose-headers"), Some("X-Total"));
        assert_eq!(get(&h, "vary"), Some("Origin"));
        let (_, h) = run(&listed, "GET", &[("origin", "https://evil.com")]);
        assert_eq!(get(&h, "access-control-allow-origin"), None);
        let (_, h) = run(&listed, "GET", &[]);
        assert_eq!(h, vec![("vary".to_owned(), "Origin".to_owned())]);

        let any = policy(CorsConfig {
            allow_origins: strings(&["*"]),
            ..Default::default()
        });
        let (_, h) = run(&any, "GET", &[("origin", "https://z.com")]);
        assert_eq!(get(&h, "access-control-allow-origin"), Some("*"));
    }

    #[test]
    fn wildcard_with_credentials_echoes_the_origin() {
        let p = policy(CorsConfig {
            allow_origins: strings(&["*"]),
            allow_credentials: true,
            ..Default::default()
        });
        let (_, h) = run(&p, "GET", &[("origin", "https://z.com")]);
        assert_eq!(
            get(&h, "access-control-allow-origin"),
            Some("https://z.com")
        );
        assert_eq!(get(&h, "access-control-allow-credentials"), Some("true"));
        let (status, h) = run(&p, "OPTIONS", &preflight("https://z.com", "GET"));
        assert_eq!(status, 200);
        assert_eq!(
            get(&h, "access-control-allow-origin"),
            Some("https://z.com")
        );
    }

    #[test]
    fn regex_must_match_the_whole_origin() {
        let p = policy(CorsConfig {
            allow_origin_regex: Some(r"https://.*\.example\.org".into()),
            ..Default::default()
        });
        let allowed = |o: &str| {
            let (_, h) = run(&p, "GET", &[("origin", o)]);
            get(&h, "access-control-allow-origin").is_some()
        };
        assert!(allowed("https://api.example.org"));
        assert!(!allowed("https://api.example.org.evil.com"));
        assert!(!allowed("http://api.example.org"));
        let bad = CorsConfig {
            allow_origin_regex: Some("(".into()),
            ..Default::default()
        };
        assert!(Cors::new(&bad, &mut Builder::new()).is_err());
    }

    #[test]
    fn any_header_is_mirrored_and_private_network_needs_consent() {
        let p = policy(CorsConfig {
            allow_origins: strings(&["*"]),
            allow_headers: strings(&["*"]),
            allow_methods: strings(&["*"]),
            ..Default::default()
        });
        let mut asks = preflight("https://a.com", "PATCH");
        asks.push(("access-control-request-headers", "X-Anything"));
        let (status, h) = run(&p, "OPTIONS", &asks);
        assert_eq!(status, 200);
        assert_eq!(get(&h, "access-control-allow-headers"), Some("X-Anything"));
        asks.push(("access-control-request-private-network", "true"));
        assert_eq!(run(&p, "OPTIONS", &asks).0, 400);
    }

    #[test]
    fn line_breaks_in_configured_values_are_refused() {
        let bad = CorsConfig {
            expose_headers: strings(&["X-A\r\nSet-Cookie: a=b"]),
            ..Default::default()
        };
        assert!(Cors::new(&bad, &mut Builder::new()).is_err());
    }
}
