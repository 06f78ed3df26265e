"""The app's templates (`request.state.user` is Flask's `g.user` in them)."""

from __future__ import annotations

from pathlib import Path

from covet.templating import Jinja2Templates

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
