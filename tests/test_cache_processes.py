"""covet.cache across two `covet run` processes on the shared Redis: a cold key asked 1,000
times at once is computed exactly once in all, and an invalidation by tag in one process
empties the other's memory level (over Redis pub/sub)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import redis

from tests.conftest import Server, wait_for

REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def two(serve: Callable[..., Server], monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Server, Server, str]]:
    ns = f"test-cache-procs-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("COVET_TEST_CACHE_NS", ns)
    monkeypatch.setenv("COVET_TEST_REDIS", REDIS)
    yield serve("tests.apps.cache_app:app"), serve("tests.apps.cache_app:app"), ns
    client = redis.Redis.from_url(REDIS)
    keys = list(client.scan_iter(match=f"{ns}:*")) + list(client.scan_iter(match=f"covet-cache-tag:{ns}:*"))
    if keys:
        client.unlink(*keys)
    client.close()


async def burst(urls: list[str], total: int) -> list[dict[str, Any]]:
    limits = httpx.Limits(max_connections=total, max_keepalive_connections=total)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        responses = await asyncio.gather(*(client.get(urls[i % len(urls)]) for i in range(total)))
    assert {r.status_code for r in responses} == {200}
    return [r.json() for r in responses]


def test_1000_concurrent_cold_requests_compute_once_across_two_processes(two: tuple[Server, Server, str]) -> None:
    a, b, ns = two
    results = asyncio.run(burst([f"{a.url}/value/cold", f"{b.url}/value/cold"], 1000))
    assert all(r == {"key": "cold", "version": "1"} for r in results)
    counted = redis.Redis.from_url(REDIS).get(f"{ns}:computed:cold")
    assert counted == b"1"
    here = [httpx.get(f"{s.url}/figures").json()["computed_here"] for s in (a, b)]
    assert sorted(here) == [0, 1]


def test_1000_concurrent_cold_requests_compute_once_per_process(two: tuple[Server, Server, str]) -> None:
    a, _, _ = two
    asyncio.run(burst([f"{a.url}/value/one"], 1000))
    assert httpx.get(f"{a.url}/figures").json()["computed_here"] == 1


def test_invalidation_by_tag_reaches_the_other_process(two: tuple[Server, Server, str]) -> None:
    a, b, ns = two
    assert httpx.get(f"{a.url}/value/k").json()["key"] == "k"
    assert httpx.get(f"{b.url}/value/k").json()["key"] == "k"  # from Redis, into b's memory
    before = httpx.get(f"{b.url}/figures").json()["memory"]
    assert before["entries"] == 1
    assert httpx.post(f"{a.url}/invalidate/tag:k").json() == {"ok": True}
    wait_for(lambda: httpx.get(f"{b.url}/figures").json()["memory"]["entries"] == 0, "b's memory level emptied")
    httpx.get(f"{b.url}/value/k")
    assert redis.Redis.from_url(REDIS).get(f"{ns}:computed:k") == b"2"
