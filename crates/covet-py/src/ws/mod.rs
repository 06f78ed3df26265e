//! WebSockets on covet's own server: the upgrade from HTTP, the per-connection state the
//! handler talks to, fan-out groups, and the client-side codec the TestClient uses.

pub mod client;
pub mod conn;
pub mod group;
pub mod io;
pub mod upgrade;
