"""GZipMiddleware: Starlette's options (minimum_size, compresslevel), the same answers through
TestClient, covet's server and uvicorn."""

from __future__ import annotations

import gzip

import httpx

from tests.apps.gzip_app import BIG
from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.gzip_app:app")


def _raw(client: httpx.Client, path: str, accept: str = "gzip") -> tuple[httpx.Response, bytes]:
    """The response and its body as sent on the wire (not decoded by the client)."""
    with client.stream("GET", path, headers={"accept-encoding": accept}) as response:
        return response, b"".join(response.iter_raw())


def test_large_body_is_gzipped(client: httpx.Client) -> None:
    response, raw = _raw(client, "/big")
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["vary"] == "Origin, Accept-Encoding"
    assert int(response.headers["content-length"]) == len(raw) < len(BIG)
    assert gzip.decompress(raw).decode() == BIG


def test_client_without_gzip_gets_identity(client: httpx.Client) -> None:
    response, raw = _raw(client, "/big", accept="identity")
    assert "content-encoding" not in response.headers
    assert raw.decode() == BIG


def test_small_body_is_left_alone(client: httpx.Client) -> None:
    response, raw = _raw(client, "/small")
    assert "content-encoding" not in response.headers
    assert raw == b"tiny"


def test_already_encoded_body_is_left_alone(client: httpx.Client) -> None:
    response, raw = _raw(client, "/encoded")
    assert response.headers["content-encoding"] == "identity"
    assert raw.decode() == BIG


def test_stream_is_gzipped_as_a_stream(client: httpx.Client) -> None:
    response, raw = _raw(client, "/stream")
    assert response.headers["content-encoding"] == "gzip"
    assert "content-length" not in response.headers
    assert gzip.decompress(raw).decode() == "".join(f"part {i} " * 40 for i in range(20))


def test_file_is_gzipped_without_its_length(client: httpx.Client) -> None:
    response, raw = _raw(client, "/file")
    assert response.headers["content-encoding"] == "gzip"
    assert "content-length" not in response.headers
    assert gzip.decompress(raw).decode() == BIG
