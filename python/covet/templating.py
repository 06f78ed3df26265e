"""Jinja2 templates: Starlette's `Jinja2Templates`, on an environment that renders faster.

`Jinja2Templates(directory=...)` and `templates.TemplateResponse(request, name, context)` work
as in FastAPI/Starlette (`url_for` in templates, context processors, a response that keeps
`.template` and `.context` for tests). The environment it builds is covet's `Environment`, a
`jinja2.Environment` with two changes that leave the output byte for byte the same:

- Autoescaped values are escaped by the engine (`covet._engine.escape_html`) instead of
  markupsafe's `escape`, which wraps every value in a `Markup` through two Python calls only
  for the parts to be joined into one string; text with nothing to escape is not even copied.
- A template's globals are flattened into a dict for each render: Jinja2 keeps them in a
  `ChainMap`, whose Python-level iteration took a large share of a small page's render in
  profiles.

Any `jinja2.Environment` may be passed instead (`env=`); it then renders as Jinja2 always does.
"""

from __future__ import annotations

import os
from collections import ChainMap
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Any

try:
    import jinja2
    from jinja2.compiler import CodeGenerator, Frame
    from jinja2.runtime import Context, new_context
except ImportError as exc:  # pragma: no cover - depends on what is installed
    raise ImportError("covet.templating needs Jinja2: pip install 'covet[templates]' (or jinja2)") from exc

from covet import _engine
from covet.background import BackgroundTask
from covet.requests import Request
from covet.responses import HTMLResponse

__all__ = ["Environment", "Jinja2Templates", "Template"]

PathLike = str | os.PathLike[str]
ContextProcessor = Callable[[Request], dict[str, Any]]


class _CodeGenerator(CodeGenerator):
    """Writes `environment._covet_escape(value)` where Jinja2 writes `escape(value)`.

    Only where autoescaping is fixed at compile time: in `{% autoescape %}` blocks whose setting
    is decided at run time Jinja2's own choice stays. The parts are joined into a `str` either
    way, and blocks that must be `Markup` (macros, `{% set %}` blocks) are wrapped by Jinja2
    after the join, so a plain `str` part changes nothing.
    """

    def _output_child_pre(self, node: jinja2.nodes.Expr, frame: Frame, finalize: Any) -> None:
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape:
            super()._output_child_pre(node, frame, finalize)
            return
        self.write("environment._covet_escape(")
        if finalize.src is not None:
            self.write(finalize.src)


def _flat(globals_: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A template's globals as one dict (the first map of a ChainMap wins, as in the ChainMap)."""
    if type(globals_) is not ChainMap:
        return globals_
    flat: dict[str, Any] = {}
    for layer in reversed(globals_.maps):
        flat.update(layer)
    return flat


class Template(jinja2.Template):
    """A `jinja2.Template` whose render context is built from plain dicts."""

    def new_context(
        self,
        vars: dict[str, Any] | None = None,
        shared: bool = False,
        locals: Mapping[str, Any] | None = None,
    ) -> Context:
        return new_context(self.environment, self.name, self.blocks, vars, shared, _flat(self.globals), locals)


class Environment(jinja2.Environment):
    """A `jinja2.Environment` that escapes in the engine and renders from flat globals."""

    code_generator_class = _CodeGenerator
    template_class = Template
    _covet_escape = staticmethod(_engine.escape_html)


class _TemplateResponse(HTMLResponse):
    """An HTML response that remembers what it was rendered from (for tests)."""

    def __init__(
        self,
        template: jinja2.Template,
        context: dict[str, Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.template = template
        self.context = context
        super().__init__(template.render(context), status_code, headers, media_type, background)


class Jinja2Templates:
    """Templates from a directory (or a given environment), rendered into HTML responses."""

    def __init__(
        self,
        directory: PathLike | Sequence[PathLike] | None = None,
        *,
        context_processors: list[ContextProcessor] | None = None,
        env: jinja2.Environment | None = None,
        **env_options: Any,
    ) -> None:
        if (directory is None) == (env is None):
            raise ValueError("Jinja2Templates takes either a `directory` or an `env`, not both nor neither")
        self.context_processors = list(context_processors or [])
        if env is None:
            env_options.setdefault("loader", jinja2.FileSystemLoader(directory))  # type: ignore[arg-type]
            env_options.setdefault("autoescape", True)
            env = Environment(**env_options)
        self.env = env
        self.env.globals.setdefault("url_for", _url_for)
        self.env.globals.setdefault("get_flashed_messages", _get_flashed_messages)

    def get_template(self, name: str) -> jinja2.Template:
        return self.env.get_template(name)

    def TemplateResponse(  # noqa: N802 (Starlette's name)
        self,
        request: Request | str,
        name: str | dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> HTMLResponse:
        """`TemplateResponse(request, name, context)`; Starlette's older
        `TemplateResponse(name, {"request": request, ...})` is accepted too."""
        if isinstance(request, str):  # the older order: (name, context, ...)
            name, context = request, name if isinstance(name, dict) else context
            request = (context or {}).get("request")
            if request is None:
                raise ValueError('TemplateResponse(name, context): the context must hold the "request"')
        context = {"request": request, **(context or {})}
        if not isinstance(name, str):
            raise TypeError("TemplateResponse needs the template's name")
        for processor in self.context_processors:
            context.update(processor(request))
        template = self.get_template(name)
        return _TemplateResponse(template, context, status_code, headers, media_type, background)


@jinja2.pass_context
def _url_for(context: Any, name: str, /, **path_params: Any) -> str:
    """`{{ url_for('static', path='app.css') }}`: an absolute URL for a named route."""
    request: Request = context["request"]
    return request.url_for(name, **path_params)


@jinja2.pass_context
def _get_flashed_messages(context: Any, with_categories: bool = False, category_filter: Any = ()) -> list[Any]:
    """`{% for m in get_flashed_messages() %}` as in Flask's templates (needs sessions)."""
    from covet.sessions.flash import get_flashed_messages

    return get_flashed_messages(context["request"], with_categories=with_categories, category_filter=category_filter)
