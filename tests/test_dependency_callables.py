"""Dependencies and endpoints behind `functools.partial` and `functools.wraps` decorators are
called as what they wrap (awaited, entered as generators); PEP 695 aliases declare
dependencies; OAuth2 scopes split the per-request cache only where they can change a value."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import pytest
from pydantic import BaseModel
from typing_extensions import TypeAliasType

from covet import Covet, Depends, Security
from covet.security import SecurityScopes
from covet.testclient import TestClient


def plain_wrap(func: Any) -> Any:
    """A sync wrapper: calling it returns whatever `func` returns (a coroutine, a generator)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


async def async_value(prefix: str) -> str:
    return f"{prefix}-async"


async def async_gen_value(prefix: str) -> AsyncIterator[str]:
    yield f"{prefix}-async-gen"


def gen_value(prefix: str) -> Iterator[str]:
    yield f"{prefix}-gen"


class Methods:
    async def value(self, prefix: str) -> str:
        return f"{prefix}-method"


app = Covet()


@app.get("/partials")
def partials(
    a: Annotated[str, Depends(functools.partial(async_value, "p"))],
    b: Annotated[str, Depends(functools.partial(async_gen_value, "p"))],
    c: Annotated[str, Depends(functools.partial(gen_value, "p"))],
    d: Annotated[str, Depends(functools.partial(Methods().value, "p"))],
) -> list[str]:
    return [a, b, c, d]


@app.get("/wrapped")
def wrapped(
    a: Annotated[str, Depends(functools.partial(plain_wrap(async_value), "w"))],
    b: Annotated[str, Depends(functools.partial(plain_wrap(async_gen_value), "w"))],
    c: Annotated[str, Depends(functools.partial(plain_wrap(gen_value), "w"))],
) -> list[str]:
    return [a, b, c]


@app.get("/wrapped-endpoint")
@plain_wrap
async def wrapped_endpoint() -> str:
    return "awaited"


Answer = TypeAliasType("Answer", Annotated[str, Depends(functools.partial(async_value, "alias"))], type_params=())


@app.get("/alias")
def alias(value: Answer) -> str:
    return value


calls = {"db": 0}


def get_db() -> str:
    calls["db"] += 1
    return "db"


def get_user(db: Annotated[str, Depends(get_db)]) -> str:
    return "user"


def get_scoped(scopes: SecurityScopes, db: Annotated[str, Depends(get_db)]) -> list[str]:
    return scopes.scopes


@app.get("/scopes")
def scoped(
    db: Annotated[str, Depends(get_db)],
    user: Annotated[str, Security(get_user, scopes=["read"])],
    a: Annotated[list[str], Security(get_scoped, scopes=["a"])],
    b: Annotated[list[str], Security(get_scoped, scopes=["b"])],
) -> dict[str, Any]:
    return {"a": a, "b": b}


client = TestClient(app)


def test_partials_are_awaited_and_entered() -> None:
    assert client.get("/partials").json() == ["p-async", "p-async-gen", "p-gen", "p-method"]


def test_wrapped_callables_are_seen_through() -> None:
    assert client.get("/wrapped").json() == ["w-async", "w-async-gen", "w-gen"]
    assert client.get("/wrapped-endpoint").json() == "awaited"


def test_pep695_alias_declares_a_dependency() -> None:
    assert client.get("/alias").json() == "alias-async"


def test_scopes_split_the_cache_only_where_they_are_read() -> None:
    calls["db"] = 0
    response = client.get("/scopes")
    assert response.json() == {"a": ["a"], "b": ["b"]}
    assert calls["db"] == 1


def test_pydantic_v1_models_are_refused_when_declared() -> None:
    import warnings

    from covet.exceptions import PydanticV1NotSupportedError

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pydantic import v1

    class Old(v1.BaseModel):
        name: str

    other = Covet()
    with pytest.raises(PydanticV1NotSupportedError, match="Old, a pydantic.v1 model"):
        other.post("/param2")(_takes(list[Old] | None))
    with pytest.raises(PydanticV1NotSupportedError):
        other.get("/response", response_model=Old)(lambda: None)
    with pytest.raises(PydanticV1NotSupportedError):
        other.get("/responses", responses={400: {"model": Old}})(lambda: None)


def _takes(annotation: Any) -> Any:
    def endpoint(data: Any) -> Any:
        return data

    endpoint.__annotations__["data"] = annotation
    return endpoint


class Thing(BaseModel):
    data: str


def same_thing(thing: Thing) -> Thing:
    return thing


def other_thing(extra: Thing) -> Thing:
    return extra


@app.post("/same-body")
def same_body(thing: Thing, again: Annotated[Thing, Depends(same_thing)]) -> list[Thing]:
    return [thing, again]


@app.post("/shared-body")
def shared_body(thing: Thing, extra: Annotated[Thing, Depends(other_thing)]) -> list[Thing]:
    return [thing, extra]


def test_one_body_parameter_declared_twice_is_the_whole_body() -> None:
    assert client.post("/same-body", json={"data": "a"}).json() == [{"data": "a"}, {"data": "a"}]


def test_body_parameters_of_handler_and_dependency_are_embedded() -> None:
    response = client.post("/shared-body", json={"thing": {"data": "a"}, "extra": {"data": "b"}})
    assert response.json() == [{"data": "a"}, {"data": "b"}]
    missing = client.post("/shared-body", json={"thing": {"data": "a"}})
    assert missing.status_code == 422
    assert [e["loc"] for e in missing.json()["detail"]] == [["body", "extra"]]


class Session:
    def __init__(self) -> None:
        self.open = True


def session() -> Iterator[Session]:
    s = Session()
    yield s
    s.open = False


def test_equal_declarations_are_equal_and_hashable() -> None:
    assert Depends(session) == Depends(session)
    assert len({Depends(session), Depends(session), Depends(session, scope="function")}) == 2
    assert hash(Security(session, scopes=["a"])) == hash(Security(session, scopes=["a"]))
    assert Security(session, scopes=["a"]) != Security(session, scopes=["b"])
    with pytest.raises(ValueError, match="scope"):
        Depends(session, scope="session")
