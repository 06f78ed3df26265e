//! Feeds arbitrary bytes to a server-side WebSocket `Codec` in two pieces.
//!
//! Input layout: byte 0 picks compression and the size limit, bytes 1-2 the split point, the
//! rest is the stream. Checked: no panic, nothing after an error, buffering stays bounded.

#![no_main]

use covet_engine::ws::codec::{Codec, Role};
use libfuzzer_sys::fuzz_target;

fn drain(c: &mut Codec, max: usize, failed: &mut bool) {
    let mut out = Vec::new();
    loop {
        match c.next(&mut out) {
            Ok(Some(_)) => assert!(!*failed, "a message after an error"),
            Ok(None) => break,
            Err(_) => {
                assert!(!*failed);
                *failed = true;
            }
        }
    }
    assert!(c.buffered() <= max + 14 + 64 * 1024);
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let max = [16, 1024, 65536][usize::from(data[0] % 3)];
    let split = usize::from(u16::from_le_bytes([data[1], data[2]]));
    let stream = &data[3..];
    let split = split % (stream.len() + 1);
    let mut c = Codec::new(Role::Server, max, data[0] & 0x80 != 0);
    let mut failed = false;
    c.feed(&stream[..split]);
    drain(&mut c, max, &mut failed);
    c.feed(&stream[split..]);
    drain(&mut c, max, &mut failed);
});
