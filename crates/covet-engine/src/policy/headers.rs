//! Security headers added to every response: HSTS (on https only), CSP, nosniff, frame,
//! referrer, permissions and opener policies. Each is a fixed header, chosen per request by a
//! bit, so the stage costs a branch and the bytes written.

use super::{Added, Builder, Early, Head, PolicyError, Stage};

/// Which security headers to send; `None`/`false` leaves a header out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityConfig {
    /// `Strict-Transport-Security: max-age=N`, sent on https responses only; `None`: off.
    pub hsts_max_age: Option<u64>,
    /// Adds `; includeSubDomains` to HSTS.
    pub hsts_include_subdomains: bool,
    /// Adds `; preload` to HSTS.
    pub hsts_preload: bool,
    /// `Content-Security-Policy`.
    pub content_security_policy: Option<String>,
    /// `X-Content-Type-Options: nosniff`.
    pub content_type_nosniff: bool,
    /// `X-Frame-Options`.
    pub frame_options: Option<String>,
    /// `Referrer-Policy`.
    pub referrer_policy: Option<String>,
    /// `Permissions-Policy`.
    pub permissions_policy: Option<String>,
    /// `Cross-Origin-Opener-Policy`.
    pub cross_origin_opener_policy: Option<String>,
    /// Take `X-Forwarded-Proto: https` as https (behind a proxy that sets it).
    pub trust_forwarded_proto: bool,
}

impl Default for SecurityConfig {
    /// Safe defaults that break no ordinary page (no CSP, which depends on the site).
    fn default() -> Self {
        SecurityConfig {
            hsts_max_age: Some(31_536_000),
            hsts_include_subdomains: true,
            hsts_preload: false,
            content_security_policy: None,
            content_type_nosniff: true,
            frame_options: Some("DENY".into()),
            referrer_policy: Some("strict-origin-when-cross-origin".into()),
            permissions_policy: None,
            cross_origin_opener_policy: Some("same-origin".into()),
            trust_forwarded_proto: false,
        }
    }
}

/// The security-headers stage.
#[derive(Debug)]
pub struct SecurityHeaders {
    always: u64,
    https_only: u64,
    trust_forwarded_proto: bool,
}

impl SecurityHeaders {
    /// Registers the configured headers with `builder`; refuses values with CR/LF.
    pub fn new(config: &SecurityConfig, builder: &mut Builder) -> Result<Self, PolicyError> {
        let mut always = 0;
        let optional = [
            ("content-security-policy", &config.content_security_policy),
            ("x-frame-options", &config.frame_options),
            ("referrer-policy", &config.referrer_policy),
            ("permissions-policy", &config.permissions_policy),
            (
                "cross-origin-opener-policy",
                &config.cross_origin_opener_policy,
            ),
        ];
        if config.content_type_nosniff {
            always |= builder.fixed("x-content-type-options", b"nosniff")?;
        }
        for (name, value) in optional {
            if let Some(value) = value {
                always |= builder.fixed(name, value.as_bytes())?;
            }
        }
        let mut https_only = 0;
        if let Some(max_age) = config.hsts_max_age {
            let mut value = format!("max-age={max_age}");
            if config.hsts_include_subdomains {
                value.push_str("; includeSubDomains");
            }
            if config.hsts_preload {
                value.push_str("; preload");
            }
            https_only = builder.fixed("strict-transport-security", value.as_bytes())?;
        }
        Ok(SecurityHeaders {
            always,
            https_only,
            trust_forwarded_proto: config.trust_forwarded_proto,
        })
    }
}

impl Stage for SecurityHeaders {
    fn check(&self, head: &Head<'_>, added: &mut Added) -> Option<Early> {
        added.fixed |= self.always;
        if self.https_only != 0 && head.is_secure(self.trust_forwarded_proto) {
            added.fixed |= self.https_only;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Decision, Policy};
    use super::*;

    fn policy(config: &SecurityConfig) -> Policy {
        let mut b = Builder::new();
        let stage = SecurityHeaders::new(config, &mut b).unwrap();
        b.push(stage);
        b.build()
    }

    fn names(policy: &Policy, head: &Head<'_>) -> Vec<(String, String)> {
        let Decision::Pass(added) = policy.check(head) else {
            panic!("security headers never answer")
        };
        added
            .iter(policy)
            .map(|(n, v)| (n.to_owned(), String::from_utf8(v.to_vec()).unwrap()))
            .collect()
    }

    #[test]
    fn defaults_without_hsts_on_http() {
        let p = policy(&SecurityConfig::default());
        let got = names(&p, &Head::new("GET", "/", b"/", b"", &[], false));
        let expected = [
            ("x-content-type-options", "nosniff"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "strict-origin-when-cross-origin"),
            ("cross-origin-opener-policy", "same-origin"),
        ];
        let expected: Vec<_> = expected
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn hsts_on_https_and_trusted_forwarded_proto() {
        let config = SecurityConfig {
            hsts_preload: true,
            ..Default::default()
        };
        let p = policy(&config);
        let hsts = |head: &Head<'_>| {
            names(&p, head)
                .into_iter()
                .find(|(n, _)| n == "strict-transport-security")
                .map(|(_, v)| v)
        };
        assert_eq!(
            hsts(&Head::new("GET", "/", b"/", b"", &[], true)).as_deref(),
            Some("max-age=31536000; includeSubDomains; preload")
        );
        let fwd = vec![("x-forwarded-proto".to_owned(), b"https".to_vec())];
        assert_eq!(hsts(&Head::new("GET", "/", b"/", b"", &fwd, false)), None);
        let trusting = policy(&SecurityConfig {
            trust_forwarded_proto: true,
            ..Default::default()
        });
        let Decision::Pass(added) = trusting.check(&Head::new("GET", "/", b"/", b"", &fwd, false))
        else {
            panic!()
        };
        assert!(added
            .iter(&trusting)
            .any(|(n, _)| n == "strict-transport-security"));
    }

    #[test]
    fn everything_off_adds_nothing() {
        let config = SecurityConfig {
            hsts_max_age: None,
            content_type_nosniff: false,
            frame_options: None,
            referrer_policy: None,
            cross_origin_opener_policy: None,
            ..Default::default()
        };
        let p = policy(&config);
        assert!(names(&p, &Head::new("GET", "/", b"/", b"", &[], true)).is_empty());
    }

    #[test]
    fn csp_with_a_line_break_is_refused() {
        let config = SecurityConfig {
            content_security_policy: Some("default-src 'self'\r\nx: y".into()),
            ..Default::default()
        };
        let err = SecurityHeaders::new(&config, &mut Builder::new()).unwrap_err();
        assert!(err.0.contains("content-security-policy"), "{err}");
    }
}
