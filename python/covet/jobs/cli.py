"""`covet worker module:app [--concurrency N] [--scheduler] [--graceful-timeout S]`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys

from covet.loader import AppLoadError, load_app


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="covet worker", description="run an app's background jobs (covet.jobs)")
    parser.add_argument("app", help='the application, as "module:attribute"')
    parser.add_argument("--concurrency", type=int, default=10, help="jobs run at the same time")
    parser.add_argument("--scheduler", action="store_true", help="also move scheduled and periodic jobs to the queue")
    parser.add_argument("--graceful-timeout", type=float, default=30.0, help="seconds running jobs get on SIGTERM")
    parser.add_argument("--app-dir", default=".", help="directory put first on sys.path (default: current)")
    args = parser.parse_args(argv)
    sys.path.insert(0, os.path.abspath(args.app_dir))
    try:
        app = load_app(args.app)
    except AppLoadError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    from covet.jobs.worker import find_jobs, run_worker

    try:
        find_jobs(app)
    except LookupError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    run = run_worker(
        app, concurrency=args.concurrency, scheduler=args.scheduler, graceful_timeout=args.graceful_timeout
    )
    try:
        import uvloop
    except ImportError:
        return asyncio.run(run)
    return uvloop.run(run)
