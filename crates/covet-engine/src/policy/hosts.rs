//! Trusted hosts: requests whose `Host` is not one of the allowed names are refused (400), or
//! sent to `www.` + the host when only that name is allowed.
//!
//! Patterns as Starlette's `TrustedHostMiddleware` takes them: an exact name, `*.example.com`
//! (any subdomain, not the bare domain), or `*` (anything). Names compare case-insensitively.
//! A request with more than one `Host` is refused.

use std::net::Ipv6Addr;

use super::{Added, Builder, Early, Head, PolicyError, Stage};

/// The trusted-host stage.
#[derive(Debug)]
pub struct TrustedHosts {
    /// Lower-case patterns; empty when any host is allowed.
    patterns: Vec<String>,
    www_redirect: bool,
}

impl TrustedHosts {
    /// Checks the patterns: a wildcard is only allowed as a leading `*.` (or `*` alone).
    pub fn new(
        allowed_hosts: &[String],
        www_redirect: bool,
        _builder: &mut Builder,
    ) -> Result<Self, PolicyError> {
        for pattern in allowed_hosts {
            let misplaced = pattern.get(1..).is_some_and(|rest| rest.contains('*'));
            let bad_lead = pattern.starts_with('*') && pattern != "*" && !pattern.starts_with("*.");
            if misplaced || bad_lead {
                return Err(PolicyError(format!(
                    "allowed host {pattern:?}: a wildcard must be a whole leading label, like '*.example.com'"
                )));
            }
        }
        let any = allowed_hosts.iter().any(|p| p == "*");
        let patterns = if any {
            Vec::new()
        } else {
            allowed_hosts
                .iter()
                .map(|p| p.to_ascii_lowercase())
                .collect()
        };
        Ok(TrustedHosts {
            patterns,
            www_redirect,
        })
    }

    /// True when every host is allowed (the stage then has nothing to do).
    pub fn allows_any(&self) -> bool {
        self.patterns.is_empty()
    }
}

impl Stage for TrustedHosts {
    fn check(&self, head: &Head<'_>, _added: &mut Added) -> Option<Early> {
        if self.allows_any() {
            return None;
        }
        // RFC 9112 3.2: more than one Host is refused; covet's parser already does, this
        // covers ASGI servers that pass both through. (With an absolute-form target covet's
        // parser has put the target's authority in the Host header: that is what is checked.)
        let hosts = head.headers.iter().filter(|(name, _)| name == "host");
        if hosts.count() > 1 {
            return Some(Early::refuse(400, "Invalid host header"));
        }
        let header = head.header("host");
        let Some((host, _port)) = header.and_then(parse_host) else {
            return Some(Early::refuse(400, "Invalid host header"));
        };
        let mut www = false;
        for pattern in &self.patterns {
            let p = pattern.as_bytes();
            if host.eq_ignore_ascii_case(p) || wildcard_match(p, host) {
                return None;
            }
            www |= p.len() == host.len() + 4
                && p.starts_with(b"www.")
                && p[4..].eq_ignore_ascii_case(host);
        }
        if www && self.www_redirect {
            let scheme: &[u8] = if head.https {
                b"https://www."
            } else {
                b"http://www."
            };
            let mut location = scheme.to_vec();
            location.extend_from_slice(header.unwrap_or_default());
            location.extend_from_slice(&head.target());
            return Some(Early::redirect(307, location));
        }
        Some(Early::refuse(400, "Invalid host header"))
    }
}

/// `*.example.com` matches `a.example.com` and `a.b.example.com`, not `example.com`.
fn wildcard_match(pattern: &[u8], host: &[u8]) -> bool {
    let Some(suffix) = pattern.strip_prefix(b"*") else {
        return false;
    };
    host.len() > suffix.len() && host[host.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// Splits a `Host` value into host and port, or None when it is not a valid authority (a
/// character that could change the URL's meaning, a bad IPv6 literal, a non-numeric port).
pub fn parse_host(value: &[u8]) -> Option<(&[u8], Option<&[u8]>)> {
    let (host, rest) = if value.first() == Some(&b'[') {
        let end = value.iter().position(|&b| b == b']')?;
        let inner = std::str::from_utf8(&value[1..end]).ok()?;
        inner.parse::<Ipv6Addr>().ok()?;
        (&value[..=end], &value[end + 1..])
    } else {
        let end = value.iter().position(|&b| b == b':').unwrap_or(value.len());
        let host = &value[..end];
        if host.is_empty() || !host.iter().all(|&b| is_reg_name(b)) {
            return None;
        }
        (host, &value[end..])
    };
    let port = match rest {
        [] => None,
        [b':', digits @ ..] if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) => {
            Some(digits)
        }
        _ => return None,
    };
    Some((host, port))
}

fn is_reg_name(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"._~%!$&'()*+,;=-".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::super::Decision;
    use super::*;

    fn run(allowed: &[&str], www: bool, host: Option<&str>) -> Decision {
        let allowed: Vec<String> = allowed.iter().map(|s| s.to_string()).collect();
        let mut b = Builder::new();
        let stage = TrustedHosts::new(&allowed, www, &mut b).unwrap();
        b.push(stage);
        let policy = b.build();
        let headers: Vec<(String, Vec<u8>)> = host
            .map(|h| ("host".to_owned(), h.as_bytes().to_vec()))
            .into_iter()
            .collect();
        policy.check(&Head::new(
            "GET", "/a%20b", b"/a%20b", b"q=1", &headers, false,
        ))
    }

    fn status(d: &Decision) -> u16 {
        match d {
            Decision::Pass(_) => 200,
            Decision::Answer(e) => e.status,
        }
    }

    #[test]
    fn exact_and_wildcard_names() {
        let allowed = ["example.com", "*.example.org"];
        assert_eq!(status(&run(&allowed, true, Some("example.com"))), 200);
        assert_eq!(status(&run(&allowed, true, Some("EXAMPLE.com:8000"))), 200);
        assert_eq!(status(&run(&allowed, true, Some("api.example.org"))), 200);
        assert_eq!(status(&run(&allowed, true, Some("a.b.example.org"))), 200);
        assert_eq!(status(&run(&allowed, true, Some("example.org"))), 400);
        assert_eq!(status(&run(&allowed, true, Some("evil.com"))), 400);
        assert_eq!(status(&run(&allowed, true, Some("example.com.evil"))), 400);
        assert_eq!(status(&run(&allowed, true, None)), 400);
        assert_eq!(status(&run(&allowed, true, Some("exa/mple.com"))), 400);
        assert_eq!(status(&run(&["*"], true, None)), 200);
    }

    /// Issue 14: under an ASGI server that passes two Host headers through, the stage must
    /// not let the first one vouch for the request.
    #[test]
    fn two_host_headers_are_refused() {
        let allowed = vec!["example.com".to_owned()];
        let mut b = Builder::new();
        let stage = TrustedHosts::new(&allowed, true, &mut b).unwrap();
        b.push(stage);
        let policy = b.build();
        let headers = vec![
            ("host".to_owned(), b"example.com".to_vec()),
            ("host".to_owned(), b"evil.com".to_vec()),
        ];
        let head = Head::new("GET", "/", b"/", b"", &headers, false);
        assert_eq!(status(&policy.check(&head)), 400);
    }

    #[test]
    fn www_redirect_keeps_port_path_and_query() {
        match run(&["www.example.com"], true, Some("example.com:8080")) {
            Decision::Answer(e) => {
                assert_eq!(e.status, 307);
                assert_eq!(
                    e.headers,
                    vec![(
                        "location",
                        b"http://www.example.com:8080/a%20b?q=1".to_vec()
                    )]
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            status(&run(&["www.example.com"], false, Some("example.com"))),
            400
        );
    }

    #[test]
    fn misplaced_wildcards_are_refused() {
        for bad in ["example.*", "*example.com", "a.*.com"] {
            let err = TrustedHosts::new(&[bad.to_owned()], true, &mut Builder::new());
            assert!(err.is_err(), "{bad}");
        }
    }

    #[test]
    fn host_parsing() {
        assert_eq!(
            parse_host(b"a.com:80"),
            Some((&b"a.com"[..], Some(&b"80"[..])))
        );
        assert_eq!(
            parse_host(b"[::1]:8000"),
            Some((&b"[::1]"[..], Some(&b"8000"[..])))
        );
        assert_eq!(parse_host(b"[zz]"), None);
        assert_eq!(parse_host(b"a.com:"), None);
        assert_eq!(parse_host(b"a.com:8x"), None);
        assert_eq!(parse_host(b""), None);
        assert_eq!(parse_host(b"a@b"), None);
    }
}
