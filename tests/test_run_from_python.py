"""Starting the server from Python (`app.run()`, `covet.run(...)`) and `covet --version`: what a
Flask or uvicorn user tries first."""

from __future__ import annotations

import signal
import subprocess
import sys

import httpx
import pytest

from tests.conftest import ROOT, Server, free_port, wait_for_port

SCRIPTS = {
    "app.run": "from tests.apps.basic import app; raise SystemExit(app.run(port={port}))",
    "covet.run(app)": "import covet; from tests.apps.basic import app; raise SystemExit(covet.run(app, port={port}))",
    "covet.run(spec)": "import covet; raise SystemExit(covet.run('tests.apps.basic:app', '127.0.0.1', {port}))",
}


@pytest.mark.parametrize("how", list(SCRIPTS))
def test_serves_until_sigterm(how: str) -> None:
    port = free_port()
    code = SCRIPTS[how].format(port=port)
    proc = subprocess.Popen(
        [sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    server = Server(proc, port, "covet")
    try:
        wait_for_port(port, proc)
        response = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert response.status_code == 200
        assert response.json() == {"hello": "world"}
    finally:
        returncode, output = server.stop(signal.SIGTERM)
    assert returncode == 0, output
    assert f"serving on http://127.0.0.1:{port}" in output


def test_unknown_option_is_named() -> None:
    import covet
    from tests.apps.basic import app

    with pytest.raises(TypeError, match="no_such_option"):
        covet.run(app, port=free_port(), no_such_option=1)


def test_version() -> None:
    out = subprocess.run([sys.executable, "-m", "covet", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"covet {__import__('covet').__version__}"
