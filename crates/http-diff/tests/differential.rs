//! covet's HTTP/1.1 parser against hyper's server, on generated request streams.
//!
//! `COVET_DIFF_CASES` overrides the number of generated streams (100,000 by default, fixed
//! seed). A disagreement prints the input and both outcomes.

use std::collections::BTreeMap;

use http_diff::generate::{stream, Rng};
use http_diff::hyper_side::HyperServer;
use http_diff::{compare, Agreement};

const SEED: u64 = 0x1d1f_c0fe_e14e_2026;

#[test]
fn generated_streams_agree() {
    let cases: u64 = std::env::var("COVET_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let hyper = HyperServer::new();
    let mut rng = Rng::new(SEED);
    let mut tally: BTreeMap<String, u64> = BTreeMap::new();
    let mut failures = Vec::new();
    for case in 0..cases {
        let input = stream(&mut rng);
        let split = rng.below(input.len() + 1);
        match compare(&hyper, &input, split) {
            Ok(agreement) => {
                let key = match agreement {
                    Agreement::Accepted => "both accept".to_owned(),
                    Agreement::Rejected => "both reject".to_owned(),
                    Agreement::Stricter(rule) => format!("covet stricter: {rule}"),
                };
                *tally.entry(key).or_default() += 1;
            }
            Err(d) if failures.len() < 5 => failures.push((case, d)),
            Err(_) => {}
        }
    }
    eprintln!("{cases} streams: {tally:#?}");
    for (case, d) in &failures {
        eprintln!(
            "case {case}: input {:?}\n  covet: {:?}\n  hyper: {:?}",
            String::from_utf8_lossy(&d.input),
            d.covet,
            d.hyper
        );
    }
    assert!(failures.is_empty(), "{} disagreements", failures.len());
    assert!(tally.get("both accept").copied().unwrap_or(0) > cases / 5);
}

/// The probes of issue 14: covet refuses each (and serves nothing smuggled), in agreement
/// with hyper or by a deliberate rule.
#[test]
fn issue_probes() {
    let hyper = HyperServer::new();
    let post = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
    let probes = [
        format!("{post}0x2f\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"),
        format!("{post}0\r\nGET /secret HTTP/1.1\r\nHost: a\r\n\r\n"),
        "GET / HTTP/1.1\nHost: a\r\n\r\n".to_owned(),
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n".to_owned(),
    ];
    for probe in &probes {
        let covet = http_diff::covet_side::run(probe.as_bytes(), probe.len());
        assert!(covet.error.is_some(), "{probe:?}: {covet:?}");
        assert!(covet.requests.is_empty(), "{probe:?}: {covet:?}");
        compare(&hyper, probe.as_bytes(), 7).unwrap();
    }
    // Absolute-form: the target's authority is the host, for covet as for hyper.
    let abs = b"GET http://evil.example/p?q=1 HTTP/1.1\r\nHost: good.example\r\n\r\n";
    let covet = http_diff::covet_side::run(abs, abs.len());
    assert_eq!(
        covet.requests[0].host.as_deref(),
        Some(&b"evil.example"[..])
    );
    assert_eq!(compare(&hyper, abs, 20).unwrap(), Agreement::Accepted);
}

/// Inputs the `http_diff` fuzz target found, kept so they stay agreed on.
#[test]
fn fuzz_findings() {
    let hyper = HyperServer::new();
    let mut trailers =
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n".to_vec();
    trailers.extend_from_slice(&b"X: 1\r\n".repeat(101));
    trailers.extend_from_slice(b"\r\n");
    let found: [&[u8]; 5] = [
        b"POST http://h.exam%l/px HTTP/1.1\r\nHost: a\r\n\r\n",
        b"\r",
        b"\r\r\r\r",
        b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length:d\r\n\r\n0\r\n\r\n",
        &trailers,
    ];
    for input in found {
        for split in [0, 1, input.len() / 2, input.len()] {
            if let Err(d) = compare(&hyper, input, split) {
                panic!(
                    "{:?}: covet {:?}, hyper {:?}",
                    String::from_utf8_lossy(input),
                    d.covet,
                    d.hyper
                );
            }
        }
    }
}
