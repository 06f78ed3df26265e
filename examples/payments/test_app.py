"""The payments example on SQLite and on PostgreSQL (a database of its own for each): a retry
with the same key pays once, another body with that key is refused, a key is required."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from covet.db.testing import temporary_database
from covet.testclient import TestClient
from examples.payments.app import app, db

PG_SERVER = os.environ.get("COVET_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["sqlite", "postgresql"])
def client(request: pytest.FixtureRequest) -> Iterator[TestClient]:
    with temporary_database("sqlite://" if request.param == "sqlite" else PG_SERVER) as url:
        db.url = url
        with TestClient(app) as client:
            yield client


def test_a_retried_payment_is_charged_once(client: TestClient) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"account": "acme", "amount_cents": 1250}
    first = client.post("/payments", json=body, headers=key)
    assert first.status_code == 201, first.text
    retried = client.post("/payments", json=body, headers=key)
    assert retried.status_code == 201
    assert retried.json() == first.json()
    assert retried.headers["idempotent-replayed"] == "true"
    assert [p["id"] for p in client.get("/payments?account=acme").json()] == [first.json()["id"]]


def test_a_key_is_required_and_bound_to_its_request(client: TestClient) -> None:
    missing = client.post("/payments", json={"account": "acme", "amount_cents": 1})
    assert missing.status_code == 400
    assert missing.json()["detail"][0]["loc"] == ["header", "idempotency-key"]
    key = {"Idempotency-Key": str(uuid.uuid4())}
    assert client.post("/payments", json={"account": "acme", "amount_cents": 1}, headers=key).status_code == 201
    other = client.post("/payments", json={"account": "acme", "amount_cents": 2}, headers=key)
    assert other.status_code == 422
    assert other.json()["detail"][0]["type"] == "idempotency_key_reused"
    assert len(client.get("/payments?account=acme").json()) == 1
