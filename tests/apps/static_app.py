"""StaticFiles mounts over a directory made at import, for tests/test_staticfiles*.py: a plain
mount, an html=True site, and a `public/` tree with a secret beside it (attacks), precompressed
siblings, a large file and Cache-Control patterns."""

from __future__ import annotations

import gzip
import os
import tempfile

from covet import Covet
from covet.responses import FileResponse
from covet.staticfiles import StaticFiles

ROOT = os.environ.get("COVET_TEST_STATIC_DIR") or tempfile.mkdtemp(prefix="covet-static-")
os.environ["COVET_TEST_STATIC_DIR"] = ROOT  # the server processes serve the same directory
PUBLIC = os.path.join(ROOT, "public")
for sub in ("site/docs", "public/sub", "public/.git"):
    os.makedirs(os.path.join(ROOT, sub), exist_ok=True)

# 200 kB of a repeating, position-dependent pattern: any misplaced byte shows.
BIG = bytes((i * 7 + i // 251) % 256 for i in range(200_000))
CSS = b"body { color: #123456 }\n" * 4

FILES: dict[str, bytes] = {
    "hello.txt": b"hello, static",
    "secret.txt": b"TOP SECRET",
    "site/index.html": b"<h1>home</h1>",
    "site/docs/index.html": b"<h1>docs</h1>",
    "site/404.html": b"<h1>lost</h1>",
    "public/app.css": CSS,
    "public/app.css.gz": gzip.compress(CSS, mtime=0),
    "public/app.css.br": b"BROTLI-BYTES",
    "public/app.js": b"console.log(1)\n",
    "public/font.woff2": b"wOF2",
    "public/data.unknownext": b"?",
    "public/big.bin": BIG,
    "public/sub/page.txt": b"in a subdirectory",
    "public/.env": b"SECRET=1",
    "public/.git/config": b"[core]",
    "public/%2e%2e": b"a file literally named %2e%2e",
}
for name, data in FILES.items():
    path = os.path.join(ROOT, name)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
LINKS = {"public/out.txt": "../secret.txt", "public/in.txt": "sub/page.txt", "public/up": ".."}
for link, target in LINKS.items():
    if not os.path.islink(os.path.join(ROOT, link)):
        os.symlink(target, os.path.join(ROOT, link))

app = Covet()
app.mount("/static", StaticFiles(directory=ROOT))
app.mount("/site", StaticFiles(directory=os.path.join(ROOT, "site"), html=True))
app.mount("/public", StaticFiles(directory=PUBLIC, cache_control={"*.css": "public, max-age=60"}))
app.mount("/follow", StaticFiles(directory=PUBLIC, follow_symlink=True, dotfiles=True, precompressed=False))


@app.get("/file/{name:path}")
def public_file(name: str) -> FileResponse:
    """A FileResponse of a public file (tests compare it with nginx's answer for that file)."""
    return FileResponse(os.path.join(PUBLIC, name))


@app.get("/download")
def download() -> FileResponse:
    """A FileResponse with a download name, a media type and a header of its own."""
    return FileResponse(
        os.path.join(PUBLIC, "big.bin"),
        filename="données.bin",
        media_type="application/x-covet",
        headers={"cache-control": "no-store", "x-own": "1"},
    )


@app.get("/file-missing")
def file_missing() -> FileResponse:
    return FileResponse(os.path.join(ROOT, "nothing-here"))
