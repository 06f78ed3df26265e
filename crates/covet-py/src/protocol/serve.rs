//! Serving what the parser produces: each request goes through the engine middleware, is
//! routed in Rust, and its endpoint is called here (with arguments built in Rust when it can):
//! inline when its coroutine cannot suspend, as a Task the engine starts when it can but needs
//! nothing solved in Python. Otherwise, and whenever Python must finish the work, the request
//! is handed to Python (`Server.spawn`) as a Task.

use std::sync::Arc;
use std::time::Instant;

use covet_engine::connection::Event;
use covet_engine::http::answer::Early;
use covet_engine::http::request::Request;
use covet_engine::http::response;
use covet_engine::router::{Lookup, ParamValue};
use pyo3::prelude::*;
use pyo3::{intern, IntoPyObjectExt};

use super::admission::Guarded;
use super::dispatch::{drive, Later, Pending};
use super::server::Server;
use super::stream::BodyStream;
use super::HttpProtocol;
use crate::convert::endpoint::Endpoint;
use crate::convert::json;
use crate::convert::request::RawRequest;
use crate::convert::shape::Shape;

impl HttpProtocol {
    /// Parses and serves buffered requests until one goes to Python or the buffer runs dry.
    pub(super) fn process(slf: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        let this = slf.borrow();
        // While a request is in flight only the rest of its streamed body is read.
        while !this.closed.get() && (!this.busy.get() || this.body_stream.borrow().is_some()) {
            let event = this.conn.borrow_mut().next_event();
            match event {
                None => break,
                Some(Event::Continue) => {
                    this.out
                        .borrow_mut()
                        .extend_from_slice(response::CONTINUE_100);
                    this.flush(py)?;
                }
                Some(Event::Error(err)) => this.refuse(py, &err)?,
                Some(Event::Request(req)) => this.handle(slf, req, None)?,
                Some(Event::Stream(req)) => {
                    let stream = Py::new(py, BodyStream::new(slf.clone().unbind()))?;
                    *this.body_stream.borrow_mut() = Some(stream.clone_ref(py));
                    this.handle(slf, req, Some(stream))?;
                }
                Some(Event::BodyChunk(chunk)) => this.body_chunk(py, &chunk)?,
                Some(Event::BodyEnd) => {
                    let stream = this.body_stream.borrow_mut().take();
                    if let Some(stream) = stream {
                        stream.bind(py).borrow().end(py)?;
                    }
                }
            }
        }
        // A head that is arriving is timed by the header timeout, a body by its pace.
        this.conn.borrow_mut().parsed(Instant::now());
        if this.eof.get() && !this.busy.get() {
            this.close(py)?;
        }
        Ok(())
    }

    /// Queues a piece of the streamed body, pausing the socket while Python is behind.
    fn body_chunk(&self, py: Python<'_>, chunk: &[u8]) -> PyResult<()> {
        let stream = self.body_stream.borrow().as_ref().map(|s| s.clone_ref(py));
        let Some(stream) = stream else {
            return Ok(());
        };
        if stream.bind(py).borrow().push(py, chunk)? && !self.read_paused.get() {
            self.read_paused.set(true);
            self.transport_call(py, intern!(py, "pause_reading"))?;
        }
        Ok(())
    }

    /// Serves one request: the engine middleware, then a WebSocket upgrade, a routed
    /// endpoint, the engine's own 404/405/redirect (`http::answer`), or Python for anything
    /// else.
    fn handle(
        &self,
        slf: &Bound<'_, Self>,
        req: Request,
        stream: Option<Py<BodyStream>>,
    ) -> PyResult<()> {
        let py = slf.py();
        let server_ref = self.server.bind(py).borrow();
        self.begin(&server_ref, &req);
        self.metrics_begin(&req);
        if self.check_policy(py, &server_ref, &req)? {
            return Ok(());
        }
        if req.websocket {
            // Past the engine middleware (trusted hosts...), whose response headers don't apply.
            drop(server_ref);
            *self.log_line.borrow_mut() = None;
            return crate::ws::upgrade::start(self, py, req);
        }
        let found = server_ref
            .router
            .get()
            .inner
            .read()
            .unwrap()
            .lookup(&req.method, &req.path);
        if let Lookup::Mount { endpoint, rest, .. } = &found {
            let dir = server_ref
                .statics
                .borrow()
                .get(*endpoint)
                .cloned()
                .flatten();
            if let Some(dir) = dir {
                drop(server_ref);
                return crate::protocol::static_files::serve(self, py, &dir, &req, rest);
            }
        }
        let native = server_ref.native_errors.get();
        if let Lookup::Mount { endpoint, .. } = &found {
            self.metrics_route(*endpoint);
            self.access_route(*endpoint);
        }
        match found {
            Lookup::Found {
                endpoint, params, ..
            } => {
                self.metrics_route(endpoint);
                self.access_route(endpoint);
                self.call_endpoint(slf, server_ref, req, endpoint, params, stream)
            }
            Lookup::NotFound if native => self.answer_early(py, &server_ref, &Early::not_found()),
            Lookup::MethodNotAllowed { allow } if native => {
                self.answer_early(py, &server_ref, &Early::method_not_allowed(allow))
            }
            Lookup::Redirect { location_path } if native => {
                let redirect = Early::slash_redirect(location_path, &req.query);
                self.answer_early(py, &server_ref, &redirect)
            }
            _ => {
                drop(server_ref);
                self.expose_request_id(py)?;
                let raw = RawRequest::from_engine(
                    req,
                    Vec::new(),
                    None,
                    self.client_obj(py),
                    self.sockname_obj(py),
                    self.scheme(),
                    stream.map(Py::into_any),
                )
                .under(self.root_path.as_deref());
                self.spawn(slf, raw.into_py_any(py)?, None, None)
            }
        }
    }

    /// Sets the connection up for a new request: whether it may be kept alive, how the
    /// response is framed, and the access-log line (when logging).
    fn begin(&self, server: &Server, req: &Request) {
        self.response_started.set(false);
        self.keep_alive
            .set(req.keep_alive && !server.shutting_down.get() && !self.eof.get());
        self.head_only.set(req.method == "HEAD");
        self.http_minor.set(req.http_minor);
        self.busy.set(true);
        self.access_begin(req);
        if server.access_log.is_some() {
            let mut target = req.path.clone();
            if !req.query.is_empty() {
                target.push('?');
                target.push_str(&String::from_utf8_lossy(&req.query));
            }
            *self.log_line.borrow_mut() = Some((req.method.clone(), target));
        }
    }

    /// Calls a routed endpoint past its guard: inline when it cannot suspend (with arguments
    /// built here when its signature allows), else handed to Python.
    fn call_endpoint(
        &self,
        slf: &Bound<'_, Self>,
        server_ref: PyRef<'_, Server>,
        req: Request,
        endpoint: usize,
        params: Vec<(String, ParamValue)>,
        stream: Option<Py<BodyStream>>,
    ) -> PyResult<()> {
        let py = slf.py();
        let ep = server_ref.endpoints.borrow()[endpoint].clone();
        let claims = match self.check_guard(py, &server_ref, endpoint, &req)? {
            Guarded::Pass(claims) => claims,
            Guarded::Answered => return Ok(()),
        };
        if self.answer_cached(py, &server_ref, endpoint, &req)? {
            return Ok(());
        }
        drop(server_ref);
        self.expose_request_id(py)?;
        let streamed = stream.is_some();
        // Called here: inline, or as a Task the engine starts; else Python takes it all over.
        let direct = (ep.inline || ep.task) && !streamed;
        if let (true, Some(fast)) = (direct, &ep.fast) {
            let content_type = req.header("content-type");
            if let Some(kwargs) = fast.kwargs(py, &params, &req.query, &req.body, content_type)? {
                let pending = Pending {
                    req,
                    params,
                    endpoint,
                };
                let called = fast.handler.bind(py).call((), Some(&kwargs));
                return self.run(slf, &ep, called, Later::Engine(pending));
            }
        }
        let raw = RawRequest::from_engine(
            req,
            params,
            Some(endpoint),
            self.client_obj(py),
            self.sockname_obj(py),
            self.scheme(),
            stream.map(Py::into_any),
        )
        .with_claims(claims)
        .under(self.root_path.as_deref());
        if !direct {
            return self.spawn(slf, raw.into_py_any(py)?, None, None);
        }
        let raw = Bound::new(py, raw)?;
        let called = if ep.noarg {
            ep.call.bind(py).call0()
        } else {
            ep.call.bind(py).call1((&raw,))
        };
        self.run(slf, &ep, called, Later::Python(raw.into_any().unbind()))
    }

    /// Runs what calling the endpoint gave: driven to its end here when it cannot suspend,
    /// else started as a Task whose result is written when it is done (`task.rs`).
    fn run(
        &self,
        slf: &Bound<'_, Self>,
        ep: &Arc<Endpoint>,
        called: PyResult<Bound<'_, PyAny>>,
        later: Later,
    ) -> PyResult<()> {
        if ep.inline {
            let value = called.and_then(|c| drive(slf.py(), c));
            return self.complete(slf, ep, value, later);
        }
        match called {
            Ok(coro) => self.start_task(slf, ep, coro, later),
            Err(e) => self.complete(slf, ep, Err(e), later),
        }
    }

    /// Finishes a call the engine made, given the handler's result: applies the response
    /// model (checked here when its shape allows), writes the result. On any error, or a
    /// response Python must send (streaming, background work), the request goes to Python
    /// with what happened.
    pub(super) fn complete(
        &self,
        slf: &Bound<'_, Self>,
        ep: &Endpoint,
        value: PyResult<Bound<'_, PyAny>>,
        later: Later,
    ) -> PyResult<()> {
        let py = slf.py();
        if let (Some(content_type), Ok(v)) = (&ep.text, &value) {
            if let Some(text) = exact_str(v) {
                let headers: &[(&[u8], &[u8])] = &[(b"content-type", content_type)];
                self.write_full(py, ep.status, headers, text)?;
                return self.finish(py);
            }
        }
        if let (Some(shape), Ok(v)) = (&ep.shape, &value) {
            if self.write_shaped(py, shape, v, ep.status)? {
                return self.finish(py);
            }
        }
        let value = value.and_then(|v| match &ep.convert {
            Some(convert) => convert.bind(py).call1((v,)),
            None => Ok(v),
        });
        let outcome = value.and_then(|v| Ok((self.write_result(py, &v, ep.status)?, v)));
        match outcome {
            Ok((true, _)) => self.finish(py),
            Ok((false, value)) => {
                let raw = later.into_raw(py, self)?;
                self.spawn(slf, raw, None, Some(value.unbind()))
            }
            Err(e) => {
                let raw = later.into_raw(py, self)?;
                self.spawn(slf, raw, Some(e.into_value(py).into_any()), None)
            }
        }
    }

    /// Writes a value checked against its response model's shape in the same walk as it is
    /// encoded; false (nothing written) when it does not have the shape, or cannot be encoded
    /// here, and pydantic must see it.
    fn write_shaped(
        &self,
        py: Python<'_>,
        shape: &Shape,
        value: &Bound<'_, PyAny>,
        status: u16,
    ) -> PyResult<bool> {
        json::with_scratch(|body| {
            if !json::encode_shaped(value, shape, body).unwrap_or(false) {
                return Ok(false);
            }
            let headers: &[(&[u8], &[u8])] = &[(b"content-type", b"application/json")];
            self.write_full(py, status, headers, body)?;
            Ok(true)
        })
    }

    /// Hands the request to Python as a Task, with the error or response the engine got so far.
    fn spawn(
        &self,
        slf: &Bound<'_, Self>,
        raw: PyObject,
        exc: Option<Py<PyAny>>,
        resp: Option<PyObject>,
    ) -> PyResult<()> {
        let py = slf.py();
        self.busy.set(true);
        let spawn = self.server.bind(py).borrow().spawn.clone_ref(py);
        spawn.bind(py).call1((slf, raw, exc, resp))?;
        Ok(())
    }
}

/// The UTF-8 bytes of an exact `str` (None for anything else, or text with lone surrogates,
/// which the response class turns into its own error).
fn exact_str<'a>(value: &'a Bound<'_, PyAny>) -> Option<&'a [u8]> {
    let s = value.downcast_exact::<pyo3::types::PyString>().ok()?;
    s.to_str().ok().map(str::as_bytes)
}
