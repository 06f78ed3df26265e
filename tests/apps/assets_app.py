"""StaticFiles over a directory built by `covet assets build` (ASSETS_DIR, set by
tests/test_assets.py), with `url_for` answered by a route."""

from __future__ import annotations

import os

from covet import Covet, Request
from covet.staticfiles import StaticFiles

app = Covet()
app.mount("/static", StaticFiles(directory=os.environ.get("ASSETS_DIR", "."), check_dir=False), name="static")


@app.get("/link")
async def link(request: Request, path: str) -> dict[str, str]:
    return {"url": str(request.url_for("static", path=path)), "path": app.url_path_for("static", path=path)}
