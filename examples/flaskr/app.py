"""Flask's tutorial application, flaskr, in covet: a blog where registered users write posts.

    covet --app examples.flaskr.app:app init-db    # create the tables
    covet run examples.flaskr.app:app              # then open http://127.0.0.1:8000/

What maps to what (Flask → covet): blueprints → routers, `g.user` → `request.state.user`
(loaded by a `before_request` hook), the `login_required` decorator → a dependency,
`@app.cli.command` → the same, `session`/`flash` → `request.session`/`flash(request, ...)`.
See docs/migrating-from-flask.md.

The database is `$FLASKR_DATABASE`, else instance/flaskr.sqlite next to this file; the secret
signing the session cookie is `$FLASKR_SECRET_KEY` (a development one when unset).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from covet import Covet, Request
from covet.responses import RedirectResponse
from covet.sessions import CookieSessionBackend, SessionMiddleware
from examples.flaskr import auth, blog, db


def create_app(test_config: dict[str, Any] | None = None) -> Covet:
    """Flask's application factory: tests make an app of their own with their own database."""
    app = Covet()
    app.config.update(
        SECRET_KEY=os.environ.get("FLASKR_SECRET_KEY", ""),
        DATABASE=os.environ.get("FLASKR_DATABASE", str(Path(__file__).parent / "instance" / "flaskr.sqlite")),
    )
    if test_config:
        app.config.update(test_config)
    if not app.config["SECRET_KEY"]:
        logging.getLogger("examples.flaskr").warning("FLASKR_SECRET_KEY is not set: using a development secret")
        app.config["SECRET_KEY"] = "dev-only-secret-set-FLASKR_SECRET_KEY"
    app.add_middleware(SessionMiddleware, secret_key=app.config["SECRET_KEY"], backend=CookieSessionBackend())

    db.init_app(app)
    app.before_request(auth.load_logged_in_user)

    @app.exception_handler(auth.LoginRequired)
    async def to_login(request: Request, exc: Exception) -> RedirectResponse:
        return RedirectResponse(app.url_path_for("auth.login"), status_code=303)

    @app.get("/hello")
    def hello() -> str:
        return "Hello, World!"

    app.include_router(auth.router)
    app.include_router(blog.router)
    return app


app = create_app()
