"""The engine's Rust JSON encoder (`covet._engine.dumps`) against the standard library."""

from __future__ import annotations

import json
import math

import pytest

from covet._engine import dumps
from covet.encoders import json_default, jsonable_encoder


@pytest.mark.parametrize(
    "value",
    [
        {"a": 1, "b": [1, 2.5, None, True, False], "c": {"d": "e"}},
        [],
        {},
        'tab\there "quote" back\\slash \x00\x1f control',
        "non-ascii: żółw 🐢",
        -(2**63),
        2**63,
        10**30,
        1e-7,
        1e300,
        0.1,
        (1, "two"),
    ],
)
def test_matches_the_standard_library(value: object) -> None:
    assert json.loads(dumps(value)) == json.loads(json.dumps(value))


def test_compact_output_and_utf8() -> None:
    assert dumps({"a": [1, "é"]}) == '{"a":[1,"é"]}'.encode()


def test_non_string_keys_like_json_dumps() -> None:
    assert json.loads(dumps({1: "a", None: "b", 2.5: "d"})) == {"1": "a", "null": "b", "2.5": "d"}
    assert dumps({True: "c"}) == b'{"true":"c"}'


def test_errors() -> None:
    with pytest.raises(ValueError):
        dumps(math.nan)
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps(object())
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps(object(), json_default)
    deep: list = []
    for _ in range(1000):
        deep = [deep]
    with pytest.raises(ValueError, match="nested too deeply"):
        dumps(deep)


def test_subclasses_go_through_default() -> None:
    class D(dict):
        pass

    class S(str):
        pass

    assert dumps({"d": D(x=1), "s": S("y"), "set": {3}}, json_default) == b'{"d":{"x":1},"s":"y","set":[3]}'


def test_jsonable_encoder() -> None:
    import datetime

    assert jsonable_encoder({"when": datetime.date(2026, 1, 1)}) == {"when": "2026-01-01"}


def test_strings_round_trip_at_every_length_and_position() -> None:
    """The encoder skips escape-free text eight bytes at a time: check every offset."""
    import random

    rng = random.Random(7)
    specials = ['"', "\\", "\n", "\x00", "\x1f", "\x7f", "é", "🐢", "\t"]
    for length in range(0, 40):
        for _ in range(20):
            chars = [rng.choice("abcdefgh ") for _ in range(length)]
            if chars and rng.random() < 0.8:
                chars[rng.randrange(len(chars))] = rng.choice(specials)
            text = "".join(chars)
            assert json.loads(dumps(text)) == text
            assert json.loads(dumps({text: text})) == {text: text}


def test_response_model_shape_checked_while_encoding_falls_back_to_pydantic_midway() -> None:
    """`-> list[dict[str, Any]]`/`dict[str, int]`: plain values are written by the engine as it
    checks them; a value that turns out not to fit (found after some output was written) goes to
    pydantic, whose answer replaces the partial one."""
    import datetime
    from typing import Any

    from covet import Covet
    from covet.testclient import TestClient

    app = Covet()
    day = datetime.date(2026, 11, 25)

    @app.get("/plain")
    async def plain() -> list[dict[str, Any]]:
        return [{"a": 1, "b": [1.5, None, True, "x"]}, {"c": {"d": "e"}}, FLAT]

    # Each kind of value directly under a `dict[str, Any]`, where the engine checks it inline.
    FLAT = {"s": "é", "i": -2, "big": 2**70, "t": True, "f": False, "n": None, "x": 0.5, "l": []}

    @app.get("/tuple-value")
    async def tuple_value() -> list[dict[str, Any]]:
        return [{"a": 1, "t": (1, 2)}]  # not plain JSON: pydantic makes the tuple a list

    @app.get("/late-date")
    async def late_date() -> list[dict[str, Any]]:
        return [{"a": 1}, {"b": [2, day]}]

    @app.get("/coerced")
    async def coerced() -> dict[str, int]:
        return {"a": 1, "b": True, "c": "3"}  # pydantic turns True and "3" into ints

    @app.get("/bad")
    async def bad() -> dict[str, int]:
        return {"a": 1, "b": "not a number"}

    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/plain").json() == [
        {"a": 1, "b": [1.5, None, True, "x"]},
        {"c": {"d": "e"}},
        FLAT,
    ]
    assert client.get("/tuple-value").json() == [{"a": 1, "t": [1, 2]}]
    assert client.get("/late-date").json() == [{"a": 1}, {"b": [2, "2026-11-25"]}]
    assert client.get("/coerced").json() == {"a": 1, "b": 1, "c": 3}
    assert client.get("/bad").status_code == 500


def test_datetimes_and_uuids_encode_alike_by_exact_type_and_subclass() -> None:
    """json_default answers exact datetime/date/time/UUID first; a subclass takes the longer
    isinstance path: both give isoformat() / str(), so the response bytes are the same."""
    import datetime
    import uuid

    from covet._engine import dumps
    from covet.encoders import json_default

    class Stamp(datetime.datetime):
        pass

    class Id(uuid.UUID):
        pass

    when = datetime.datetime(2026, 12, 5, 6, 30, 15, 123456, tzinfo=datetime.timezone(datetime.timedelta(hours=-3)))
    sub = Stamp(2026, 12, 5, 6, 30, 15, 123456, tzinfo=when.tzinfo)
    values = [when, sub, when.date(), when.timetz(), uuid.UUID(int=7919), Id(int=7919)]
    assert dumps(values, json_default) == (
        b'["2026-12-05T06:30:15.123456-03:00","2026-12-05T06:30:15.123456-03:00","2026-12-05",'
        b'"06:30:15.123456-03:00","00000000-0000-0000-0000-000000001eef","00000000-0000-0000-0000-000000001eef"]'
    )


def test_datetimes_dates_and_times_written_by_the_engine_match_isoformat() -> None:
    """Exact datetimes/dates/times with no time zone or a `datetime.timezone` are written by the
    engine itself: every offset form (sign, seconds, microseconds) as `isoformat()` gives it.
    Other time zones (zoneinfo) still go through `json_default`, with the same result."""
    import datetime as dt
    import random
    import zoneinfo

    rng = random.Random(5)
    zones = [None, dt.UTC, dt.timezone(dt.timedelta(hours=5, minutes=30)), zoneinfo.ZoneInfo("America/Sao_Paulo")]
    for _ in range(200):
        offset = dt.timedelta(seconds=rng.randrange(-86399, 86400), microseconds=rng.choice([0, rng.randrange(10**6)]))
        zones.append(dt.timezone(offset))
    values: list[object] = []
    for tz in zones:
        when = dt.datetime(
            rng.randrange(1, 10000), rng.randrange(1, 13), rng.randrange(1, 29),
            rng.randrange(24), rng.randrange(60), rng.randrange(60), rng.choice([0, 1, 999999, rng.randrange(10**6)]),
            tzinfo=tz,
        )  # fmt: skip
        values += [when, when.date(), when.timetz(), when.time()]
    values += [dt.datetime.min, dt.datetime.max, dt.date.min, dt.time.max]
    assert dumps(values, json_default) == json.dumps([v.isoformat() for v in values]).encode().replace(b", ", b",")


def test_uuids_written_by_the_engine_match_str() -> None:
    import random
    import uuid

    rng = random.Random(9)
    values = [uuid.UUID(int=0), uuid.UUID(int=2**128 - 1), uuid.uuid4()]
    values += [uuid.UUID(int=rng.getrandbits(128)) for _ in range(500)]
    assert dumps(values, json_default) == json.dumps([str(v) for v in values]).encode().replace(b", ", b",")


def test_without_a_default_datetimes_and_uuids_are_still_refused() -> None:
    import datetime as dt
    import uuid

    for value in (dt.date(2026, 1, 1), uuid.UUID(int=1)):
        with pytest.raises(TypeError, match="not JSON serializable"):
            dumps(value)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (9.5, b"9.5"),
        (100.0, b"100.0"),
        (-2.25, b"-2.25"),
        (0.1, b"0.1"),
        (0.0001, b"0.0001"),
        (1e-05, b"0.00001"),
        (1e-07, b"1e-7"),
        (0.30000000000000004, b"0.30000000000000004"),
        (123456789.1234, b"123456789.1234"),
        (1e15, b"1000000000000000.0"),
        (1e16, b"1e16"),
        (0.0, b"0.0"),
        (-0.0, b"-0.0"),
    ],
)
def test_floats_short_decimals_and_the_rest(value: float, text: bytes) -> None:
    """Decimals of up to four places take a short path; the text is the same shortest form
    either way (ryu's, which reads back as the same float)."""
    assert dumps(value) == text
    assert float(dumps(value)) == value


def test_repeated_keys_long_and_short_are_written_each_time() -> None:
    """Keys seen before are copied from a small cache (with their colon); long keys are not
    cached. The output must not depend on which."""
    short, long = "id", "a_rather_long_key_name"
    rows = [{short: i, long: i, "é": i, "tab\t": i} for i in range(100)]
    assert json.loads(dumps(rows)) == rows
    assert dumps(rows[:1]) == b'[{"id":0,"a_rather_long_key_name":0,"\xc3\xa9":0,"tab\\t":0}]'
