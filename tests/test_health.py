"""`/healthz` and `/readyz` against a real PostgreSQL and a Redis of the test's own, which is
then frozen (readiness fails within its bound) and thawed (it passes again)."""

from __future__ import annotations

import time

from covet import Covet
from covet.db import Database
from covet.health import health_checks
from covet.redis import RedisClient
from covet.testclient import TestClient
from tests.backends import OwnRedis
from tests.conftest import PG_SERVER_URL


def make_app(redis_url: str, database_url: str) -> Covet:
    app = Covet()
    db = Database(database_url)
    db.init_app(app)
    redis = RedisClient(redis_url, name="health", timeout=30.0)

    def never_ready() -> bool:
        return False

    async def raises() -> bool:
        raise ConnectionError("the queue is gone")

    extra = {"optional": never_ready, "queue": raises}
    health_checks(app, {"database": db, "redis": redis}, timeout=3.0)
    health_checks(app, extra, liveness_path="/healthz-extra", readiness_path="/readyz-extra")
    return app


def test_readiness_follows_the_backends_and_liveness_does_not(own_redis: OwnRedis) -> None:
    app = make_app(own_redis.url, PG_SERVER_URL.replace("postgresql://", "postgresql+asyncpg://"))
    with TestClient(app) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "ok"
        assert set(ready.json()["checks"]) == {"database", "redis"}
        assert "/readyz" not in client.get("/openapi.json").text

        own_redis.freeze()  # accepts connections, never answers: only the bound ends the check
        try:
            start = time.monotonic()
            frozen = client.get("/readyz")
            took = time.monotonic() - start
        finally:
            own_redis.thaw()
        assert frozen.status_code == 503
        body = frozen.json()
        assert body["status"] == "unavailable"
        assert body["checks"]["database"]["status"] == "ok"
        assert body["checks"]["redis"] == {
            "status": "failing",
            "duration_ms": body["checks"]["redis"]["duration_ms"],
            "error": "no answer within 3 s",
        }
        assert took < 20.0  # bounded by the check's timeout, not Redis's own 30 s
        assert client.get("/healthz").status_code == 200

        own_redis.kill()
        down = client.get("/readyz")
        assert down.status_code == 503
        assert down.json()["checks"]["redis"]["status"] == "failing"


def test_failing_and_raising_checks_are_503_with_their_reason_never_500(own_redis: OwnRedis) -> None:
    app = make_app(own_redis.url, "sqlite+aiosqlite:///:memory:")
    with TestClient(app) as client:
        answer = client.get("/readyz-extra")
        assert answer.status_code == 503
        checks = answer.json()["checks"]
        assert checks["optional"]["error"] == "check failed"
        assert checks["queue"]["error"] == "ConnectionError: the queue is gone"
        assert client.head("/healthz-extra").status_code == 200


def test_readiness_answers_503_from_sigterm_on_while_the_server_still_serves(serve) -> None:
    import signal

    import httpx

    from tests.conftest import wait_for

    server = serve("examples.observability.app:app", "--shutdown-delay", "30")
    with server.client() as client:
        assert client.get("/readyz").status_code == 200
        server.proc.send_signal(signal.SIGTERM)
        wait_for(lambda: client.get("/readyz").status_code == 503, "/readyz to fail after SIGTERM")
        assert client.get("/readyz").json() == {"status": "draining", "checks": {}}
        assert client.get("/healthz").status_code == 200  # alive: no restart wanted
        assert client.get("/products/1").status_code == 200  # still serving this connection
        assert httpx.get(f"{server.url}/products/2").status_code == 200  # and new ones
    code, output = server.stop(signal.SIGTERM)  # a second signal ends the delay: drain, exit
    assert code == 0
    assert "/readyz answers 503; draining in 30 s" in output
