"""StaticFiles mounted twice (plain and html=True) over a directory made at import, for
tests/test_staticfiles.py."""

from __future__ import annotations

import os
import tempfile

from covet import Covet
from covet.staticfiles import StaticFiles

ROOT = os.environ.get("COVET_TEST_STATIC_DIR") or tempfile.mkdtemp(prefix="covet-static-")
os.environ["COVET_TEST_STATIC_DIR"] = ROOT  # the server processes serve the same directory
os.makedirs(os.path.join(ROOT, "site", "docs"), exist_ok=True)
for name, text in {
    "hello.txt": "hello, static",
    "site/index.html": "<h1>home</h1>",
    "site/docs/index.html": "<h1>docs</h1>",
    "site/404.html": "<h1>lost</h1>",
}.items():
    with open(os.path.join(ROOT, name), "w") as f:
        f.write(text)

app = Covet()
app.mount("/static", StaticFiles(directory=ROOT))
app.mount("/site", StaticFiles(directory=os.path.join(ROOT, "site"), html=True))
