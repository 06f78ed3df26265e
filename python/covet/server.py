"""One worker process: the event loop (uvloop when installed), the engine's protocol on a
listening socket, timeouts, and a graceful stop on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import signal
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from covet.listener import stop_listening
from covet.supervisor import READY_FD_ENV

if TYPE_CHECKING:
    from covet.applications import Covet

logger = logging.getLogger("covet.server")

__all__ = ["Config", "run", "serve", "bind_socket"]


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 8000
    access_log: bool = True
    max_head_bytes: int = 16 * 1024
    max_headers: int = 100
    max_body_bytes: int = 10 * 1024 * 1024
    header_timeout: float = 10.0
    keepalive_timeout: float = 5.0
    # Bodies larger than this reach the handler in chunks (Request.stream()) as they arrive.
    stream_threshold: int = 1024 * 1024
    graceful_timeout: float = 30.0
    # Seconds between SIGTERM and the drain during which the worker still serves and
    # accepts, with /readyz answering 503, so the load balancer stops sending first.
    shutdown_delay: float = 0.0
    backlog: int = 2048
    # A request body must not go silent for body_timeout s, and past that must average
    # min_body_rate bytes/s (0: no rate); slower ones get 408 (slow-drip defence).
    body_timeout: float = 10.0
    min_body_rate: int = 500
    # Connections one worker holds; None: derived from the open-file limit (see
    # default_max_connections).
    max_connections: int | None = None
    # The path prefix a proxy in front strips before forwarding (uvicorn's --root-path):
    # requests show it as scope["root_path"], URLs built for clients include it.
    root_path: str = ""
    # WebSockets: largest message, ping every ws_ping_interval s of silence (0: never), drop
    # after ws_ping_timeout s without a pong, queue at most ws_max_queue unread messages, drop
    # a client that leaves more than ws_max_send_buffer bytes unread.
    ws_max_size: int = 1024 * 1024
    ws_ping_interval: float = 20.0
    ws_ping_timeout: float = 20.0
    ws_max_queue: int = 32
    ws_max_send_buffer: int = 1024 * 1024
    ws_per_message_deflate: bool = True
    # Unread messages are also bounded in decompressed bytes: per connection, and over all of
    # this worker's connections (reading pauses; a handler waiting in receive() is never starved).
    ws_max_queue_bytes: int = 1024 * 1024
    ws_max_process_queue_bytes: int = 16 * 1024 * 1024

    def websocket_options(self) -> dict[str, Any]:
        return {
            "max_message": self.ws_max_size,
            "ping_interval": self.ws_ping_interval,
            "ping_timeout": self.ws_ping_timeout,
            "max_queue": self.ws_max_queue,
            "max_send_buffer": self.ws_max_send_buffer,
            "deflate": self.ws_per_message_deflate,
            "max_queue_bytes": self.ws_max_queue_bytes,
            "max_process_queue_bytes": self.ws_max_process_queue_bytes,
        }

    def engine_options(self) -> dict[str, Any]:
        return {
            "access_log": self.access_log,
            "max_head_bytes": self.max_head_bytes,
            "max_headers": self.max_headers,
            "max_body_bytes": self.max_body_bytes,
            "header_timeout": self.header_timeout,
            "keepalive_timeout": self.keepalive_timeout,
            "stream_threshold": self.stream_threshold,
            "body_timeout": self.body_timeout,
            "min_body_rate": self.min_body_rate,
            "max_connections": self.max_connections or default_max_connections(),
            "root_path": self.root_path,
        }


def default_max_connections() -> int:
    """Leaves 100 descriptors of the soft open-file limit for everything else a worker opens
    (database pools, files, the listening socket), so accepting never fails with EMFILE."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 10_000
    return max(1, min(soft - 100, 10_000))


def bind_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.setblocking(False)
    return sock


def run(app: Covet | str, host: str = "127.0.0.1", port: int = 8000, *, log_level: str = "info", **options: Any) -> int:
    """Serves `app` (the object, or "module:attribute") in this process until SIGTERM/SIGINT,
    as `covet run` does with one worker: what Flask's `app.run()` and `uvicorn.run()` users
    reach for. `options` are `Config` fields (`max_body_bytes=...`); several workers need the
    app by import path in fresh processes, so they come from `covet run --workers N`."""
    from covet.loader import load_app

    if not logging.getLogger().handlers:
        logging.basicConfig(level=log_level.upper(), format="%(levelname)-8s %(name)s: %(message)s")
    target = load_app(app) if isinstance(app, str) else app
    config = Config(host=host, port=port, **options)
    return serve(target, config, bind_socket(host, port))


def serve(app: Covet, config: Config, sock: socket.socket) -> int:
    """Serves until SIGTERM/SIGINT; returns the process exit code."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(_serve(app, config, sock))
    return uvloop.run(_serve(app, config, sock))


async def _serve(app: Covet, config: Config, sock: socket.socket) -> int:
    loop = asyncio.get_running_loop()
    try:
        await app.startup()
    except Exception:
        logger.exception("Application startup failed; exiting")
        return 3
    engine = app.compile().engine_server(**config.engine_options())
    engine.set_websocket_options(**config.websocket_options())
    sock.listen(config.backlog)
    server = await loop.create_server(engine, sock=sock, backlog=config.backlog)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tick = min(0.5, config.header_timeout / 4, config.keepalive_timeout / 4, config.body_timeout / 4)
    sweeper = loop.create_task(_sweep(engine, tick))
    host, port = sock.getsockname()[:2]
    logger.info("covet worker %d serving on http://%s:%d", os.getpid(), host, port)
    _tell_supervisor_ready()
    await stop.wait()
    app.runtime.draining = True  # covet.health's /readyz answers 503 from now on
    if config.shutdown_delay > 0:
        logger.info("SIGTERM: /readyz answers 503; draining in %g s", config.shutdown_delay)
        stop.clear()  # a second signal ends the delay early
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), config.shutdown_delay)

    logger.info("Shutting down: finishing in-flight requests (up to %.0f s)", config.graceful_timeout)
    engine.shutdown()
    await stop_listening(loop, server, sock, engine)
    deadline = loop.time() + config.graceful_timeout
    while (engine.connection_count() or app.runtime.tasks) and loop.time() < deadline:
        await asyncio.sleep(0.05)
    if engine.connection_count():
        logger.warning("Grace period over: closing %d connection(s)", engine.connection_count())
        engine.close_all()
    await _cancel_unfinished(app.runtime.tasks)
    sweeper.cancel()
    try:
        await app.shutdown()
    except Exception:
        logger.exception("Application shutdown failed")
        return 1
    finally:
        engine.flush_access_log()  # access lines the engine buffered (covet.logs), all written
        _ignore_late_signals(loop)
    logger.info("covet worker %d stopped", os.getpid())
    return 0


async def _cancel_unfinished(tasks: set[asyncio.Task[Any]]) -> None:
    """A handler still running after the grace period (a WebSocket handler waiting on
    something that never comes) would hold the worker forever: it is cancelled, so the
    `graceful_timeout` bounds the stop and its `finally` blocks still run."""
    if not tasks:
        return
    logger.warning("Grace period over: cancelling %d unfinished task(s)", len(tasks))
    for task in list(tasks):
        task.cancel()
    await asyncio.wait(list(tasks), timeout=5)


def _tell_supervisor_ready() -> None:
    """Under `--workers`, a rolling restart stops an old worker only once its replacement
    listens: one byte on the descriptor the supervisor passed says so."""
    fd = os.environ.pop(READY_FD_ENV, None)
    if fd is None:
        return
    try:
        os.write(int(fd), b"1")
        os.close(int(fd))
    except (OSError, ValueError):
        pass  # the supervisor is not waiting for this worker


def _ignore_late_signals(loop: asyncio.AbstractEventLoop) -> None:
    """The worker is exiting: a repeated SIGTERM (a supervisor, an impatient operator) must not
    turn the clean exit into death by signal once the loop's handlers are gone."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.remove_signal_handler(sig)
        signal.signal(sig, signal.SIG_IGN)


async def _sweep(engine: Any, tick: float) -> None:
    while True:
        await asyncio.sleep(tick)
        try:
            engine.sweep()
        except Exception:
            logger.exception("Connection sweep failed")
