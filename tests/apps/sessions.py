"""Apps for the session and CSRF tests: `make_app(...)` builds one per test configuration; `app`
is the one `covet run tests.apps.sessions:app` serves (Redis sessions + CSRF, key prefix from
COVET_TEST_SESSION_PREFIX so concurrent test runs never share keys)."""

from __future__ import annotations

import os
from typing import Any

from covet import Covet, Form, Request
from covet.csrf import CSRFMiddleware, csrf_exempt, csrf_input, csrf_token
from covet.responses import HTMLResponse
from covet.sessions import RedisSessionBackend, SessionBackend, SessionMiddleware

SECRET = "test-secret-key-that-is-long-enough-0123456789"
REDIS_URL = "redis://127.0.0.1:6379/0"


def make_app(backend: SessionBackend | None = None, *, csrf: bool = False, **options: Any) -> Covet:
    app = Covet()

    @app.get("/session")
    async def read(request: Request) -> dict[str, Any]:
        return dict(request.session)

    @app.post("/session")
    async def write(request: Request) -> dict[str, Any]:
        request.session.update(await request.json())
        return dict(request.session)

    @app.get("/count")
    async def count(request: Request) -> dict[str, int]:
        request.session["n"] = request.session.get("n", 0) + 1
        return {"n": request.session["n"]}

    @app.post("/login")
    async def login(request: Request, user: str = Form()) -> dict[str, str]:
        request.session.regenerate()  # a new id at the moment privileges change
        request.session["user"] = user
        return {"user": user, "token": csrf_token(request) if csrf else ""}

    @app.post("/logout")
    async def logout(request: Request) -> dict[str, bool]:
        request.session.clear()
        return {"ok": True}

    @app.get("/form", response_class=HTMLResponse)
    async def form(request: Request) -> str:
        return f'<form method="post" action="/submit">{csrf_input(request)}<input name="name"></form>'

    @app.get("/token")
    async def token(request: Request) -> dict[str, str]:
        return {"token": csrf_token(request)}

    @app.post("/submit")
    async def submit(request: Request, name: str = Form()) -> dict[str, Any]:
        form = await request.form()
        return {"name": name, "fields": sorted(form.keys())}

    @app.api_route("/api", methods=["POST", "PUT", "PATCH", "DELETE"])
    async def api(request: Request) -> dict[str, Any]:
        return {"got": await request.json() if await request.body() else None}

    @app.post("/hook")
    @csrf_exempt
    async def hook(request: Request) -> dict[str, bool]:
        return {"hooked": True}

    @app.post("/webhooks/github")
    async def github(request: Request) -> dict[str, bool]:
        return {"hooked": True}

    if backend is not None:
        app.on_event("shutdown")(backend.aclose)

    if csrf:
        app.add_middleware(CSRFMiddleware, secret_key=SECRET, exempt_paths=["/webhooks/"])
    app.add_middleware(SessionMiddleware, secret_key=SECRET, backend=backend, **options)
    return app


app = make_app(
    RedisSessionBackend(REDIS_URL, prefix=os.environ.get("COVET_TEST_SESSION_PREFIX", "covet-test:sessions:")),
    csrf=True,
)
