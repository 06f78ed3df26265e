"""The results: the machine they were taken on, the markdown tables (stdout and
results/latest.md), the raw figures (results/latest.json) and the chart (results/latest.png,
drawn by plot.py)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from benchmarks.harness import LIMIT, LOADGEN_CPU, PLOT, REFERENCES, RESULTS_DIR, SERVER_CPU, SUBJECT, VARIANTS, log
from benchmarks.provision import ensure_venv, venv_bin


def _measured(config: dict[str, object]) -> str:
    """How each figure was taken: one measured run, or the median of several."""
    runs = int(config.get("runs", 1))  # type: ignore[call-overload]
    if runs == 1:
        return f"measured {config['duration']:g} s"
    return f"{runs} measured runs of {config['duration']:g} s, the run with the median CPU µs/request reported"


def machine_info() -> dict[str, object]:
    """What the figures were taken on: absolute numbers mean nothing without it."""
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        wrk_version = subprocess.run(
            ["wrk", "-v"], capture_output=True, text=True, timeout=10, check=False
        ).stdout.splitlines()[0]
        wrk_version = wrk_version.split(" Copyright")[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        wrk_version = ""
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "python": platform.python_version(),
        "python_executable": sys.executable,
        "platform": platform.platform(),
        "wrk": wrk_version.strip(),
        "loadavg": os.getloadavg(),
    }


def _fmt(value: object, digits: int = 1) -> str:
    """Format a number for the tables ('-' when absent)."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def _cell(record: dict[str, object], scenario: str) -> dict[str, object] | None:
    """The scenario's figures for a server, or None if it has none."""
    data = record.get("scenarios", {}).get(scenario)  # type: ignore[union-attr]
    if data and data.get("status") == "ok":
        return data
    return None


def _suspect(data: dict[str, object]) -> str:
    """Mark figures taken while the server answered errors: they are not comparable."""
    unexpected = data.get("unexpected_status", data["non2xx"])
    return "*" if unexpected or data["socket_errors"] else ""


def _missing(record: dict[str, object], scenario: str) -> str:
    """What a table cell says for a scenario without figures."""
    if record.get("status") == "unavailable":
        return "unavailable"
    data = record.get("scenarios", {}).get(scenario)  # type: ignore[union-attr]
    if data and data.get("status") in ("n/a", "skipped"):
        return str(data["status"])
    return "failed"


def _cpu(record: dict[str, object], scenario: str) -> float | None:
    """CPU µs/req of one server for one scenario, if measured."""
    data = _cell(record, scenario)
    return None if data is None else float(data["cpu_us_per_req"])  # type: ignore[arg-type]


def _lower_than_peers(servers: dict[str, dict[str, object]], scenario: str) -> str:
    """'yes' if covet's CPU µs/req is below every measured peer's, else who is lower."""
    mine = _cpu(servers[SUBJECT], scenario)
    if mine is None:
        return "-"
    peers = {
        record["label"]: cpu
        for name, record in servers.items()
        if name not in (SUBJECT, LIMIT, *STATIC_LIMITS, *VARIANTS) and (cpu := _cpu(record, scenario)) is not None
    }
    if not peers:
        return "-"
    lower = [f"{label} {_fmt(cpu)}" for label, cpu in sorted(peers.items(), key=lambda p: p[1]) if cpu <= mine]
    return "yes" if not lower else "no: " + ", ".join(lower)


def _rows(servers: dict[str, dict[str, object]], scenarios: list[str]) -> Iterator[str]:
    """Main table: CPU µs/req per server, the headline ratios, and 'lower than every peer?'."""
    refs = [r for r in REFERENCES if r in servers and SUBJECT in servers]
    header = ["scenario", *(f"{record['label']}" for record in servers.values())]
    header += [f"{SUBJECT}/{servers[r]['label']}" for r in refs]
    if SUBJECT in servers:
        header.append(f"{SUBJECT} lower than every peer?")
    yield "| " + " | ".join(header) + " |"
    yield "|" + "---|" * len(header)
    for scenario in scenarios:
        row = [scenario, *_value_cells(servers, scenario, "cpu_us_per_req", 1)]
        subject = _cpu(servers[SUBJECT], scenario) if refs else None
        for ref in refs:
            other = _cpu(servers[ref], scenario)
            row.append("-" if subject is None or not other else f"{subject / other:.2f}x")
        if SUBJECT in servers:
            row.append(_lower_than_peers(servers, scenario))
        yield "| " + " | ".join(row) + " |"


# Limits rather than peers on the static scenarios ("lower than every peer?" leaves them out).
STATIC_LIMITS = ("nginx",)
# The static scenarios' own ratios: covet against nginx (the limit there) and Starlette's
# StaticFiles on uvicorn (what a Python app would otherwise serve files with).
STATIC_REFERENCES = ("nginx", "starlette")


def _static_rows(servers: dict[str, dict[str, object]], scenarios: list[str]) -> Iterator[str]:
    """CPU µs/req of covet, nginx and Starlette on the static scenarios, with covet's ratios."""
    static = [s for s in scenarios if s.startswith("static-")]
    refs = [r for r in STATIC_REFERENCES if r in servers]
    if not static or SUBJECT not in servers or not refs:
        return
    yield "## Static files: server CPU µs per request"
    yield ""
    labels = [servers[name]["label"] for name in (SUBJECT, *refs)]
    header = ["scenario", *labels, *(f"{SUBJECT}/{servers[r]['label']}" for r in refs)]
    yield "| " + " | ".join(header) + " |"
    yield "|" + "---|" * len(header)
    for scenario in static:
        mine = _cpu(servers[SUBJECT], scenario)
        row = [scenario]
        for name in (SUBJECT, *refs):
            cpu = _cpu(servers[name], scenario)
            row.append(_missing(servers[name], scenario) if cpu is None else _fmt(cpu))
        for ref in refs:
            other = _cpu(servers[ref], scenario)
            row.append("-" if mine is None or not other else f"{mine / other:.2f}x")
        yield "| " + " | ".join(row) + " |"
    yield ""


def _rps_rows(servers: dict[str, dict[str, object]], scenarios: list[str]) -> Iterator[str]:
    """Requests per second per server (this one depends on the load generator too)."""
    header = ["scenario", *(f"{record['label']}" for record in servers.values())]
    yield "| " + " | ".join(header) + " |"
    yield "|" + "---|" * len(header)
    for scenario in scenarios:
        row = [scenario, *_value_cells(servers, scenario, "rps", 0)]
        yield "| " + " | ".join(row) + " |"


def _value_cells(servers: dict[str, dict[str, object]], scenario: str, key: str, digits: int) -> list[str]:
    """One figure per server for a scenario, or why it is missing."""
    cells = []
    for record in servers.values():
        data = _cell(record, scenario)
        cells.append(_missing(record, scenario) if data is None else _fmt(data[key], digits) + _suspect(data))
    return cells


def _detail_rows(servers: dict[str, dict[str, object]], scenarios: list[str]) -> Iterator[str]:
    """Third table: latency, errors and memory, one row per scenario and server."""
    yield "| scenario | server | p50 ms | p99 ms | unexpected status | socket errors | peak RSS MiB |"
    yield "|---|---|---|---|---|---|---|"
    for scenario in scenarios:
        for record in servers.values():
            data = _cell(record, scenario)
            if data is None:
                yield f"| {scenario} | {record['label']} | {_missing(record, scenario)} | - | - | - | - |"
                continue
            yield (
                f"| {scenario} | {record['label']} | {_fmt(data['p50_ms'], 2)} | "
                f"{_fmt(data['p99_ms'], 2)} | {data.get('unexpected_status', data['non2xx'])} | "
                f"{data['socket_errors']} | "
                f"{_fmt(data['peak_rss_mib'])} |"
            )


def render_markdown(report: dict[str, object]) -> str:
    """The human-readable report: headline table, rates, detail table, failures."""
    servers: dict[str, dict[str, object]] = report["servers"]  # type: ignore[assignment]
    config: dict[str, object] = report["config"]  # type: ignore[assignment]
    machine: dict[str, object] = report["machine"]  # type: ignore[assignment]
    scenarios: list[str] = config["scenarios"]  # type: ignore[assignment]
    skipped: dict[str, str] = config.get("skipped", {})  # type: ignore[assignment]
    lines = [
        f"# covet benchmark — {report['date']}",
        "",
        (
            f"{machine['nproc']} CPUs ({machine['cpu_model']}), "
            f"Python {machine['python']}, {machine['wrk']}. "
            f"Server on CPU {SERVER_CPU}, wrk on CPU {LOADGEN_CPU}, "
            f"-t1 -c{config['connections']}, warm-up {config['warmup']:g} s, "
            f"{_measured(config)}."
        ),
        "",
        "## Server CPU µs per request (lower is better)",
        "",
        (
            f"The ratio columns divide {SUBJECT}'s figure by the other server's (below 1 means "
            f"{SUBJECT} is cheaper); the last column compares {SUBJECT} with every peer measured "
            f"(not with {LIMIT}, the limit). Database scenarios count the server's CPU only, "
            "not PostgreSQL's."
        ),
        "",
        *_rows(servers, scenarios),
        "",
        "`*` marks figures taken while the server answered an unexpected status or wrk saw socket errors.",
        "",
        *_static_rows(servers, scenarios),
        "## Requests per second",
        "",
        *_rps_rows(servers, scenarios),
        "",
        "## Latency, errors, memory",
        "",
        *_detail_rows(servers, scenarios),
    ]
    if skipped:
        lines += ["", "## Skipped scenarios", ""]
        lines += [f"- **{name}**: {why}" for name, why in skipped.items()]
    unavailable = [(n, r) for n, r in servers.items() if r.get("status") == "unavailable"]
    if unavailable:
        lines += ["", "## Unavailable servers", ""]
        lines += [f"- **{name}**: {record.get('error', 'unknown')}" for name, record in unavailable]
    lines += _failure_lines(servers)
    return "\n".join(lines) + "\n"


def _failure_lines(servers: dict[str, dict[str, object]]) -> list[str]:
    """The "Failures" section (empty without any): each error's first line, then its tail."""
    lines: list[str] = []
    failures = []
    for name, record in servers.items():
        if record.get("status") == "failed":
            failures.append((name, record.get("error", "unknown error")))
        for scenario, data in record.get("scenarios", {}).items():  # type: ignore[union-attr]
            if data.get("status") == "failed":
                failures.append((f"{name}/{scenario}", data.get("error", "unknown error")))
    if failures:
        lines += ["", "## Failures", ""]
        for who, error in failures:
            first, _, rest = str(error).partition("\n")
            lines.append(f"- **{who}**: {first}")
            if rest.strip():
                lines += [
                    "",
                    "  ```",
                    *("  " + ln for ln in rest.splitlines()[-20:]),
                    "  ```",
                ]
    return lines


def draw_chart() -> None:
    """benchmarks/results/latest.png, drawn by plot.py with the peers' venv (matplotlib)."""
    if "matplotlib" in ensure_venv():
        log("no chart: matplotlib did not install into benchmarks/.venv")
        return
    try:
        proc = subprocess.run(
            [venv_bin("python"), str(PLOT), str(RESULTS_DIR / "latest.json"), str(RESULTS_DIR / "latest.png")],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log(f"no chart: {exc}")
        return
    if proc.returncode != 0:
        log(f"no chart: plot.py failed:\n{(proc.stdout + proc.stderr).strip()[-2000:]}")
    else:
        log(f"wrote {RESULTS_DIR / 'latest.png'}")


def publish(report: dict[str, object], name: str = "latest") -> None:
    """Print the tables and write NAME.md, NAME.json and (for the full run, `latest`) the chart."""
    markdown = render_markdown(report)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{name}.md").write_text(markdown)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    print(markdown)
    log(f"wrote {RESULTS_DIR / f'{name}.md'} and {RESULTS_DIR / f'{name}.json'}")
    if name == "latest":
        draw_chart()


def exit_code(servers: dict[str, dict[str, object]], scenarios: list[str], strict: bool) -> int:
    """1 if nothing was measured, or (with --strict) if any server or scenario failed."""
    any_ok = any(_cell(record, s) is not None for record in servers.values() for s in scenarios)
    any_failed = any(
        record["status"] == "failed" or any(data.get("status") == "failed" for data in record["scenarios"].values())  # type: ignore[union-attr]
        for record in servers.values()
    )
    if not any_ok or (strict and any_failed):
        return 1
    return 0
