"""The documentation site (mkdocs.yml; `make docs`): it builds with warnings as errors, loads
nothing from the internet, and in a real browser (Debian's chromium) the home page renders and
the search finds pages."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    mkdocs = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)]
    done = subprocess.run(mkdocs, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-4000:]
    assert "WARNING" not in done.stderr
    return out


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(site)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, server)  # type: ignore[arg-type]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.kill()
        server.wait()


def test_every_page_built_and_nothing_from_the_internet(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    for doc in [*(ROOT / "docs").glob("*.md"), *(ROOT / "docs" / "reference").glob("*.md")]:
        assert (site / doc.relative_to(ROOT / "docs")).with_suffix(".html").is_file(), doc
    external = re.compile(r"<(?:script|img|iframe)[^>]*\ssrc=\"(?:https?:)?//|<link[^>]*\shref=\"(?:https?:)?//")
    offenders = [str(p.relative_to(site)) for p in pages if external.search(p.read_text(encoding="utf-8"))]
    assert offenders == []  # scripts, styles, fonts and images are all local: the site works offline
    index = json.loads((site / "search" / "search_index.json").read_text())
    assert {d["location"].split("#")[0] for d in index["docs"]} >= {"tutorial.html", "migrating-from-fastapi.html"}


def test_api_reference_comes_from_docstrings(site: Path) -> None:
    html = (site / "reference" / "app.html").read_text(encoding="utf-8")
    assert 'id="covet.applications.Covet"' in html
    assert 'id="covet.applications.Covet.compile"' in html
    # a sentence of the method's docstring, rendered on the page
    assert "then reused until a declaration changes" in html


def test_nav_starts_with_the_tutorial_and_the_migration_guides(site: Path) -> None:
    html = (site / "index.html").read_text(encoding="utf-8")
    nav = re.findall(r'<a href="([^"]+)" class="md-nav__link', html)
    order = [link for link in nav if link in ("tutorial.html", "migrating-from-fastapi.html", "routing.html")]
    assert order[:3] == ["tutorial.html", "migrating-from-fastapi.html", "routing.html"]


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and the rows of an 8-bit RGB(A) PNG (what chromium writes), unfiltered."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        pos += 12 + length
    width, height = int.from_bytes(header[:4], "big"), int.from_bytes(header[4:8], "big")
    assert header[8] == 8 and header[9] in (2, 6) and header[12] == 0, "8-bit RGB(A), not interlaced"
    bpp = 3 if header[9] == 2 else 4
    raw, stride, rows, previous = zlib.decompress(idat), width * bpp, [], bytes(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, bpp, rows


def assert_not_blank(path: Path) -> None:
    width, bpp, rows = png_pixels(path)
    colours = Counter(row[i : i + 3] for row in rows[::4] for i in range(0, width * bpp, bpp * 4))
    most_common_share = colours.most_common(1)[0][1] / sum(colours.values())
    assert len(colours) > 20 and most_common_share < 0.97, (len(colours), most_common_share)


@pytest.fixture(scope="module")
def chromium() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing: `apt-get install -y chromium` (scripts/services.sh does)")
    return CHROMIUM


def test_home_page_screenshot(served: str, chromium: str, tmp_path: Path) -> None:
    shot = tmp_path / "home.png"
    with tempfile.TemporaryDirectory(prefix="covet-chromium-") as profile:
        subprocess.run(
            [chromium, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}", "--window-size=1000,700", served],
            capture_output=True,
            timeout=120,
            check=True,
        )
    assert_not_blank(shot)


def test_search_finds_a_page(served: str, chromium: str, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-dev.txt)")
    with tempfile.TemporaryDirectory(prefix="covet-chromium-") as profile, sync_api.sync_playwright() as pw:
        args = [f for f in FLAGS if f != "--headless"]
        context = pw.chromium.launch_persistent_context(profile, executable_path=chromium, headless=True, args=args)
        try:
            page = context.new_page()
            page.set_viewport_size({"width": 1000, "height": 700})
            page.goto(f"{served}/index.html")
            page.locator("label.md-search__icon, .md-search__input").first.click()
            page.locator(".md-search__input").fill("websocket")
            results = page.locator(".md-search-result__item a")
            sync_api.expect(results.first).to_be_visible(timeout=20_000)
            links = results.evaluate_all("links => links.map(a => a.getAttribute('href'))")
            assert any(link.startswith(f"{served}/websockets.html") for link in links), links
            page.screenshot(path=str(tmp_path / "search.png"))
        finally:
            context.close()
    assert_not_blank(tmp_path / "search.png")
