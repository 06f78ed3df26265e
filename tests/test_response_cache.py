"""Response caching (`cache=CachePolicy(...)`), served three ways: on covet's own server and the
TestClient (which drives the engine) a fresh entry in the memory level is written by the
engine, with no Python called (the handler's counter and the Python middleware's stay); under
uvicorn the Python path answers the same responses. Over the shared Redis; each server
process uses a namespace of its own."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.conftest import Server, start_server, wait_for

REDIS = "redis://127.0.0.1:6379/0"
APP = "tests.apps.response_cache_app:app"


@pytest.fixture(scope="module", params=["testclient", "covet", "uvicorn"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def client(kind: str) -> Iterator[httpx.Client]:
    if kind == "testclient":
        from covet.testclient import TestClient
        from tests.apps.response_cache_app import app

        with TestClient(app) as tc:
            yield tc
        return
    server = start_server(APP, *(["--no-access-log"] if kind == "covet" else []), kind=kind)
    try:
        with server.client() as c:
            yield c
    finally:
        server.stop()


def counts(client: httpx.Client) -> dict:
    return client.get("/counts").json()


def test_a_hit_is_written_by_the_engine_without_python(client: httpx.Client, kind: str) -> None:
    first = client.get("/item/1?q=a")
    assert first.status_code == 200
    assert first.json() == {"item": 1, "q": "a", "run": 1}
    assert first.headers["cache-control"] == "max-age=60"
    assert first.headers["etag"].startswith('"')
    before = counts(client)
    for _ in range(3):
        hit = client.get("/item/1?q=a")
        assert hit.content == first.content
        assert hit.headers["etag"] == first.headers["etag"]
        assert hit.headers["content-type"] == "application/json"
        assert int(hit.headers["age"]) >= 0
    after = counts(client)
    assert after["runs"]["item"] == before["runs"]["item"] == 1
    # /counts itself passes the middleware once: on the engine's hits, nothing else did.
    expected = 1 if kind != "uvicorn" else 4
    assert after["middleware"] - before["middleware"] == expected
    # Another query is another entry.
    assert client.get("/item/1?q=b").json()["run"] == 2


def test_if_none_match_is_answered_304(client: httpx.Client, kind: str) -> None:
    tag = client.get("/item/2").headers["etag"]
    before = counts(client)
    answer = client.get("/item/2", headers={"if-none-match": f'"nope", {tag}'})
    assert answer.status_code == 304
    assert answer.content == b""
    assert answer.headers["etag"] == tag
    assert answer.headers["cache-control"] == "max-age=60"
    assert "content-type" not in answer.headers
    assert client.get("/item/2", headers={"if-none-match": '"other"'}).status_code == 200
    after = counts(client)
    assert after["runs"]["item"] == before["runs"]["item"]
    assert after["middleware"] - before["middleware"] == (1 if kind != "uvicorn" else 3)


def test_head_is_answered_from_the_get_entry(client: httpx.Client) -> None:
    body = client.get("/item/3").content
    runs = counts(client)["runs"]["item"]
    head = client.head("/item/3")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(body))
    assert counts(client)["runs"]["item"] == runs


def test_vary_headers_pick_their_own_entries(client: httpx.Client) -> None:
    fr = client.get("/greeting", headers={"accept-language": "fr"})
    en = client.get("/greeting", headers={"accept-language": "en"})
    assert fr.json()["hello"] == "bonjour"
    assert en.json()["hello"] == "hello"
    assert fr.headers["vary"] == "accept-language"
    assert client.get("/greeting", headers={"accept-language": "fr"}).json() == fr.json()
    assert client.get("/greeting", headers={"accept-language": "en"}).json() == en.json()
    assert counts(client)["runs"]["greeting"] == 2


def test_request_cache_control_skips_the_entry(client: httpx.Client) -> None:
    first = client.get("/item/4").json()["run"]
    refreshed = client.get("/item/4", headers={"cache-control": "no-cache"}).json()["run"]
    assert refreshed > first
    assert client.get("/item/4").json()["run"] == refreshed  # no-cache refreshed the entry
    unstored = client.get("/item/4", headers={"cache-control": "no-store"}).json()["run"]
    assert unstored > refreshed
    assert client.get("/item/4").json()["run"] == refreshed  # no-store left it as it was


def test_cookies_and_errors_are_not_stored(client: httpx.Client) -> None:
    one, two = client.get("/cookie"), client.get("/cookie")
    assert one.text != two.text
    assert "etag" not in two.headers
    assert client.get("/maybe/0").status_code == 404
    assert client.get("/maybe/0").status_code == 404
    assert counts(client)["runs"]["maybe"] == 2


def test_entries_expire_after_their_ttl(client: httpx.Client) -> None:
    first = client.get("/brief").json()["run"]
    assert client.get("/brief").json()["run"] == first
    wait_for(lambda: client.get("/brief").json()["run"] > first, "the 1 s entry to expire", timeout=5)


def test_invalidation_by_tag_and_prefix_drops_the_engine_entry(client: httpx.Client) -> None:
    first = client.get("/item/7").json()["run"]
    assert client.get("/item/7").json()["run"] == first
    assert client.post("/invalidate", params={"tag": "item:7"}).status_code == 200
    second = client.get("/item/7").json()["run"]
    assert second > first
    assert client.get("/item/7").json()["run"] == second
    assert client.post("/invalidate", params={"prefix": "GET|/item/"}).status_code == 200
    assert client.get("/item/7").json()["run"] > second


@pytest.fixture
def two(serve: Callable[..., Server], monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Server, Server]]:
    monkeypatch.setenv("COVET_TEST_CACHE_NS", f"test-respcache-{uuid.uuid4().hex[:10]}")
    monkeypatch.setenv("COVET_TEST_REDIS", REDIS)
    yield serve(APP, "--no-access-log"), serve(APP, "--no-access-log")


def test_invalidation_by_tag_from_another_process_reaches_the_engine_entry(two: tuple[Server, Server]) -> None:
    a, b = two
    with a.client() as ca, b.client() as cb:
        first = cb.get("/item/9").json()
        before = counts(cb)
        assert cb.get("/item/9").json() == first  # the engine's hit in b
        assert counts(cb)["middleware"] - before["middleware"] == 1
        assert ca.post("/invalidate", params={"tag": "item:9"}).status_code == 200
        wait_for(lambda: cb.get("/item/9").json()["run"] > first["run"], "b's engine entry to be dropped")
        assert counts(cb)["runs"]["item"] == 2


def test_a_route_with_a_security_dependency_refuses_a_cache_policy() -> None:
    from covet import Covet, Depends
    from covet.cache import Cache, CachePolicy, MemoryLevel
    from covet.security import HTTPBearer

    app = Covet()
    policy = CachePolicy(Cache(MemoryLevel(10)), ttl=5)
    with pytest.raises(ValueError, match="security dependency"):

        @app.get("/mine", cache=policy)
        async def mine(token: object = Depends(HTTPBearer())) -> dict[str, str]:
            return {}


def test_a_cached_route_keeps_its_policy_in_an_included_router() -> None:
    from covet import APIRouter, Covet
    from covet.cache import Cache, CachePolicy, MemoryLevel
    from covet.testclient import TestClient

    runs = []
    router = APIRouter()

    @router.get("/report", cache=CachePolicy(Cache(MemoryLevel(10), namespace=uuid.uuid4().hex), ttl=30))
    async def report() -> dict[str, int]:
        runs.append(1)
        return {"run": len(runs)}

    app = Covet()
    app.include_router(router, prefix="/v1")
    with TestClient(app) as tc:
        first = tc.get("/v1/report")
        assert tc.get("/v1/report").content == first.content == b'{"run":1}'
        assert tc.get("/v1/report", headers={"if-none-match": first.headers["etag"]}).status_code == 304
    assert len(runs) == 1
