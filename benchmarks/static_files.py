"""Static files side by side: covet's server (StaticFiles answered by the engine), Debian's
nginx, and Starlette's StaticFiles on uvicorn, over the same 1 kB and 1 MB files.

    python -m benchmarks.static_files [--seconds 5]

Measured as the rest of the suite measures (BENCHMARKING.md): the server pinned to CPU 0, wrk
(-t1 -c64) to CPU 1, a warm-up run, then server CPU microseconds per request from /proc.
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.procfs import cpu_ticks

SERVER_CPU, LOADGEN_CPU = "0", "1"
TICK = os.sysconf("SC_CLK_TCK")
NGINX_CONF = """
daemon off; master_process off; worker_processes 1; pid {tmp}/nginx.pid; error_log {tmp}/error.log;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types; access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    server {{ listen 127.0.0.1:{port}; location /static/ {{ alias {root}/; }} }}
}}
"""
APP = """
import os
from {package}.staticfiles import StaticFiles
from {module} import {cls}
app = {cls}()
app.mount("/static", StaticFiles(directory=os.environ["BENCH_STATIC_DIR"]))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def start(kind: str, tmp: Path, root: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "BENCH_STATIC_DIR": str(root), "PYTHONPATH": f"{tmp}:{os.environ.get('PYTHONPATH', '')}"}
    pin = ["taskset", "-c", SERVER_CPU]
    if kind == "nginx":
        (tmp / "nginx.conf").write_text(NGINX_CONF.format(tmp=tmp, port=port, root=root))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        cmd = [nginx, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "error.log")]
    elif kind == "covet":
        (tmp / "covet_static_app.py").write_text(APP.format(package="covet", module="covet", cls="Covet"))
        cmd = [sys.executable, "-m", "covet", "run", "covet_static_app:app", "--port", str(port), "--no-access-log"]
    else:
        app = APP.format(package="starlette", module="starlette.applications", cls="Starlette")
        (tmp / "starlette_static_app.py").write_text(app)
        cmd = [sys.executable, "-m", "uvicorn", "starlette_static_app:app", "--port", str(port)]
        cmd += ["--no-access-log", "--log-level", "warning"]
    proc = subprocess.Popen(pin + cmd, env=env, cwd=tmp, stdout=subprocess.DEVNULL)
    wait_port(port)
    return proc


def wrk(port: int, path: str, seconds: int) -> int:
    """Requests wrk completed."""
    cmd = ["taskset", "-c", LOADGEN_CPU, "wrk", "-t1", "-c64", f"-d{seconds}s", f"http://127.0.0.1:{port}{path}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"errors from {path}:\n{out}")
    return int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]


def measure(kind: str, tmp: Path, root: Path, path: str, seconds: int) -> tuple[float, float]:
    """(server CPU µs per request, requests per second)."""
    port = free_port()
    proc = start(kind, tmp, root, port)
    try:
        wrk(port, path, 2)
        before = cpu_ticks(proc.pid)
        t0 = time.monotonic()
        done = wrk(port, path, seconds)
        elapsed = time.monotonic() - t0
        cpu = (cpu_ticks(proc.pid) - before) / TICK
        return cpu / done * 1e6, done / elapsed
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="covet-bench-static-") as name:
        tmp = Path(name)
        root = tmp / "files"
        root.mkdir()
        (root / "1k.txt").write_bytes(b"x" * 1024)
        (root / "1m.bin").write_bytes(os.urandom(1 << 20))
        rows = {}
        for scenario, path in (("static-1k", "/static/1k.txt"), ("static-1m", "/static/1m.bin")):
            for kind in ("covet", "nginx", "starlette+uvicorn"):
                rows[(scenario, kind)] = measure(kind, tmp, root, path, args.seconds)
    print(f"Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, 1 worker pinned, wrk -t1 -c64\n")
    print("| scenario | server | CPU µs/req | req/s | vs nginx | vs starlette |")
    print("|---|---|---|---|---|---|")
    for (scenario, kind), (us, rps) in rows.items():
        nginx, starlette = rows[(scenario, "nginx")][0], rows[(scenario, "starlette+uvicorn")][0]
        print(f"| {scenario} | {kind} | {us:.1f} | {rps:,.0f} | {us / nginx:.2f}x | {us / starlette:.2f}x |")


if __name__ == "__main__":
    main()
