//! Deterministic randomized tests for the WebSocket codec (same approach as robustness.rs: a
//! fixed-seed xorshift drives every case, so a failure names its case and reproduces).
//!
//! * arbitrary and mutated bytes fed in random splits never panic, nothing follows an error,
//!   and what the codec buffers stays under the message limit;
//! * valid client traffic (random messages, random fragmentation, pings between fragments,
//!   compression on or off) decodes to exactly what was sent, whatever the splits.

use covet_engine::ws::codec::{Codec, Message, Role};
use covet_engine::ws::deflate;
use covet_engine::ws::frame::{self, OpCode};
mod common;
use common::Rng;

const MAX: usize = 4096;

/// Feeds `wire` in random pieces; returns the messages and whether the codec failed.
fn decode(rng: &mut Rng, codec: &mut Codec, wire: &[u8]) -> (Vec<Message>, bool) {
    let mut out = Vec::new();
    let mut messages = Vec::new();
    let mut failed = false;
    let mut at = 0;
    while at < wire.len() {
        let n = 1 + rng.below(64.min(wire.len() - at).max(1));
        codec.feed(&wire[at..at + n]);
        at += n;
        loop {
            match codec.next(&mut out) {
                Ok(Some(m)) => {
                    assert!(!failed, "a message after an error");
                    messages.push(m);
                }
                Ok(None) => break,
                Err(e) => {
                    assert!(!failed);
                    assert!([1002, 1007, 1009].contains(&e.code), "{e:?}");
                    failed = true;
                    assert_eq!(codec.next(&mut out), Ok(None));
                }
            }
        }
        assert!(
            codec.buffered() <= MAX + 14 + 64,
            "buffered {}",
            codec.buffered()
        );
    }
    (messages, failed)
}

#[test]
fn arbitrary_bytes_never_panic() {
    for case in 0..3000u64 {
        let mut rng = Rng::new(case);
        let len = rng.below(600);
        let mut wire: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if case % 2 == 0 && wire.len() > 2 {
            // Mostly-valid headers reach deeper: masked, small lengths.
            wire[1] = 0x80 | (wire[1] % 126);
        }
        let mut codec = Codec::new(Role::Server, MAX, case % 3 == 0);
        decode(&mut rng, &mut codec, &wire);
    }
}

#[test]
fn valid_traffic_roundtrips_in_any_split() {
    for case in 0..500u64 {
        let mut rng = Rng::new(case + 10_000);
        let compress = case % 2 == 0;
        let mut wire = Vec::new();
        let mut sent = Vec::new();
        for _ in 0..1 + rng.below(6) {
            let text = rng.below(2) == 0;
            let len = rng.below(MAX / 2);
            let payload: Vec<u8> = if text {
                "aé€𝄞 "
                    .chars()
                    .cycle()
                    .skip(rng.below(5))
                    .take(len / 3)
                    .collect::<String>()
                    .into_bytes()
            } else {
                (0..len).map(|_| rng.next() as u8).collect()
            };
            let packed = compress && payload.len() > 16;
            let body = if packed {
                deflate::compress(&payload)
            } else {
                payload.clone()
            };
            // Split into fragments at random points (possibly inside a UTF-8 sequence).
            let mut cuts: Vec<usize> = (0..rng.below(4))
                .map(|_| rng.below(body.len() + 1))
                .collect();
            cuts.sort_unstable();
            cuts.push(body.len());
            let mut start = 0;
            for (i, &end) in cuts.iter().enumerate() {
                let first = i == 0;
                let last = i + 1 == cuts.len();
                let opcode = match (first, text) {
                    (false, _) => OpCode::Continuation,
                    (true, true) => OpCode::Text,
                    (true, false) => OpCode::Binary,
                };
                let key = (rng.next() as u32).to_ne_bytes();
                let mask = Some(key);
                let mut f = Vec::new();
                frame::write_header(&mut f, last, packed && first, opcode, end - start, mask);
                let at = f.len();
                f.extend_from_slice(&body[start..end]);
                frame::apply_mask(&mut f[at..], key);
                wire.extend(f);
                if !last && rng.below(3) == 0 {
                    frame::write_frame(&mut wire, OpCode::Ping, false, b"p", mask);
                }
                start = end;
            }
            sent.push(if text {
                Message::Text(String::from_utf8(payload).unwrap())
            } else {
                Message::Binary(payload)
            });
        }
        let mut codec = Codec::new(Role::Server, MAX, compress);
        let (got, failed) = decode(&mut rng, &mut codec, &wire);
        assert!(!failed, "case {case}");
        let got: Vec<Message> = got
            .into_iter()
            .filter(|m| !matches!(m, Message::Ping(_)))
            .collect();
        assert_eq!(got, sent, "case {case}");
    }
}
