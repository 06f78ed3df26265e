"""An API with a frontend build behind it (app-level and router-level), for tests/test_frontend.py."""

from __future__ import annotations

import os
import tempfile

from covet import APIRouter, Covet, Depends, HTTPException, Request

ROOT = os.environ.get("COVET_TEST_FRONTEND_DIR") or tempfile.mkdtemp(prefix="covet-frontend-")
os.environ["COVET_TEST_FRONTEND_DIR"] = ROOT  # the server processes serve the same directory
for name, text in {
    "app/index.html": "shell",
    "app/asset.js": "console.log(1)",
    "app/about/index.html": "about",
    "admin/index.html": "admin shell",
    "admin/404.html": "admin lost",
}.items():
    os.makedirs(os.path.dirname(os.path.join(ROOT, name)), exist_ok=True)
    with open(os.path.join(ROOT, name), "w") as f:
        f.write(text)


def admin_only(request: Request) -> None:
    if request.headers.get("x-admin") != "yes":
        raise HTTPException(403, "admins only")


app = Covet()


@app.get("/api/items")
def items() -> list[int]:
    return [1, 2]


@app.get("/api/missing")
def missing() -> None:
    raise HTTPException(404, "no such item")


app.frontend("/", directory=os.path.join(ROOT, "app"))
admin = APIRouter(dependencies=[Depends(admin_only)])
admin.frontend("/", directory=os.path.join(ROOT, "admin"))
app.include_router(admin, prefix="/admin")
