"""`--check`: does every server answer the same bytes as covet? Each scenario's request is
sent once per server and compared with covet's answer, instead of measuring."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

from benchmarks.harness import SUBJECT, BenchError, log
from benchmarks.lifecycle import fetch
from benchmarks.measure import Options, planned, start_server
from benchmarks.scenarios import SCENARIOS, Scenario
from benchmarks.servers import SERVERS, Server


def _shape(value: object) -> object:
    """A JSON value with its numbers replaced by their type: random rows compare by shape."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    return type(value).__name__


def _normalised(scenario: Scenario, content_type: str, body: bytes) -> object:
    """The body as compared: parsed JSON (shape only for random rows) or the raw bytes."""
    if "json" in content_type:
        try:
            data = json.loads(body)
        except ValueError:
            return body
        return _shape(data) if scenario.compare == "shape" else data
    return body


def compare_answer(scenario: Scenario, ref: tuple[int, str, bytes], got: tuple[int, str, bytes]) -> str:
    """How `got` differs from the reference answer ("same" if it does not)."""
    notes = []
    if got[0] != ref[0]:
        notes.append(f"status {got[0]} (covet {ref[0]})")
    if got[1].replace(" ", "").lower() != ref[1].replace(" ", "").lower():
        notes.append(f"content-type {got[1]!r} (covet {ref[1]!r})")
    if _normalised(scenario, got[1], got[2]) != _normalised(scenario, ref[1], ref[2]):
        shown = got[2][:120].decode(errors="replace")
        notes.append(f"BODY DIFFERS: {shown!r}{'...' if len(got[2]) > 120 else ''} ({len(got[2])} bytes)")
    elif got[2] != ref[2] and scenario.compare == "exact":
        notes.append("body equal after JSON normalisation, bytes differ")
    return "; ".join(notes) or "same"


def check_server(server: Server, opts: Options, tmp: Path) -> dict[str, object]:
    """Start `server` and fetch each scenario once: {scenario: (status, type, body) or error}."""
    todo, not_run = planned(server, opts)
    answers: dict[str, object] = {name: str(rec["status"]) for name, rec in not_run.items()}
    if not todo:
        return answers
    try:
        running = start_server(server, todo, tmp)
    except BenchError as exc:
        return {name: f"server {type(exc).__name__.lower()}: {str(exc).splitlines()[0]}" for name in todo}
    try:
        for name in todo:
            try:
                answers[name] = fetch(server.port, SCENARIOS[name], timeout=10)
            except (OSError, http.client.HTTPException) as exc:
                answers[name] = f"request failed: {exc!r}"
    finally:
        running.stop()
    return answers


def run_check(opts: Options, tmp: Path) -> str:
    """--check: compare every server's answers with covet's; a markdown report."""
    answers = {}
    for name in opts.servers:
        log(f"== check {name}")
        answers[name] = check_server(SERVERS[name], opts, tmp)
    ref_name = SUBJECT if SUBJECT in answers else opts.servers[0]
    lines = [
        f"# Same answers as {ref_name}?",
        "",
        (
            "Each scenario's request sent once. Bodies compared after JSON normalisation "
            "(db, queries, updates: by shape, their values are random); other headers "
            "are not compared."
        ),
        "",
        "| scenario | server | status | content-type | result |",
        "|---|---|---|---|---|",
    ]
    for scenario in opts.scenarios:
        ref = answers[ref_name].get(scenario)
        for name in opts.servers:
            got = answers[name].get(scenario)
            label = SERVERS[name].label
            if not isinstance(got, tuple):
                lines.append(f"| {scenario} | {label} | - | - | {got} |")
                continue
            if name == ref_name or not isinstance(ref, tuple):
                result = "(reference)" if name == ref_name else "no reference"
            else:
                result = compare_answer(SCENARIOS[scenario], ref, got)
            cell = result.replace("|", "\\|")
            lines.append(f"| {scenario} | {label} | {got[0]} | {got[1]} | {cell} |")
    return "\n".join(lines) + "\n"
