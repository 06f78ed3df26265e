#!/usr/bin/env python3
"""Micro-benchmark: covet's JSON encoder (the engine's, as a response uses it) against orjson.

Run from the repository root:  python3 benchmarks/json_encoder.py  (or `make bench-json`).

Each payload is encoded by `covet._engine.dumps(obj, covet.encoders.json_default)` (the call
`JSONResponse` makes) and by `orjson.dumps` (with a `default` for what orjson does not know,
e.g. pydantic models). The machine is shared and wall-clock time is noisy, so the two encoders
are timed interleaved in one process: ROUNDS rounds, each timing a batch of calls of one then
the other; the report gives each one's median ns per call and the ratio of the medians. The
output bytes are compared too: "same" when identical, "equal" when they differ only in form
(both parse to the same value), "n/a" when orjson refuses the value (ints beyond 64 bits).

orjson is installed with the benchmark app's requirements (benchmarks/requirements-covet.txt)
into benchmarks/.covet-deps, which is put on sys.path here; the project's venv gets nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the `benchmarks` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import COVET_DEPS_DIR  # noqa: E402
from benchmarks.provision import ensure_covet_deps  # noqa: E402

ROUNDS = 21
TARGET_BATCH_S = 0.01  # each timed batch runs about this long


def payloads() -> dict[str, Any]:
    """The bench app's responses plus the shapes a covet app commonly returns."""
    from pydantic import BaseModel

    from benchmarks.apps import common

    class Item(BaseModel):
        name: str
        price: float
        tags: list[str] = []
        created: dt.datetime

    when = dt.datetime(2026, 12, 5, 6, 30, 15, 123456, tzinfo=dt.UTC)
    return {
        "json (hello)": {"message": "Hello, World!"},
        "params": {"uid": 42, "q": "x"},
        "body": {"id": 3, "name": "widget", "price": 9.5, "tags": ["a", "b"]},
        "large (100 KB)": common.LARGE,
        "nested dicts": {f"k{i}": {"a": {"b": {"c": [i, i * 2.5, None, True]}}} for i in range(200)},
        "models x100": [Item(name=f"item {i}", price=i + 0.99, tags=["x", "y"], created=when) for i in range(100)],
        "datetimes x200": [when + dt.timedelta(seconds=i) for i in range(200)],
        "uuids x200": [uuid.UUID(int=i * 7919) for i in range(200)],
        "large ints": [2**62 + i for i in range(200)] + [-(2**63)],
        "huge ints (>64 bit)": [2**80 + i for i in range(50)],
        "non-ASCII strings": [f"héllo wörld ünïcode {i} 日本語テキスト — “quotes”" for i in range(200)],
        "escapes": [f'line {i}\n\t"quoted" \\ back\x01' for i in range(200)],
    }


def orjson_default(obj: Any) -> Any:
    """What orjson cannot encode itself: a pydantic model becomes its dict, as a user would."""
    from pydantic import BaseModel

    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    raise TypeError(type(obj).__name__)


def per_call_ns(fn: Callable[[], object], n: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(n):
        fn()
    return (time.perf_counter_ns() - start) / n


def batch_size(fn: Callable[[], object]) -> int:
    once = max(per_call_ns(fn, 3), 50.0)
    return max(1, int(TARGET_BATCH_S * 1e9 / once))


def compare(covet_out: bytes, orjson_out: bytes | None) -> str:
    if orjson_out is None:
        return "n/a"
    if covet_out == orjson_out:
        return "same"
    return "equal" if json.loads(covet_out) == json.loads(orjson_out) else "DIFFERENT"


def main() -> int:
    ensure_covet_deps()
    sys.path.insert(0, str(COVET_DEPS_DIR))
    import orjson

    from covet._engine import dumps
    from covet.encoders import json_default

    rows = []
    for name, obj in payloads().items():

        def covet_call(obj: Any = obj) -> bytes:
            return dumps(obj, json_default)

        def orjson_call(obj: Any = obj) -> bytes:
            return orjson.dumps(obj, default=orjson_default)

        try:
            orjson_out: bytes | None = orjson_call()
        except TypeError:
            orjson_out = None
        covet_out = covet_call()
        n = batch_size(covet_call)
        covet_ns: list[float] = []
        orjson_ns: list[float] = []
        for _ in range(ROUNDS):
            covet_ns.append(per_call_ns(covet_call, n))
            if orjson_out is not None:
                orjson_ns.append(per_call_ns(orjson_call, n))
        c = statistics.median(covet_ns)
        o = statistics.median(orjson_ns) if orjson_ns else None
        ratio = f"{c / o:.2f}" if o else "-"
        orjson_cell = f"{o:,.0f}" if o else "-"
        same = compare(covet_out, orjson_out)
        rows.append(f"| {name} | {len(covet_out)} | {c:,.0f} | {orjson_cell} | {ratio} | {same} |")
    print(f"covet JSON encoder vs orjson {orjson.__version__}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"median of {ROUNDS} interleaved rounds, ns per call\n")
    print("| payload | bytes | covet ns | orjson ns | covet/orjson | output |")
    print("|---|---:|---:|---:|---:|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
