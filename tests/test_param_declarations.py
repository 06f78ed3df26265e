"""How parameter declarations read: pydantic's special scalar types are query parameters (as in
FastAPI, not a JSON body), and `Query()` & co. repr as FastAPI shows them."""

from __future__ import annotations

from pydantic import AnyUrl, EmailStr, HttpUrl, IPvAnyAddress, NameEmail, SecretStr

from covet import Body, Cookie, Covet, Header, Path, Query
from covet.params import Param
from covet.testclient import TestClient

app = Covet()


@app.get("/contact")
def contact(
    email: EmailStr,
    site: HttpUrl,
    ip: IPvAnyAddress,
    secret: SecretStr,
    name: NameEmail | None = None,
    extra: AnyUrl | None = None,
) -> dict[str, str | None]:
    return {
        "email": email,
        "site": str(site),
        "ip": str(ip),
        "secret": secret.get_secret_value(),
        "name": name.name if name else None,
        "extra": str(extra) if extra else None,
    }


def test_special_scalars_are_read_from_the_query() -> None:
    with TestClient(app) as client:
        params = {"email": "a@b.co", "site": "http://x.org", "ip": "::1", "secret": "s", "name": "Ann <a@b.co>"}
        r = client.get("/contact", params=params)
        assert r.status_code == 200, r.text
        assert r.json() == {
            "email": "a@b.co",
            "site": "http://x.org/",
            "ip": "::1",
            "secret": "s",
            "name": "Ann",
            "extra": None,
        }
        r = client.get("/contact", params={**params, "email": "nope"})
        assert r.status_code == 422
        assert [e["loc"] for e in r.json()["detail"]] == [["query", "email"]]
        doc = client.get("/openapi.json").json()["paths"]["/contact"]["get"]
    assert [(p["name"], p["in"]) for p in doc["parameters"]] == [
        ("email", "query"),
        ("site", "query"),
        ("ip", "query"),
        ("secret", "query"),
        ("name", "query"),
        ("extra", "query"),
    ]
    assert "requestBody" not in doc


def test_declarations_repr_as_fastapi() -> None:
    assert repr(Query("x")) == "Query(x)"
    assert repr(Query(None)) == "Query(None)"
    assert repr(Header(...)) == "Header(PydanticUndefined)"
    assert repr(Cookie(1)) == "Cookie(1)"
    assert repr(Path()) == "Path(PydanticUndefined)"
    assert repr(Body([])) == "Body([])"
    assert repr(Param("x")) == "Param(x)"
