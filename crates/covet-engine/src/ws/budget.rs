//! How much a worker keeps of the messages its WebSocket handlers have not read yet.
//!
//! With `permessage-deflate` a few kilobytes on the wire inflate to megabytes, so the receive
//! queue is bounded in decompressed bytes, twice: per connection ([`WsLimits::max_queue_bytes`],
//! with the older message count [`WsLimits::max_queue`]) and per process ([`ProcessQueue`],
//! shared by every connection of a worker). The caller asks [`QueueAccount::room`] before it
//! decodes (inflates) the next message, and stops decoding and reading from the socket when
//! there is none: a message is only inflated while its connection and the process are under
//! their budgets, so each is exceeded by at most one message (at most `max_message` bytes).
//!
//! A handler waiting on an empty queue always gets its next message, even over the process
//! budget: connections that do not read can use up the budget, but never starve one that does.
//!
//! [`WsLimits::max_queue_bytes`]: super::WsLimits::max_queue_bytes
//! [`WsLimits::max_queue`]: super::WsLimits::max_queue

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Decompressed bytes queued by all the connections of one worker, against its budget.
#[derive(Debug)]
pub struct ProcessQueue {
    limit: usize,
    used: AtomicUsize,
}

impl ProcessQueue {
    /// A budget of `limit` bytes, shared by every connection that holds the returned `Arc`.
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(ProcessQueue {
            limit,
            used: AtomicUsize::new(0),
        })
    }

    /// The budget, in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes queued now, over all connections.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// True when no more may be queued (except for a waiting handler).
    pub fn full(&self) -> bool {
        self.used() >= self.limit
    }
}

/// Whether a connection may decode another message now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Room {
    /// Yes: decode and keep reading.
    Open,
    /// The connection's own queue is full: pause until its handler takes messages.
    ConnectionFull,
    /// The worker's budget is used up by all its connections: pause until it frees up.
    ProcessFull,
}

/// One connection's unread messages: how many and their bytes, charged to the process too.
/// Dropping it gives its bytes back to the process.
#[derive(Debug)]
pub struct QueueAccount {
    messages: usize,
    bytes: usize,
    max_messages: usize,
    max_bytes: usize,
    process: Arc<ProcessQueue>,
}

impl QueueAccount {
    /// An empty account bounded by `max_messages` and `max_bytes`, charging `process`.
    pub fn new(max_messages: usize, max_bytes: usize, process: Arc<ProcessQueue>) -> Self {
        QueueAccount {
            messages: 0,
            bytes: 0,
            max_messages: max_messages.max(1),
            max_bytes,
            process,
        }
    }

    /// Whether another message may be decoded. `handler_waiting`: the handler is waiting for a
    /// message; on an empty queue that always gets one.
    pub fn room(&self, handler_waiting: bool) -> Room {
        if self.messages == 0 && handler_waiting {
            Room::Open
        } else if self.messages >= self.max_messages || self.bytes >= self.max_bytes {
            Room::ConnectionFull
        } else if self.process.full() {
            Room::ProcessFull
        } else {
            Room::Open
        }
    }

    /// A message of `bytes` (decompressed) was queued.
    pub fn push(&mut self, bytes: usize) {
        self.messages += 1;
        self.bytes += bytes;
        self.process.used.fetch_add(bytes, Ordering::Relaxed);
    }

    /// A message of `bytes` was taken by the handler (or dropped).
    pub fn pop(&mut self, bytes: usize) {
        let bytes = bytes.min(self.bytes);
        self.messages = self.messages.saturating_sub(1);
        self.bytes -= bytes;
        self.process.used.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// Decompressed bytes queued on this connection.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

impl Drop for QueueAccount {
    fn drop(&mut self) {
        self.process.used.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_budget_in_bytes_and_messages() {
        let process = ProcessQueue::new(1 << 30);
        let mut q = QueueAccount::new(32, 1000, process.clone());
        assert_eq!(q.room(false), Room::Open);
        q.push(999);
        assert_eq!(q.room(false), Room::Open);
        // The message that crosses the limit is kept; nothing more is decoded after it.
        q.push(500);
        assert_eq!(q.room(false), Room::ConnectionFull);
        assert_eq!((q.bytes(), process.used()), (1499, 1499));
        q.pop(999);
        assert_eq!(q.room(false), Room::Open);
        // The message count still bounds many tiny messages.
        let mut tiny = QueueAccount::new(2, 1000, process.clone());
        tiny.push(1);
        tiny.push(1);
        assert_eq!(tiny.room(false), Room::ConnectionFull);
    }

    #[test]
    fn process_budget_is_shared_and_given_back() {
        let process = ProcessQueue::new(1000);
        let mut a = QueueAccount::new(32, 800, process.clone());
        let mut b = QueueAccount::new(32, 800, process.clone());
        a.push(600);
        assert_eq!(b.room(false), Room::Open);
        b.push(600);
        assert_eq!(process.used(), 1200);
        assert_eq!(a.room(false), Room::ProcessFull);
        assert_eq!(b.room(false), Room::ProcessFull);
        a.pop(600);
        assert_eq!(b.room(false), Room::Open);
        // A connection that goes away with unread messages frees them.
        drop(b);
        assert_eq!(process.used(), 0);
    }

    #[test]
    fn a_waiting_handler_is_never_starved() {
        let process = ProcessQueue::new(1000);
        let mut hog = QueueAccount::new(32, 10_000, process.clone());
        hog.push(5000);
        let mut reader = QueueAccount::new(32, 1000, process.clone());
        assert_eq!(reader.room(false), Room::ProcessFull);
        assert_eq!(reader.room(true), Room::Open);
        reader.push(700);
        // One message for the waiting handler, no read-ahead past the budget.
        assert_eq!(reader.room(true), Room::ProcessFull);
        reader.pop(700);
        assert_eq!(reader.room(true), Room::Open);
        assert_eq!(process.used(), 5000);
    }
}
