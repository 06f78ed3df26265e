"""The static-file scenarios' side: the files every server serves (made once per run, in the
run's temporary directory, so all servers send the same bytes) and nginx as a server under
test: Debian's package, one process (no master), `sendfile` and `tcp_nopush` on, as a
production nginx serves static files."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from benchmarks.harness import HOST, Unavailable

# The directory the servers serve, in their environment.
ENV = "BENCH_STATIC_DIR"
FILES = {"1k.txt": 1024, "1m.bin": 1 << 20}
NGINX_CONF = """
daemon off; master_process off; worker_processes 1; pid {tmp}/nginx.pid; error_log {tmp}/error.log;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types; charset utf-8; access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    server {{ listen {host}:{port}; location /static/ {{ alias {root}/; }} }}
}}
"""


def static_root(tmp: Path) -> Path:
    """The run's static directory (1 kB of text, 1 MiB of random bytes), made on first use."""
    root = tmp / "static-files"
    if not root.exists():
        root.mkdir()
        for name, size in FILES.items():
            (root / name).write_bytes(b"x" * size if name.endswith(".txt") else os.urandom(size))
    return root


def nginx_binary() -> str:
    return shutil.which("nginx") or "/usr/sbin/nginx"


def nginx_setup() -> None:
    if not os.access(nginx_binary(), os.X_OK):
        raise Unavailable("nginx is not installed (scripts/services.sh installs Debian's package)")


def nginx_command(port: int) -> list[str]:
    """nginx in the foreground over the run's static directory, its files in a directory of
    its own (left for the OS to clear with the rest of /tmp)."""
    root = os.environ.get(ENV)
    if not root:
        raise Unavailable(f"{ENV} is not set: the static scenarios make it")
    tmp = tempfile.mkdtemp(prefix="covet-bench-nginx-")
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(tmp=tmp, host=HOST, port=port, root=root))
    return [nginx_binary(), "-p", tmp, "-c", conf, "-e", os.path.join(tmp, "error.log")]
