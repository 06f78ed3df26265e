"""The page shown for a 500 when the app runs with `debug=True` (never otherwise), and its
console.

The page shows each frame of the traceback (chained exceptions too) with its source and its
local variables, the library frames (the standard library, installed packages, covet) folded,
the request (headers, query, body, session), and the whole traceback as text to copy.

The console evaluates an expression in a frame's locals. It is off unless asked for
(`enable_console(app)`, which `covet dev` calls), needs the PIN printed to the terminal when it
is enabled (one per process, or `$COVET_DEBUG_PIN`: `covet dev` sets one for all its restarts),
and answers only a loopback peer that no proxy forwarded for (a request with `Forwarded` or
`X-Forwarded-For` is refused: a proxy on this machine would make any client look local). After
ten wrong PINs the console stays shut until the process restarts. See docs/errors.md, "The console".
"""

from __future__ import annotations

import contextlib
import hmac
import io
import ipaddress
import linecache
import os
import secrets
import sys
import sysconfig
import traceback
from collections import OrderedDict
from types import FrameType, TracebackType
from typing import Any

from covet.requests import Request
from covet.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

__all__ = ["CONSOLE_PATH", "console_pin", "debug_response", "enable_console"]

CONSOLE_PATH = "/__covet__/console"
_KEPT = 16  # tracebacks whose frames the console can reach (the oldest are dropped)
_MAX_FAILURES = 10
_LIBRARY_DIRS = tuple(
    {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    | {os.path.dirname(os.path.abspath(__file__))}
)


class _ConsoleState:
    """The process's console: its PIN, the frames of recent tracebacks, wrong PINs so far."""

    def __init__(self) -> None:
        self.pin = os.environ.get("COVET_DEBUG_PIN") or "-".join(f"{secrets.randbelow(1000):03d}" for _ in range(3))
        self.frames: OrderedDict[str, list[tuple[FrameType, dict[str, Any]]]] = OrderedDict()
        self.failures = 0

    def keep(self, frames: list[FrameType]) -> str:
        key = secrets.token_hex(8)
        self.frames[key] = [(frame, dict(frame.f_locals)) for frame in frames]
        while len(self.frames) > _KEPT:
            self.frames.popitem(last=False)
        return key


_state = _ConsoleState()


def console_pin() -> str:
    return _state.pin


def enable_console(app: Any) -> None:
    """Turns the debug page and its console on for `app`, and prints the PIN."""
    app.debug = True
    if getattr(app, "debug_console", False):
        return
    app.debug_console = True
    from covet.csrf import csrf_exempt  # the PIN, which a cross-site page cannot know, guards it

    app.add_api_route(CONSOLE_PATH, csrf_exempt(_console), methods=["POST"], include_in_schema=False)
    print(f" * Debugger is active. Console PIN: {_state.pin}", file=sys.stderr, flush=True)


# --- the page ----------------------------------------------------------------------------------


def _is_library(filename: str) -> bool:
    return not os.path.isabs(filename) or os.path.abspath(filename).startswith(_LIBRARY_DIRS)


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and those it came from, the first cause first."""
    found: list[BaseException] = []
    while exc is not None and exc not in found:
        found.append(exc)
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)  # type: ignore[assignment]
    return found[::-1]


def _frames(tb: TracebackType | None) -> list[tuple[FrameType, int]]:
    out = []
    while tb is not None:
        out.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    return out


def _short_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception as exc:  # a broken __repr__ must not break the page
        text = f"<repr failed: {type(exc).__name__}>"
    return text if len(text) <= 400 else text[:400] + "…"


def _source(filename: str, lineno: int) -> str:
    import html  # on first use: html.entities' tables cost ~0.45 MiB a worker

    rows = []
    for number in range(max(1, lineno - 4), lineno + 4):
        line = linecache.getline(filename, number)
        if not line:
            continue
        mark = ' class="here"' if number == lineno else ""
        rows.append(f"<span{mark}>{number:>5} {html.escape(line.rstrip())}</span>")
    return "\n".join(rows)


def _frame_html(frame: FrameType, lineno: int, index: int, key: str | None) -> str:
    import html  # on first use: html.entities' tables cost ~0.45 MiB a worker

    code = frame.f_code
    library = _is_library(code.co_filename)
    rows = "".join(
        f"<tr><th>{html.escape(name)}</th><td>{html.escape(_short_repr(value))}</td></tr>"
        for name, value in frame.f_locals.items()
    )
    console = ""
    if key is not None:
        console = (
            f'<form class="console" data-tb="{key}" data-frame="{index}">'
            '<input name="expr" placeholder="expression in this frame" size="50"><button>Run</button>'
            "<pre></pre></form>"
        )
    return (
        f'<details class="frame{" lib" if library else ""}"{"" if library else " open"}>'
        f"<summary>{html.escape(code.co_filename)}:{lineno} in <b>{html.escape(code.co_name)}</b></summary>"
        f"<pre>{_source(code.co_filename, lineno)}</pre>"
        f'<table class="locals">{rows}</table>{console}</details>'
    )


async def _request_html(request: Request) -> str:
    import html  # on first use: html.entities' tables cost ~0.45 MiB a worker

    def table(items: Any) -> str:
        return "".join(
            f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_short_repr(v))}</td></tr>" for k, v in items
        )

    try:
        body = await request.body()
    except Exception as exc:  # the body cannot be read now (the client left...)
        body = f"<not available: {type(exc).__name__}>".encode()
    shown = body[:4096].decode("utf-8", "replace") + ("…" if len(body) > 4096 else "")
    session = request.scope_extra.get("session")
    parts = [
        f"<h3>Headers</h3><table>{table(request.headers.items())}</table>",
        f"<h3>Query</h3><table>{table(request.query_params.multi_items())}</table>",
        f"<h3>Body</h3><pre>{html.escape(shown)}</pre>",
        f"<h3>Session</h3><table>{table(dict(session).items()) if session is not None else ''}</table>",
    ]
    return "".join(parts)


def _console_allowed(request: Request) -> bool:
    """A loopback peer, and no proxy header saying it forwards someone else's request."""
    client = request.client
    if client is None or "forwarded" in request.headers or "x-forwarded-for" in request.headers:
        return False
    try:
        return ipaddress.ip_address(client.host).is_loopback
    except ValueError:  # not an IP address (a test client's name): not a real loopback peer
        return False


async def debug_response(request: Request, exc: BaseException, console: bool = False) -> Response:
    """The debug page (for a browser) or the traceback as text (for anything else)."""
    import html  # on first use: html.entities' tables cost ~0.45 MiB a worker

    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if "text/html" not in request.headers.get("accept", ""):
        return PlainTextResponse(trace, status_code=500)
    use_console = console and _console_allowed(request)
    sections = []
    for item in _chain(exc):
        frames = _frames(item.__traceback__)
        key = _state.keep([frame for frame, _ in frames]) if use_console else None
        rendered = "".join(_frame_html(frame, lineno, i, key) for i, (frame, lineno) in enumerate(frames))
        head = html.escape("".join(traceback.format_exception_only(type(item), item)).strip())
        sections.append(f'<h2 class="exc">{head}</h2>{rendered}')
    title = html.escape(f"500 Server Error: {type(exc).__name__}")
    page = _PAGE.format(
        title=title,
        method=html.escape(request.method),
        path=html.escape(request.path),
        traceback="".join(sections),
        request=await _request_html(request),
        text=html.escape(trace),
        pin='<p>Console PIN: <input id="pin" type="password" size="12"></p>' if use_console else "",
        console_path=CONSOLE_PATH,
    )
    return HTMLResponse(page, status_code=500)


# --- the console -------------------------------------------------------------------------------


async def _console(request: Request) -> Response:
    if not _console_allowed(request):
        return JSONResponse({"detail": "The debug console answers only this machine (loopback)"}, status_code=403)
    if _state.failures >= _MAX_FAILURES:
        return JSONResponse({"detail": "Too many wrong PINs: restart the server"}, status_code=403)
    try:
        data = await request.json()
        pin, key, index, expr = str(data["pin"]), str(data["tb"]), int(data["frame"]), str(data["expr"])
    except Exception:
        return JSONResponse({"detail": "Expected JSON with pin, tb, frame and expr"}, status_code=400)
    if not hmac.compare_digest(pin.replace("-", "").strip().encode(), _state.pin.replace("-", "").encode()):
        _state.failures += 1
        return JSONResponse({"detail": "Wrong PIN"}, status_code=401)
    frames = _state.frames.get(key)
    if frames is None or not 0 <= index < len(frames):
        return JSONResponse({"detail": "No such traceback or frame (it may have been dropped)"}, status_code=404)
    frame, scope = frames[index]
    return JSONResponse({"output": _evaluate(expr, frame.f_globals, scope)})


def _evaluate(source: str, globals_: dict[str, Any], scope: dict[str, Any]) -> str:
    """An expression's repr, or what statements print; an exception's last line."""
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            try:
                code = compile(source, "<console>", "eval")
            except SyntaxError:
                exec(compile(source, "<console>", "exec"), globals_, scope)
                return out.getvalue()
            return out.getvalue() + _short_repr(eval(code, globals_, scope))
    except Exception as exc:
        return out.getvalue() + "".join(traceback.format_exception_only(type(exc), exc))


_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em}}h1,h2.exc{{color:#b00020}}
pre{{background:#f6f6f6;padding:.5em;overflow:auto}}.here{{background:#ffe08a;display:block}}
details.frame{{border-left:4px solid #b00020;margin:.4em 0;padding-left:.5em}}
details.lib{{border-color:#bbb;opacity:.8}}table{{border-collapse:collapse;font-size:90%}}
th,td{{text-align:left;vertical-align:top;padding:1px 8px;font-family:monospace}}
textarea{{width:100%;height:12em}}</style></head><body>
<h1>{title}</h1><p>{method} {path}</p>{pin}
<p><button id="libs">Show library frames</button> <button id="copy">Copy as text</button></p>
{traceback}<h2>Request</h2>{request}<h2>Traceback as text</h2><textarea id="text" readonly>{text}</textarea>
<p><small>This page is shown because the app runs with debug=True. Never enable it in
production.</small></p>
<script>
document.getElementById("libs").onclick = () =>
  document.querySelectorAll("details.lib").forEach(d => d.open = !d.open);
document.getElementById("copy").onclick = () => {{
  const t = document.getElementById("text"); t.select(); navigator.clipboard.writeText(t.value);
}};
document.querySelectorAll("form.console").forEach(f => f.onsubmit = async e => {{
  e.preventDefault();
  const body = {{pin: document.getElementById("pin").value, tb: f.dataset.tb,
                frame: Number(f.dataset.frame), expr: f.expr.value}};
  const r = await fetch("{console_path}", {{method: "POST", headers: {{"content-type": "application/json"}},
                                          body: JSON.stringify(body)}});
  const data = await r.json();
  f.querySelector("pre").textContent = r.ok ? data.output : data.detail;
}});
</script></body></html>"""
