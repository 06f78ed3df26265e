"""The memory check (benchmarks/memory.py): its request mix and its verdicts.

The check itself is a load run (`make bench-memory`), not a test. What is tested here is that
it would measure the right thing: both hello apps answer every request of the mix with the
status the check expects and the same body, wrk's script stops at its budget, and a leak or a
larger RSS than FastAPI's is reported as a failure.
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from benchmarks import memory
from tests.conftest import start_server


def _answers(port: int) -> list[tuple[int, object]]:
    """Status and body (parsed JSON, or text) of each request of the mix."""
    out: list[tuple[int, object]] = []
    for route in memory.ROUTES:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            headers = {"Content-Type": "application/json"} if route.body else {}
            conn.request(route.method, route.path, body=route.body, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        is_json = "json" in (response.getheader("content-type") or "")
        out.append((response.status, json.loads(raw) if is_json else raw.decode()))
    return out


def test_both_hello_apps_answer_the_mix_alike() -> None:
    covet = start_server("examples.hello.app:app", "--no-access-log")
    peer = start_server("benchmarks.apps.fastapi_hello:app", kind="uvicorn")
    try:
        memory.check_routes(covet.port)  # raises on an unexpected status
        mine, theirs = _answers(covet.port), _answers(peer.port)
    finally:
        covet.stop()
        peer.stop()
    assert [status for status, _ in mine] == [route.status for route in memory.ROUTES]
    # The 405 bodies differ in wording only; every other answer is the same.
    for route, a, b in zip(memory.ROUTES, mine, theirs, strict=True):
        assert a[0] == b[0], route
        if route.status != 405:
            assert a[1] == b[1], route


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)")
def test_wrk_script_stops_at_its_budget(tmp_path: Path) -> None:
    server = start_server("examples.hello.app:app", "--no-access-log")
    try:
        script = memory.mix_script(40, close=True, directory=tmp_path)
        # -d is only a cap: the script ends the run after 40 responses.
        proc = subprocess.run(
            ["wrk", "-t1", "-c4", "-d60s", "-s", str(script), f"http://127.0.0.1:{server.port}/"],
            capture_output=True,
            text=True,
            timeout=90,
            check=True,
        )
    finally:
        server.stop()
    statuses = memory.parse_statuses(proc.stdout)
    completed = int(proc.stdout.split(" requests in ")[0].split()[-1])
    assert sum(statuses.values()) == completed
    assert 40 <= completed < 40 + 4  # at most one more per connection already in flight
    assert set(statuses) == {"200", "404", "405"}


def _report(covet_rss: list[int], fastapi_rss: list[int]) -> dict[str, object]:
    def record(rss: list[int]) -> dict[str, object]:
        samples = [{"requests": n, "rss_kib": kib} for n, kib in zip((0, 10_000, 1_000_000), rss, strict=True)]
        return {"status": "ok", "samples": samples, **memory.growth(samples)}

    return {
        "config": {"legs": {"keep-alive": {"close": False, "checkpoints": [10_000, 1_000_000]}}},
        "legs": {"keep-alive": {"covet": record(covet_rss), "fastapi": record(fastapi_rss)}},
    }


def test_verdicts_flag_growth_and_a_larger_rss_than_fastapi() -> None:
    flat = memory.verdicts(_report([40_000, 41_000, 41_500], [50_000, 52_000, 53_000]))
    assert [v["pass"] for v in flat] == [True, True]
    leaking = memory.verdicts(_report([40_000, 41_000, 44_000], [50_000, 52_000, 53_000]))
    assert [v["pass"] for v in leaking] == [False, True]
    assert leaking[0]["detail"].startswith("+7.32%")
    heavier = memory.verdicts(_report([40_000, 60_000, 60_000], [50_000, 52_000, 53_000]))
    assert [v["pass"] for v in heavier] == [True, False]


def test_checkpoints_run_from_the_baseline_to_the_total() -> None:
    assert memory.checkpoints(10_000, 1_000_000) == (10_000, 100_000, 200_000, 500_000, 1_000_000)
    assert memory.checkpoints(10_000, 50_000) == (10_000, 25_000, 50_000)
