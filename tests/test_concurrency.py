"""Which handlers run inline, in a Task, or in the thread pool; and that a blocking `def`
handler does not hold up other requests."""

from __future__ import annotations

import asyncio
import concurrent.futures

import httpx

from covet.concurrency import can_suspend
from covet.routing import APIRoute


async def no_await():
    return {"x": 1}


async def awaits():
    await asyncio.sleep(0)


async def async_for(items):
    async for _ in items:
        pass


async def async_with(lock):
    async with lock:
        pass


async def async_comprehension(items):
    return [i async for i in items]


async def inner_function_awaits():
    async def inner():
        await asyncio.sleep(0)

    return inner


def sync_handler():
    return {}


def test_can_suspend_reads_the_bytecode() -> None:
    assert not can_suspend(no_await)
    assert can_suspend(awaits)
    assert can_suspend(async_for)
    assert can_suspend(async_with)
    assert can_suspend(async_comprehension)
    # Only the handler's own code counts: defining an awaiting function does not suspend.
    assert not can_suspend(inner_function_awaits)


def test_routes_classify_their_handlers() -> None:
    assert APIRoute("/", no_await).inline
    assert APIRoute("/", no_await).noarg
    assert not APIRoute("/", awaits).inline
    sync = APIRoute("/", sync_handler)
    assert not sync.is_async and not sync.inline


def test_a_blocking_def_handler_does_not_stall_other_requests(serve) -> None:
    server = serve("tests.apps.basic:app")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        blocked = pool.submit(httpx.get, server.url + "/block?delay=3", timeout=20)
        # Wait until the blocking request is surely in its handler, then ask for another page:
        # it must be answered while the blocking one is still running.
        while True:
            try:
                r = httpx.get(server.url + "/", timeout=20)
                break
            except httpx.ConnectError:
                continue
        assert r.json() == {"hello": "world"}
        assert not blocked.done()
        assert blocked.result().json() == {"blocked": 3.0}
