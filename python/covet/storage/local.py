"""`LocalStorage`: objects as files under a directory (development, tests, one-machine apps)."""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

from covet.concurrency import run_in_threadpool
from covet.storage.base import CHUNK, ObjectInfo, Source, Storage, check_key, chunks_of, guess_type

__all__ = ["LocalStorage"]


class LocalStorage(Storage):
    """`url()` signs `base_url/key?expires=..&signature=..` with `secret` (HMAC-SHA256);
    `check_url(key, expires, signature)` verifies such a URL in the endpoint that serves it."""

    def __init__(self, directory: str | os.PathLike[str], *, base_url: str = "/media", secret: str = "") -> None:
        self.root = Path(directory).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.base_url = base_url.rstrip("/")
        self.secret = secret.encode()

    def _path(self, key: str) -> Path:
        path = (self.root / key.lstrip("/")).resolve()
        if self.root not in path.parents:
            raise ValueError(f"key {key!r} leaves the storage directory")
        return path

    async def put(self, key: str, source: Source, content_type: str | None = None) -> ObjectInfo:
        check_key(key)
        path = self._path(key)
        await run_in_threadpool(path.parent.mkdir, parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        out = await run_in_threadpool(open, partial, "wb")
        try:
            async for piece in chunks_of(source):
                await run_in_threadpool(out.write, piece)
        finally:
            await run_in_threadpool(out.close)
        await run_in_threadpool(os.replace, partial, path)  # readers never see half a file
        info = await self.stat(key)
        assert info is not None
        return info

    async def stat(self, key: str) -> ObjectInfo | None:
        check_key(key)
        try:
            path = self._path(key)
            st = await run_in_threadpool(path.stat)
        except (OSError, ValueError):
            return None
        if not path.is_file():
            return None
        return self._info(key.lstrip("/"), st)

    @staticmethod
    def _info(key: str, st: os.stat_result) -> ObjectInfo:
        tag = hashlib.md5(f"{st.st_mtime_ns}-{st.st_size}".encode(), usedforsecurity=False).hexdigest()
        modified = datetime.fromtimestamp(int(st.st_mtime), tz=UTC)
        return ObjectInfo(key, st.st_size, f'"{tag}"', modified, guess_type(key, None))

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        check_key(key)
        f = await run_in_threadpool(open, self._path(key), "rb")
        try:
            await run_in_threadpool(f.seek, start)
            left = end - start + 1
            while left > 0 and (piece := await run_in_threadpool(f.read, min(CHUNK, left))):
                left -= len(piece)
                yield piece
        finally:
            await run_in_threadpool(f.close)

    async def delete(self, key: str) -> bool:
        check_key(key)
        try:
            await run_in_threadpool(self._path(key).unlink)
        except (FileNotFoundError, ValueError):
            return False
        return True

    async def list(self, prefix: str = "") -> list[ObjectInfo]:
        def walk() -> list[ObjectInfo]:
            found = []
            for path in self.root.rglob("*"):
                key = path.relative_to(self.root).as_posix()
                if path.is_file() and key.startswith(prefix) and not key.endswith(".partial"):
                    found.append(self._info(key, path.stat()))
            return sorted(found, key=lambda i: i.key)

        return await run_in_threadpool(walk)

    def url(self, key: str, expires: int = 3600, method: str = "GET") -> str:
        check_key(key)
        until = int(time.time()) + expires
        query = urlencode({"expires": until, "signature": self.signature(method, key.lstrip("/"), until)})
        return f"{self.base_url}/{quote(key.lstrip('/'))}?{query}"

    def signature(self, method: str, key: str, until: int) -> str:
        return hmac.new(self.secret, f"{method}\n{key}\n{until}".encode(), hashlib.sha256).hexdigest()

    def check_url(self, key: str, expires: str, signature: str, method: str = "GET") -> bool:
        """Whether a URL from `url()` is genuine and not expired."""
        try:
            until = int(expires)
        except ValueError:
            return False
        good = hmac.compare_digest(self.signature(method, key.lstrip("/"), until), signature)
        return good and until >= time.time()
