"""Apps with engine middleware (CORS, security headers, trusted hosts, https redirect), served
three ways by tests/test_cors.py, test_security_headers.py and test_trusted_host.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

from covet import Covet, HTTPException, Request
from covet.middleware.cors import CORSMiddleware
from covet.middleware.httpsredirect import HTTPSRedirectMiddleware
from covet.middleware.security import SecurityHeadersMiddleware
from covet.middleware.trustedhost import TrustedHostMiddleware
from covet.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse

CORS_OPTIONS = {
    "allow_origins": ["https://app.example.com"],
    "allow_origin_regex": r"https://.*\.trusted\.org",
    "allow_methods": ["GET", "POST"],
    "allow_headers": ["X-Token"],
    "expose_headers": ["X-Total"],
    "max_age": 300,
}
CREDENTIALS_OPTIONS = {"allow_origins": ["*"], "allow_credentials": True, "allow_headers": ["*"]}


def _routes(app: Covet) -> Covet:
    @app.get("/json")
    async def json() -> dict[str, int]:
        return {"hello": 1}

    @app.post("/json")
    async def post_json(item: dict[str, int]) -> dict[str, int]:
        return item

    @app.get("/html")
    async def html() -> HTMLResponse:
        return HTMLResponse("<p>hi</p>")

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for part in (b"one ", b"two"):
                yield part

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/own-headers")
    async def own_headers() -> Response:
        headers = {"X-Frame-Options": "SAMEORIGIN", "Vary": "Accept-Encoding"}
        return PlainTextResponse("mine", headers=headers)

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(418, "short and stout")

    @app.get("/who")
    async def who(request: Request) -> JSONResponse:
        return JSONResponse({"host": request.headers.get("host"), "scheme": request.url.scheme})

    return app


cors_app = _routes(Covet())
cors_app.add_middleware(CORSMiddleware, **CORS_OPTIONS)

credentials_app = _routes(Covet())
credentials_app.add_middleware(CORSMiddleware, **CREDENTIALS_OPTIONS)

# Security headers outermost, then CORS, then trusted hosts, with a Python middleware inside.
secure_app = _routes(Covet())


@secure_app.middleware("http")
async def add_python_header(request: Request, call_next):  # type: ignore[no-untyped-def]
    if request.headers.get("x-short-circuit"):
        return JSONResponse({"from": "python middleware"}, status_code=401)
    response = await call_next(request)
    response.headers["X-Python"] = "yes"
    return response


secure_app.add_middleware(
    TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "testserver", "*.example.com", "www.example.org"]
)
secure_app.add_middleware(CORSMiddleware, allow_origins=["https://app.example.com"])
secure_app.add_middleware(
    SecurityHeadersMiddleware,
    content_security_policy="default-src 'self'",
    permissions_policy="geolocation=()",
    trust_forwarded_proto=True,
)

https_app = _routes(Covet())
https_app.add_middleware(HTTPSRedirectMiddleware, trust_forwarded_proto=True)
