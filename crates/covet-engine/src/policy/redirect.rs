//! HTTPS redirect: a request that did not come over https is sent to the same URL on https.
//!
//! Whether it came over https is the connection's scheme, or `X-Forwarded-Proto` when the app
//! says it runs behind a proxy that sets that header (`trust_forwarded_proto`): trusting it
//! otherwise would let any client skip the redirect.

use super::hosts::parse_host;
use super::{Added, Builder, Early, Head, PolicyError, Stage};

/// The https-redirect stage.
#[derive(Debug)]
pub struct HttpsRedirect {
    status: u16,
    trust_forwarded_proto: bool,
}

impl HttpsRedirect {
    /// `status` must be a redirect that keeps the method and body (307, 308) or 301/302.
    pub fn new(
        status: u16,
        trust_forwarded_proto: bool,
        _builder: &mut Builder,
    ) -> Result<Self, PolicyError> {
        if !matches!(status, 301 | 302 | 307 | 308) {
            return Err(PolicyError(format!(
                "HTTPS redirect status_code must be 301, 302, 307 or 308, not {status}"
            )));
        }
        Ok(HttpsRedirect {
            status,
            trust_forwarded_proto,
        })
    }
}

impl Stage for HttpsRedirect {
    fn check(&self, head: &Head<'_>, _added: &mut Added) -> Option<Early> {
        if head.is_secure(self.trust_forwarded_proto) {
            return None;
        }
        let header = head.header("host").unwrap_or_default();
        let Some((host, port)) = parse_host(header) else {
            return Some(Early::refuse(400, "Invalid host header"));
        };
        // The default ports name no port at all on https.
        let netloc = match port {
            Some(b"80") | Some(b"443") => host,
            _ => header,
        };
        let mut location = b"https://".to_vec();
        location.extend_from_slice(netloc);
        location.extend_from_slice(&head.target());
        Some(Early::redirect(self.status, location))
    }
}

#[cfg(test)]
mod tests {
    use super::super::Decision;
    use super::*;

    fn run(status: u16, trust: bool, headers: &[(&str, &str)], https: bool) -> Decision {
        let mut b = Builder::new();
        let stage = HttpsRedirect::new(status, trust, &mut b).unwrap();
        b.push(stage);
        let policy = b.build();
        let headers: Vec<(String, Vec<u8>)> = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
            .collect();
        policy.check(&Head::new("POST", "/x", b"/x", b"y=1", &headers, https))
    }

    fn location(d: Decision) -> (u16, String) {
        match d {
            Decision::Answer(e) => {
                let loc = e.headers.iter().find(|(n, _)| *n == "location");
                let loc = loc.map(|(_, v)| String::from_utf8(v.clone()).unwrap());
                (e.status, loc.unwrap_or_default())
            }
            Decision::Pass(_) => (200, String::new()),
        }
    }

    #[test]
    fn http_goes_to_https_without_default_ports() {
        let r = |host: &str| location(run(307, false, &[("host", host)], false));
        assert_eq!(r("example.com"), (307, "https://example.com/x?y=1".into()));
        assert_eq!(
            r("example.com:80"),
            (307, "https://example.com/x?y=1".into())
        );
        assert_eq!(
            r("example.com:8443"),
            (307, "https://example.com:8443/x?y=1".into())
        );
        let permanent = location(run(308, false, &[("host", "a.io")], false));
        assert_eq!(permanent, (308, "https://a.io/x?y=1".into()));
    }

    #[test]
    fn https_passes_and_forwarded_proto_only_when_trusted() {
        assert_eq!(location(run(307, false, &[("host", "a.io")], true)).0, 200);
        let fwd = [("host", "a.io"), ("x-forwarded-proto", "https")];
        assert_eq!(location(run(307, false, &fwd, false)).0, 307);
        assert_eq!(location(run(307, true, &fwd, false)).0, 200);
    }

    #[test]
    fn a_missing_or_bad_host_is_refused() {
        assert_eq!(location(run(307, false, &[], false)).0, 400);
        assert_eq!(location(run(307, false, &[("host", "a b")], false)).0, 400);
    }

    #[test]
    fn only_redirect_statuses() {
        assert!(HttpsRedirect::new(200, false, &mut Builder::new()).is_err());
    }
}
