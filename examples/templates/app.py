"""Server-rendered pages with Jinja2: a list of notes and a form to add one.

Run it:  covet run examples.templates.app:app  (then open http://127.0.0.1:8000/)
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from covet import Covet, Form, Request
from covet.responses import HTMLResponse, RedirectResponse
from covet.templating import Jinja2Templates

templates = Jinja2Templates(
    directory=Path(__file__).parent / "templates",
    context_processors=[lambda request: {"site_name": "Notes"}],
)
app = Covet()
notes: list[str] = ["Templates escape what they show: <b>this is not bold</b>"]


@app.get("/", response_class=HTMLResponse, name="index")
async def index(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "index.html", {"notes": notes})


@app.post("/notes", name="add_note")
async def add_note(text: Annotated[str, Form(min_length=1, max_length=500)]) -> RedirectResponse:
    notes.append(text)
    return RedirectResponse(app.url_path_for("index"), status_code=303)
