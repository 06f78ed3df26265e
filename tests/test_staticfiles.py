"""StaticFiles (Starlette's options): files, 404s, HEAD, ETag/304, html mode; through TestClient,
covet's server and uvicorn."""

from __future__ import annotations

import httpx
import pytest

from covet.staticfiles import StaticFiles
from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.static_app:app")


def test_file_is_served_with_validators(client: httpx.Client) -> None:
    response = client.get("/static/hello.txt")
    assert response.status_code == 200
    assert response.text == "hello, static"
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["content-length"] == "13"
    assert response.headers["etag"] and response.headers["last-modified"]


def test_head_has_the_headers_and_no_body(client: httpx.Client) -> None:
    response = client.head("/static/hello.txt")
    assert response.status_code == 200
    assert response.headers["content-length"] == "13"
    assert response.content == b""


def test_etag_and_date_give_304(client: httpx.Client) -> None:
    first = client.get("/static/hello.txt")
    again = client.get("/static/hello.txt", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    since = client.get("/static/hello.txt", headers={"if-modified-since": first.headers["last-modified"]})
    assert since.status_code == 304
    stale = client.get("/static/hello.txt", headers={"if-none-match": '"other"'})
    assert stale.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/static/missing.txt",
        "/static/../../etc/passwd",
        "/static/%2e%2e/etc/passwd",
        "/static/" + "n" * 300,
        "/static/a%00b",
    ],
)
def test_missing_or_outside_is_404(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "root:" not in response.text  # (a client may resolve "..": then the app itself 404s)


def test_other_methods_are_405(client: httpx.Client) -> None:
    response = client.post("/static/hello.txt")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


def test_html_mode_index_redirect_and_404_page(client: httpx.Client) -> None:
    assert client.get("/site/").text == "<h1>home</h1>"
    redirect = client.get("/site/docs", follow_redirects=False)
    assert redirect.status_code == 307
    assert redirect.headers["location"].endswith("/site/docs/")
    assert client.get("/site/docs/").text == "<h1>docs</h1>"
    lost = client.get("/site/nowhere")
    assert lost.status_code == 404
    assert lost.text == "<h1>lost</h1>"


def test_missing_directory_is_refused_unless_check_dir_is_off(tmp_path) -> None:
    with pytest.raises(RuntimeError, match="does not exist"):
        StaticFiles(directory=tmp_path / "absent")
    StaticFiles(directory=tmp_path / "absent", check_dir=False)


def _served(files: StaticFiles, path: str) -> httpx.Response:
    from covet import Covet
    from covet.testclient import TestClient

    app = Covet()
    app.mount("/s", files)
    return TestClient(app).get(path)


def test_packages_serve_their_statics_folder(tmp_path, monkeypatch) -> None:
    package = tmp_path / "covet_test_assets_pkg"
    (package / "statics").mkdir(parents=True)
    (package / "public").mkdir()
    (package / "__init__.py").write_text("")
    (package / "statics" / "a.txt").write_text("from statics")
    (package / "public" / "b.txt").write_text("from public")
    monkeypatch.syspath_prepend(str(tmp_path))
    files = StaticFiles(packages=["covet_test_assets_pkg", ("covet_test_assets_pkg", "public")])
    assert _served(files, "/s/a.txt").text == "from statics"
    assert _served(files, "/s/b.txt").text == "from public"
    with pytest.raises(RuntimeError, match="could not be found"):
        StaticFiles(packages=["covet_no_such_package_here"])


def test_symlinks_out_of_the_directory_need_follow_symlink(tmp_path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    root = tmp_path / "root"
    root.mkdir()
    (root / "link.txt").symlink_to(outside)
    assert _served(StaticFiles(directory=root), "/s/link.txt").status_code == 404
    followed = _served(StaticFiles(directory=root, follow_symlink=True), "/s/link.txt")
    assert (followed.status_code, followed.text) == (200, "secret")


def test_cache_control_first_matching_pattern_wins(tmp_path) -> None:
    """Patterns are tried in order; `*` crosses directories; the path matched is the file's
    own (an index page by its index.html), and 304s repeat the header."""
    (tmp_path / "assets" / "img").mkdir(parents=True)
    (tmp_path / "assets" / "img" / "logo.png").write_bytes(b"png")
    (tmp_path / "assets" / "app.css").write_bytes(b"css")
    (tmp_path / "index.html").write_bytes(b"home")
    (tmp_path / "robots.txt").write_bytes(b"ok")
    rules = {"assets/img/*": "public, max-age=31536000, immutable", "*.css": "max-age=60", "*.html": "no-cache"}
    files = StaticFiles(directory=tmp_path, html=True, cache_control=rules)
    from covet import Covet
    from covet.testclient import TestClient

    app = Covet()
    app.mount("/s", files)
    with TestClient(app) as c:
        assert c.get("/s/assets/img/logo.png").headers["cache-control"] == rules["assets/img/*"]
        css = c.get("/s/assets/app.css")
        assert css.headers["cache-control"] == "max-age=60"
        again = c.get("/s/assets/app.css", headers={"if-none-match": css.headers["etag"]})
        assert (again.status_code, again.headers["cache-control"]) == (304, "max-age=60")
        assert c.get("/s/").headers["cache-control"] == "no-cache"
        assert "cache-control" not in c.get("/s/robots.txt").headers
