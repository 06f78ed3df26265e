"""`Covet`, the application: routes, error handling, middleware and lifecycle.

The same object serves three ways: from covet's own Rust server (`covet run`), as an ASGI 3
app (uvicorn, hypercorn, granian), and from `TestClient`. All three use one request pipeline
(covet.pipeline), compiled from the app's declarations by `compile()`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from covet.asgi import handle_asgi
from covet.commands.app_commands import AppCommands
from covet.config import Config
from covet.datastructures import State
from covet.error_handlers import maybe_await
from covet.middleware import BaseHTTPMiddleware
from covet.middleware import Middleware as MiddlewareDecl
from covet.middleware.engine import is_engine_middleware
from covet.params import DependsParam
from covet.pipeline import Pipeline, Runtime
from covet.requests import Request
from covet.responses import JSONResponse, Response
from covet.route_inclusion import effective_routes, routes_url_path
from covet.router_options import apply_app_options, merged_lifespan
from covet.routing import APIRouter, F, RouteRegistry, WebhookRoute

__all__ = ["Covet"]

ExceptionHandler = Callable[[Request, Exception], Any]
Lifespan = Callable[["Covet"], contextlib.AbstractAsyncContextManager[Any]]


class Covet(RouteRegistry):
    """A covet application. FastAPI's constructor arguments that exist here mean the same."""

    def __init__(
        self,
        *,
        debug: bool = False,
        title: str = "Covet",
        version: str = "0.1.0",
        description: str = "",
        lifespan: Lifespan | None = None,
        on_startup: list[Callable[[], Any]] | None = None,
        on_shutdown: list[Callable[[], Any]] | None = None,
        exception_handlers: dict[int | type[Exception], ExceptionHandler] | None = None,
        redirect_slashes: bool = True,
        dependencies: Sequence[DependsParam] | None = None,
        default_response_class: type[Response] = JSONResponse,
        summary: str | None = None,
        openapi_url: str | None = "/openapi.json",
        docs_url: str | None = "/docs",
        redoc_url: str | None = "/redoc",
        swagger_ui_oauth2_redirect_url: str | None = "/docs/oauth2-redirect",
        swagger_ui_init_oauth: dict[str, Any] | None = None,
        swagger_ui_parameters: dict[str, Any] | None = None,
        swagger_js_url: str | None = None,
        swagger_css_url: str | None = None,
        swagger_favicon_url: str | None = None,
        redoc_js_url: str | None = None,
        redoc_favicon_url: str | None = None,
        openapi_tags: list[dict[str, Any]] | None = None,
        servers: list[dict[str, Any]] | None = None,
        terms_of_service: str | None = None,
        contact: dict[str, Any] | None = None,
        license_info: dict[str, Any] | None = None,
        responses: dict[int | str, dict[str, Any]] | None = None,
        separate_input_output_schemas: bool = True,
        middleware: Sequence[MiddlewareDecl] | None = None,
        websocket_origins: Sequence[str] | None = None,
        routes: Sequence[Any] | None = None,
        root_path: str = "",
        root_path_in_servers: bool = True,
        openapi_prefix: str = "",
        openapi_external_docs: dict[str, Any] | None = None,
        callbacks: Sequence[Any] | None = None,
        webhooks: Any = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        generate_unique_id_function: Callable[[Any], str] | None = None,
        strict_content_type: bool = True,
        settings: Any = None,
    ) -> None:
        self.debug = debug
        #: The debug page's console (covet.debug.enable_console; `covet dev` turns it on).
        self.debug_console = False
        self.title = title
        self.version = version
        self.description = description
        self.summary = summary
        self.routes: list[Any] = []
        self.tags: list[Any] = []
        self.dependencies = list(dependencies or [])
        self.responses = dict(responses or {})
        self.default_response_class = default_response_class
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        #: `dependency_overrides`, analysed on first use (shared by every route).
        self.analysed_overrides: dict[Any, Any] = {}
        self.openapi_url = openapi_url
        self.docs_url = docs_url
        self.redoc_url = redoc_url
        self.swagger_ui_oauth2_redirect_url = swagger_ui_oauth2_redirect_url
        self.swagger_ui_init_oauth = swagger_ui_init_oauth
        self.swagger_ui_parameters = swagger_ui_parameters
        # Other copies of the pages' assets (a CDN, your own static route); None: covet's own.
        self.docs_asset_urls = {
            "swagger_js_url": swagger_js_url,
            "swagger_css_url": swagger_css_url,
            "swagger_favicon_url": swagger_favicon_url,
            "redoc_js_url": redoc_js_url,
            "redoc_favicon_url": redoc_favicon_url,
        }
        self.openapi_tags = openapi_tags
        self.servers = servers
        self.terms_of_service = terms_of_service
        self.contact = contact
        self.license_info = license_info
        self.openapi_schema: dict[str, Any] | None = None
        self.separate_input_output_schemas = separate_input_output_schemas
        self._docs_added = False
        self.state = State()
        # Flask's app.config, filled from `settings` (a covet.Settings) when given.
        self.settings = settings
        self.config = Config()
        #: Flask's `app.cli`: `@app.cli.command()` adds a `covet <command>` (covet.commands.app_commands).
        self.cli = AppCommands()
        if settings is not None:
            self.config.from_object(settings)
        self.lifespan = lifespan
        self.on_startup_handlers = list(on_startup or [])
        self.on_shutdown_handlers = list(on_shutdown or [])
        # Called with each engine server built for this app (covet.metrics counts there).
        self.server_hooks: list[Callable[[Any], None]] = []
        self.exception_handlers: dict[int | type[Exception], ExceptionHandler] = dict(exception_handlers or {})
        # Declarations, outermost first (Starlette's order: the last added is the outermost).
        self.user_middleware: list[MiddlewareDecl] = list(middleware or [])
        self.redirect_slashes = redirect_slashes
        # Origins a WebSocket handshake may come from (None: any); routes may set their own.
        self.websocket_origins = list(websocket_origins) if websocket_origins is not None else None
        # The compiled request pipeline (`compile()`), None until built or after a change.
        self._pipeline: Pipeline | None = None
        #: Tasks in flight and error reporting, shared by every pipeline compiled for this app.
        self.runtime = Runtime()
        self._lifespan_cm: contextlib.AbstractAsyncContextManager[Any] | None = None
        apply_app_options(
            self,
            routes=routes,
            root_path=root_path or openapi_prefix,
            root_path_in_servers=root_path_in_servers,
            openapi_external_docs=openapi_external_docs,
            callbacks=callbacks,
            # Routes documented under `webhooks` in the OpenAPI document, never served.
            webhooks=webhooks if webhooks is not None else APIRouter(route_class=WebhookRoute),
            deprecated=deprecated,
            include_in_schema=include_in_schema,
            generate_unique_id_function=generate_unique_id_function,
            strict_content_type=strict_content_type,
        )
        # FastAPI adds its docs routes in its constructor: after `routes=`, before the rest.
        self._docs_at = len(self.routes)

    # --- declaration ---------------------------------------------------------------------

    def add_route_context(self, scope: dict[str, Any], route: Any) -> None:
        """Puts the effective route serving a request in its scope (`scope["fastapi"]`)."""
        from covet.route_inclusion import with_route_context

        with_route_context(scope, route, self)

    def _routes_changed(self) -> None:
        self._pipeline = None
        self.openapi_schema = None

    def exception_handler(self, exc_or_status: int | type[Exception]) -> Callable[[F], F]:
        def decorator(func: F) -> F:
            self.add_exception_handler(exc_or_status, func)
            return func

        return decorator

    def add_exception_handler(self, exc_or_status: int | type[Exception], handler: ExceptionHandler) -> None:
        self.exception_handlers[exc_or_status] = handler
        self._pipeline = None

    def middleware(self, kind: str) -> Callable[[F], F]:
        """`@app.middleware("http")`: `async def mw(request, call_next) -> Response`."""
        if kind != "http":
            raise ValueError(f'Only "http" middleware is supported, not {kind!r}')

        def decorator(func: F) -> F:
            self.add_middleware(BaseHTTPMiddleware, dispatch=func)
            return func

        return decorator

    def add_middleware(self, cls: type[Any], *args: Any, **kwargs: Any) -> None:
        """Wrap the app in `cls(app, *args, **kwargs)`; the last added runs first."""
        if is_engine_middleware(cls):
            cls(self, *args, **kwargs)  # the engine checks the options now
        self.user_middleware.insert(0, MiddlewareDecl(cls, *args, **kwargs))
        self._pipeline = None

    def url_path_for(self, name: str, /, **path_params: Any) -> str:
        if "path" in path_params:  # a static mount's fingerprinted file (covet assets build)
            for route in self.routes:
                if getattr(route, "name", None) == name and hasattr(getattr(route, "app", None), "asset_path"):
                    path_params = {**path_params, "path": route.app.asset_path(str(path_params["path"]))}
        try:
            return self.compile().router.url_path_for(name, path_params)  # type: ignore[no-any-return]
        except ValueError:
            if ":" not in name:
                raise
        # "mount:route": a route of an app mounted with a name, asked through its `Mount`.
        return routes_url_path(effective_routes(self.routes), name, path_params)

    @property
    def router(self) -> Covet:
        """FastAPI's `app.router`: the app holds its routes itself."""
        return self

    @property
    def dependency_overrides_provider(self) -> Covet:
        return self

    @property
    def served_routes(self) -> list[Any]:
        """The routes the engine's endpoint numbers index: `routes` with included routers'
        routes in place of the inclusions (see covet.route_inclusion)."""
        return self.compile().compiled.served

    # --- compiled state --------------------------------------------------------------------

    def compile(self) -> Pipeline:
        """The request pipeline for the routes, middleware and exception handlers declared so
        far: built on the first call (route conflicts and bad middleware options raise here),
        then reused until a declaration changes. Servers and the TestClient call it."""
        if self._pipeline is None:
            self._add_docs_routes()
            self._pipeline = Pipeline(self, self.runtime)
        return self._pipeline

    # --- OpenAPI ---------------------------------------------------------------------------

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document, generated once; assign `app.openapi = func` to replace it."""
        if self.openapi_schema is None:
            from covet.openapi.utils import get_openapi

            self.openapi_schema = get_openapi(
                title=self.title,
                version=self.version,
                summary=self.summary,
                description=self.description,
                routes=self.routes,
                tags=self.openapi_tags,
                separate_input_output_schemas=self.separate_input_output_schemas,
                servers=self.servers,
                terms_of_service=self.terms_of_service,
                contact=self.contact,
                license_info=self.license_info,
                webhooks=self.webhooks.routes,
                external_docs=self.openapi_external_docs,
            )
        return self.openapi_schema

    def _add_docs_routes(self) -> None:
        if self._docs_added:
            return
        self._docs_added = True
        from covet.openapi import add_openapi_routes

        # Added late (the URLs may be changed after construction) but placed where FastAPI
        # has them, so a catch-all route declared later never answers `/openapi.json`.
        end = len(self.routes)
        add_openapi_routes(self)
        docs = self.routes[end:]
        del self.routes[end:]
        at = min(self._docs_at, end)
        self.routes[at:at] = docs

    # --- lifecycle -------------------------------------------------------------------------

    async def startup(self) -> None:
        """Runs startup hooks and enters the lifespan context; builds the routing table."""
        self.compile()  # route conflicts are reported at startup
        for hook in self.on_startup_handlers:
            await maybe_await(hook())
        if self.lifespan is not None or self.router_lifespans:
            self._lifespan_cm = merged_lifespan(self)
            state = await self._lifespan_cm.__aenter__()
            if isinstance(state, dict):
                self.lifespan_state = state
                for key, value in state.items():
                    setattr(self.state, key, value)

    async def shutdown(self) -> None:
        """Leaves the lifespan context and runs shutdown hooks, after in-flight work."""
        if self.runtime.tasks:
            await asyncio.gather(*list(self.runtime.tasks), return_exceptions=True)
        if self._lifespan_cm is not None:
            cm, self._lifespan_cm = self._lifespan_cm, None
            await cm.__aexit__(None, None, None)
        for hook in self.on_shutdown_handlers:
            await maybe_await(hook())

    def run(self, host: str = "127.0.0.1", port: int = 8000, **options: Any) -> int:
        """Serves this app from covet's engine in this process (Flask's `app.run()`); see
        `covet.server.run` for the options."""
        from covet.server import run

        return run(self, host, port, **options)

    # --- ASGI ----------------------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await handle_asgi(self._pipeline or self.compile(), scope, receive, send)
