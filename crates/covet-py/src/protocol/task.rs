//! Handlers that await (a database, Redis), run as Tasks the engine starts itself.
//!
//! When an `async def` can suspend but needs nothing solved in Python (no dependencies, only
//! parameters the engine or `_simple_values` build), the engine calls it as it would inline and
//! hands the coroutine to the loop's `create_task`. A done callback (`TaskDone`) then writes
//! the result exactly as an inline call's: response model, JSON or text in Rust, Python only
//! for an error or a response it must send itself. The request never takes the Python
//! request path (`Covet._serve`), so a handler that awaits costs the engine what an inline one
//! does, plus the Task.
//!
//! The Task joins the app's task set while it runs (shutdown and the test client wait for
//! it). A cancelled Task has no answer to give: the connection is closed.

use std::cell::RefCell;
use std::sync::Arc;

use pyo3::exceptions::asyncio::CancelledError;
use pyo3::prelude::*;
use pyo3::{ffi, intern};

use super::dispatch::Later;
use super::HttpProtocol;
use crate::convert::endpoint::Endpoint;
use crate::gil::G;

impl HttpProtocol {
    /// Starts `coro` as a Task on the connection's loop; its result is written when done.
    pub(super) fn start_task(
        &self,
        slf: &Bound<'_, Self>,
        ep: &Arc<Endpoint>,
        coro: Bound<'_, PyAny>,
        later: Later,
    ) -> PyResult<()> {
        let py = slf.py();
        if unsafe { ffi::PyCoro_CheckExact(coro.as_ptr()) } == 0 {
            // Not a coroutine after all (a wrapped handler returned its value): write it.
            return self.complete(slf, ep, Ok(coro), later);
        }
        let task = self.create_task(py)?.bind(py).call1((&coro,))?;
        let tasks = self
            .server
            .bind(py)
            .borrow()
            .tasks
            .borrow()
            .as_ref()
            .map(|t| t.clone_ref(py));
        if let Some(tasks) = &tasks {
            tasks.bind(py).call_method1(intern!(py, "add"), (&task,))?;
        }
        let done = TaskDone {
            conn: slf.clone().unbind(),
            ep: ep.clone(),
            later: G(RefCell::new(Some(later))),
            tasks,
        };
        task.call_method1(intern!(py, "add_done_callback"), (done,))?;
        Ok(())
    }

    /// The loop's `create_task`, looked up once per connection (on CPython 3.11 each
    /// `get_running_loop()` is a system call).
    fn create_task(&self, py: Python<'_>) -> PyResult<PyObject> {
        if let Some(create) = self.create_task.borrow().as_ref() {
            return Ok(create.clone_ref(py));
        }
        let event_loop = py
            .import(intern!(py, "asyncio"))?
            .call_method0(intern!(py, "get_running_loop"))?;
        let create = event_loop.getattr(intern!(py, "create_task"))?.unbind();
        *self.create_task.borrow_mut() = Some(create.clone_ref(py));
        Ok(create)
    }
}

/// The done callback of an engine-started Task: writes its result, or hands its exception to
/// Python, then serves the next pipelined request.
#[pyclass(module = "covet._engine")]
pub struct TaskDone {
    conn: Py<HttpProtocol>,
    ep: Arc<Endpoint>,
    later: G<RefCell<Option<Later>>>,
    tasks: Option<PyObject>,
}

#[pymethods]
impl TaskDone {
    fn __call__(&self, py: Python<'_>, task: &Bound<'_, PyAny>) -> PyResult<()> {
        if let Some(tasks) = &self.tasks {
            tasks
                .bind(py)
                .call_method1(intern!(py, "discard"), (task,))?;
        }
        let Some(later) = self.later.borrow_mut().take() else {
            return Ok(());
        };
        let conn = self.conn.bind(py);
        let result = task.call_method0(intern!(py, "result"));
        {
            let this = conn.borrow();
            match result {
                Err(e) if e.is_instance_of::<CancelledError>(py) => {
                    this.keep_alive.set(false);
                    this.finish(py)?;
                    return Ok(());
                }
                result => {
                    if let Err(e) = this.complete(conn, &self.ep, result, later) {
                        // A failure of covet's own: end the connection, asyncio logs the error.
                        this.keep_alive.set(false);
                        this.finish(py)?;
                        return Err(e);
                    }
                }
            }
            if this.busy.get() {
                return Ok(()); // Python took the request over; it calls `request_done`
            }
        }
        HttpProtocol::process(conn)
    }
}
