//! The WebSocket protocol, sans-IO: the opening handshake (RFC 6455 section 4), the frame
//! format (section 5), message assembly with its limits, the closing handshake (section 7)
//! and per-message compression (RFC 7692).
//!
//! * [`handshake`]: checks an upgrade request and writes the `101 Switching Protocols` answer.
//! * [`frame`]: frame headers, masking, encoding.
//! * [`close`]: close codes and close frame payloads.
//! * [`codec`]: bytes in, messages out (fragments joined, UTF-8 checked, pings answered).
//! * [`deflate`]: `permessage-deflate` negotiation and the (de)compressor.
//! * [`budget`]: the bounds, in decompressed bytes, on messages queued for handlers.
//! * [`session`]: one connection's state machine: handshake answer, receive queue, pings,
//!   close and shutdown deadlines, the slow-consumer policy.

use std::sync::Arc;
use std::time::Duration;

pub mod budget;
pub mod close;
pub mod codec;
pub mod deflate;
pub mod frame;
pub mod handshake;
pub mod session;

/// Why the connection must be failed: the close code to send and a short reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtocolError {
    /// The close code (1002 protocol error, 1007 bad data, 1009 too big).
    pub code: u16,
    /// A reason short enough for a close frame.
    pub reason: &'static str,
}

impl ProtocolError {
    pub(crate) const fn protocol(reason: &'static str) -> Self {
        ProtocolError { code: 1002, reason }
    }
}

/// Limits and timers of one WebSocket connection. The sizes are enforced by the codec; the
/// timers and buffers by the caller, which owns the socket and the clock.
#[derive(Clone, Debug)]
pub struct WsLimits {
    /// Largest message (after joining fragments and decompressing); over it: close 1009.
    pub max_message: usize,
    /// Silence after which the server sends a ping.
    pub ping_interval: Duration,
    /// How long a ping (or a close handshake) may go unanswered before the connection is
    /// dropped.
    pub ping_timeout: Duration,
    /// Received messages queued for a handler that is not reading; past it reading pauses.
    pub max_queue: usize,
    /// Decompressed bytes queued for a handler that is not reading; past it the connection
    /// stops inflating and reading until the handler takes messages.
    pub max_queue_bytes: usize,
    /// The worker-wide budget of queued decompressed bytes, shared by every connection made
    /// with these limits (clones share it).
    pub process_queue: Arc<budget::ProcessQueue>,
    /// Bytes written while the socket's write buffer is over its high-water mark (a client
    /// that does not read); past it the connection is closed with 1008.
    pub max_send_buffer: usize,
    /// Whether `permessage-deflate` is accepted when a client offers it.
    pub deflate: bool,
}

impl WsLimits {
    /// The same limits, sharing the same worker-wide budget: sessions made with either may
    /// share one `Arc` of them.
    pub fn same_as(&self, other: &WsLimits) -> bool {
        // Destructured, so that a new field cannot be forgotten here.
        let WsLimits {
            max_message,
            ping_interval,
            ping_timeout,
            max_queue,
            max_queue_bytes,
            process_queue,
            max_send_buffer,
            deflate,
        } = self;
        *max_message == other.max_message
            && *ping_interval == other.ping_interval
            && *ping_timeout == other.ping_timeout
            && *max_queue == other.max_queue
            && *max_queue_bytes == other.max_queue_bytes
            && Arc::ptr_eq(process_queue, &other.process_queue)
            && *max_send_buffer == other.max_send_buffer
            && *deflate == other.deflate
    }
}

impl Default for WsLimits {
    fn default() -> Self {
        WsLimits {
            max_message: 1024 * 1024,
            ping_interval: Duration::from_secs(20),
            ping_timeout: Duration::from_secs(20),
            max_queue: 32,
            max_queue_bytes: 1024 * 1024,
            process_queue: budget::ProcessQueue::new(16 * 1024 * 1024),
            max_send_buffer: 1024 * 1024,
            deflate: true,
        }
    }
}
