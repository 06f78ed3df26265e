//! `G<T>`: interior state of covet's connection objects, shared only under the GIL.
//!
//! The protocol and server objects are used from the worker's loop thread alone, but Python may
//! free them on another thread (a garbage collection triggered in the thread pool), so they
//! cannot be pyo3 `unsendable` classes. Every access happens inside a Python method call, with
//! the GIL held, which serialises it; re-entrancy is handled by `Cell`/`RefCell` as usual.

use std::ops::Deref;

pub struct G<T>(pub T);

// SAFETY: values are only reached from #[pymethods] and functions they call, all of which hold
// the GIL, so no two threads touch one concurrently (covet does not support free-threaded builds).
unsafe impl<T> Send for G<T> {}
unsafe impl<T> Sync for G<T> {}

impl<T> Deref for G<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}
