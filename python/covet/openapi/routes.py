"""The routes that publish the OpenAPI document and the documentation pages on an app."""

from __future__ import annotations

from typing import Any

from covet.openapi.assets import asset_names, serve_asset
from covet.openapi.docs import (
    STATIC_PREFIX,
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from covet.requests import Request
from covet.responses import JSONResponse, Response

__all__ = ["add_openapi_routes"]


def add_openapi_routes(app: Any) -> None:
    """Registers, as GET routes left out of the document itself:

    - `app.openapi_url` (default `/openapi.json`): the document, `app.openapi()`;
    - `app.docs_url` (`/docs`): Swagger UI, and `app.swagger_ui_oauth2_redirect_url`
      (`/docs/oauth2-redirect`) for its OAuth2 login;
    - `app.redoc_url` (`/redoc`): ReDoc;
    - `/_covet/static/{name}`: the pages' vendored JavaScript/CSS, when a page is served.

    A URL set to None turns its route off; with no `openapi_url` there are no pages either.
    URLs in the pages are prefixed with the request's `root_path`, so they stay right when the
    app is mounted or served behind a proxy that strips a prefix."""
    openapi_url: str | None = getattr(app, "openapi_url", "/openapi.json")
    if not openapi_url:
        return
    docs_url: str | None = getattr(app, "docs_url", "/docs")
    redoc_url: str | None = getattr(app, "redoc_url", "/redoc")
    redirect_url: str | None = getattr(app, "swagger_ui_oauth2_redirect_url", "/docs/oauth2-redirect")
    title: str = getattr(app, "title", "Covet")
    custom: dict[str, str | None] = getattr(app, "docs_asset_urls", {})

    def asset(key: str, root: str, vendored: str) -> str:
        """The URL given for `key` as it is, or covet's own copy under the request's root path."""
        return custom.get(key) or f"{root}{STATIC_PREFIX}/{vendored}"

    async def openapi(request: Request) -> Response:
        return JSONResponse(_with_root_server(app, app.openapi(), _root_path(request)))

    app.add_route(openapi_url, openapi, methods=["GET"], include_in_schema=False, name="openapi")

    if docs_url:

        async def swagger_ui_html(request: Request) -> Response:
            root = _root_path(request)
            return get_swagger_ui_html(
                openapi_url=root + openapi_url,
                title=f"{title} - Swagger UI",
                swagger_js_url=asset("swagger_js_url", root, "swagger-ui-bundle.js"),
                swagger_css_url=asset("swagger_css_url", root, "swagger-ui.css"),
                swagger_favicon_url=asset("swagger_favicon_url", root, "favicon-32x32.png"),
                oauth2_redirect_url=root + redirect_url if redirect_url else None,
                init_oauth=getattr(app, "swagger_ui_init_oauth", None),
                swagger_ui_parameters=getattr(app, "swagger_ui_parameters", None),
            )

        app.add_route(docs_url, swagger_ui_html, methods=["GET"], include_in_schema=False, name="swagger_ui_html")

        if redirect_url:

            async def swagger_ui_redirect(request: Request) -> Response:
                return get_swagger_ui_oauth2_redirect_html(
                    script_url=f"{_root_path(request)}{STATIC_PREFIX}/oauth2-redirect.js"
                )

            app.add_route(
                redirect_url, swagger_ui_redirect, methods=["GET"], include_in_schema=False, name="swagger_ui_redirect"
            )

    if redoc_url:

        async def redoc_html(request: Request) -> Response:
            root = _root_path(request)
            favicon = asset("redoc_favicon_url", root, "favicon-32x32.png")
            page = get_redoc_html(
                openapi_url=root + openapi_url,
                title=f"{title} - ReDoc",
                redoc_js_url=asset("redoc_js_url", root, "redoc.standalone.js"),
                redoc_favicon_url=favicon,
            )
            page.headers["Content-Security-Policy"] = _redoc_images(favicon)
            return page

        app.add_route(redoc_url, redoc_html, methods=["GET"], include_in_schema=False, name="redoc_html")

    if docs_url or redoc_url:
        allowed = asset_names()

        async def covet_static(request: Request) -> Response:
            return serve_asset(request, request.path_params["name"], allowed)

        app.add_route(
            STATIC_PREFIX + "/{name:path}", covet_static, methods=["GET"], include_in_schema=False, name="covet_static"
        )


def _redoc_images(favicon: str) -> str:
    """ReDoc's sidebar always shows a badge loaded from cdn.redoc.ly (not an option of the
    bundle): images are limited to the app's origin (and a favicon's given elsewhere), so the
    page makes no request to another host and the badge hides itself."""
    sources = ["'self'", "data:"]
    if "//" in favicon:
        scheme, _, rest = favicon.partition("//")
        sources.append(f"{scheme}//{rest.split('/', 1)[0]}")
    return "img-src " + " ".join(sources)


def _root_path(request: Request) -> str:
    return str(request.scope.get("root_path") or "").rstrip("/")


def _with_root_server(app: Any, schema: dict[str, Any], root: str) -> dict[str, Any]:
    """The document as served under `root` (the request's root path): that URL first in its
    `servers`, as FastAPI does, unless `root_path_in_servers=False`. A copy: the cached document
    never keeps one request's root path for the next."""
    if not root or not getattr(app, "root_path_in_servers", True):
        return schema
    servers = schema.get("servers") or []
    if any(s.get("url") == root for s in servers):
        return schema
    return {**schema, "servers": [{"url": root}, *servers]}
