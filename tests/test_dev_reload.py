"""`covet dev`: a saved change restarts the worker while a client keeps connecting (none is
refused), an app that stops importing is shown as an error page until it is fixed, and the app
runs with its debug page on."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.conftest import Server, free_port, wait_for, wait_for_port

APP = """
from covet import Covet

app = Covet()


@app.get("/")
async def root():
    return {{"version": {version}}}


@app.get("/boom")
async def boom():
    secret_local = "visible in the debug page"
    raise RuntimeError("boom")
"""


def start_dev(folder: Path) -> Server:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "covet", "dev", "app:app", "--app-dir", str(folder), "--port", str(port)],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_for_port(port, proc)
    return Server(proc, port, "covet")


def test_edit_restarts_without_refusing_anyone(tmp_path: Path) -> None:
    source = tmp_path / "app.py"
    source.write_text(APP.format(version=1))
    server = start_dev(tmp_path)
    failures: list[str] = []
    versions: list[tuple[float, int]] = []
    stop = threading.Event()

    def poll() -> None:
        # A new connection per request: a refused or reset connection would show up here.
        with httpx.Client(base_url=server.url, timeout=10, limits=httpx.Limits(max_keepalive_connections=0)) as c:
            while not stop.is_set():
                try:
                    response = c.get("/")
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))
                    continue
                if response.status_code == 200:
                    versions.append((time.monotonic(), response.json()["version"]))
                else:
                    failures.append(f"{response.status_code} {response.text[:200]}")

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        wait_for(lambda: versions, "a first answer")
        edited = time.monotonic()
        source.write_text(APP.format(version=2))
        wait_for(lambda: versions[-1][1] == 2, "the edited code to answer", 20)
        restart = next(t for t, v in versions if v == 2) - edited
        wait_for(lambda: len([v for _, v in versions if v == 2]) > 20, "more answers from the new worker")
    finally:
        stop.set()
        poller.join()
        code, output = server.stop(signal.SIGTERM)
    assert failures == []
    assert code == 0, output
    assert "Changed:" in output and "app.py" in output
    # 0.5-0.7 s on the project's loaded 2-core machine; the bound only catches a restart that hangs.
    print(f"restart after the edit: {restart:.3f} s")
    assert restart < 5


def test_import_error_page_until_fixed(tmp_path: Path) -> None:
    source = tmp_path / "app.py"
    source.write_text(APP.format(version=1))
    server = start_dev(tmp_path)
    try:
        source.write_text("from covet import Covet\n\napp = Covet(\n")  # a syntax error
        browser = {"Accept": "text/html"}

        def broken() -> bool:
            response = httpx.get(server.url + "/", headers=browser, timeout=10)
            return response.status_code == 500 and "SyntaxError" in response.text

        wait_for(broken, "the error page", 20)
        page = httpx.get(server.url + "/anything", headers=browser, timeout=10)
        assert "could not be loaded" in page.text and "app.py" in page.text
        assert "SyntaxError" in httpx.get(server.url + "/", timeout=10).text  # plain text for curl
        source.write_text(APP.format(version=3))
        wait_for(lambda: httpx.get(server.url + "/", timeout=10).status_code == 200, "the fixed app", 20)
        assert httpx.get(server.url + "/", timeout=10).json() == {"version": 3}
        debug = httpx.get(server.url + "/boom", headers=browser, timeout=10)
        assert debug.status_code == 500 and "RuntimeError" in debug.text  # covet dev turns debug on
    finally:
        server.stop(signal.SIGTERM)
