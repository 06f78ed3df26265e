"""covet.templating: the engine's escaper and covet's Environment give Jinja2's output byte for
byte; Jinja2Templates answers as Starlette's does, through the real engine."""

from __future__ import annotations

import asyncio
import enum
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
import pytest
from markupsafe import Markup, escape

from covet import Covet, Request
from covet._engine import escape_html
from covet.background import BackgroundTask
from covet.templating import Environment, Jinja2Templates
from covet.testclient import TestClient


class Colour(enum.StrEnum):
    RED = "<red>"


class Html:
    def __html__(self) -> str:
        return "<b>already safe</b>"


class Loud(str):
    def __str__(self) -> str:
        return "LOUD & <clear>"


def random_texts(count: int) -> list[str]:
    """Strings mixing the five special characters, ASCII, accents, CJK, emoji and a surrogate."""
    rng = random.Random(20261203)
    alphabet = list("&<>\"'ab z09;#") + ["é", "ü", "日", "本", "😀", "\ud800", "\x00", "\n"]
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(count)]


VALUES: list[Any] = [
    "",
    "plain",
    "<script>alert(\"x\" & 'y');</script>",
    "ありがとう <ございます>",
    0,
    -42,
    10**30,
    3.5,
    float("inf"),
    True,
    None,
    Decimal("1.50"),
    Markup("<i>safe</i>"),
    Html(),
    Colour.RED,
    Loud("quiet"),
    ["<a>", 1],
    {"k": "<v>"},
    b"<bytes>",
]


@pytest.mark.parametrize("value", VALUES + random_texts(300), ids=repr)
def test_escape_html_is_markupsafes_escape(value: Any) -> None:
    assert escape_html(value) == str(escape(value))


def test_clean_text_is_returned_as_is() -> None:
    text = "nothing to escape here, 日本"
    assert escape_html(text) is text


TEMPLATES = {
    "base.html": "<title>{% block title %}{{ title }}{% endblock %}</title>{% block body %}{% endblock %}",
    "page.html": (
        "{% extends 'base.html' %}{% from 'macros.html' import row %}"
        "{% block body %}{% for id, message in rows %}{{ row(id, message) }}{% endfor %}"
        "{% set note %}<em>{{ title }}</em>{% endset %}{{ note }}{{ note|length }}"
        "{% include 'part.html' %}{{ raw|safe }}{{ raw|e }}{{ raw|upper }}"
        "{% autoescape false %}{{ raw }}{% endautoescape %}"
        "{% autoescape flag %}{{ raw }}{% endautoescape %}"
        "{{ '<const>' }}{{ 1 + 2 }}{{ missing }}{{ none_value }}{{ loop_over|join(', ') }}"
        "{% for x in loop_over %}{{ loop.index }}:{{ x }}{% endfor %}{% endblock %}"
    ),
    "macros.html": "{% macro row(id, message) %}<tr><td>{{ id }}</td><td>{{ message }}</td></tr>{% endmacro %}",
    "part.html": "<p>{{ title }} {{ greeting }}</p>",
}
CONTEXT: dict[str, Any] = {
    "title": "Tom & <Jerry>",
    "rows": [(1, "a < b"), (2, '"quoted"'), (3, Markup("<b>bold</b>"))],
    "raw": "<x y='1'>",
    "flag": True,
    "none_value": None,
    "loop_over": ["<1>", 2, "three & four"],
}


@pytest.mark.parametrize("autoescape", [True, False])
def test_environment_renders_as_jinja2_does(autoescape: bool) -> None:
    loader = jinja2.DictLoader(TEMPLATES)
    theirs = jinja2.Environment(loader=loader, autoescape=autoescape)
    ours = Environment(loader=loader, autoescape=autoescape)
    for env in (theirs, ours):
        env.globals["greeting"] = "hi <there>"
    expected = theirs.get_template("page.html").render(CONTEXT)
    assert "Tom &amp; &lt;Jerry&gt;" in expected or not autoescape
    assert ours.get_template("page.html").render(CONTEXT) == expected
    assert "".join(ours.get_template("page.html").generate(CONTEXT)) == expected


def test_globals_changed_after_loading_are_seen() -> None:
    env = Environment(autoescape=True)
    template = env.from_string("{{ site }}|{{ local }}", globals={"local": "<t>"})
    env.globals["site"] = "A & B"
    assert template.render() == "A &amp; B|&lt;t&gt;"
    assert template.render(local="mine") == "A &amp; B|mine"


@pytest.fixture
def templates(tmp_path: Path) -> Jinja2Templates:
    (tmp_path / "item.html").write_text(
        "<h1>{{ item }}</h1><a href=\"{{ url_for('item', item_id=7) }}\">{{ request.url.path }}</a>{{ site }}"
    )
    return Jinja2Templates(directory=tmp_path, context_processors=[lambda request: {"site": "<covet>"}])


def test_template_response_through_the_engine(templates: Jinja2Templates) -> None:
    app = Covet()
    ran: list[str] = []

    @app.get("/items/{item_id}", name="item")
    async def item(request: Request, item_id: int) -> Any:
        return templates.TemplateResponse(
            request,
            "item.html",
            {"item": f"<{item_id}>"},
            headers={"x-extra": "1"},
            background=BackgroundTask(ran.append, "done"),
        )

    @app.get("/old")
    async def old(request: Request) -> Any:
        return templates.TemplateResponse("item.html", {"request": request, "item": "old & style"}, status_code=201)

    with TestClient(app) as client:
        response = client.get("/items/3")
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert response.headers["x-extra"] == "1"
        assert response.text == ('<h1>&lt;3&gt;</h1><a href="http://testserver/items/7">/items/3</a>&lt;covet&gt;')
        assert ran == ["done"]
        old_style = client.get("/old")
        assert old_style.status_code == 201
        assert old_style.text.startswith("<h1>old &amp; style</h1>")


def test_template_response_keeps_template_and_context(templates: Jinja2Templates) -> None:
    app = Covet()
    made: list[Any] = []

    @app.get("/items/{item_id}", name="item")
    async def item(request: Request, item_id: int) -> Any:
        made.append((request, templates.TemplateResponse(request, "item.html", {"item": "x"})))
        return made[-1][1]

    with TestClient(app) as client:
        assert client.get("/items/1").status_code == 200
    request, response = made[0]
    assert response.template.name == "item.html"
    assert response.context["item"] == "x"
    assert response.context["request"] is request
    assert response.context["site"] == "<covet>"


def test_templates_arguments_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="either a `directory` or an `env`"):
        Jinja2Templates()
    with pytest.raises(ValueError, match="either a `directory` or an `env`"):
        Jinja2Templates(tmp_path, env=Environment())
    env = jinja2.Environment(loader=jinja2.DictLoader({"a.html": "{{ x }}"}), autoescape=True)
    templates = Jinja2Templates(env=env)
    assert templates.env is env and "url_for" in env.globals
    with pytest.raises(ValueError, match='must hold the "request"'):
        templates.TemplateResponse("a.html", {"x": 1})


def test_async_environment_renders_as_jinja2_does() -> None:
    loader = jinja2.DictLoader(TEMPLATES)
    theirs = jinja2.Environment(loader=loader, autoescape=True, enable_async=True)
    ours = Environment(loader=loader, autoescape=True, enable_async=True)
    expected = asyncio.run(theirs.get_template("page.html").render_async(CONTEXT))
    assert asyncio.run(ours.get_template("page.html").render_async(CONTEXT)) == expected
