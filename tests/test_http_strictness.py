"""Issue 14 through the real server: request-smuggling probes, two Hosts and absolute-form
targets, sent on a raw socket to `covet run`.

Each smuggling probe is a request whose framing a front-end could read differently from a lax
parser; covet must answer 400 (or 413) with a JSON body and close, so the request hidden behind
the probe is never served: exactly one response comes back."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from tests.conftest import Server, start_server

POST = b"POST /query HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
SMUGGLED = b"GET /query?smuggled=1 HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    srv = start_server("tests.apps.basic:app", "--max-body-size", "1000")
    yield srv
    srv.stop(timeout=10)


@pytest.fixture(scope="module")
def guarded() -> Iterator[Server]:
    srv = start_server("tests.apps.guarded:secure_app")
    yield srv
    srv.stop(timeout=10)


def exchange(server: Server, raw: bytes) -> list[tuple[int, bytes]]:
    """Sends `raw` at once and reads until the server closes: every (status, body) answered."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(raw)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    responses = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        responses.append((status, rest[:length]))
        data = rest[length:]
    return responses


PROBES = {
    # 0x2f is 47 to a front-end; a lax reading took "0" and served what follows.
    "hex prefix in chunk size": POST + b"0x2f\r\n" + SMUGGLED,
    "junk after chunk size": POST + b"0 junk\r\n\r\n" + SMUGGLED,
    "request line as a trailer": POST + b"0\r\n" + SMUGGLED,
    "trailer without colon": POST + b"0\r\nno colon here\r\n\r\n" + SMUGGLED,
    "bare LF in the head": b"GET /query HTTP/1.1\nHost: x\r\n\r\n" + SMUGGLED,
    "bare LF after a header": b"GET /query HTTP/1.1\r\nHost: x\nX: y\r\n\r\n" + SMUGGLED,
    "empty coding": b"POST /query HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: , chunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
    "Content-Length list": b"POST /query HTTP/1.1\r\nHost: x\r\nContent-Length: 0, 0\r\n\r\n" + SMUGGLED,
}


@pytest.mark.parametrize("probe", list(PROBES), ids=list(PROBES))
def test_smuggling_probe_is_refused_and_nothing_behind_it_is_served(server: Server, probe: str) -> None:
    responses = exchange(server, PROBES[probe])
    assert len(responses) == 1, responses
    status, body = responses[0]
    assert status == 400
    assert "detail" in json.loads(body)


def test_chunk_extensions_count_against_max_body_size(server: Server) -> None:
    # 100 one-byte chunks, each with a 500-byte extension: 100 bytes of data, 50 KB on the wire.
    chunk = b"1;" + b"e" * 500 + b"\r\nx\r\n"
    responses = exchange(server, POST + chunk * 100 + b"0\r\n\r\n" + SMUGGLED)
    assert [status for status, _ in responses] == [413]


def test_server_keeps_serving_after_a_probe(server: Server) -> None:
    exchange(server, PROBES["hex prefix in chunk size"])
    assert exchange(server, b"GET /query?ok=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")[0][0] == 200


def test_two_host_headers_are_400(server: Server) -> None:
    responses = exchange(server, b"GET /query HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n" + SMUGGLED)
    assert [status for status, _ in responses] == [400]
    assert json.loads(responses[0][1]) == {"detail": "More than one Host header"}


def test_absolute_form_target_wins_over_host(guarded: Server) -> None:
    raw = b"GET http://api.example.com/who?x=1 HTTP/1.1\r\nHost: evil.com\r\nConnection: close\r\n\r\n"
    [(status, body)] = exchange(guarded, raw)
    assert status == 200
    assert json.loads(body)["host"] == "api.example.com"


def test_absolute_form_path_and_query_reach_the_app(server: Server) -> None:
    raw = b"GET http://h.example/query?tag=a&tag=b HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n"
    [(status, body)] = exchange(server, raw)
    assert status == 200
    assert json.loads(body)["tags"] == ["a", "b"]


def test_trusted_host_checks_the_target_authority(guarded: Server) -> None:
    # The Host header is allowed, the target's authority is not: the authority is the host.
    raw = b"GET http://evil.com/who HTTP/1.1\r\nHost: api.example.com\r\nConnection: close\r\n\r\n"
    [(status, body)] = exchange(guarded, raw)
    assert status == 400
    assert json.loads(body) == {"detail": "Invalid host header"}
