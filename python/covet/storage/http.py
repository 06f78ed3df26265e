"""What the S3 and GCS clients share: one lazily opened httpx client per storage, and the rule
that a service which cannot be reached, or refuses, is a StorageError (502)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from covet.storage.base import Storage, StorageError

__all__ = ["HttpStorage", "body_of", "check", "send"]


class HttpStorage(Storage):
    """A storage spoken to over HTTP; `timeout` bounds every call."""

    timeout: float
    _client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        """Opened on first use, so a storage built at import serves whichever loop runs the app."""
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout)
        return self._client

    async def aclose(self) -> None:
        """Closes the connections (call it at shutdown, e.g. in the lifespan); reopened on use."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


async def send(client: httpx.AsyncClient, request: httpx.Request, stream: bool = False) -> httpx.Response:
    """`client.send`, a service that cannot be reached (refused, timed out, reset) being a
    StorageError (502) like one that refuses."""
    try:
        return await client.send(request, stream=stream)
    except httpx.HTTPError as exc:
        raise StorageError(f"{request.method} {request.url.path}: {type(exc).__name__} {exc}") from None


def check(answer: httpx.Response) -> None:
    """A refusal (3xx and above) as a StorageError."""
    if answer.status_code >= 300:
        raise StorageError(
            f"{answer.request.method} {answer.request.url.path}: {answer.status_code} {answer.text[:300]}"
        )


async def body_of(answer: httpx.Response) -> AsyncIterator[bytes]:
    """A streamed answer's body, piece by piece, closed at the end or when the reader stops; a
    refusal raises StorageError before the first piece."""
    try:
        if answer.status_code >= 300:
            await answer.aread()
            check(answer)
        async for piece in answer.aiter_bytes():
            yield piece
    finally:
        await answer.aclose()
