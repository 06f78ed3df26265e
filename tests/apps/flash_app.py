"""flash() in one request, get_flashed_messages() in a later one (tests/test_flash.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from covet import Covet, Request
from covet.sessions import SessionMiddleware, flash, get_flashed_messages
from covet.templating import Jinja2Templates

app = Covet()
app.add_middleware(SessionMiddleware, secret_key="flash-test-secret-that-is-long-enough-0123")
templates = Jinja2Templates(directory=str(Path(__file__).parent / "flash_templates"))


@app.post("/save")
async def save(request: Request, name: str, category: str = "message") -> dict[str, bool]:
    flash(request, f"Saved {name}", category)
    return {"ok": True}


@app.get("/messages")
async def messages(request: Request, only: str | None = None) -> dict[str, Any]:
    if only:
        return {
            "messages": [list(m) for m in get_flashed_messages(request, with_categories=True, category_filter=[only])]
        }
    return {"messages": get_flashed_messages(request)}


@app.get("/page")
async def page(request: Request):
    return templates.TemplateResponse(request, "page.html")
