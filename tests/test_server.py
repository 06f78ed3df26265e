"""Socket-level behaviour of covet's own server: HTTP/1.1 details, limits, timeouts, shutdown
and workers. Every test starts the real `covet run` on 127.0.0.1."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import httpx

from tests.conftest import ROOT, free_port

APP = "tests.apps.basic:app"


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    _readers.pop(sock.fileno(), None)
    return sock


def read_response(sock: socket.socket) -> tuple[bytes, dict[str, str], bytes]:
    """Reads exactly one response (Content-Length framed or chunked) from a socket, leaving any
    pipelined response behind it in the socket's buffered reader."""
    f = _readers.setdefault(sock.fileno(), sock.makefile("rb"))
    status = f.readline().rstrip(b"\r\n")
    if not status:
        raise ConnectionError("closed before a response")
    headers: dict[str, str] = {}
    while (line := f.readline()) not in (b"\r\n", b""):
        k, _, v = line.partition(b":")
        headers[k.strip().lower().decode()] = v.strip().decode()
    if "content-length" in headers:
        return status, headers, f.read(int(headers["content-length"]))
    body = b""
    if headers.get("transfer-encoding") == "chunked":
        while True:
            size_line = f.readline()
            body += size_line
            size = int(size_line.split(b";")[0], 16)
            chunk = f.read(size + 2)
            body += chunk
            if size == 0:
                return status, headers, body
    return status, headers, f.read()


_readers: dict[int, Any] = {}


def recv_all(sock: socket.socket) -> bytes:
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        data += chunk
    return data


def test_keep_alive_reuses_one_connection(serve) -> None:
    server = serve(APP)
    sock = connect(server.port)
    for i in range(3):
        sock.sendall(f"GET /users/{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        status, headers, body = read_response(sock)
        assert status == b"HTTP/1.1 200 OK"
        assert body == f'{{"id":"{i}","q":null}}'.encode()
        assert "date" in headers
    sock.close()


def test_pipelined_requests_answer_in_order(serve) -> None:
    server = serve(APP)
    sock = connect(server.port)
    # A slow request first: the fast ones behind it must still come back after it.
    sock.sendall(
        b"GET /slow?delay=0.2 HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /ints/1 HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /ints/2 HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    bodies = [read_response(sock)[2] for _ in range(3)]
    assert bodies == [b'{"slept":0.2}', b'{"n":1,"type":"int"}', b'{"n":2,"type":"int"}']
    sock.close()


def test_http10_closes_and_connection_close_is_honoured(serve) -> None:
    server = serve(APP)
    for request in (b"GET / HTTP/1.0\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"):
        sock = connect(server.port)
        sock.sendall(request)
        data = recv_all(sock)
        assert data.endswith(b'{"hello":"world"}')
        sock.close()


def test_chunked_request_body(serve) -> None:
    server = serve(APP)
    sock = connect(server.port)
    sock.sendall(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
        b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n"
    )
    status, headers, body = read_response(sock)
    assert status.endswith(b"200 OK")
    assert body == b"hello world"
    sock.close()


def test_chunked_response_body(serve) -> None:
    server = serve(APP)
    sock = connect(server.port)
    sock.sendall(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
    status, headers, body = read_response(sock)
    assert headers["transfer-encoding"] == "chunked"
    assert body == b"7\r\nchunk0;\r\n7\r\nchunk1;\r\n7\r\nchunk2;\r\n0\r\n\r\n"
    # The connection stays usable after a streamed response.
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert read_response(sock)[2] == b'{"hello":"world"}'


def test_expect_100_continue(serve) -> None:
    server = serve(APP)
    sock = connect(server.port)
    sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
    interim = sock.recv(1024)
    assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
    sock.sendall(b"hello")
    assert read_response(sock)[2] == b"hello"


def test_body_too_large_by_content_length_is_413_at_once(serve) -> None:
    server = serve(APP, "--max-body-size", "1000")
    sock = connect(server.port)
    # No body byte is sent: the answer must come from the announced length alone.
    sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n")
    status, headers, body = read_response(sock)
    assert status.startswith(b"HTTP/1.1 413")
    assert headers["content-type"] == "application/json"
    assert b"detail" in body
    assert recv_all(sock) == b""  # and the connection closes
    # The server keeps serving.
    assert httpx.get(server.url + "/").status_code == 200


def test_chunked_body_over_limit_is_413(serve) -> None:
    server = serve(APP, "--max-body-size", "1000")
    sock = connect(server.port)
    sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    for _ in range(3):
        sock.sendall(b"200\r\n" + b"x" * 512 + b"\r\n")
    status, _, _ = read_response(sock)
    assert status.startswith(b"HTTP/1.1 413")


def test_garbage_gets_400_and_the_server_keeps_serving(serve) -> None:
    server = serve(APP)
    for garbage in (
        b"\x00\x01\x02 nonsense\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
    ):
        sock = connect(server.port)
        sock.sendall(garbage)
        data = recv_all(sock)
        assert data.startswith(b"HTTP/1.1 4") or data.startswith(b"HTTP/1.1 5"), (garbage, data)
        assert b"detail" in data
        sock.close()
    code, log = server.stop()
    assert code == 0
    assert "Refused a request" in log


def test_oversized_head_is_431(serve) -> None:
    server = serve(APP, "--max-header-size", "2048")
    sock = connect(server.port)
    sock.sendall(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 4096 + b"\r\n\r\n")
    assert recv_all(sock).startswith(b"HTTP/1.1 431")


def test_slowloris_connection_is_dropped(serve) -> None:
    server = serve(APP, "--header-timeout", "1")
    sock = connect(server.port)
    sock.settimeout(10)
    sock.sendall(b"GET / HTTP/1.1\r\n")
    started = time.monotonic()
    for _ in range(20):  # a byte every 0.2 s never completes the head
        try:
            sock.sendall(b"X")
        except OSError:
            break
        time.sleep(0.2)
        if time.monotonic() - started > 3:
            break
    data = recv_all(sock)
    assert data.startswith(b"HTTP/1.1 408") or data == b""
    assert httpx.get(server.url + "/").status_code == 200


def test_idle_keep_alive_connection_is_closed(serve) -> None:
    server = serve(APP, "--keepalive-timeout", "1")
    sock = connect(server.port)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    read_response(sock)
    sock.settimeout(10)
    assert sock.recv(10) == b""  # closed by the server, not by our timeout


def test_graceful_shutdown_finishes_in_flight_requests(serve) -> None:
    server = serve(APP)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(httpx.get, server.url + "/slow?delay=2", timeout=20) for _ in range(8)]
        # Signal only once all eight are inside their handler (not merely queued to connect).
        deadline = time.monotonic() + 15
        while httpx.get(server.url + "/in-flight").json()["slow"] < 8 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.proc.send_signal(signal.SIGTERM)
        results = [f.result() for f in futures]
    assert [r.status_code for r in results] == [200] * 8
    code, log = server.stop()
    assert code == 0
    assert "shutting down" in log.lower()


def test_workers_share_the_port_and_a_killed_worker_is_replaced(serve) -> None:
    server = serve(APP, "--workers", "2")
    pids: set[int] = set()
    deadline = time.monotonic() + 20
    while len(pids) < 2 and time.monotonic() < deadline:
        with httpx.Client() as client:  # a new connection each time reaches either worker
            pids.add(client.get(server.url + "/pid").json()["pid"])
    assert len(pids) == 2
    victim = pids.pop()
    os.kill(victim, signal.SIGKILL)
    new_pids: set[int] = set()
    deadline = time.monotonic() + 20
    while len(new_pids - pids) < 1 and time.monotonic() < deadline:
        try:
            with httpx.Client() as client:
                new_pids.add(client.get(server.url + "/pid").json()["pid"])
        except httpx.HTTPError:
            time.sleep(0.1)
    assert victim not in new_pids
    assert new_pids - pids, "a replacement worker should answer"
    code, _ = server.stop()
    assert code == 0


def test_bad_app_spec_is_a_one_line_error() -> None:
    for spec, message in (
        ("no_such_module:app", 'Could not import module "no_such_module"'),
        ("tests.apps.basic:nope", 'Attribute "nope" not found in module "tests.apps.basic"'),
        ("justamodule", "module:attribute"),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "covet", "run", spec, "--port", str(free_port())],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert proc.returncode == 1
        assert message in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1


def test_access_log_lines(serve) -> None:
    server = serve(APP, "--access-log")
    httpx.get(server.url + "/users/7?q=a")
    code, log = server.stop()
    assert '"GET /users/7?q=a HTTP/1.1" 200' in log


def test_app_dir_and_sigint(tmp_path) -> None:
    (tmp_path / "myapp.py").write_text(
        "from covet import Covet\napp = Covet()\n\n@app.get('/')\nasync def root():\n    return {'from': 'app-dir'}\n"
    )
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "covet", "run", "myapp:app", "--app-dir", str(tmp_path), "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        from tests.conftest import wait_for_port

        wait_for_port(port, proc)
        assert httpx.get(f"http://127.0.0.1:{port}/").json() == {"from": "app-dir"}
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_startup_failure_exits_non_zero(tmp_path) -> None:
    (tmp_path / "broken.py").write_text(
        "from covet import Covet\n\nasync def fail():\n    raise RuntimeError('no database')\n\n"
        "app = Covet(on_startup=[fail])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "covet", "run", "broken:app", "--app-dir", str(tmp_path), "--port", str(free_port())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode != 0
    assert "no database" in proc.stderr


def test_slow_but_steady_body_is_not_timed_out(serve) -> None:
    server = serve(APP, "--header-timeout", "1")
    sock = connect(server.port)
    sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n")
    for byte in b"steady":  # 6 bytes over ~1.8 s: longer than the timeout, never silent for long
        time.sleep(0.3)
        sock.sendall(bytes([byte]))
    assert read_response(sock)[2] == b"steady"


def test_large_bodies_stream_to_the_handler(serve) -> None:
    server = serve(APP, "--max-body-size", str(64 * 1024 * 1024))
    payload = os.urandom(8 * 1024 * 1024)
    r = httpx.post(server.url + "/upload-count", content=payload, timeout=30)
    info = r.json()
    assert info["size"] == len(payload)
    assert info["chunks"] > 2  # handed over piece by piece, never as one 8 MiB bytes object
    assert info["biggest"] < len(payload)

    def chunked():
        for _ in range(64):
            yield b"x" * 65536

    r = httpx.post(server.url + "/upload-count", content=chunked(), timeout=30)
    assert r.json()["size"] == 64 * 65536
    items = [{"name": f"item{i}", "price": 1.5, "tags": ["a"] * 5} for i in range(40000)]
    r = httpx.post(server.url + "/bulk", json=items, timeout=30)
    assert r.json() == {"count": 40000, "total": 60000.0}


def test_streamed_body_over_the_limit_is_413(serve) -> None:
    server = serve(APP, "--max-body-size", str(3 * 1024 * 1024))

    def chunked():
        for _ in range(100):
            yield b"x" * 65536

    r = httpx.post(server.url + "/upload-count", content=chunked(), timeout=30)
    assert r.status_code == 413
    assert httpx.get(server.url + "/").status_code == 200


def test_answer_before_the_body_is_read(serve) -> None:
    server = serve(APP)
    sock = connect(server.port)
    sock.sendall(b"POST /early HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n" + b"x" * 2_000_000)
    status, headers, body = read_response(sock)
    assert status.endswith(b"200 OK")
    assert body == b'{"ignored":"body"}'
    assert headers.get("connection") == "close"
    assert httpx.get(server.url + "/").status_code == 200
