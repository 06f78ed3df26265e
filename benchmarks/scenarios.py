"""The scenarios: the request shapes wrk repeats. A new scenario is one entry in SCENARIOS
(plus its endpoint in every app under benchmarks/apps/)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Scenario:
    """One request shape that wrk repeats; `body` (if any) is sent as JSON."""

    name: str
    method: str
    path: str
    body: object | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # The status every response must have; wrk's "non-2xx" count is then not an error.
    expect_status: int = 200
    # Needs PostgreSQL: skipped, with the reason, when it is not reachable.
    db: bool = False
    # How --check compares bodies with covet's: "exact" (after JSON normalisation) or
    # "shape" (random values: the same keys, lengths and value types).
    compare: str = "exact"

    def request_headers(self) -> dict[str, str]:
        """Headers to send, with the JSON content type added when there is a body."""
        headers = dict(self.headers)
        if self.body is not None:
            headers.setdefault("Content-Type", "application/json")
        return headers

    def body_bytes(self) -> bytes | None:
        """The body exactly as sent (compact JSON, like a typical API client)."""
        if self.body is None:
            return None
        return json.dumps(self.body, separators=(",", ":")).encode()


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("json", "GET", "/json"),
        Scenario("plaintext", "GET", "/plaintext"),
        Scenario("params", "GET", "/users/42?q=hello"),
        Scenario(
            "body",
            "POST",
            "/items/7",
            {"name": "Widget", "price": 9.5, "tags": ["tools", "sale"]},
        ),
        Scenario("large", "GET", "/large"),
        Scenario("404", "GET", "/does-not-exist", expect_status=404),
        # TechEmpower-style, against PostgreSQL (benchmarks/db_setup.py, apps/common.py).
        Scenario("db", "GET", "/db", db=True, compare="shape"),
        Scenario("queries", "GET", "/queries?n=20", db=True, compare="shape"),
        Scenario("fortunes", "GET", "/fortunes", db=True),
        Scenario("updates", "GET", "/updates?n=20", db=True, compare="shape"),
        # Static files (StaticFiles, nginx's `alias`): files made for the run (static.py).
        Scenario("static-1k", "GET", "/static/1k.txt"),
        Scenario("static-1m", "GET", "/static/1m.bin"),
    )
}
DEFAULT_SCENARIOS = tuple(SCENARIOS)
DB_SCENARIOS = frozenset(s.name for s in SCENARIOS.values() if s.db)
STATIC_SCENARIOS = frozenset(s.name for s in SCENARIOS.values() if s.path.startswith("/static/"))
