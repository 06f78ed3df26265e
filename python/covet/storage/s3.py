"""`S3Storage`: the S3 REST API over httpx, signed with AWS Signature Version 4.

Why not aiobotocore: it brings botocore (tens of MB of service models) and aiohttp for the five
calls used here, and its upload path wants a file-like object or bytes, not an async stream.
httpx is already covet's HTTP client; SigV4 is ~40 lines (hashlib, hmac). Bodies are sent as
`UNSIGNED-PAYLOAD` so an upload streams without being hashed first (S3 requires HTTPS for that,
which the real endpoints are). Path-style addressing (`endpoint/bucket/key`) works with AWS,
MinIO, R2, moto and the other S3-API servers.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from contextlib import aclosing
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urlsplit

import httpx

from covet.storage.base import ObjectInfo, Source, StorageError, check_key, chunks_of, guess_type, size_of
from covet.storage.http import HttpStorage, body_of, send
from covet.storage.http import check as _check

__all__ = ["S3Storage", "StorageError"]

UNSIGNED = "UNSIGNED-PAYLOAD"
NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


class S3Storage(HttpStorage):
    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str = "https://s3.amazonaws.com",
        region: str = "us-east-1",
        access_key: str | None = None,
        secret_key: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.bucket = bucket
        self.endpoint = endpoint_url.rstrip("/")
        self.region = region
        self.access_key = access_key or os.environ.get("AWS_ACCESS_KEY_ID", "")
        self.secret_key = secret_key or os.environ.get("AWS_SECRET_ACCESS_KEY", "")
        self.timeout = timeout

    def _url(self, key: str = "") -> str:
        return f"{self.endpoint}/{self.bucket}" + (f"/{quote(key, safe='/~')}" if key else "")

    def _scope(self, now: datetime) -> str:
        return f"{now:%Y%m%d}/{self.region}/s3/aws4_request"

    def _signature(self, now: datetime, canonical: str) -> str:
        to_sign = "\n".join(
            [
                "AWS4-HMAC-SHA256",
                f"{now:%Y%m%dT%H%M%SZ}",
                self._scope(now),
                hashlib.sha256(canonical.encode()).hexdigest(),
            ]
        )
        key = _hmac(("AWS4" + self.secret_key).encode(), f"{now:%Y%m%d}")
        for part in (self.region, "s3", "aws4_request"):
            key = _hmac(key, part)
        return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def _canonical(method: str, url: str, params: dict[str, str], headers: dict[str, str], payload: str) -> str:
        query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(params.items()))
        names = sorted(headers)
        lines = "".join(f"{n}:{headers[n].strip()}\n" for n in names)
        return "\n".join([method, urlsplit(url).path or "/", query, lines, ";".join(names), payload])

    async def _send(
        self,
        method: str,
        key: str = "",
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        content: object = None,
        stream: bool = False,
    ) -> httpx.Response:
        now = datetime.now(UTC)
        url = self._url(key)
        params = params or {}
        signed = {"host": urlsplit(url).netloc, "x-amz-date": f"{now:%Y%m%dT%H%M%SZ}", "x-amz-content-sha256": UNSIGNED}
        canonical = self._canonical(method, url, params, signed, UNSIGNED)
        auth = (
            f"AWS4-HMAC-SHA256 Credential={self.access_key}/{self._scope(now)}, "
            f"SignedHeaders={';'.join(sorted(signed))}, Signature={self._signature(now, canonical)}"
        )
        request = self.client.build_request(
            method,
            url,
            params=params,
            headers={**signed, **(headers or {}), "authorization": auth},
            content=content,  # type: ignore[arg-type]
        )
        return await send(self.client, request, stream)

    async def create_bucket(self) -> None:
        """Creates the bucket (set-up scripts and tests); an existing one of yours is fine."""
        answer = await self._send("PUT", content=b"")
        if answer.status_code != 409 or b"BucketAlreadyOwnedByYou" not in answer.content:
            _check(answer)

    async def put(self, key: str, source: Source, content_type: str | None = None) -> ObjectInfo:
        check_key(key)
        size = await size_of(source)
        headers = {"content-type": guess_type(key, content_type)}
        if size is not None:
            headers["content-length"] = str(size)
        answer = await self._send("PUT", key, headers=headers, content=chunks_of(source))
        _check(answer)
        info = await self.stat(key)
        assert info is not None
        return info

    async def stat(self, key: str) -> ObjectInfo | None:
        check_key(key)
        answer = await self._send("HEAD", key)
        if answer.status_code == 404:
            return None
        _check(answer)
        h = answer.headers
        modified = parsedate_to_datetime(h["last-modified"])
        return ObjectInfo(
            key, int(h["content-length"]), h["etag"], modified, h.get("content-type") or guess_type(key, None)
        )

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        check_key(key)
        answer = await self._send("GET", key, headers={"range": f"bytes={start}-{end}"}, stream=True)
        async with aclosing(body_of(answer)) as pieces:  # a reader that stops closes the answer now
            async for piece in pieces:
                yield piece

    async def delete(self, key: str) -> bool:
        check_key(key)
        existed = await self.stat(key) is not None
        _check(await self._send("DELETE", key))
        return existed

    async def list(self, prefix: str = "") -> list[ObjectInfo]:
        found: list[ObjectInfo] = []
        params = {"list-type": "2", "prefix": prefix}
        while True:
            answer = await self._send("GET", params=params)
            _check(answer)
            root = ET.fromstring(answer.content)
            for item in root.iter(f"{NS}Contents"):
                key = item.findtext(f"{NS}Key", "")
                modified = datetime.fromisoformat(item.findtext(f"{NS}LastModified", "").replace("Z", "+00:00"))
                size = int(item.findtext(f"{NS}Size", "0"))
                found.append(ObjectInfo(key, size, item.findtext(f"{NS}ETag", ""), modified, guess_type(key, None)))
            token = root.findtext(f"{NS}NextContinuationToken")
            if not token:
                return found
            params = {**params, "continuation-token": token}

    def url(self, key: str, expires: int = 3600, method: str = "GET") -> str:
        """A presigned URL (SigV4 query authentication), valid `expires` seconds (at most 7 days)."""
        check_key(key)
        now = datetime.now(UTC)
        url = self._url(key)
        params = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"{self.access_key}/{self._scope(now)}",
            "X-Amz-Date": f"{now:%Y%m%dT%H%M%SZ}",
            "X-Amz-Expires": str(expires),
            "X-Amz-SignedHeaders": "host",
        }
        canonical = self._canonical(method, url, params, {"host": urlsplit(url).netloc}, UNSIGNED)
        params["X-Amz-Signature"] = self._signature(now, canonical)
        return str(httpx.URL(url, params=params))
