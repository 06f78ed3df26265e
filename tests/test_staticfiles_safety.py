"""StaticFiles never lets a request out of its directory: each attack is sent as raw bytes
(clients would normalise it away) to covet's server, to uvicorn, and to the ASGI app that
TestClient drives, and must be refused without a hint of the secret beside the directory."""

from __future__ import annotations

import asyncio
import socket
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from tests.conftest import served_three_ways

client = served_three_ways("tests.apps.static_app:app")


def raw_get(client: Any, target: bytes) -> tuple[int, bytes]:
    """(status, body) for `GET target` sent exactly as given."""
    if not isinstance(client, httpx.Client) or not hasattr(client, "app"):
        url = client.base_url
        with socket.create_connection((url.host, url.port), timeout=10) as sock:
            sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        return int(head.split(b" ")[1]), body
    return asyncio.run(_asgi_get(client.app, target))


async def _asgi_get(app: Any, target: bytes) -> tuple[int, bytes]:
    """The request as an ASGI server hands it over (path percent-decoded, raw_path as sent)."""
    path = unquote(target.decode("latin-1"), errors="surrogateescape")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": target, "query_string": b"", "root_path": "",
        "headers": [(b"host", b"test")], "client": ("127.0.0.1", 1), "server": ("test", 80),
    }  # fmt: skip
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


ATTACKS = [
    b"/public/../secret.txt",
    b"/public/../../../../etc/passwd",
    b"/public/sub/../../secret.txt",
    b"/public/%2e%2e/secret.txt",
    b"/public/%2E%2E/secret.txt",
    b"/public/..%2fsecret.txt",
    b"/public/%2e%2e%2fsecret.txt",
    b"/public/sub%2f..%2f..%2fsecret.txt",
    b"/public/..\\secret.txt",
    b"/public/..%5csecret.txt",
    b"/public/%5c..%5csecret.txt",
    b"/public/app.css%00.txt",
    b"/public/out.txt",  # a symlink to ../secret.txt
    b"/public/up/secret.txt",  # a symlink to the directory above
    b"/public/up/up/secret.txt",
    b"/public/%2fetc%2fpasswd",  # absolute once decoded
    b"/public//etc/passwd",
    b"/public/.%2e/secret.txt",
    b"/public/%2e%2e%5csecret.txt",
    b"/public/%c0%ae%c0%ae/secret.txt",  # overlong UTF-8 dots
    b"/public/..%00/secret.txt",
    b"/public/%252e%252e/secret.txt",  # encoded twice: a name, not a parent
    b"/public/.env",
    b"/public/.git/config",
    b"/public/sub/%2e%2e/.env",
    b"/public/" + b"a" * 5000,
]


@pytest.mark.parametrize("target", ATTACKS, ids=lambda t: t.decode()[:40])
def test_attacks_are_refused(client: Any, target: bytes) -> None:
    status, body = raw_get(client, target)
    assert status in (400, 404), (status, body[:100])
    assert b"SECRET" not in body and b"root:" not in body and b"[core]" not in body


@pytest.mark.parametrize("target", [b"/public/", b"/public/sub/", b"/public", b"/public/sub"])
def test_no_directory_listings(client: Any, target: bytes) -> None:
    status, body = raw_get(client, target)
    assert status == 404
    assert b"app.css" not in body and b"page.txt" not in body


def test_inside_paths_still_work(client: Any) -> None:
    assert raw_get(client, b"/public/sub/../app.js") == (200, b"console.log(1)\n")
    assert raw_get(client, b"/public/in.txt") == (200, b"in a subdirectory")  # symlink inside
    assert raw_get(client, b"/public/%252e%252e") == (200, b"a file literally named %2e%2e")


def test_follow_symlink_and_dotfiles_are_opt_in(client: Any) -> None:
    assert raw_get(client, b"/follow/out.txt") == (200, b"TOP SECRET")
    assert raw_get(client, b"/follow/up/secret.txt") == (200, b"TOP SECRET")
    assert raw_get(client, b"/follow/.env") == (200, b"SECRET=1")
    status, body = raw_get(client, b"/follow/../secret.txt")
    assert status in (400, 404) and b"SECRET" not in body
