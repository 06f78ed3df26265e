//! The switch from HTTP: an `Upgrade: websocket` request is checked, routed among the
//! WebSocket routes, and handed to its endpoint with a fresh `WsConnection`; the same
//! protocol object then forwards the socket to it.

use std::cell::RefCell;
use std::sync::Arc;

use covet_engine::http::request::Request;
use covet_engine::router::{Lookup, WEBSOCKET};
use covet_engine::ws::{handshake, WsLimits};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use super::conn::WsConnection;
use super::io::Socket;
use crate::convert::request::RawRequest;
use crate::protocol::HttpProtocol;

/// Serves an upgrade request: 400/426 for a bad handshake, 403 when no WebSocket route
/// matches (as uvicorn answers a handshake the app closes), otherwise calls the endpoint
/// with `(connection, raw_request)`; the handler answers the handshake with `accept`.
pub fn start(proto: &HttpProtocol, py: Python<'_>, req: Request) -> PyResult<()> {
    {
        proto.busy.set(true);
        let offer = match handshake::check(&req) {
            Ok(offer) => offer,
            Err(refusal) => return refuse(proto, py, refusal.status, refusal.detail),
        };
        let server = proto.server.bind(py).borrow();
        let found = server
            .router
            .get()
            .inner
            .read()
            .unwrap()
            .lookup(WEBSOCKET, &req.path);
        // A mounted ASGI app gets the connection too, with its mount prefix.
        let (endpoint, params, root_path) = match found {
            Lookup::Found {
                endpoint, params, ..
            } => (endpoint, params, None),
            Lookup::Mount {
                endpoint,
                root_path,
                ..
            } => (endpoint, Vec::new(), Some(root_path)),
            _ => {
                drop(server);
                return refuse(proto, py, 403, "No WebSocket route for this path");
            }
        };
        let ep = server.endpoints.borrow()[endpoint].clone();
        if ep.call.is_none(py) {
            drop(server);
            return refuse(proto, py, 403, "No WebSocket route for this path");
        }
        let limits = shared_limits(&server.ws_limits.borrow());
        let access = server.access_log.as_ref().map(|log| {
            let mut target = req.path.clone();
            if !req.query.is_empty() {
                target.push('?');
                target.push_str(&String::from_utf8_lossy(&req.query));
            }
            (log.clone_ref(py), proto.client_obj(py), target)
        });
        drop(server);
        let early = proto.conn.borrow_mut().take_buffered();
        // The HTTP response buffer is not written again: an idle WebSocket keeps none of it.
        let mut out = proto.out.borrow_mut();
        if out.is_empty() {
            *out = Vec::new();
        }
        drop(out);
        let transport = proto.transport.borrow().as_ref().map(|t| t.clone_ref(py));
        let write = proto.write.borrow().as_ref().map(|w| w.clone_ref(py));
        // The protocol knows a plain socket's descriptor (a TLS one carries encrypted bytes
        // and has none): only a plain one is written directly.
        let socket = Socket::new(py, transport, write, proto.sock_fd.get());
        let conn = Py::new(py, WsConnection::new(socket, offer, limits, early, access))?;
        *proto.ws.borrow_mut() = Some(conn.clone_ref(py));
        let raw = RawRequest::from_engine(
            req,
            params,
            Some(endpoint),
            proto.client_obj(py),
            proto.sockname_obj(py),
            proto.scheme(),
            None,
        )
        .under(proto.root_path.as_deref());
        match root_path {
            None => ep.call.bind(py).call1((conn, raw))?,
            Some(root) => ep.call.bind(py).call1((conn, raw, root))?,
        };
        Ok(())
    }
}

thread_local! {
    /// The limits of the last upgrade, shared by the sessions made with the same ones.
    static LIMITS: RefCell<Option<Arc<WsLimits>>> = const { RefCell::new(None) };
}

/// `limits` in an `Arc` shared with the worker's other connections: a copy per connection
/// would cost each idle connection 80 bytes.
fn shared_limits(limits: &WsLimits) -> Arc<WsLimits> {
    LIMITS.with(|cell| {
        let mut cached = cell.borrow_mut();
        match cached.as_ref() {
            Some(known) if known.same_as(limits) => Arc::clone(known),
            _ => Arc::clone(cached.insert(Arc::new(limits.clone()))),
        }
    })
}

fn refuse(proto: &HttpProtocol, py: Python<'_>, status: u16, detail: &'static str) -> PyResult<()> {
    let mut out = Vec::new();
    handshake::write_refusal(&mut out, status, detail);
    let write = proto.write.borrow().as_ref().map(|w| w.clone_ref(py));
    if let Some(write) = write {
        write.bind(py).call1((PyBytes::new(py, &out),))?;
    }
    let server = proto.server.bind(py).borrow();
    let client = proto.client_obj(py);
    server.error_log.bind(py).call1((status, detail, client))?;
    drop(server);
    proto.close(py)
}
