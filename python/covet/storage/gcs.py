"""`GCSStorage`: Google Cloud Storage's JSON API over httpx.

Why not gcloud-aio-storage: it brings aiohttp and its own session on top of covet's httpx, and
its upload takes bytes or a file, not an async stream. The JSON API calls used here (media
upload, object metadata, `alt=media` download with Range, delete, list) are plain HTTP. Auth is
a bearer token (`token=` a string or an async callable returning one, e.g. from the metadata
server or google-auth); the emulator needs none. Signed URLs are V4 (GOOG4-RSA-SHA256) from a
service account's key with `cryptography`, already a covet dependency.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from covet.storage.base import ObjectInfo, Source, StorageError, check_key, chunks_of, guess_type, size_of
from covet.storage.http import HttpStorage, body_of, send
from covet.storage.http import check as _check

__all__ = ["GCSStorage"]

Token = str | Callable[[], Awaitable[str]] | None


class GCSStorage(HttpStorage):
    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str = "https://storage.googleapis.com",
        token: Token = None,
        service_account: dict[str, Any] | str | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.bucket = bucket
        self.endpoint = endpoint_url.rstrip("/")
        self.token = token
        if isinstance(service_account, str):
            with open(service_account) as f:
                service_account = json.load(f)
        self.service_account = service_account
        self.timeout = timeout

    async def _call(self, method: str, url: str, **options: Any) -> httpx.Response:
        return await send(self.client, self.client.build_request(method, url, **options))

    def _object(self, key: str) -> str:
        return f"{self.endpoint}/storage/v1/b/{self.bucket}/o/{quote(key, safe='')}"

    async def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        token = self.token if isinstance(self.token, str) or self.token is None else await self.token()
        if token:
            headers["authorization"] = f"Bearer {token}"
        return headers

    async def create_bucket(self, project: str = "covet") -> None:
        """Creates the bucket (set-up scripts and tests); an existing one is fine."""
        url = f"{self.endpoint}/storage/v1/b"
        answer = await self._call(
            "POST", url, params={"project": project}, json={"name": self.bucket}, headers=await self._headers()
        )
        if answer.status_code != 409:
            _check(answer)

    async def put(self, key: str, source: Source, content_type: str | None = None) -> ObjectInfo:
        check_key(key)
        size = await size_of(source)
        headers = {"content-type": guess_type(key, content_type)}
        if size is not None:
            headers["content-length"] = str(size)
        url = f"{self.endpoint}/upload/storage/v1/b/{self.bucket}/o"
        answer = await self._call(
            "POST",
            url,
            params={"uploadType": "media", "name": key},
            headers=await self._headers(headers),
            content=chunks_of(source),
        )
        _check(answer)
        return self._info(answer.json())

    @staticmethod
    def _info(meta: dict[str, Any]) -> ObjectInfo:
        modified = datetime.fromisoformat(meta["updated"].replace("Z", "+00:00")).astimezone(UTC)
        tag = meta.get("md5Hash") or meta.get("etag") or f"{meta.get('generation')}"
        return ObjectInfo(
            meta["name"],
            int(meta["size"]),
            f'"{tag}"',
            modified,
            meta.get("contentType") or guess_type(meta["name"], None),
        )

    async def stat(self, key: str) -> ObjectInfo | None:
        check_key(key)
        answer = await self._call("GET", self._object(key), headers=await self._headers())
        if answer.status_code == 404:
            return None
        _check(answer)
        return self._info(answer.json())

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        check_key(key)
        headers = await self._headers({"range": f"bytes={start}-{end}"})
        request = self.client.build_request("GET", self._object(key), params={"alt": "media"}, headers=headers)
        answer = await send(self.client, request, stream=True)
        async with aclosing(body_of(answer)) as pieces:  # a reader that stops closes the answer now
            async for piece in pieces:
                yield piece

    async def delete(self, key: str) -> bool:
        check_key(key)
        answer = await self._call("DELETE", self._object(key), headers=await self._headers())
        if answer.status_code == 404:
            return False
        _check(answer)
        return True

    async def list(self, prefix: str = "") -> list[ObjectInfo]:
        found: list[ObjectInfo] = []
        params = {"prefix": prefix}
        while True:
            url = f"{self.endpoint}/storage/v1/b/{self.bucket}/o"
            answer = await self._call("GET", url, params=params, headers=await self._headers())
            _check(answer)
            page = answer.json()
            found.extend(self._info(item) for item in page.get("items", []))
            if not page.get("nextPageToken"):
                return sorted(found, key=lambda i: i.key)
            params = {**params, "pageToken": page["nextPageToken"]}

    def url(self, key: str, expires: int = 3600, method: str = "GET") -> str:
        """A V4 signed URL (needs `service_account`, a key file's contents or path)."""
        check_key(key)
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding

        if not self.service_account:
            raise StorageError("GCSStorage.url() needs service_account= (a service account key)")
        now = datetime.now(UTC)
        scope = f"{now:%Y%m%d}/auto/storage/goog4_request"
        host = urlsplit(self.endpoint).netloc
        path = f"/{self.bucket}/{quote(key, safe='/~')}"
        params = {
            "X-Goog-Algorithm": "GOOG4-RSA-SHA256",
            "X-Goog-Credential": f"{self.service_account['client_email']}/{scope}",
            "X-Goog-Date": f"{now:%Y%m%dT%H%M%SZ}",
            "X-Goog-Expires": str(int(timedelta(seconds=expires).total_seconds())),
            "X-Goog-SignedHeaders": "host",
        }
        query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(params.items()))
        canonical = "\n".join([method, path, query, f"host:{host}\n", "host", "UNSIGNED-PAYLOAD"])
        to_sign = "\n".join(
            ["GOOG4-RSA-SHA256", params["X-Goog-Date"], scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        key_pem = self.service_account["private_key"].encode()
        private = serialization.load_pem_private_key(key_pem, password=None)
        signature = private.sign(to_sign.encode(), padding.PKCS1v15(), hashes.SHA256())  # type: ignore[union-attr,call-arg,arg-type]
        return f"{self.endpoint}{path}?{query}&X-Goog-Signature={signature.hex()}"
