//! covet's HTTP/1.1 parser against hyper's server on arbitrary bytes.
//!
//! Input layout: bytes 0-1 pick the point where covet's connection gets the second read, the
//! rest is the stream. The same comparison as `crates/http-diff/tests/differential.rs`:
//! both servers must serve the same requests and agree on refusing, unless covet refused by
//! one of its deliberate rules (listed in docs/security.md).

#![no_main]

use http_diff::hyper_side::HyperServer;
use libfuzzer_sys::fuzz_target;

thread_local! {
    static HYPER: HyperServer = HyperServer::new();
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let split = usize::from(u16::from_le_bytes([data[0], data[1]]));
    let stream = &data[2..];
    HYPER.with(|hyper| {
        if let Err(d) = http_diff::compare(hyper, stream, split) {
            panic!(
                "covet and hyper disagree on {:?}\n  covet: {:?}\n  hyper: {:?}",
                String::from_utf8_lossy(&d.input),
                d.covet,
                d.hyper
            );
        }
    });
});
