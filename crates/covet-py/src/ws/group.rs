//! `WebSocketGroup`: fan-out to many connections with one call.
//!
//! `broadcast(message)` frames the message once (text for str, binary for bytes) and writes
//! that frame to every open member from Rust: each member's session admits it under its
//! slow-consumer policy, and its socket (`io`) appends it to the bytes that go to the kernel at
//! the end of the loop's turn, one non-blocking `send()` per member, with no Python call per
//! member. Members that have closed are dropped from the group on the next `broadcast` or
//! `len()`. A member whose client does not read is dropped by its connection's slow-consumer
//! limit, so a broadcast never grows memory without bound.

use std::cell::RefCell;

use covet_engine::ws::frame::{self, OpCode};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use super::conn::WsConnection;
use crate::gil::G;

#[pyclass(module = "covet._engine")]
pub struct WebSocketGroup {
    members: G<RefCell<Vec<Py<WsConnection>>>>,
}

impl WebSocketGroup {
    /// Drops members that can no longer be sent to.
    fn prune(&self, py: Python<'_>) {
        self.members
            .borrow_mut()
            .retain(|m| !m.bind(py).get().is_done());
    }
}

#[pymethods]
impl WebSocketGroup {
    #[new]
    fn new() -> Self {
        WebSocketGroup {
            members: G(RefCell::new(Vec::new())),
        }
    }

    /// Adds a connection (once; adding it again does nothing).
    fn add(&self, conn: Py<WsConnection>) {
        let mut members = self.members.borrow_mut();
        if !members.iter().any(|m| m.is(&conn)) {
            members.push(conn);
        }
    }

    /// Removes a connection if it is a member.
    fn discard(&self, conn: &Bound<'_, WsConnection>) {
        self.members.borrow_mut().retain(|m| !m.is(conn));
    }

    fn __contains__(&self, conn: &Bound<'_, WsConnection>) -> bool {
        self.members.borrow().iter().any(|m| m.is(conn))
    }

    /// Live members.
    fn __len__(&self, py: Python<'_>) -> usize {
        self.prune(py);
        self.members.borrow().len()
    }

    /// Sends `message` (str: a text frame, bytes: a binary frame, never compressed) to every
    /// live member; returns how many it was written to. `exclude`: one connection to skip
    /// (typically the sender).
    #[pyo3(signature = (message, exclude=None))]
    fn broadcast(
        &self,
        py: Python<'_>,
        message: &Bound<'_, PyAny>,
        exclude: Option<&Bound<'_, WsConnection>>,
    ) -> PyResult<usize> {
        let (opcode, payload): (OpCode, &[u8]) = if let Ok(text) = message.downcast::<PyString>() {
            (OpCode::Text, text.to_str()?.as_bytes())
        } else {
            (OpCode::Binary, message.extract()?)
        };
        let mut out = Vec::new();
        frame::write_frame(&mut out, opcode, false, payload, None);
        let bytes = PyBytes::new(py, &out);
        self.prune(py);
        let members: Vec<Py<WsConnection>> = self
            .members
            .borrow()
            .iter()
            .map(|m| m.clone_ref(py))
            .collect();
        let mut sent = 0;
        for member in members {
            if exclude.is_some_and(|e| member.is(e)) {
                continue;
            }
            // Not yet accepted (no 101 sent), closing, or dropped as a slow consumer: skipped.
            if WsConnection::write_shared(member.bind(py), &out, &bytes)? {
                sent += 1;
            }
        }
        Ok(sent)
    }
}
