"""Upload filenames: `UploadFile.filename` is what the client sent (as in Starlette), but a name
with a NUL or another control character is refused with 400; `safe_filename` is a name safe to
save under, on either path of covet's server and through TestClient."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from covet.datastructures import safe_filename
from covet.testclient import TestClient
from tests.apps.bad_input import app as engine_app
from tests.conftest import Server
from tests.test_bad_input import send_raw, stop_and_read


def upload(disposition_tail: bytes) -> bytes:
    """A raw multipart request with one file part whose Content-Disposition ends in `disposition_tail`."""
    body = (
        b'--XX\r\nContent-Disposition: form-data; name="file"'
        + disposition_tail
        + b"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XX--\r\n"
    )
    head = b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XX\r\n"
    return head + b"Content-Length: %d\r\n\r\n" % len(body) + body


HOSTILE = {
    "NUL in filename*": b"; filename*=UTF-8''a%00.php",
    "CRLF in filename*": b"; filename*=UTF-8''a%0D%0ASet-Cookie: x.txt",
    "C1 control in filename*": b"; filename*=UTF-8''a%C2%85.txt",
    "DEL in filename": b'; filename="a\x7f.txt"',
    "tab in filename": b'; filename="a\tb.txt"',
}


@pytest.mark.parametrize("app", ["app", "python_app"])
def test_control_characters_in_a_filename_are_refused(serve: Callable[..., Server], app: str) -> None:
    server = serve(f"tests.apps.bad_input:{app}")
    for name, tail in HOSTILE.items():
        status, headers, body = send_raw(server, upload(tail))
        assert (status, headers["content-type"]) == (400, "application/json"), name
        assert body == b'{"detail":"Malformed multipart body: a part\'s filename contains a control character"}'
    status, _, body = send_raw(server, upload(b'; filename="../../etc/passwd"'))
    assert (status, body) == (200, b'{"filename":"../../etc/passwd","safe":"passwd"}')
    lines = stop_and_read(server)
    assert len(lines) == len(HOSTILE) + 1, lines
    assert all('"POST /upload HTTP/1.1" 400' in line for line in lines[:-1]), lines


def test_testclient_refuses_them_too() -> None:
    with TestClient(engine_app) as tc:
        # httpx percent-encodes a NUL in `filename=`; `filename*=` carries one through.
        raw = upload(b"; filename*=UTF-8''a%00.php")
        head, _, body = raw.partition(b"\r\n\r\n")
        r = tc.post("/upload", content=body, headers={"content-type": "multipart/form-data; boundary=XX"})
        assert r.status_code == 400
        assert r.json() == {"detail": "Malformed multipart body: a part's filename contains a control character"}
        r = tc.post("/upload", files={"file": ("résumé.pdf", b"x")})
        assert r.json() == {"filename": "résumé.pdf", "safe": "résumé.pdf"}


@pytest.mark.parametrize(
    ("sent", "safe"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ada\\cv.docx", "cv.docx"),
        ("..", "upload"),
        ("", "upload"),
        (None, "upload"),
        ("   ", "upload"),
        (".bashrc", "bashrc"),
        ("...hidden.txt", "hidden.txt"),
        ("a..b.txt", "a.b.txt"),
        ("x/..", "upload"),
        ("CON.txt", "_CON.txt"),
        ("lpt1", "_lpt1"),
        ("\u202egnp.exe", "gnp.exe"),  # right-to-left override: invisible, dropped
        ("a\x00b.php", "ab.php"),
        ('in<v>a:l|i?d*"name".txt', "in_v_a_l_i_d__name_.txt"),
        ("żółw 2024.txt", "żółw 2024.txt"),
        ("ｆｕｌｌ.txt", "full.txt"),  # NFKC
        ("trailing. ", "trailing"),
        ("x." + "e" * 40, "x." + "e" * 40),  # a long suffix is not an extension
    ],
)
def test_safe_filename(sent: str | None, safe: str) -> None:
    assert safe_filename(sent) == safe


def test_safe_filename_is_bounded_and_keeps_the_extension() -> None:
    name = safe_filename("a" * 300 + ".tar.gz")
    assert len(name.encode()) == 200 and name.endswith("a.tar.gz")
    name = safe_filename("é" * 300 + ".png")  # cut on a character boundary, not inside one
    assert len(name.encode()) <= 200 and name.endswith("é.png")
    assert safe_filename("", default="file") == "file"
