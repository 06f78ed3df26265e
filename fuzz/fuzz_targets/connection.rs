//! Feeds arbitrary bytes to a `Connection` in two pieces and drains the events.
//!
//! Input layout: byte 0 picks the limits, bytes 1-2 pick the split point, the rest is the
//! stream. Checked: no panic, every drain ends, nothing after an `Error`, memory stays bounded.

#![no_main]

use covet_engine::connection::{Connection, Event};
use covet_engine::limits::Limits;
use libfuzzer_sys::fuzz_target;

fn drain(c: &mut Connection, failed: &mut bool) {
    let limits = c.limits().clone();
    // Every event consumes input (Continue at most once per request): far below this bound.
    for _ in 0..1_000_000 {
        match c.next_event() {
            None => {
                assert!(c.buffered() <= limits.max_head_bytes);
                if c.in_body() {
                    assert_eq!(c.buffered(), 0);
                }
                return;
            }
            Some(event) => {
                assert!(!*failed, "event after an error: {event:?}");
                match event {
                    Event::Request(r) => {
                        assert!(r.body.len() <= limits.max_body_bytes);
                        assert!(r.headers.len() <= limits.max_headers);
                        assert!(r.path.starts_with('/') || r.path == "*");
                    }
                    Event::Stream(r) => {
                        assert!(r.body.len() <= limits.max_body_bytes);
                        assert!(r.path.starts_with('/') || r.path == "*");
                    }
                    Event::BodyChunk(chunk) => assert!(chunk.len() <= limits.max_body_bytes),
                    Event::Continue | Event::BodyEnd => {}
                    Event::Error(_) => {
                        *failed = true;
                        assert_eq!(c.next_event(), None);
                        assert!(!c.has_partial());
                    }
                }
            }
        }
    }
    panic!("next_event never returned None");
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let pick = data[0];
    let split = usize::from(u16::from_le_bytes([data[1], data[2]]));
    let stream = &data[3..];
    let limits = Limits {
        max_head_bytes: [64, 1024, 16 * 1024, 16][usize::from(pick & 3)],
        max_headers: [100, 3, 0, 200][usize::from(pick >> 2 & 3)],
        max_body_bytes: [10 * 1024 * 1024, 16, 0, 1024][usize::from(pick >> 4 & 3)],
        ..Limits::default()
    };
    let split = split % (stream.len() + 1);
    let mut c = Connection::new(limits);
    let mut failed = false;
    c.feed(&stream[..split]);
    drain(&mut c, &mut failed);
    c.feed(&stream[split..]);
    drain(&mut c, &mut failed);
    if failed {
        c.feed(b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(c.next_event(), None);
    }
});
