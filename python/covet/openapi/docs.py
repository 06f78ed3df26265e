"""The interactive documentation pages: Swagger UI, ReDoc, and Swagger UI's OAuth2 redirect.

The pages load their JavaScript and CSS from covet's own static route by default (vendored
copies in `covet/static/`, see its README), so `/docs` works on a machine with no internet
access and leaks no visit to a CDN. Pass the `*_url` arguments to use other copies.
"""

from __future__ import annotations

import json
from typing import Any

from covet.responses import HTMLResponse

__all__ = [
    "STATIC_PREFIX",
    "swagger_ui_default_parameters",
    "get_swagger_ui_html",
    "get_redoc_html",
    "get_swagger_ui_oauth2_redirect_html",
]

STATIC_PREFIX = "/_covet/static"

# Swagger UI's configuration unless overridden by `swagger_ui_parameters` (FastAPI's defaults).
swagger_ui_default_parameters: dict[str, Any] = {
    "dom_id": "#swagger-ui",
    "layout": "BaseLayout",
    "deepLinking": True,
    "showExtensions": True,
    "showCommonExtensions": True,
}


def _js(value: Any) -> str:
    """`value` as a JavaScript literal that is safe inside a <script> element: JSON with `<`,
    `>` and `&` escaped so that a title or URL containing `</script>` cannot end the script."""
    return (
        json.dumps(value)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def get_swagger_ui_html(
    *,
    openapi_url: str,
    title: str,
    swagger_js_url: str = f"{STATIC_PREFIX}/swagger-ui-bundle.js",
    swagger_css_url: str = f"{STATIC_PREFIX}/swagger-ui.css",
    swagger_favicon_url: str = f"{STATIC_PREFIX}/favicon-32x32.png",
    oauth2_redirect_url: str | None = None,
    init_oauth: dict[str, Any] | None = None,
    swagger_ui_parameters: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The Swagger UI page for the document at `openapi_url`.

    `oauth2_redirect_url` is made absolute against the page's origin in the browser (Swagger
    UI needs a full URL to hand to the authorization server); `init_oauth` is passed to
    `ui.initOAuth` (client id, scopes, PKCE...)."""
    from html import escape  # on first use: html.entities' tables cost ~0.45 MiB a worker

    parameters = {**swagger_ui_default_parameters, **(swagger_ui_parameters or {})}
    config_lines = [f"url: {_js(openapi_url)},"]
    config_lines += [f"{_js(key)}: {_js(value)}," for key, value in parameters.items()]
    if oauth2_redirect_url:
        config_lines.append(f"oauth2RedirectUrl: window.location.origin + {_js(oauth2_redirect_url)},")
    config = "\n        ".join(config_lines)
    oauth = f"ui.initOAuth({_js(init_oauth)});" if init_oauth else ""
    html = f"""<!DOCTYPE html>
<html>
<head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <link type="text/css" rel="stylesheet" href="{escape(swagger_css_url)}">
    <link rel="shortcut icon" href="{escape(swagger_favicon_url)}">
    <title>{escape(title)}</title>
</head>
<body>
    <div id="swagger-ui"></div>
    <script src="{escape(swagger_js_url)}"></script>
    <script>
    const ui = SwaggerUIBundle({{
        {config}
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    }});
    {oauth}
    </script>
</body>
</html>
"""
    return HTMLResponse(html)


def get_redoc_html(
    *,
    openapi_url: str,
    title: str,
    redoc_js_url: str = f"{STATIC_PREFIX}/redoc.standalone.js",
    redoc_favicon_url: str = f"{STATIC_PREFIX}/favicon-32x32.png",
    with_google_fonts: bool = False,
) -> HTMLResponse:
    """The ReDoc page for the document at `openapi_url`.

    Google Fonts are off by default (unlike FastAPI) because they are the one thing the page
    would fetch from the internet; ReDoc falls back to the system's fonts."""
    from html import escape  # on first use: html.entities' tables cost ~0.45 MiB a worker

    fonts = (
        '<link href="https://fonts.googleapis.com/css?family=Montserrat:300,400,700|Roboto:300,400,700" '
        'rel="stylesheet">'
        if with_google_fonts
        else ""
    )
    html = f"""<!DOCTYPE html>
<html>
<head>
    <title>{escape(title)}</title>
    <meta charset="utf-8"/>
    <meta name="viewport" content="width=device-width, initial-scale=1">
    {fonts}
    <link rel="shortcut icon" href="{escape(redoc_favicon_url)}">
    <style>
    body {{ margin: 0; padding: 0; }}
    </style>
</head>
<body>
    <noscript>ReDoc requires Javascript to function. Please enable it to browse the documentation.</noscript>
    <redoc spec-url="{escape(openapi_url)}"></redoc>
    <script src="{escape(redoc_js_url)}"></script>
</body>
</html>
"""
    return HTMLResponse(html)


def get_swagger_ui_oauth2_redirect_html(*, script_url: str = f"{STATIC_PREFIX}/oauth2-redirect.js") -> HTMLResponse:
    """The page an OAuth2 authorization server redirects the browser back to: Swagger UI's
    own redirect script (vendored) passes the code or token to the opener window."""
    from html import escape  # on first use: html.entities' tables cost ~0.45 MiB a worker

    html = f"""<!doctype html>
<html lang="en-US">
<head>
    <title>Swagger UI: OAuth2 Redirect</title>
</head>
<body>
    <script src="{escape(script_url)}"></script>
</body>
</html>
"""
    return HTMLResponse(html)
