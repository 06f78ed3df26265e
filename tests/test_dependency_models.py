"""`covet.dependencies.models.Dependant`, the analysed form of a handler or dependency: slotted,
with FastAPI's scope fields (`own_oauth_scopes`, `parent_oauth_scopes`,
`security_scopes_param_name`) and what derives from them computed from its current state; call
kinds answered once per call object (issue 16)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

import pytest

from covet import Covet, Depends, Security
from covet.dependencies.callables import is_async_gen_callable, is_coroutine_callable, is_gen_callable
from covet.dependencies.models import Dependant, scopes_matter, security_scheme
from covet.security import APIKeyHeader, SecurityScopes
from covet.testclient import TestClient


def plain() -> None:
    pass  # pragma: no cover


def cleanup() -> Iterator[None]:
    yield  # pragma: no cover


async def cleanup_async() -> AsyncIterator[None]:
    yield  # pragma: no cover


def test_a_dependant_is_slotted() -> None:
    d = Dependant(call=plain)
    assert not hasattr(d, "__dict__")
    with pytest.raises(AttributeError):
        d.misspelt_field = 1  # type: ignore[attr-defined]


def test_scopes_parents_first_each_once() -> None:
    d = Dependant(call=plain, own_oauth_scopes=["own", "parent", "own"], parent_oauth_scopes=["parent"])
    assert d.security_scopes == ["parent", "own"]
    assert Dependant().security_scopes == []


def test_derived_values_follow_the_state() -> None:
    child = Dependant(call=plain)
    d = Dependant(call=plain, dependencies=[child], parent_oauth_scopes=["parent"])
    # Scopes from above alone do not change what a plain dependency returns.
    assert not scopes_matter(d)
    child.security_scopes_param_name = "scopes"
    assert scopes_matter(d)  # something below reads them
    d.own_oauth_scopes = ["own"]
    d.uses_scopes = scopes_matter(d)
    assert d.cache_key == (plain, ("own", "parent"), "")


def test_security_schemes_are_seen_through_decorators() -> None:
    scheme = APIKeyHeader(name="key")

    @functools.wraps(scheme)
    def wrapped(*args: object) -> object:
        return scheme(*args)  # pragma: no cover

    assert security_scheme(Dependant(call=scheme)) is scheme
    assert security_scheme(Dependant(call=functools.partial(wrapped))) is scheme
    assert security_scheme(Dependant(call=plain)) is None
    assert scopes_matter(Dependant(dependencies=[Dependant(call=scheme)]))


def test_exit_scope() -> None:
    assert Dependant(call=cleanup).exit_scope == "request"
    assert Dependant(call=cleanup_async).exit_scope == "request"
    assert Dependant(call=cleanup, scope="function").exit_scope == "function"
    assert Dependant(call=plain).exit_scope is None
    assert Dependant(call=cleanup, is_endpoint=True).exit_scope is None  # a streaming handler


class Equal:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Equal)

    def __hash__(self) -> int:
        return 1


class AsyncEqual(Equal):
    async def __call__(self) -> None:
        pass  # pragma: no cover


class SyncEqual(Equal):
    def __call__(self) -> None:
        pass  # pragma: no cover


class Unhashable:
    __hash__ = None  # type: ignore[assignment]

    def __call__(self) -> Iterator[None]:
        yield  # pragma: no cover


def test_call_kinds_are_remembered_per_object() -> None:
    # Equal objects of different kinds are told apart; unhashable ones are classified too.
    assert is_coroutine_callable(AsyncEqual()) and not is_coroutine_callable(SyncEqual())
    assert is_gen_callable(Unhashable()) and not is_async_gen_callable(Unhashable())
    assert is_gen_callable(functools.partial(cleanup))
    assert is_async_gen_callable(cleanup_async) and not is_gen_callable(cleanup_async)
    cache = is_gen_callable.by_identity
    cache.cache_clear()
    calls = [lambda: None for _ in range(100)]
    for _ in range(2):
        assert not any(is_gen_callable(c) for c in calls)
    info = cache.cache_info()
    assert (info.misses, info.hits, info.maxsize) == (100, 100, 4096)


def shared() -> int:
    return 1


def test_a_dependency_shared_by_routes_is_inspected_once() -> None:
    app = Covet()
    is_gen_callable.by_identity.cache_clear()

    @app.get("/a")
    def a(v: Annotated[int, Depends(shared)]) -> int:
        return v

    first = is_gen_callable.by_identity.cache_info().misses

    @app.get("/b")
    def b(v: Annotated[int, Depends(shared)]) -> int:
        return v + 1

    # Only the new handler is inspected; `shared` is answered from the cache.
    assert is_gen_callable.by_identity.cache_info().misses == first + 1
    with TestClient(app) as client:
        assert client.get("/a").json() == 1
        assert client.get("/b").json() == 2


def reads(scopes: SecurityScopes) -> list[str]:
    return scopes.scopes


def middle(inner: Annotated[list[str], Security(reads, scopes=["write", "read"])]) -> list[str]:
    return inner


def test_scopes_reach_a_dependency_parents_first() -> None:
    app = Covet()

    @app.get("/scopes")
    def handler(seen: Annotated[list[str], Security(middle, scopes=["read"])]) -> list[str]:
        return seen

    with TestClient(app) as client:
        assert client.get("/scopes").json() == ["read", "write"]
