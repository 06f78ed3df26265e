"""The rate-limited example through covet's real engine (TestClient). Each test uses its own
client address, so the limits one test uses up do not leak into another."""

from __future__ import annotations

from covet.testclient import TestClient
from examples.ratelimit_api.app import app


def client_at(address: str) -> TestClient:
    return TestClient(app, client=(address, 40000))


def test_login_allows_five_attempts_a_minute() -> None:
    with client_at("192.0.2.1") as client:
        codes = [client.post("/login?username=ann").status_code for _ in range(6)]
        refused = client.post("/login?username=ann")
    assert codes == [200] * 5 + [429]
    assert refused.json() == {"detail": "Rate limit exceeded: 5 per minute"}
    assert int(refused.headers["retry-after"]) >= 1


def test_search_reports_its_limit_in_headers() -> None:
    with client_at("192.0.2.2") as client:
        response = client.get("/search?q=tea")
    assert response.json() == {"q": "tea", "results": []}
    assert response.headers["ratelimit-limit"] == "30"
    assert response.headers["ratelimit-remaining"] == "29"
    assert response.headers["ratelimit-policy"] == "30;w=60"


def test_api_keys_have_separate_quotas() -> None:
    """The quota follows the key, from whatever address it is used (the headers report the
    tighter of the key's quota and the address's global limit)."""
    with client_at("192.0.2.3") as a, client_at("192.0.2.13") as b, client_at("192.0.2.23") as c:
        first = a.get("/data", headers={"x-api-key": "alpha"})
        second = b.get("/data", headers={"x-api-key": "alpha"})
        other = c.get("/data", headers={"x-api-key": "beta"})
    assert first.status_code == second.status_code == other.status_code == 200
    assert [r.headers["ratelimit-remaining"] for r in (first, second, other)] == ["99", "98", "99"]


def test_health_is_exempt_from_the_global_limit() -> None:
    with client_at("192.0.2.4") as client:
        health = client.get("/health")
        search = client.get("/search")
    assert health.status_code == 200 and "ratelimit-limit" not in health.headers
    assert search.status_code == 200 and search.headers["ratelimit-limit"] == "30"
