//! Unit tests of the WebSocket session: each drives events in and checks the actions out.

use std::time::{Duration, Instant};

use super::*;
use crate::ws::budget::ProcessQueue;
use crate::ws::frame::{self, OpCode};

fn offer() -> Offer {
    Offer {
        key: b"dGhlIHNhbXBsZSBub25jZQ==".to_vec(),
        subprotocols: vec!["chat".into()],
        extensions: String::new(),
    }
}

fn limits() -> WsLimits {
    WsLimits {
        ping_interval: Duration::from_secs(20),
        ping_timeout: Duration::from_secs(5),
        ..WsLimits::default()
    }
}

/// A masked client frame.
fn client(opcode: OpCode, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    frame::write_frame(&mut out, opcode, false, payload, Some([1, 2, 3, 4]));
    out
}

fn drain(s: &mut Session) -> Vec<Action> {
    std::iter::from_fn(|| s.poll_action()).collect()
}

fn writes(actions: &[Action]) -> Vec<u8> {
    let mut out = Vec::new();
    for a in actions {
        if let Action::Write(bytes) = a {
            out.extend_from_slice(bytes);
        }
    }
    out
}

fn open(limits: WsLimits, now: Instant) -> Session {
    let mut s = Session::new(offer(), limits, Vec::new(), now);
    s.accept(None, &[], now).unwrap();
    drain(&mut s);
    s
}

#[test]
fn accept_answers_101_and_reads_what_came_early() {
    let now = Instant::now();
    let mut s = Session::new(offer(), limits(), client(OpCode::Text, b"early"), now);
    assert_eq!(s.subprotocols(), ["chat"]);
    assert_eq!(s.send(true, b"too soon"), Sent::NotSent);
    s.data_received(&client(OpCode::Text, b"later"), now);
    s.accept(Some("chat"), &[(b"x-a", b"1")], now).unwrap();
    let actions = drain(&mut s);
    assert_eq!(actions[0], Action::Handshake(101));
    let head = String::from_utf8(writes(&actions)).unwrap();
    assert!(head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
    assert!(head.contains("sec-websocket-protocol: chat\r\nx-a: 1\r\n"));
    assert!(actions.contains(&Action::WakeReceiver) || !s.has_actions());
    assert_eq!(s.receive(), Some(Received::Text("early".into())));
    assert_eq!(s.receive(), Some(Received::Text("later".into())));
    assert_eq!(s.receive(), None);
    assert_eq!(s.accept(None, &[], now), Err(AcceptError::AlreadyAccepted));
    assert!(s.is_open());
}

#[test]
fn an_invalid_accept_header_writes_nothing() {
    let now = Instant::now();
    let mut s = Session::new(offer(), limits(), Vec::new(), now);
    assert_eq!(
        s.accept(None, &[(b"x", b"a\r\nb")], now),
        Err(AcceptError::InvalidHeader)
    );
    assert!(drain(&mut s).is_empty());
    // The handler fails, so the handshake is refused with 500.
    s.finish(true, now);
    let actions = drain(&mut s);
    assert_eq!(actions[0], Action::Handshake(500));
    assert!(writes(&actions).starts_with(b"HTTP/1.1 500 "));
    assert_eq!(actions.last(), Some(&Action::Close));
}

#[test]
fn close_before_accept_is_a_403_refusal() {
    let now = Instant::now();
    let mut s = Session::new(offer(), limits(), Vec::new(), now);
    s.close(1008, "nope", now);
    let actions = drain(&mut s);
    assert_eq!(actions[0], Action::Handshake(403));
    let text = String::from_utf8(writes(&actions)).unwrap();
    assert!(text.starts_with("HTTP/1.1 403 Forbidden\r\n"));
    assert!(text.ends_with("WebSocket closed before the handshake (code 1008): nope"));
    assert_eq!(actions.last(), Some(&Action::Close));
    assert_eq!(s.receive(), Some(Received::Closed(1006, String::new())));
    // Once disconnected, every receive says so again; accepting now does nothing.
    assert_eq!(s.receive(), Some(Received::Closed(1006, String::new())));
    assert_eq!(s.accept(None, &[], now), Ok(()));
    assert!(drain(&mut s).is_empty());
}

#[test]
fn pings_after_silence_and_drops_a_silent_client() {
    let t0 = Instant::now();
    let mut s = open(limits(), t0);
    assert_eq!(s.next_deadline(), Some(t0 + Duration::from_secs(20)));
    s.tick(t0 + Duration::from_secs(10));
    assert!(drain(&mut s).is_empty());
    let t1 = t0 + Duration::from_secs(21);
    s.tick(t1);
    assert_eq!(
        drain(&mut s),
        [Action::Write(vec![0x89, 5, b'c', b'o', b'v', b'e', b't'])]
    );
    assert_eq!(s.next_deadline(), Some(t1 + Duration::from_secs(5)));
    s.tick(t1 + Duration::from_secs(6));
    let actions = drain(&mut s);
    assert_eq!(&writes(&actions)[..4], [0x88, 24, 0x03, 0xf3]); // close 1011
    assert_eq!(actions.last(), Some(&Action::Close));
    assert_eq!(
        s.receive(),
        Some(Received::Closed(1006, "Keepalive ping timeout".into()))
    );
    assert_eq!(s.next_deadline(), None);
}

#[test]
fn any_bytes_count_as_a_pong() {
    let t0 = Instant::now();
    let mut s = open(limits(), t0);
    let t1 = t0 + Duration::from_secs(21);
    s.tick(t1);
    drain(&mut s);
    s.data_received(&client(OpCode::Text, b"hi"), t1 + Duration::from_secs(1));
    s.tick(t1 + Duration::from_secs(6));
    assert!(s.is_open());
    assert_eq!(s.receive(), Some(Received::Text("hi".into())));
}

#[test]
fn close_handshake_and_its_deadline() {
    let t0 = Instant::now();
    let mut s = open(limits(), t0);
    s.close(4000, "bye", t0);
    assert_eq!(writes(&drain(&mut s))[..4], [0x88, 5, 0x0f, 0xa0]);
    assert!(s.is_done());
    assert_eq!(s.send(true, b"late"), Sent::NotSent);
    assert_eq!(s.next_deadline(), Some(t0 + Duration::from_secs(5)));
    // The client answers: the socket is closed, the handler hears its code.
    s.data_received(&client(OpCode::Close, &4000u16.to_be_bytes()), t0);
    assert_eq!(drain(&mut s), [Action::Close]);
    assert_eq!(s.receive(), Some(Received::Closed(4000, String::new())));
    // A client that never answers is dropped at the deadline.
    let mut s = open(limits(), t0);
    s.close(1000, "", t0);
    drain(&mut s);
    s.tick(t0 + Duration::from_secs(6));
    assert_eq!(drain(&mut s), [Action::Abort]);
}

#[test]
fn peer_close_is_echoed_then_the_socket_closed() {
    let t0 = Instant::now();
    let mut s = open(limits(), t0);
    s.wait();
    let mut payload = 1001u16.to_be_bytes().to_vec();
    payload.extend_from_slice(b"away");
    s.data_received(&client(OpCode::Close, &payload), t0);
    let actions = drain(&mut s);
    assert_eq!(
        actions,
        [
            Action::Write(vec![0x88, 2, 0x03, 0xe9]),
            Action::WakeReceiver,
            Action::Close
        ]
    );
    assert_eq!(s.receive(), Some(Received::Closed(1001, "away".into())));
}

#[test]
fn go_away_closes_with_1001_or_refuses_with_503() {
    let t0 = Instant::now();
    let mut s = open(limits(), t0);
    s.go_away(t0);
    assert_eq!(writes(&drain(&mut s))[2..4], [0x03, 0xe9]);
    let mut s = Session::new(offer(), limits(), Vec::new(), t0);
    s.go_away(t0);
    let actions = drain(&mut s);
    assert_eq!(actions[0], Action::Handshake(503));
}

#[test]
fn protocol_errors_fail_the_connection() {
    let t0 = Instant::now();
    let mut s = open(limits(), t0);
    let mut unmasked = Vec::new();
    frame::write_frame(&mut unmasked, OpCode::Text, false, b"x", None);
    s.data_received(&unmasked, t0);
    let actions = drain(&mut s);
    assert_eq!(&writes(&actions)[2..4], [0x03, 0xea]); // 1002
    assert_eq!(actions.last(), Some(&Action::Close));
    assert!(matches!(s.receive(), Some(Received::Closed(1002, _))));
}

#[test]
fn a_full_queue_pauses_reading_until_the_handler_takes_one() {
    let t0 = Instant::now();
    let limits = WsLimits {
        max_queue: 2,
        ..limits()
    };
    let mut s = open(limits, t0);
    let mut wire = Vec::new();
    for text in ["a", "b", "c"] {
        wire.extend(client(OpCode::Text, text.as_bytes()));
    }
    s.data_received(&wire, t0);
    assert_eq!(drain(&mut s), [Action::PauseReading]);
    assert!(s.read_paused());
    assert_eq!(s.receive(), Some(Received::Text("a".into())));
    // Room again: "c" is decoded, and the queue is full again, so reading stays paused.
    assert!(drain(&mut s).is_empty());
    assert_eq!(s.receive(), Some(Received::Text("b".into())));
    assert_eq!(drain(&mut s), [Action::ResumeReading]);
    assert_eq!(s.receive(), Some(Received::Text("c".into())));
}

#[test]
fn a_waiting_handler_gets_a_message_over_the_process_budget() {
    let t0 = Instant::now();
    let shared = ProcessQueue::new(4);
    let limits = WsLimits {
        process_queue: shared.clone(),
        ..limits()
    };
    let mut hog = open(limits.clone(), t0);
    hog.data_received(&client(OpCode::Binary, &[0; 10]), t0);
    drain(&mut hog);
    assert!(shared.full());
    let mut reader = open(limits, t0);
    reader.data_received(&client(OpCode::Text, b"one"), t0);
    assert_eq!(drain(&mut reader), [Action::PauseReading]);
    reader.wait();
    assert_eq!(drain(&mut reader), [Action::ResumeReading]);
    // Asking decodes one message for it.
    assert_eq!(reader.receive(), Some(Received::Text("one".into())));
    // The hog's handler takes its message; the sweep then finds room for the rest.
    assert_eq!(hog.receive(), Some(Received::Binary(vec![0; 10])));
    assert!(!shared.full());
}

#[test]
fn a_slow_consumer_is_dropped_with_1008() {
    let t0 = Instant::now();
    let limits = WsLimits {
        max_send_buffer: 100,
        ..limits()
    };
    let mut s = open(limits, t0);
    s.pause_writing();
    assert_eq!(s.send(false, &[0; 60]), Sent::MustDrain);
    assert!(s.must_drain());
    s.wait();
    assert_eq!(s.send(false, &[0; 60]), Sent::NotSent);
    let actions = drain(&mut s);
    assert_eq!(actions[0], Action::Write(client_free(62)));
    assert_eq!(&actions[1..], [Action::WakeReceiver, Action::Abort]);
    assert!(matches!(s.receive(), Some(Received::Closed(1008, _))));
    assert!(!s.admit(1));
}

/// The server frame of a 60-byte binary message of zeros (`len` bytes with its header).
fn client_free(len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    frame::write_frame(&mut out, OpCode::Binary, false, &vec![0; len - 2], None);
    out
}

#[test]
fn resume_writing_wakes_the_sender() {
    let t0 = Instant::now();
    let mut s = open(limits(), t0);
    s.pause_writing();
    s.resume_writing();
    assert_eq!(drain(&mut s), [Action::WakeSender]);
    assert_eq!(s.send(true, b"x"), Sent::Written);
}

#[test]
fn a_lost_socket_delivers_what_was_received_then_1006() {
    let t0 = Instant::now();
    let mut s = open(limits(), t0);
    s.data_received(&client(OpCode::Text, b"last"), t0);
    s.connection_lost();
    assert_eq!(drain(&mut s), [Action::WakeSender]);
    assert_eq!(s.receive(), Some(Received::Text("last".into())));
    assert_eq!(s.receive(), Some(Received::Closed(1006, String::new())));
    assert_eq!(s.send(true, b"x"), Sent::NotSent);
    // Lost during the handshake: the handler's first receive says so.
    let mut s = Session::new(offer(), limits(), Vec::new(), t0);
    s.connection_lost();
    assert_eq!(s.receive(), Some(Received::Closed(1006, String::new())));
}

#[test]
fn finish_frees_what_was_left_unread_and_closes() {
    let t0 = Instant::now();
    let shared = ProcessQueue::new(1 << 20);
    let limits = WsLimits {
        process_queue: shared.clone(),
        ..limits()
    };
    let mut s = open(limits, t0);
    s.data_received(&client(OpCode::Binary, &[1; 100]), t0);
    assert_eq!(shared.used(), 100);
    s.finish(false, t0);
    assert_eq!(shared.used(), 0);
    assert_eq!(writes(&drain(&mut s)), [0x88, 2, 0x03, 0xe8]);
    // Later messages are read and dropped.
    s.data_received(&client(OpCode::Binary, &[1; 100]), t0);
    assert_eq!(shared.used(), 0);
}

#[test]
fn early_bytes_are_bounded() {
    let t0 = Instant::now();
    let limits = WsLimits {
        max_message: 10,
        ..limits()
    };
    let mut s = Session::new(offer(), limits, Vec::new(), t0);
    s.data_received(&[0; 11], t0);
    assert_eq!(drain(&mut s), [Action::Abort]);
}
