"""`covet assets build`: fingerprints, manifest, precompressed siblings; url_for gives the
fingerprinted URL and StaticFiles sends those files as immutable, on all three servers."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, start_server

CSS = b"body { color: #333; margin: 0 auto; }\n" * 40
JS = b"export const answer = () => 42;\n" * 20
PNG = b"\x89PNG\r\n\x1a\n" + bytes(300)


def short_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:8]


def run_build(directory: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "covet", "assets", "build", str(directory)]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("assets")
    (root / "js").mkdir()
    (root / "app.css").write_bytes(CSS)
    (root / "js" / "main.js").write_bytes(JS)
    (root / "logo.png").write_bytes(PNG)
    done = run_build(root)
    assert done.returncode == 0, done.stderr
    os.environ["ASSETS_DIR"] = str(root)
    yield root
    os.environ.pop("ASSETS_DIR", None)


def test_build_writes_manifest_fingerprints_and_siblings(built: Path) -> None:
    manifest = json.loads((built / ".assets.json").read_text())
    assert manifest == {
        "app.css": f"app.{short_hash(CSS)}.css",
        "js/main.js": f"js/main.{short_hash(JS)}.js",
        "logo.png": f"logo.{short_hash(PNG)}.png",
    }
    for source, hashed in manifest.items():
        assert (built / hashed).read_bytes() == (built / source).read_bytes()
    css = built / manifest["app.css"]
    assert gzip.decompress(css.with_name(css.name + ".gz").read_bytes()) == CSS
    import brotli

    assert brotli.decompress(css.with_name(css.name + ".br").read_bytes()) == CSS
    assert not (built / (manifest["logo.png"] + ".gz")).exists()  # images are compressed already


def test_build_again_is_stable(built: Path) -> None:
    before = sorted(p.relative_to(built).as_posix() for p in built.rglob("*"))
    assert run_build(built).returncode == 0
    assert sorted(p.relative_to(built).as_posix() for p in built.rglob("*")) == before


def test_build_refuses_a_missing_directory(tmp_path: Path) -> None:
    done = run_build(tmp_path / "nope")
    assert done.returncode == 2
    assert "is not a directory" in done.stderr


@pytest.fixture(scope="module", params=["testclient", "covet", "uvicorn"])
def client(request: pytest.FixtureRequest, built: Path) -> Iterator[httpx.Client]:
    spec = "tests.apps.assets_app:app"
    if request.param == "testclient":
        import importlib

        import tests.apps.assets_app as module
        from covet.testclient import TestClient

        module = importlib.reload(module)  # built after the first import: read ASSETS_DIR now
        with TestClient(module.app) as tc:
            yield tc
        return
    server = start_server(spec, kind=request.param)
    try:
        with server.client() as c:
            yield c
    finally:
        server.stop()


def test_url_for_gives_the_fingerprinted_path(client: httpx.Client) -> None:
    answer = client.get("/link", params={"path": "/app.css"}).json()
    assert answer["path"] == f"/static/app.{short_hash(CSS)}.css"
    assert answer["url"].endswith(answer["path"])
    nested = client.get("/link", params={"path": "/js/main.js"}).json()
    assert nested["path"] == f"/static/js/main.{short_hash(JS)}.js"
    assert client.get("/link", params={"path": "/unbuilt.css"}).json()["path"] == "/static/unbuilt.css"


def test_fingerprinted_files_are_immutable(client: httpx.Client) -> None:
    path = client.get("/link", params={"path": "/app.css"}).json()["path"]
    answer = client.get(path, headers={"accept-encoding": "identity"})
    assert answer.status_code == 200
    assert answer.content == CSS
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "cache-control" not in client.get("/static/app.css").headers


def test_precompressed_sibling_is_sent(client: httpx.Client) -> None:
    path = client.get("/link", params={"path": "/app.css"}).json()["path"]
    answer = client.get(path, headers={"accept-encoding": "br"})
    assert answer.headers["content-encoding"] == "br"
    assert answer.content == CSS  # httpx decodes brotli
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
