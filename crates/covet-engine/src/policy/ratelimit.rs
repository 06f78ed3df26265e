//! Rate limiting as a policy stage: every request not on an exempt path is counted, by a key
//! the engine computes from the request head (one bucket for all, the client's address, or an
//! API key header), against a [`RateLimiter`](crate::ratelimit::RateLimiter).
//!
//! An allowed request's response gets the IETF draft `RateLimit-*` headers; a refused one is
//! answered here with 429, `Retry-After`, the same headers and `{"detail": ...}`.
//!
//! The stage reads time from the clock it is given (the binding passes a monotonic one), so the
//! engine itself stays free of clocks and tests can move time.

use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use super::{check_value, Added, Early, Head, PolicyError, Stage};
use crate::ratelimit::{Decision, Quota, RateLimiter};

/// Monotonic time since any fixed origin.
pub type Clock = Box<dyn Fn() -> Duration + Send + Sync>;

/// Who a request counts against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientKey {
    /// One bucket for every client.
    Global,
    /// The client's address (see [`IpKey`]).
    Ip(IpKey),
    /// The value of an API key header; without one, the fallback (or no limit at all).
    ApiKey {
        /// The header, lower-case.
        header: String,
        /// What a request without the header is counted by.
        fallback: Option<Box<ClientKey>>,
    },
}

/// The client's address: the peer, or, when the peer is a trusted proxy, the right-most
/// address of the forwarding header that no trusted proxy owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpKey {
    /// None: every peer is trusted ("*"); otherwise the trusted networks.
    pub trusted: Option<Vec<Network>>,
    /// The forwarding header, lower-case (`x-forwarded-for`).
    pub header: String,
    /// IPv6 clients are counted by this prefix (a host usually holds a whole /64).
    pub ipv6_prefix: u8,
}

/// An IP network: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    /// Reads "10.0.0.0/8", "2001:db8::/32" or a lone address (a network of one).
    pub fn parse(spec: &str) -> Result<Network, PolicyError> {
        let bad = || {
            PolicyError(format!(
                "trusted_proxies: {spec:?} is not an IP address or network (e.g. '10.0.0.0/8')"
            ))
        };
        let spec = spec.trim();
        let (addr, prefix) = match spec.split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| bad())?)),
            None => (spec, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let addr = unmap(addr);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(Network { addr, prefix })
    }

    /// Whether `ip` is inside the network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                mask(u128::from(u32::from(net)) << 96, self.prefix)
                    == mask(u128::from(u32::from(ip)) << 96, self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                mask(u128::from(net), self.prefix) == mask(u128::from(ip), self.prefix)
            }
            _ => false,
        }
    }
}

fn mask(bits: u128, prefix: u8) -> u128 {
    match prefix {
        0 => 0,
        p if p >= 128 => bits,
        p => bits & !(u128::MAX >> p),
    }
}

/// An IPv4-mapped IPv6 address is its IPv4 address.
fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// An address as peers and proxies write it: bare, `v4:port` or `[v6]:port`.
fn parse_ip(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    let text = if let Some(rest) = text.strip_prefix('[') {
        &rest[..rest.find(']')?]
    } else if text.matches(':').count() == 1 {
        text.split(':').next().unwrap_or(text)
    } else {
        text
    };
    text.parse().ok().map(unmap)
}

impl IpKey {
    fn is_trusted(&self, text: &str) -> bool {
        match &self.trusted {
            None => true,
            Some(nets) => parse_ip(text).is_some_and(|ip| nets.iter().any(|n| n.contains(ip))),
        }
    }

    /// Writes the client's address, normalized, after `ip:`.
    fn write(&self, head: &Head<'_>, out: &mut Vec<u8>) {
        let peer = head.client.unwrap_or("");
        let untrusted_peer = match &self.trusted {
            Some(nets) => nets.is_empty() || !self.is_trusted(peer),
            None => false,
        };
        if peer.is_empty() || untrusted_peer {
            return self.normalize(peer, out);
        }
        let hops = head
            .headers
            .iter()
            .filter(|(name, _)| *name == self.header)
            .flat_map(|(_, value)| value.split(|&b| b == b','))
            .filter_map(|hop| std::str::from_utf8(hop.trim_ascii()).ok())
            .filter(|hop| !hop.is_empty());
        let mut first = None;
        let mut client = None;
        for hop in hops {
            first.get_or_insert(hop);
            if !self.is_trusted(hop) {
                client = Some(hop); // the last untrusted one wins: read right to left
            }
        }
        self.normalize(client.or(first).unwrap_or(peer), out);
    }

    fn normalize(&self, address: &str, out: &mut Vec<u8>) {
        use std::io::Write;
        out.extend_from_slice(b"ip:");
        match parse_ip(address) {
            Some(IpAddr::V6(v6)) if self.ipv6_prefix < 128 => {
                let net = Ipv6Addr::from(mask(u128::from(v6), self.ipv6_prefix));
                let _ = write!(out, "{net}/{}", self.ipv6_prefix);
            }
            Some(ip) => {
                let _ = write!(out, "{ip}");
            }
            // Not an address (a test client, a unix socket): as is, bounded.
            None => out.extend(address.trim().bytes().take(100)),
        }
    }
}

impl ClientKey {
    /// Writes the bucket key; false when the request is not limited (no API key, no fallback).
    fn write(&self, head: &Head<'_>, out: &mut Vec<u8>) -> bool {
        match self {
            ClientKey::Global => out.push(b'*'),
            ClientKey::Ip(ip) => ip.write(head, out),
            ClientKey::ApiKey { header, fallback } => match head.header(header) {
                Some(value) if !value.is_empty() => {
                    // A digest, so a long header cannot make the table large.
                    out.extend_from_slice(b"key:");
                    out.extend_from_slice(&sha256(value));
                }
                _ => return fallback.as_ref().is_some_and(|f| f.write(head, out)),
            },
        }
        true
    }
}

fn sha256(value: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(value).into()
}

/// What a [`RateLimit`] stage is built from.
#[derive(Debug, Clone)]
pub struct RateLimitConfig {
    /// Requests allowed per period, at most `burst` at once.
    pub quota: Quota,
    /// About how many keys are remembered (see [`RateLimiter`]).
    pub max_keys: usize,
    /// Who a request counts against.
    pub key: ClientKey,
    /// Paths not counted: exactly these, or below them ("/static" covers "/static/app.css").
    pub exempt: Vec<String>,
    /// Whether allowed responses get the `RateLimit-*` headers.
    pub headers: bool,
    /// The refusal's `detail` ("Rate limit exceeded: 100 per minute").
    pub detail: String,
    /// The `RateLimit-Policy` value ("100;w=60").
    pub policy: String,
}

/// The rate-limit stage.
pub struct RateLimit {
    limiter: RateLimiter,
    key: ClientKey,
    exempt: Vec<String>,
    headers: bool,
    body: Vec<u8>,
    policy: Vec<u8>,
    clock: Clock,
}

impl std::fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimit")
            .field("quota", self.limiter.quota())
            .field("key", &self.key)
            .field("exempt", &self.exempt)
            .finish_non_exhaustive()
    }
}

impl RateLimit {
    /// The stage; `clock` gives the time each check is made at.
    pub fn new(config: RateLimitConfig, clock: Clock) -> Result<RateLimit, PolicyError> {
        check_value("the rate-limit policy", config.policy.as_bytes())?;
        let body = serde_json::to_vec(&serde_json::json!({ "detail": config.detail }))
            .map_err(|e| PolicyError(e.to_string()))?;
        let exempt = config
            .exempt
            .iter()
            .map(|p| match p.trim_end_matches('/') {
                "" => "/".to_owned(),
                p => p.to_owned(),
            })
            .collect();
        Ok(RateLimit {
            limiter: RateLimiter::new(config.quota, config.max_keys),
            key: config.key,
            exempt,
            headers: config.headers,
            body,
            policy: config.policy.into_bytes(),
            clock,
        })
    }

    fn is_exempt(&self, path: &str) -> bool {
        self.exempt.iter().any(|p| {
            path == p
                || (p != "/"
                    && path.len() > p.len()
                    && path.starts_with(p.as_str())
                    && path.as_bytes()[p.len()] == b'/')
        })
    }

    fn quota_headers(&self, d: &Decision, out: &mut Vec<(&'static str, Vec<u8>)>) {
        out.push(("ratelimit-limit", number(d.limit)));
        out.push(("ratelimit-remaining", number(d.remaining)));
        out.push(("ratelimit-reset", number(d.reset_secs())));
        out.push(("ratelimit-policy", self.policy.clone()));
    }

    fn refusal(&self, d: &Decision) -> Early {
        let mut headers = Vec::with_capacity(6);
        self.quota_headers(d, &mut headers);
        headers.push(("retry-after", number(d.retry_after_secs())));
        headers.push(("content-type", b"application/json".to_vec()));
        Early {
            status: 429,
            headers,
            body: self.body.clone(),
            // Not logged per request, as on the Python path: a flood would flood the log too.
            refused: None,
        }
    }
}

fn number(n: u64) -> Vec<u8> {
    itoa::Buffer::new().format(n).as_bytes().to_vec()
}

impl Stage for RateLimit {
    fn check(&self, head: &Head<'_>, added: &mut Added) -> Option<Early> {
        if !self.exempt.is_empty() && self.is_exempt(head.path) {
            return None;
        }
        let mut key = Vec::with_capacity(48);
        if !self.key.write(head, &mut key) {
            return None;
        }
        let decision = self.limiter.check(&key, 1, (self.clock)());
        if !decision.allowed {
            return Some(self.refusal(&decision));
        }
        if self.headers {
            self.quota_headers(&decision, &mut added.dynamic);
        }
        None
    }

    fn wants_client(&self) -> bool {
        fn needs(key: &ClientKey) -> bool {
            match key {
                ClientKey::Global => false,
                ClientKey::Ip(_) => true,
                ClientKey::ApiKey { fallback, .. } => fallback.as_deref().is_some_and(needs),
            }
        }
        needs(&self.key)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    use super::*;
    use crate::policy::{Builder, Decision as Verdict};

    fn ip_key(trusted: Option<&[&str]>) -> ClientKey {
        ClientKey::Ip(IpKey {
            trusted: trusted.map(|t| t.iter().map(|s| Network::parse(s).unwrap()).collect()),
            header: "x-forwarded-for".into(),
            ipv6_prefix: 64,
        })
    }

    fn key_of(key: &ClientKey, client: &str, headers: &[(String, Vec<u8>)]) -> Option<String> {
        let mut head = Head::new("GET", "/", b"/", b"", headers, false);
        head.client = Some(client);
        let mut out = Vec::new();
        key.write(&head, &mut out)
            .then(|| String::from_utf8_lossy(&out).into_owned())
    }

    fn xff(value: &str) -> Vec<(String, Vec<u8>)> {
        vec![("x-forwarded-for".into(), value.as_bytes().to_vec())]
    }

    #[test]
    fn the_forwarding_header_counts_only_from_trusted_proxies() {
        let untrusting = ip_key(Some(&[]));
        let spoof = xff("1.2.3.4");
        assert_eq!(
            key_of(&untrusting, "10.0.0.1", &spoof).unwrap(),
            "ip:10.0.0.1"
        );
        let proxied = ip_key(Some(&["10.0.0.0/8"]));
        let hops = xff("6.6.6.6, 203.0.113.9, 10.0.0.7");
        assert_eq!(
            key_of(&proxied, "10.0.0.1", &hops).unwrap(),
            "ip:203.0.113.9"
        );
        assert_eq!(
            key_of(&proxied, "8.8.8.8", &hops).unwrap(),
            "ip:8.8.8.8",
            "an untrusted peer's header is ignored"
        );
        assert_eq!(
            key_of(&proxied, "10.0.0.1", &xff("10.1.1.1")).unwrap(),
            "ip:10.1.1.1",
            "all hops trusted: the first one"
        );
        assert_eq!(
            key_of(&ip_key(None), "1.1.1.1", &xff("[2001:db8::1]:443")).unwrap(),
            "ip:2001:db8::/64"
        );
    }

    #[test]
    fn addresses_are_normalized() {
        let key = ip_key(Some(&[]));
        assert_eq!(key_of(&key, "::ffff:1.2.3.4", &[]).unwrap(), "ip:1.2.3.4");
        assert_eq!(
            key_of(&key, "2001:db8:0:0:1::5", &[]).unwrap(),
            "ip:2001:db8::/64"
        );
        assert_eq!(key_of(&key, "testclient", &[]).unwrap(), "ip:testclient");
        assert!(Network::parse("10.0.0.0/33").is_err());
        assert!(Network::parse("nope").is_err());
        assert!(Network::parse("::1")
            .unwrap()
            .contains("::1".parse().unwrap()));
    }

    #[test]
    fn api_keys_are_hashed_and_fall_back() {
        let key = ClientKey::ApiKey {
            header: "x-api-key".into(),
            fallback: None,
        };
        assert_eq!(
            key_of(&key, "1.1.1.1", &[]),
            None,
            "no key, no fallback: unlimited"
        );
        let with = vec![("x-api-key".to_owned(), b"secret".to_vec())];
        let written = key_of(&key, "1.1.1.1", &with).unwrap();
        assert!(written.starts_with("key:") && !written.contains("secret"));
        let key = ClientKey::ApiKey {
            header: "x-api-key".into(),
            fallback: Some(Box::new(ip_key(Some(&[])))),
        };
        assert_eq!(key_of(&key, "1.1.1.1", &[]).unwrap(), "ip:1.1.1.1");
    }

    #[test]
    fn burst_then_429_with_headers_and_exempt_paths() {
        let now = Arc::new(AtomicU64::new(1_000));
        let clock_now = now.clone();
        let config = RateLimitConfig {
            quota: Quota::new(2, Duration::from_secs(60), 2).unwrap(),
            max_keys: 100,
            key: ClientKey::Global,
            exempt: vec!["/health/".into()],
            headers: true,
            detail: "Rate limit exceeded: 2 per minute".into(),
            policy: "2;w=60".into(),
        };
        let clock = Box::new(move || Duration::from_secs(clock_now.load(Ordering::Relaxed)));
        let mut builder = Builder::new();
        builder.push(RateLimit::new(config, clock).unwrap());
        let policy = builder.build();
        assert!(!policy.wants_client());
        let check = |path: &str| policy.check(&Head::new("GET", path, b"/", b"", &[], false));
        let Verdict::Pass(added) = check("/a") else {
            panic!()
        };
        let remaining = added
            .dynamic
            .iter()
            .find(|(n, _)| *n == "ratelimit-remaining");
        assert_eq!(remaining.unwrap().1, b"1");
        assert!(matches!(check("/a"), Verdict::Pass(_)));
        match check("/b") {
            Verdict::Answer(e) => {
                assert_eq!(e.status, 429);
                assert_eq!(e.body, br#"{"detail":"Rate limit exceeded: 2 per minute"}"#);
                assert!(e.headers.contains(&("retry-after", b"30".to_vec())));
                assert!(e
                    .headers
                    .contains(&("ratelimit-policy", b"2;w=60".to_vec())));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(check("/health"), Verdict::Pass(Added::default()));
        assert_eq!(check("/health/db"), Verdict::Pass(Added::default()));
        assert!(matches!(check("/healthz"), Verdict::Answer(_)));
        now.store(1_030, Ordering::Relaxed);
        assert!(matches!(check("/a"), Verdict::Pass(_)));
    }
}
