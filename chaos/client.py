"""A small HTTP/1.1 client on raw asyncio sockets, so every way a request can end is seen as
it is: a status, a refused connect, 0 bytes or a reset after sending (lost), or silence past
the timeout (hung). httpx would retry or fold some of these together."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from chaos.tally import HUNG, LOST, REFUSED


@dataclass
class Answer:
    """One request's end: `outcome` is a status code or REFUSED/LOST/HUNG."""

    outcome: int | str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    reused: bool = False  # sent on a keep-alive connection that had served a request before


class Connection:
    """One client connection to 127.0.0.1:`port`, reopened as needed; with `keep_alive` it is
    reused until the server says `Connection: close`, otherwise every request asks for close."""

    def __init__(self, port: int, *, keep_alive: bool = True, timeout: float = 5.0) -> None:
        self.port = port
        self.keep_alive = keep_alive
        self.timeout = timeout
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._served = 0

    async def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> Answer:
        if self._streams is None:
            try:
                self._streams = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self.port), self.timeout)
            except (TimeoutError, OSError):
                return Answer(REFUSED)
            self._served = 0
        reader, writer = self._streams
        reused = self._served > 0
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", f"Content-Length: {len(body)}"]
        if not self.keep_alive:
            lines.append("Connection: close")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        try:
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            answer = await asyncio.wait_for(self._read(reader), self.timeout)
        except TimeoutError:
            answer = Answer(HUNG)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            answer = Answer(LOST)
        answer.reused = reused
        self._served += 1
        if not isinstance(answer.outcome, int) or not self.keep_alive or answer.headers.get("connection") == "close":
            await self.close()
        return answer

    async def _read(self, reader: asyncio.StreamReader) -> Answer:
        status_line = await reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                body += (await reader.readexactly(size + 2))[:-2]
            await reader.readuntil(b"\r\n")
        elif "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        else:
            body = await reader.read()
        return Answer(status, headers, body)

    async def close(self) -> None:
        if self._streams is not None:
            writer = self._streams[1]
            self._streams = None
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
