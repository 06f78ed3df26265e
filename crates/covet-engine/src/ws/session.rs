//! One server-side WebSocket session, sans-IO: events in, [`Action`]s (frames to write, flow
//! control, closing) and deadlines out.
//!
//! The caller owns the socket, the clock and the handler. It tells the session what happened
//! (bytes received, the socket's write buffer over or under its high-water mark, the socket
//! lost, the clock's time) and what the handler asks for (accept, refuse, receive, send,
//! close, finish); then it drains [`Session::poll_action`] and does what each action says, in
//! order. [`Session::next_deadline`] says when to call [`Session::tick`] at the latest.
//!
//! What the session decides:
//! * the states: connecting (handshake not answered), open, closing (our close frame sent,
//!   waiting for the peer's), closed;
//! * the handshake's answer: `101`, or a refusal built by [`handshake::write_refusal`];
//! * received messages, queued for the handler within the per-connection and per-process
//!   budgets ([`budget`](super::budget)): nothing is decoded (inflated) while there is no room,
//!   and reading pauses; a handler waiting on an empty queue always gets its next message;
//! * pings after silence, the ping and close deadlines, going away at shutdown;
//! * the slow-consumer policy: bytes written while the socket is over its high-water mark are
//!   counted, and past [`WsLimits::max_send_buffer`] the connection is aborted and the handler
//!   told 1008.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::budget::{QueueAccount, Room};
use super::codec::{Codec, Message, Role};
use super::handshake::{self, Offer};
use super::{close, deflate, WsLimits};
use crate::http::response::InvalidHeader;

/// How long the client may take to answer a close when ping timeouts are off.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// The payload of the server's keep-alive pings.
const PING_PAYLOAD: &[u8] = b"covet";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Handshake not answered yet.
    Connecting,
    /// Accepted; messages flow both ways.
    Open,
    /// This end sent its close frame and waits for the peer's.
    Closing,
    /// Done: the close handshake completed, or the connection failed or dropped.
    Closed,
}

/// What the caller must do, in the order the session asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write these bytes to the socket.
    Write(Vec<u8>),
    /// Stop reading from the socket (the receive queue has no room).
    PauseReading,
    /// Read from the socket again.
    ResumeReading,
    /// Close the socket once what was written has gone out.
    Close,
    /// Drop the socket at once, discarding what it buffered.
    Abort,
    /// A message (or the disconnect) waits for the handler: wake its receive.
    WakeReceiver,
    /// Sending may go on, or never will: wake a sender waiting for the socket to drain.
    WakeSender,
    /// The handshake ended with this status (101, or the refusal's): log it.
    Handshake(u16),
}

/// What the handler receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// The disconnect: the close code and reason (1006 when the connection dropped). Every
    /// later receive returns it again.
    Closed(u16, String),
}

/// What became of a message the handler sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Written.
    Written,
    /// Written, but the socket is over its high-water mark: wait for [`Action::WakeSender`].
    MustDrain,
    /// Nothing can be sent any more (not accepted, closing, closed or gone).
    NotSent,
}

/// Why `accept` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptError {
    /// The handshake was already answered.
    AlreadyAccepted,
    /// A header the handler gave is invalid (not a token, or CR/LF in the value).
    InvalidHeader,
}

impl From<InvalidHeader> for AcceptError {
    fn from(_: InvalidHeader) -> Self {
        AcceptError::InvalidHeader
    }
}

#[derive(Debug)]
enum Incoming {
    /// A message and its size in bytes (decompressed), as charged to the queue account.
    Message(Received, usize),
    Closed(u16, String),
}

/// The state of one upgraded connection (see the module documentation).
pub struct Session {
    state: State,
    codec: Codec,
    /// The handshake, until it is answered.
    offer: Option<Box<Offer>>,
    /// Bytes that came with or after the upgrade request, read on accept.
    early: Vec<u8>,
    queue: VecDeque<Incoming>,
    /// The queue's bytes, against this connection's and the worker's budgets.
    account: QueueAccount,
    /// The disconnect is in the queue: nothing after it is decoded.
    close_queued: bool,
    /// The handler has returned: messages are no longer queued.
    finished: bool,
    /// Set once the handler has been given the disconnect.
    final_close: Option<(u16, String)>,
    /// The handler waits for a message (it will be woken with [`Action::WakeReceiver`]).
    waiting: bool,
    read_paused: bool,
    write_paused: bool,
    /// Bytes written while the socket was over its high-water mark.
    paused_bytes: usize,
    last_seen: Instant,
    ping_sent: Option<Instant>,
    close_started: Option<Instant>,
    /// The socket is closed or being closed: nothing more is written.
    lost: bool,
    /// Shared by the connections made with the same limits (one pointer per connection).
    limits: Arc<WsLimits>,
    actions: VecDeque<Action>,
}

impl Session {
    /// A session for a checked handshake `offer`, with the bytes that came after the upgrade
    /// request (`early`). A caller holding many sessions passes one `Arc<WsLimits>` to all.
    pub fn new(
        offer: Offer,
        limits: impl Into<Arc<WsLimits>>,
        early: Vec<u8>,
        now: Instant,
    ) -> Self {
        let limits = limits.into();
        Session {
            state: State::Connecting,
            codec: Codec::new(Role::Server, limits.max_message, false),
            offer: Some(Box::new(offer)),
            early,
            queue: VecDeque::new(),
            account: QueueAccount::new(
                limits.max_queue,
                limits.max_queue_bytes,
                limits.process_queue.clone(),
            ),
            close_queued: false,
            finished: false,
            final_close: None,
            waiting: false,
            read_paused: false,
            write_paused: false,
            paused_bytes: 0,
            last_seen: now,
            ping_sent: None,
            close_started: None,
            lost: false,
            limits,
            actions: VecDeque::new(),
        }
    }

    /// The next thing to do, in order; `None` when there is nothing. Once drained, the action
    /// queue gives its memory back: most connections sit idle between rare messages, and an
    /// emptied queue would otherwise keep its allocation for the connection's whole life.
    pub fn poll_action(&mut self) -> Option<Action> {
        let action = self.actions.pop_front();
        if action.is_none() && self.actions.capacity() != 0 {
            self.actions = VecDeque::new();
        }
        action
    }

    /// Whether [`poll_action`](Self::poll_action) has something.
    pub fn has_actions(&self) -> bool {
        !self.actions.is_empty()
    }

    /// The subprotocols the client offered, in its order (empty once answered).
    pub fn subprotocols(&self) -> &[String] {
        self.offer.as_ref().map_or(&[], |o| &o.subprotocols)
    }

    /// True when nothing more may be sent (close sent, failed, or gone).
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Closing | State::Closed) || self.lost
    }

    /// True when messages may be sent: accepted, not closing, not gone.
    pub fn is_open(&self) -> bool {
        self.state == State::Open && !self.lost
    }

    /// True while a sender should wait: the socket is over its high-water mark and alive.
    pub fn must_drain(&self) -> bool {
        self.write_paused && !self.lost
    }

    /// Whether `permessage-deflate` was negotiated.
    pub fn compressed(&self) -> bool {
        self.codec.deflate()
    }

    /// Reading is paused (the queue has no room).
    pub fn read_paused(&self) -> bool {
        self.read_paused
    }

    /// When [`tick`](Self::tick) must run at the latest: the next ping, or the ping or close
    /// deadline. `None` when no timer runs.
    pub fn next_deadline(&self) -> Option<Instant> {
        let limits = &self.limits;
        match self.state {
            State::Open => match self.ping_sent {
                Some(sent) if !limits.ping_timeout.is_zero() => Some(sent + limits.ping_timeout),
                Some(_) => None,
                None if limits.ping_interval.is_zero() => None,
                None => Some(self.last_seen + limits.ping_interval),
            },
            State::Closing => Some(self.close_started? + self.close_wait()),
            _ => None,
        }
    }

    fn close_wait(&self) -> Duration {
        if self.limits.ping_timeout.is_zero() {
            CLOSE_TIMEOUT
        } else {
            self.limits.ping_timeout
        }
    }

    // --- writing ---------------------------------------------------------------------------

    /// Whether `len` bytes may be written now under the slow-consumer policy. Past
    /// [`WsLimits::max_send_buffer`] written over the high-water mark, the connection is
    /// aborted (the handler hears 1008) and false is returned. A caller writing a shared
    /// frame itself (a broadcast) asks this, then writes when it says yes.
    pub fn admit(&mut self, len: usize) -> bool {
        if self.lost {
            return false;
        }
        if self.write_paused {
            self.paused_bytes += len;
            if self.paused_bytes > self.limits.max_send_buffer {
                self.state = State::Closed;
                self.push_closed(
                    close::POLICY_VIOLATION,
                    "Slow consumer: send buffer limit exceeded",
                );
                self.lose(Action::Abort);
                return false;
            }
        }
        true
    }

    fn write(&mut self, out: Vec<u8>) {
        if !out.is_empty() && self.admit(out.len()) {
            self.actions.push_back(Action::Write(out));
        }
    }

    fn lose(&mut self, how: Action) {
        if !self.lost {
            self.lost = true;
            self.actions.push_back(how);
        }
    }

    // --- the receive queue -----------------------------------------------------------------

    fn push_closed(&mut self, code: u16, reason: &str) {
        if !self.close_queued {
            self.close_queued = true;
            self.queue
                .push_back(Incoming::Closed(code, reason.to_owned()));
        }
        self.wake();
    }

    fn wake(&mut self) {
        if self.waiting {
            self.waiting = false;
            self.actions.push_back(Action::WakeReceiver);
        }
    }

    fn push(&mut self, message: Received, size: usize) {
        if self.finished {
            return;
        }
        self.account.push(size);
        self.queue.push_back(Incoming::Message(message, size));
    }

    /// Runs the codec over what was received, while the queue has room: queue messages,
    /// write replies, then pause or resume reading. `asking`: the handler asks for a message
    /// now. Once the socket is lost and no whole message is left, the disconnect is queued.
    fn process(&mut self, asking: bool) {
        let mut out = Vec::new();
        loop {
            if self.close_queued || self.account.room(asking || self.waiting) != Room::Open {
                break;
            }
            match self.codec.next(&mut out) {
                Ok(None) => {
                    if self.lost {
                        self.push_closed(close::ABNORMAL, "");
                    }
                    break;
                }
                // Queued at their size, in a copy: inflating leaves up to as much spare (and
                // touched) capacity again, which the budget does not see; the copy lets the
                // allocator reuse the inflate buffer for the next message.
                Ok(Some(Message::Text(text))) => {
                    let text = exact(text.into_bytes());
                    let size = text.len();
                    // The codec checked the UTF-8.
                    let text = String::from_utf8(text).expect("validated UTF-8");
                    self.push(Received::Text(text), size);
                }
                Ok(Some(Message::Binary(data))) => {
                    let data = exact(data);
                    let size = data.len();
                    self.push(Received::Binary(data), size);
                }
                Ok(Some(Message::Ping(_))) => {}
                Ok(Some(Message::Pong(_))) => self.ping_sent = None,
                Ok(Some(Message::Close(code, reason))) => {
                    // Echoed by the codec unless this end closed first; then the server
                    // closes the TCP connection (RFC 6455 section 7.1.1).
                    self.write(out);
                    self.state = State::Closed;
                    self.push_closed(code, &reason);
                    return self.lose(Action::Close);
                }
                Err(err) => {
                    self.write(out);
                    self.state = State::Closed;
                    self.push_closed(err.code, err.reason);
                    return self.lose(Action::Close);
                }
            }
        }
        self.write(out);
        if !self.queue.is_empty() {
            self.wake();
        }
        self.flow(asking);
    }

    /// Pauses reading while the queue has no room, resumes it once it has.
    fn flow(&mut self, asking: bool) {
        if self.lost || self.state == State::Connecting {
            return;
        }
        let open = self.account.room(asking || self.waiting) == Room::Open;
        if open == self.read_paused {
            self.read_paused = !open;
            self.actions.push_back(if open {
                Action::ResumeReading
            } else {
                Action::PauseReading
            });
        }
    }

    /// The handler has returned: frees what it left unread; later messages are dropped.
    fn discard_unread(&mut self) {
        self.finished = true;
        let account = &mut self.account;
        self.queue.retain(|item| match item {
            Incoming::Message(_, size) => {
                account.pop(*size);
                false
            }
            Incoming::Closed(..) => true,
        });
    }

    // --- socket events ---------------------------------------------------------------------

    /// Bytes from the client.
    pub fn data_received(&mut self, data: &[u8], now: Instant) {
        // Any bytes from the client are a sign of life, as good as a pong.
        self.last_seen = now;
        self.ping_sent = None;
        match self.state {
            State::Connecting => {
                // A client must wait for the 101; keep what came early (bounded) until then.
                if self.early.len() + data.len() > self.limits.max_message {
                    return self.lose(Action::Abort);
                }
                self.early.extend_from_slice(data);
            }
            State::Closed => {}
            State::Open | State::Closing => {
                self.codec.feed(data);
                self.process(false);
            }
        }
    }

    /// The socket is gone. Messages already received still reach the handler, then the
    /// disconnect (1006) when the connection had not closed cleanly.
    pub fn connection_lost(&mut self) {
        self.lost = true;
        let was = std::mem::replace(&mut self.state, State::Closed);
        if was == State::Connecting {
            self.push_closed(close::ABNORMAL, "");
        } else {
            self.process(false);
        }
        self.actions.push_back(Action::WakeSender);
    }

    /// The socket's write buffer went over its high-water mark.
    pub fn pause_writing(&mut self) {
        self.write_paused = true;
        self.paused_bytes = 0;
    }

    /// The socket's write buffer drained under its low-water mark.
    pub fn resume_writing(&mut self) {
        self.write_paused = false;
        self.paused_bytes = 0;
        self.actions.push_back(Action::WakeSender);
    }

    /// The clock: pings an idle client, drops one that does not answer, ends a close
    /// handshake the client never completes, and reads again when the worker's budget, which
    /// other connections may have freed since, has room.
    pub fn tick(&mut self, now: Instant) {
        if self.read_paused {
            self.process(false);
        }
        let limits = &self.limits;
        match self.state {
            State::Open => {
                if let Some(sent) = self.ping_sent {
                    if !limits.ping_timeout.is_zero()
                        && now.duration_since(sent) > limits.ping_timeout
                    {
                        let mut out = Vec::new();
                        self.codec.write_close(
                            &mut out,
                            close::INTERNAL_ERROR,
                            "Keepalive ping timeout",
                        );
                        self.write(out);
                        self.state = State::Closed;
                        self.push_closed(close::ABNORMAL, "Keepalive ping timeout");
                        self.lose(Action::Close);
                    }
                } else if !limits.ping_interval.is_zero()
                    && now.duration_since(self.last_seen) > limits.ping_interval
                {
                    let mut out = Vec::new();
                    if self.codec.write_ping(&mut out, PING_PAYLOAD) {
                        self.ping_sent = Some(now);
                        self.write(out);
                    }
                }
            }
            State::Closing => {
                let started = self.close_started.unwrap_or(now);
                if now.duration_since(started) > self.close_wait() {
                    self.state = State::Closed;
                    self.lose(Action::Abort);
                }
            }
            _ => {}
        }
    }

    /// Server shutdown: close with 1001 (a connection still in its handshake is refused 503).
    pub fn go_away(&mut self, now: Instant) {
        match self.state {
            State::Connecting => self.reject(503, close::GOING_AWAY, "Server shutting down"),
            State::Open => self.start_close(close::GOING_AWAY, "Server shutting down", now),
            _ => {}
        }
    }

    // --- what the handler asks -------------------------------------------------------------

    /// Answers the handshake with 101 (negotiating compression) and reads what came early.
    /// A client that left before the answer is not an error: the next receive says so.
    pub fn accept(
        &mut self,
        subprotocol: Option<&str>,
        headers: &[(&[u8], &[u8])],
        now: Instant,
    ) -> Result<(), AcceptError> {
        match self.state {
            State::Connecting => {}
            State::Closed => return Ok(()),
            _ => return Err(AcceptError::AlreadyAccepted),
        }
        let Some(offer) = self.offer.take() else {
            return Ok(());
        };
        let extension = if self.limits.deflate {
            deflate::negotiate(&offer.extensions)
        } else {
            None
        };
        let mut out = Vec::new();
        if let Err(e) =
            handshake::write_accept(&mut out, &offer.key, subprotocol, extension, headers)
        {
            self.offer = Some(offer);
            return Err(e.into());
        }
        self.codec = Codec::new(Role::Server, self.limits.max_message, extension.is_some());
        self.state = State::Open;
        self.last_seen = now;
        self.actions.push_back(Action::Handshake(101));
        self.write(out);
        let early = std::mem::take(&mut self.early);
        if !early.is_empty() {
            self.codec.feed(&early);
            self.process(false);
        }
        Ok(())
    }

    /// Answers the handshake with an HTTP error instead of 101. The body names the close
    /// code the handler asked for, for people (and the TestClient) looking at the refusal.
    pub fn reject(&mut self, status: u16, code: u16, reason: &str) {
        if self.state != State::Connecting {
            return;
        }
        self.state = State::Closed;
        self.offer = None;
        let body = format!("WebSocket closed before the handshake (code {code}): {reason}");
        let mut out = Vec::new();
        handshake::write_refusal(&mut out, status, &body);
        self.actions.push_back(Action::Handshake(status));
        self.write(out);
        self.push_closed(close::ABNORMAL, "");
        self.lose(Action::Close);
    }

    /// The next received message, or the disconnect; `None` when nothing has arrived yet
    /// (then call [`wait`](Self::wait)). Asking gets a message even over the worker's budget.
    pub fn receive(&mut self) -> Option<Received> {
        if let Some((code, reason)) = &self.final_close {
            return Some(Received::Closed(*code, reason.clone()));
        }
        if self.queue.is_empty() {
            self.process(true);
        }
        match self.queue.pop_front()? {
            Incoming::Message(message, size) => {
                self.account.pop(size);
                // Room again: decode what waits in the codec, resume reading.
                self.process(false);
                Some(message)
            }
            Incoming::Closed(code, reason) => {
                self.final_close = Some((code, reason.clone()));
                Some(Received::Closed(code, reason))
            }
        }
    }

    /// The handler waits for a message: [`Action::WakeReceiver`] comes when there is one (at
    /// once if there already is). A waiting handler gets its next message even over the
    /// worker's budget, so reading resumes for it.
    pub fn wait(&mut self) {
        self.waiting = true;
        if !self.queue.is_empty() || self.final_close.is_some() {
            self.wake();
        }
        self.flow(false);
    }

    /// Sends a text or binary message (compressed when negotiated and worth it).
    pub fn send(&mut self, text: bool, payload: &[u8]) -> Sent {
        if self.is_done() || self.state == State::Connecting {
            return Sent::NotSent;
        }
        let mut out = Vec::new();
        self.codec.write_message(&mut out, text, payload);
        self.write(out);
        if self.lost {
            Sent::NotSent
        } else if self.write_paused {
            Sent::MustDrain
        } else {
            Sent::Written
        }
    }

    fn start_close(&mut self, code: u16, reason: &str, now: Instant) {
        let mut out = Vec::new();
        if self.codec.write_close(&mut out, code, reason) {
            self.state = State::Closing;
            self.close_started = Some(now);
            self.write(out);
        }
    }

    /// Starts the closing handshake (before accept: refuses with 403).
    pub fn close(&mut self, code: u16, reason: &str, now: Instant) {
        match self.state {
            State::Connecting => self.reject(403, code, reason),
            State::Open => self.start_close(code, reason, now),
            _ => {}
        }
    }

    /// The handler returned (`error`: by raising): refuses an unanswered handshake with 500,
    /// closes an open connection with 1000 (1011 after an error). What the handler left unread
    /// is freed and reading goes on (dropping what arrives), so the client's side of the
    /// close handshake is not stuck behind a paused socket.
    pub fn finish(&mut self, error: bool, now: Instant) {
        self.discard_unread();
        match self.state {
            State::Connecting => self.reject(500, close::INTERNAL_ERROR, "Internal Server Error"),
            State::Open => {
                let code = if error {
                    close::INTERNAL_ERROR
                } else {
                    close::NORMAL
                };
                self.start_close(code, "", now);
            }
            _ => {}
        }
        self.process(false);
    }
}

/// `data` in a buffer of its exact size (copied when it has spare capacity).
fn exact(data: Vec<u8>) -> Vec<u8> {
    if data.capacity() > data.len() {
        data.as_slice().to_vec()
    } else {
        data
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
