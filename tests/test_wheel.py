"""The wheel `make wheel` builds installs into a clean virtual environment with no Rust toolchain
on PATH and serves an app: `pip install covet` must not need cargo."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import venv
from pathlib import Path

import httpx

from tests.conftest import ROOT, Server, free_port, wait_for_port

APP = """
from covet import Covet

app = Covet()


@app.get("/")
async def root():
    return {"from": "wheel"}
"""


def test_wheel_installs_and_serves_without_cargo(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([str(ROOT / ".venv/bin/maturin"), "build", "--release", "-q", "-o", str(dist)], cwd=ROOT, check=True)
    (wheel,) = dist.glob("covet-*.whl")
    assert "manylinux" in wheel.name, wheel.name

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    # Only the new venv and the system's own directories: no ~/.cargo/bin, no project .venv.
    path = os.pathsep.join([str(bin_dir), "/usr/local/bin", "/usr/bin", "/bin"])
    assert shutil.which("cargo", path=path) is None, "cargo is on the clean PATH"
    env = {"PATH": path, "HOME": str(tmp_path), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run([str(bin_dir / "pip"), "install", "-q", str(wheel)], env=env, check=True)

    app_dir = tmp_path / "site"
    app_dir.mkdir()
    (app_dir / "hello.py").write_text(APP)
    port = free_port()
    proc = subprocess.Popen(
        [str(bin_dir / "covet"), "run", "hello:app", "--port", str(port)],
        cwd=app_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(proc, port, "covet")
    try:
        wait_for_port(port, proc)
        response = httpx.get(f"{server.url}/", timeout=10)
        assert response.status_code == 200
        assert response.json() == {"from": "wheel"}
        version = subprocess.run([str(bin_dir / "covet"), "--version"], env=env, capture_output=True, text=True)
        assert version.stdout.strip() == f"covet {__import__('covet').__version__}"
    finally:
        returncode, output = server.stop(signal.SIGTERM)
    assert returncode == 0, output
    # The engine came from the wheel installed in the clean venv, not from this checkout.
    engine_file = subprocess.run(
        [str(bin_dir / "python"), "-c", "import covet._engine as e; print(e.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    assert engine_file.startswith(str(env_dir)), engine_file
