//! The engine's endpoint table: how the engine calls each endpoint, as Python declares it by
//! name (`EndpointSpec`), and the entry the connection reads on each request (`Endpoint`).

use std::sync::Arc;

use pyo3::prelude::*;

use super::fastargs::{FastCall, FastSpec};
use super::shape::{ResponseShape, Shape};

/// How the engine calls one endpoint, decided by Python at startup.
pub struct Endpoint {
    /// `call()` (when `noarg`) or `call(raw_request)`; returns a coroutine or a value.
    pub call: PyObject,
    pub noarg: bool,
    /// True: the coroutine cannot suspend, so the engine drives it to completion inline.
    /// False: a Task runs it (see `protocol::task`).
    pub inline: bool,
    /// True (when not `inline`): an `async def` that may suspend and needs nothing solved in
    /// Python; the engine calls it and runs its coroutine as a Task itself, writing the result
    /// when it is done. False: Python takes the whole request over (`spawn`).
    pub task: bool,
    /// Status code for a plain (non-Response) return value.
    pub status: u16,
    /// Arguments the engine can build itself (simple path/query scalars), when it can.
    pub fast: Option<Arc<FastCall>>,
    /// Turns the handler's return value into a response (a response model), when needed.
    pub convert: Option<PyObject>,
    /// A response model the engine can check itself (lists, str-keyed dicts, Any).
    pub shape: Option<Arc<Shape>>,
    /// The content-type of a text response class (`PlainTextResponse`, `HTMLResponse`): a
    /// `str` the handler returns is written by the engine as it is, in UTF-8.
    pub text: Option<Vec<u8>>,
}

/// One endpoint as Python declares it:
/// `EndpointSpec(call, *, noarg=False, inline=False, task=False, status=200, fast=None,
/// convert=None, shape=None, text=None)`; the fields mean what `Endpoint`'s do.
#[pyclass(frozen, module = "covet._engine")]
pub struct EndpointSpec {
    call: PyObject,
    noarg: bool,
    inline: bool,
    task: bool,
    status: u16,
    fast: Option<Py<FastSpec>>,
    convert: Option<PyObject>,
    shape: Option<Py<ResponseShape>>,
    text: Option<Vec<u8>>,
}

#[pymethods]
impl EndpointSpec {
    #[new]
    #[pyo3(signature = (call, *, noarg=false, inline=false, task=false, status=200, fast=None, convert=None, shape=None, text=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        call: PyObject,
        noarg: bool,
        inline: bool,
        task: bool,
        status: u16,
        fast: Option<Py<FastSpec>>,
        convert: Option<PyObject>,
        shape: Option<Py<ResponseShape>>,
        text: Option<Vec<u8>>,
    ) -> Self {
        EndpointSpec {
            call,
            noarg,
            inline,
            task,
            status,
            fast,
            convert,
            shape,
            text,
        }
    }
}

impl Endpoint {
    /// The table entry for a spec.
    pub fn from_spec(py: Python<'_>, spec: &EndpointSpec) -> Self {
        Endpoint {
            call: spec.call.clone_ref(py),
            noarg: spec.noarg,
            inline: spec.inline,
            task: spec.task && !spec.inline,
            status: spec.status,
            fast: spec.fast.as_ref().map(|f| FastCall::new(py, f.get())),
            convert: spec.convert.as_ref().map(|c| c.clone_ref(py)),
            shape: spec.shape.as_ref().map(|s| s.get().inner.clone()),
            text: spec.text.clone(),
        }
    }
}
