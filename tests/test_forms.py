"""Form bodies (`request.form()`): urlencoded and multipart, fields and files, limits and
malformed input; through TestClient, a real `covet run` server and uvicorn (the ASGI path)."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import random
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from covet import Covet
from covet._engine import MultipartParser
from covet.datastructures import FormData, UploadFile
from covet.testclient import TestClient
from tests.apps import forms
from tests.conftest import Server, served_three_ways

MULTIPART = {"content-type": "multipart/form-data; boundary=xyz"}


client = served_three_ways("tests.apps.forms:app")


def part(name: str, data: bytes, extra: str = "") -> bytes:
    head = f'--xyz\r\nContent-Disposition: form-data; name="{name}"{extra}\r\n\r\n'
    return head.encode() + data + b"\r\n"


def test_urlencoded_fields_repeated_keys_and_unicode(client: httpx.Client) -> None:
    r = client.post("/form", data={"a": ["1", "2"], "é": "ü ñ&=+", "blank": ""})
    assert r.status_code == 200
    assert r.json() == {"a": ["1", "2"], "é": ["ü ñ&=+"], "blank": [""]}
    # Charset parameters and case do not matter to the media type.
    r = client.post(
        "/form",
        content=b"x=1&x=2&y",
        headers={"content-type": "Application/X-WWW-Form-Urlencoded; charset=utf-8"},
    )
    assert r.json() == {"x": ["1", "2"], "y": [""]}


def test_multipart_fields_and_files(client: httpx.Client) -> None:
    r = client.post(
        "/form",
        data={"title": "Hello, wörld", "tag": ["x", "y"]},
        files=[
            ("doc", ("a.txt", b"file one\r\n--not-a-boundary\r\n", "text/plain")),
            ("doc", ("b.bin", bytes(range(256)), "application/octet-stream")),
        ],
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["title"] == ["Hello, wörld"]
    assert body["tag"] == ["x", "y"]
    a, b = body["doc"]
    assert a["filename"] == "a.txt"
    assert a["content_type"] == "text/plain"
    assert a["size"] == a["length"] == 28
    assert a["head"] == "file one\r\n--not-a-boundary\r\n"
    assert a["rolled"] is False
    assert ["content-type", "text/plain"] in a["headers"]
    assert a["headers"][0] == ["content-disposition", 'form-data; name="doc"; filename="a.txt"']
    assert (b["filename"], b["content_type"], b["size"]) == ("b.bin", "application/octet-stream", 256)
    assert b["head"] == bytes(range(64)).decode("latin-1")


def test_large_file_rolls_over_to_disk(client: httpx.Client) -> None:
    small, large = b"s" * 100, bytes(range(256)) * 4
    r = client.post("/spool", files=[("f", ("small", small)), ("f", ("large", large))])
    first, second = r.json()["f"]
    assert (first["size"], first["rolled"]) == (100, False)
    assert (second["size"], second["length"], second["rolled"]) == (1024, 1024, True)
    # The default spool size is 1 MiB.
    big = b"\xab" * (3 * 1024 * 1024 + 7)
    r = client.post("/form", files={"f": ("big.bin", big)})
    (upload,) = r.json()["f"]
    assert (upload["size"], upload["length"], upload["rolled"]) == (len(big), len(big), True)


def test_unicode_filenames(client: httpx.Client) -> None:
    # httpx sends the UTF-8 name as is, inside quotes, as browsers do; like browsers it writes
    # a quote as %22, which is kept (as Starlette keeps it): only the client knows it escaped.
    r = client.post("/form", files={"f": ('żółw "1".txt', b"x", "text/plain")})
    assert r.json()["f"][0]["filename"] == "żółw %221%22.txt"
    # RFC 5987 filename* is preferred to filename; an escaped quote is unescaped.
    body = (
        part("f", b"euros", '; filename="EUR \\"rates\\".txt"; filename*=UTF-8\'\'%E2%82%AC%20rates.txt')
        + part("g", b"plain", '; filename="plain \\"q\\".txt"')
        + b"--xyz--\r\n"
    )
    r = client.post("/form", content=body, headers=MULTIPART)
    assert r.status_code == 200, r.text
    assert r.json()["f"][0]["filename"] == "€ rates.txt"
    assert r.json()["g"][0]["filename"] == 'plain "q".txt'


def test_preamble_epilogue_empty_file_and_non_utf8_field(client: httpx.Client) -> None:
    body = (
        b"ignored preamble\r\n"
        + part("empty", b"", '; filename=""')
        + part("latin", "café".encode("latin-1"))
        + part("utf8", "café".encode())
        + b"--xyz--\r\nignored epilogue"
    )
    r = client.post("/form", content=body, headers={"content-type": 'multipart/form-data; boundary="xyz"'})
    assert r.status_code == 200, r.text
    out = r.json()
    (empty,) = out["empty"]
    assert (empty["filename"], empty["size"], empty["content_type"]) == ("", 0, None)
    assert out["latin"] == ["café"]
    assert out["utf8"] == ["café"]


@pytest.mark.parametrize(
    "body, content_type, message",
    [
        (part("a", b"1"), MULTIPART["content-type"], "the body ended before its closing boundary"),
        (b"no boundary here", MULTIPART["content-type"], "no boundary found in the body"),
        (b"--xyz\r\n\r\nx\r\n--xyz--", MULTIPART["content-type"], "a part has no Content-Disposition header"),
        (part("a", b"1", "; x").replace(b'name="a"', b"filename=a") + b"--xyz--", MULTIPART["content-type"], "no name"),
        (b"--xyzGARBAGE", MULTIPART["content-type"], "a boundary is followed by something other than"),
        (part("a", b"1") + b"--xyz--", "multipart/form-data", "the Content-Type has no usable boundary parameter"),
    ],
)
def test_malformed_multipart_is_400(client: httpx.Client, body: bytes, content_type: str, message: str) -> None:
    r = client.post("/form", content=body, headers={"content-type": content_type})
    assert r.status_code == 400
    detail = r.json()["detail"]
    assert detail.startswith("Malformed multipart body: ")
    assert message in detail


def test_limits_are_413(client: httpx.Client) -> None:
    fields = {"a": "1", "b": "2", "c": "3"}
    r = client.post("/limited?max_fields=2", data=fields, files={"f": ("f", b"x")})
    assert r.status_code == 413
    assert r.json() == {"detail": "Too many fields: the limit is 2"}
    r = client.post("/limited?max_files=1", files=[("f", ("1", b"1")), ("f", ("2", b"2"))])
    assert r.status_code == 413
    assert r.json() == {"detail": "Too many files: the limit is 1"}
    # The engine stops counting at max_files + max_fields parts, before reading the rest.
    many = b"".join(part(f"p{i}", b"") for i in range(50)) + b"--xyz--"
    r = client.post("/limited?max_files=10&max_fields=10", content=many, headers=MULTIPART)
    assert r.status_code == 413
    assert r.json() == {"detail": "Multipart body too large: too many parts (the limit is 20)"}
    # A field over max_part_size; a file of the same size is fine.
    r = client.post("/limited?max_part_size=10", data={"a": "x" * 11}, files={"f": ("f", b"")})
    assert r.status_code == 413
    assert r.json() == {"detail": "Multipart body too large: a form field is too large (the limit is 10 bytes)"}
    # (Only multipart fields are limited; an urlencoded body is bounded by the body limit.)
    assert client.post("/limited?max_part_size=10", data={"a": "x" * 11}).status_code == 200
    r = client.post("/limited?max_part_size=10", data={"a": "x" * 10}, files={"f": ("f", b"y" * 100)})
    assert r.status_code == 200
    assert r.json()["f"][0]["size"] == 100
    # Part headers over 16 KiB.
    r = client.post("/form", content=part("a", b"", "; x=" + "y" * 17000) + b"--xyz--", headers=MULTIPART)
    assert r.status_code == 413
    assert "headers are too large" in r.json()["detail"]


def test_other_content_types_give_an_empty_form(client: httpx.Client) -> None:
    assert client.post("/form", json={"a": 1}).json() == {}
    assert client.post("/form", content=b"a=1").json() == {}
    assert client.post("/form", content=b"a=1", headers={"content-type": "text/plain"}).json() == {}
    # An urlencoded GET with no body is an empty form too.
    assert client.post("/form", headers={"content-type": "application/x-www-form-urlencoded"}).json() == {}


def test_form_is_cached_and_context_manager_closes(client: httpx.Client) -> None:
    r = client.post("/twice", data={"a": "1"})
    assert r.json() == {"same": True, "body": "a=1"}
    r = client.post("/context", files={"f": ("t.txt", b"inside")})
    assert r.json() == {"text": "inside", "closed": True}


def test_uploads_are_closed_after_the_response() -> None:
    with TestClient(forms.app) as tc:
        r = tc.post("/form", data={"a": "1"}, files={"f": ("t.txt", b"x" * 10)})
        assert r.status_code == 200
    (form,) = forms.LAST
    upload = form["f"]
    assert isinstance(upload, UploadFile)
    assert upload.file.closed


def test_multipart_parser_binding() -> None:
    body = part("a", b"1") + part("f", b"da\r\n--xy\r\nta", '; filename="x.bin"') + b"--xyz--\r\nepilogue"
    whole = MultipartParser("multipart/form-data; boundary=xyz")
    events = whole.feed(body) + whole.finish()
    assert events == [
        ("start", "a", None, None, [("content-disposition", 'form-data; name="a"')]),
        ("data", b"1"),
        ("end",),
        ("start", "f", "x.bin", None, [("content-disposition", 'form-data; name="f"; filename="x.bin"')]),
        ("data", b"da\r\n--xy\r\nta"),
        ("end",),
        ("done",),
    ]
    # Fed a byte at a time, the same parts come out, content in pieces.
    parser = MultipartParser("multipart/form-data; boundary=xyz")
    pieces = [e for i in range(len(body)) for e in parser.feed(body[i : i + 1])] + parser.finish()
    assert [e for e in pieces if e[0] != "data"] == [e for e in events if e[0] != "data"]
    assert b"".join(e[1] for e in pieces if e[0] == "data") == b"1da\r\n--xy\r\nta"

    with pytest.raises(ValueError, match="no usable boundary"):
        MultipartParser("multipart/form-data")
    truncated = MultipartParser("multipart/form-data; boundary=xyz")
    truncated.feed(body[:-20])
    with pytest.raises(ValueError, match="closing boundary"):
        truncated.finish()
    with pytest.raises(ValueError, match="closing boundary"):
        truncated.finish()  # a spent parser keeps its error
    with pytest.raises(OverflowError, match="too many parts"):
        MultipartParser("multipart/form-data; boundary=xyz", 1).feed(body)
    with pytest.raises(OverflowError, match="field is too large"):
        MultipartParser("multipart/form-data; boundary=xyz", 10, 0).feed(body)
    with pytest.raises(OverflowError, match="headers are too large"):
        MultipartParser("multipart/form-data; boundary=xyz", 10, 10, 10).feed(body)


class SplitTestClient(TestClient):
    """A TestClient that hands the request to the engine in pieces of the given sizes (cycled),
    letting the app run between them, as a slow network would: with a low stream threshold the
    handler gets the body in exactly those chunks."""

    __test__ = False

    def __init__(self, app: Covet, sizes: list[int], **engine_options: Any) -> None:
        super().__init__(app, **engine_options)
        self.sizes = sizes

    async def _feed(self, protocol: Any, data: bytes) -> None:
        pos = 0
        for size in itertools.cycle(self.sizes):
            if pos >= len(data):
                break
            protocol.data_received(data[pos : pos + size])
            pos += size
            await asyncio.sleep(0)


def awkward_body() -> tuple[bytes, dict[str, bytes]]:
    """A body of ~20 KB whose content looks like delimiters in the making, and what it holds."""
    near_misses = b"\r\n--xy\r\n-\r\n--x" + b"\r" * 3 + b"\r\n--" + b"-xyz"
    files = {
        "one": near_misses * 300 + b"\r\n--xy",
        "two": bytes(range(256)) * 20 + b"\r",
        "empty": b"",
    }
    body = (
        b"preamble \r\n--x\r\n"
        + part("title", "tytuł\r\n--xy".encode())
        + part("one", files["one"], '; filename="one.bin"')
        + part("empty", b"", '; filename="empty"')
        + part("tag", b"a")
        + part("two", files["two"], "; filename=\"two.bin\"; filename*=UTF-8''tw%C3%B3.bin")
        + part("tag", b"b\r\n")
        + b"--xyz--\r\n--xyz\r\nepilogue"
    )
    return body, files


@pytest.mark.parametrize("sizes", [[1], [7], [2, 13, 1, 64, 3], [4096], [1, 1022, 9, 5000]])
def test_streamed_multipart_split_anywhere(sizes: list[int]) -> None:
    body, files = awkward_body()
    with SplitTestClient(forms.app, sizes, stream_threshold=1024) as tc:
        r = tc.post("/checksum", content=body, headers=MULTIPART)
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["title"] == "tytuł\r\n--xy"
        assert out["tag"] == "b\r\n"
        for name, data in files.items():
            got = out[name]
            assert (got["size"], got["length"]) == (len(data), len(data)), name
            assert got["sha256"] == hashlib.sha256(data).hexdigest(), name
        # Through /spool (files over 100 bytes roll over to disk) with every part in order.
        r = tc.post("/spool", content=body, headers=MULTIPART)
        out = r.json()
        assert out["tag"] == ["a", "b\r\n"]
        assert [(f["size"], f["rolled"]) for f in out["one"] + out["empty"] + out["two"]] == [
            (len(files["one"]), True),
            (0, False),
            (len(files["two"]), True),
        ]
        assert out["two"][0]["filename"] == "tw\u00f3.bin"
        # Errors found mid-stream still answer 400 and 413; the form's files are closed.
        r = tc.post("/form", content=body.replace(b"--xyz--", b"--xyz!!"), headers=MULTIPART)
        assert r.status_code == 400
        assert r.json()["detail"].startswith("Malformed multipart body: a boundary is followed by")
        r = tc.post("/limited?max_files=1", content=body, headers=MULTIPART)
        assert (r.status_code, r.json()) == (413, {"detail": "Too many files: the limit is 1"})
        r = tc.post("/limited?max_part_size=5", content=body, headers=MULTIPART)
        assert r.status_code == 413
        assert "form field is too large (the limit is 5 bytes)" in r.json()["detail"]
        # A streamed urlencoded body is collected, and the raw body can still be read after it.
        r = tc.post("/twice", data={"a": "x" * 5000})
        assert r.json() == {"same": True, "body": "a=" + "x" * 5000}


def test_urlencoded_body_over_1_mib_is_413(client: httpx.Client) -> None:
    r = client.post("/form", data={"a": "x" * (1024 * 1024 - 2)})
    assert r.status_code == 200
    assert len(r.json()["a"][0]) == 1024 * 1024 - 2
    r = client.post("/form", data={"a": "x" * (1024 * 1024 - 1)})
    assert r.status_code == 413
    assert r.json() == {"detail": "Form body too large: the limit is 1048576 bytes"}


def vm_hwm(pid: int) -> int:
    """The peak resident set size of a process, in bytes."""
    status = Path(f"/proc/{pid}/status").read_text()
    (line,) = [line for line in status.splitlines() if line.startswith("VmHWM:")]
    return int(line.split()[1]) * 1024


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_large_upload_streams_to_disk(serve: Callable[..., Server]) -> None:
    server = serve("tests.apps.forms:app", "--no-access-log", "--max-body-size", "100000000")
    mib = 1024 * 1024
    size = 40 * mib
    # 1 MiB of noise with a near-delimiter in it, rotated for each MiB so order matters.
    near_delimiter = b"\r\n--covet-boundar" + b"\r\n" * 41
    block = random.Random(7).randbytes(mib - len(near_delimiter)) + near_delimiter
    head = part("note", b"forty").replace(b"xyz", b"covet-boundary") + (
        b'--covet-boundary\r\nContent-Disposition: form-data; name="f"; filename="big.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
    )
    tail = b"\r\n--covet-boundary--\r\n"
    digest = hashlib.sha256()

    def body() -> Iterator[bytes]:
        yield head
        for i in range(size // mib):
            chunk = block[i:] + block[:i]
            digest.update(chunk)
            yield chunk
        yield tail

    with httpx.Client(base_url=server.url, timeout=120) as c:
        # Warm up (imports, the thread pool, a first roll-over) so the peak measured is the upload's.
        warm = c.post("/checksum", files={"f": ("warm.bin", b"w" * (3 * mib))})
        assert warm.status_code == 200
        before = vm_hwm(server.proc.pid)
        r = c.post(
            "/checksum",
            content=body(),
            headers={
                "content-type": "multipart/form-data; boundary=covet-boundary",
                "content-length": str(len(head) + size + len(tail)),
            },
        )
        after = vm_hwm(server.proc.pid)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["note"] == "forty"
    assert out["f"] == {"size": size, "length": size, "sha256": digest.hexdigest(), "rolled": True}
    growth = after - before
    print(f"VmHWM before {before / mib:.1f} MiB, after {after / mib:.1f} MiB, growth {growth / mib:.1f} MiB")
    assert growth < 20 * mib, f"peak RSS grew by {growth / mib:.1f} MiB for a {size // mib} MiB upload"


def test_upload_file_and_form_data_api() -> None:
    asyncio.run(_upload_file_and_form_data_api())


async def _upload_file_and_form_data_api() -> None:
    upload = UploadFile(tempfile.SpooledTemporaryFile(max_size=8), size=0, filename="a", headers=None)
    await upload.write(b"1234")
    assert not upload.file._rolled  # type: ignore[attr-defined]
    await upload.write(b"56789")  # crosses max_size: this write rolls the file over
    assert upload.file._rolled  # type: ignore[attr-defined]
    await upload.seek(0)
    assert await upload.read(3) == b"123"
    assert await upload.read() == b"456789"
    assert upload.size == 9 and upload.content_type is None
    form = FormData([("f", upload), ("x", "1"), ("x", "2")])
    assert form["x"] == "2" and form.getlist("x") == ["1", "2"]
    await form.close()
    assert upload.file.closed
