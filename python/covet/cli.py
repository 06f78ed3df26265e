"""The `covet` command: `covet run module:app` serves an app from covet's Rust engine; the
app's own commands (`@app.cli.command()`) run from covet.commands.app_commands."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from covet.commands.app_commands import is_app_command
from covet.commands.app_commands import main as app_command
from covet.loader import AppLoadError, load_app

__all__ = ["main", "load_app"]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("covet")
    except PackageNotFoundError:  # running from a source tree that was never installed
        from covet import __version__

        return __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="covet", description="covet: Python web framework on a Rust engine")
    parser.add_argument("--version", action="version", version=f"covet {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="serve an application")
    run.add_argument("app", help='the application, as "module:attribute" (e.g. app:app)')
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--workers", type=int, default=1, help="worker processes sharing the port")
    run.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    run.add_argument("--access-log", action=argparse.BooleanOptionalAction, default=True)
    run.add_argument(
        "--log-format",
        default="plain",
        choices=["plain", "json", "text", "auto"],
        help="plain: 'LEVEL logger: message'; json: JSON lines; text: with time and request id; auto: json "
        "unless stderr is a terminal",
    )
    run.add_argument("--app-dir", default=".", help="directory put first on sys.path (default: current)")
    run.add_argument("--max-body-size", type=int, default=10 * 1024 * 1024, help="bytes; larger bodies get 413")
    run.add_argument("--max-header-size", type=int, default=16 * 1024, help="bytes of request line and headers")
    run.add_argument(
        "--header-timeout",
        type=float,
        default=10.0,
        help="seconds to receive a request head; then 408",
    )
    run.add_argument("--keepalive-timeout", type=float, default=5.0, help="seconds an idle connection is kept")
    run.add_argument("--ws-max-size", type=int, default=1024 * 1024, help="bytes; larger WebSocket messages close 1009")
    run.add_argument("--ws-ping-interval", type=float, default=20.0, help="seconds of silence before a ping (0: off)")
    run.add_argument("--ws-ping-timeout", type=float, default=20.0, help="seconds to wait for a pong")
    run.add_argument("--ws-max-queue", type=int, default=32, help="unread messages before reading pauses")
    run.add_argument(
        "--ws-max-send-buffer",
        type=int,
        default=1024 * 1024,
        help="bytes a client may leave unread before it is dropped (1008)",
    )
    run.add_argument(
        "--ws-max-queue-bytes",
        type=int,
        default=1024 * 1024,
        help="decompressed bytes of unread messages per connection before reading pauses",
    )
    run.add_argument(
        "--ws-max-process-queue-bytes",
        type=int,
        default=16 * 1024 * 1024,
        help="decompressed bytes of unread messages over all of a worker's connections",
    )
    run.add_argument("--ws-per-message-deflate", action=argparse.BooleanOptionalAction, default=True)
    run.add_argument("--graceful-timeout", type=float, default=30.0, help="seconds to drain on shutdown")
    run.add_argument(
        "--shutdown-delay",
        type=float,
        default=0.0,
        help="seconds to keep serving after SIGTERM with /readyz answering 503, before draining",
    )
    run.add_argument(
        "--body-timeout",
        type=float,
        default=10.0,
        help="seconds a request body may go silent, and its time before --min-body-rate applies; then 408",
    )
    run.add_argument(
        "--min-body-rate", type=int, default=500, help="bytes/s a request body must average (0: no minimum)"
    )
    run.add_argument(
        "--max-connections",
        type=int,
        default=None,
        help="connections per worker (default: open-file soft limit - 100, at most 10000)",
    )
    run.add_argument(
        "--root-path", default="", help="the path prefix a proxy in front strips (ASGI root_path), e.g. /api/v1"
    )
    run.add_argument("--reload", action="store_true", help="restart the worker when a watched file changes")
    run.add_argument("--reload-dir", action="append", default=[], help="directory to watch (default: --app-dir)")
    run.add_argument("--reload-include", action="append", default=[], help="file pattern to watch (e.g. '*.md')")
    run.add_argument("--reload-exclude", action="append", default=[], help="file pattern to ignore")
    run.add_argument("--dev", action="store_true", help=argparse.SUPPRESS)
    run.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    # `covet db ...` is parsed by covet.db.cli, imported only when used (SQLAlchemy is heavy).
    commands.add_parser("dev", help="serve with auto-reload and the debug page (covet run --reload --dev)")
    commands.add_parser("worker", help="run the app's background jobs (covet.jobs); see covet worker --help")
    commands.add_parser("assets", help="fingerprint and precompress static files; see covet assets --help")
    commands.add_parser("db", help="database migrations and seed data (pip install covet[db]); see covet db --help")
    from covet.commands import new, routes, shell

    for command in (routes, shell, new):
        command.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    raw = sys.argv[1:] if argv is None else argv
    if raw[:1] == ["worker"]:
        from covet.jobs.cli import main as worker_main

        logging.basicConfig(level="INFO", format="%(levelname)-8s %(name)s: %(message)s", stream=sys.stderr)
        return worker_main(raw[1:])
    if raw[:1] == ["assets"]:
        from covet.assets import main as assets_main

        return assets_main(raw[1:])
    if raw[:1] == ["db"]:
        from covet.db.cli import main as db_main

        logging.basicConfig(level="INFO", format="%(levelname)-8s %(name)s: %(message)s", stream=sys.stderr)
        return db_main(raw[1:])
    if raw[:1] == ["dev"]:
        # `covet dev APP ...` is `covet run APP --reload` with the debug page and an error page
        # for an app that does not import.
        raw = ["run", *raw[1:], "--reload", "--dev"]
        argv = raw
    parser = _parser()
    if raw and is_app_command(parser, raw[0]):  # `covet [--app m:app] init-db`: @app.cli.command()
        return app_command(raw)
    args = parser.parse_args(argv)
    if args.command in ("routes", "shell", "new"):
        return _developer_command(args)
    if args.log_format == "plain":
        logging.basicConfig(
            level=args.log_level.upper(), format="%(levelname)-8s %(name)s: %(message)s", stream=sys.stderr
        )
    else:
        from covet.logs import configure_logging

        json_lines = {"json": True, "text": False, "auto": None}[args.log_format]
        configure_logging(args.log_level, json_lines=json_lines, stream=sys.stderr)
    return _run(args, sys.argv[2:] if argv is None else argv[1:])


def _developer_command(args: argparse.Namespace) -> int:
    """`covet routes`, `covet shell` and `covet new` (each in its module of covet.commands)."""
    from covet.commands import new, routes, shell

    logging.basicConfig(level="WARNING", format="%(levelname)-8s %(name)s: %(message)s", stream=sys.stderr)
    if args.command == "new":
        return new.main(args)
    sys.path.insert(0, os.path.abspath(args.app_dir))
    app = _load_or_exit(args.app)
    return (routes if args.command == "routes" else shell).main(args, app)


def _run(args: argparse.Namespace, raw_args: list[str]) -> int:
    from covet.server import Config, bind_socket, serve
    from covet.supervisor import supervise

    sys.path.insert(0, os.path.abspath(args.app_dir))
    if args.reload and not args.worker:
        return _run_reloading(args, raw_args)
    if args.workers > 1 and not args.worker:
        # Check the app loads and the port is free before starting workers.
        _load_or_exit(args.app)
        try:
            probe = bind_socket(args.host, args.port, reuse_port=True)
        except OSError as exc:
            print(f"Error: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
            return 1
        try:
            return supervise(
                [a for a in raw_args if a != "--worker"], args.workers, args.graceful_timeout + args.shutdown_delay
            )
        finally:
            probe.close()

    app = _load_for_dev(args.app) if args.dev else _load_or_exit(args.app)
    try:
        sock = bind_socket(args.host, args.port, reuse_port=args.worker)
    except OSError as exc:
        print(f"Error: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    config = Config(
        host=args.host,
        port=args.port,
        access_log=args.access_log,
        max_head_bytes=args.max_header_size,
        max_body_bytes=args.max_body_size,
        header_timeout=args.header_timeout,
        keepalive_timeout=args.keepalive_timeout,
        graceful_timeout=args.graceful_timeout,
        shutdown_delay=args.shutdown_delay,
        body_timeout=args.body_timeout,
        min_body_rate=args.min_body_rate,
        max_connections=args.max_connections,
        root_path=args.root_path,
        ws_max_size=args.ws_max_size,
        ws_ping_interval=args.ws_ping_interval,
        ws_ping_timeout=args.ws_ping_timeout,
        ws_max_queue=args.ws_max_queue,
        ws_max_send_buffer=args.ws_max_send_buffer,
        ws_per_message_deflate=args.ws_per_message_deflate,
        ws_max_queue_bytes=args.ws_max_queue_bytes,
        ws_max_process_queue_bytes=args.ws_max_process_queue_bytes,
    )
    return serve(app, config, sock)


def _load_or_exit(spec: str) -> Any:
    try:
        return load_app(spec)
    except Exception as exc:
        # covet.settings is looked up, not imported: pydantic-settings costs a worker ~1.7 MiB,
        # and an app that never imported it cannot have raised its SettingsError.
        settings = sys.modules.get("covet.settings")
        if not isinstance(exc, AppLoadError) and (settings is None or not isinstance(exc, settings.SettingsError)):
            raise
        print(f"Error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


def _load_for_dev(spec: str) -> Any:
    """The app in debug mode, or an app showing why it could not be loaded."""
    from covet.reloader import import_error_app

    try:
        app = load_app(spec)
    except Exception as exc:  # anything an import can raise: keep serving, show it
        logging.getLogger("covet.reloader").error("Could not load %s", spec, exc_info=True)
        return import_error_app(spec, exc)
    from covet.debug import enable_console

    enable_console(app)  # the debug page, and its console behind the PIN printed here
    return app


def _run_reloading(args: argparse.Namespace, raw_args: list[str]) -> int:
    """One worker under the supervisor, restarted (new first, old drained) on a change."""
    from covet.reloader import start_watching
    from covet.server import bind_socket
    from covet.supervisor import Supervisor

    try:
        bind_socket(args.host, args.port, reuse_port=True).close()
    except OSError as exc:
        print(f"Error: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    if args.dev:  # one console PIN for every restart of the worker
        import secrets

        os.environ.setdefault("COVET_DEBUG_PIN", "-".join(f"{secrets.randbelow(1000):03d}" for _ in range(3)))
    worker_args = [a for a in raw_args if a not in ("--worker", "--reload")]
    supervisor = Supervisor([sys.executable, "-m", "covet", "run", *worker_args, "--worker"], 1)

    def changed(paths: list[str]) -> None:
        logging.getLogger("covet.reloader").info("Changed: %s; restarting", ", ".join(paths[:5]))
        supervisor.reload = True

    stop = start_watching(args.reload_dir or [args.app_dir], args.reload_include, args.reload_exclude, changed)
    try:
        return supervisor.run(args.graceful_timeout)
    finally:
        stop.set()
