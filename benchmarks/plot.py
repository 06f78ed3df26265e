#!/usr/bin/env python3
"""Draw results/latest.png: server CPU µs per request, per scenario and server.

Run by report.py with benchmarks/.venv's python (matplotlib lives there, not in covet's venv):
    benchmarks/.venv/bin/python benchmarks/plot.py [results.json] [out.png]
A log scale is used when the largest bar is more than LOG_SPREAD times the smallest.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
LOG_SPREAD = 20


def main(argv: list[str]) -> int:
    """Read the JSON report, write the grouped bar chart."""
    src = Path(argv[1]) if len(argv) > 1 else RESULTS / "latest.json"
    out = Path(argv[2]) if len(argv) > 2 else RESULTS / "latest.png"
    report = json.loads(src.read_text())
    scenarios: list[str] = report["config"]["scenarios"]
    servers = {name: rec for name, rec in report["servers"].items() if rec.get("status") != "unavailable"}
    values: dict[str, list[float | None]] = {}
    for name, record in servers.items():
        row = []
        for scenario in scenarios:
            data = record.get("scenarios", {}).get(scenario) or {}
            row.append(data.get("cpu_us_per_req") if data.get("status") == "ok" else None)
        values[name] = row
    measured = [v for row in values.values() for v in row if v]
    if not measured:
        print("plot.py: nothing measured", file=sys.stderr)
        return 1
    width = 0.8 / max(len(servers), 1)
    fig, ax = plt.subplots(figsize=(max(8, 1.3 * len(scenarios) + 2), 5.5), dpi=110)
    for i, (name, row) in enumerate(values.items()):
        xs = [j + (i - (len(servers) - 1) / 2) * width for j in range(len(scenarios))]
        heights = [v or 0 for v in row]
        ax.bar(xs, heights, width, label=servers[name]["label"])
    if max(measured) / min(measured) > LOG_SPREAD:
        ax.set_yscale("log")
        ax.set_ylabel("server CPU µs per request (log scale, lower is better)")
    else:
        ax.set_ylabel("server CPU µs per request (lower is better)")
    ax.set_xticks(range(len(scenarios)), scenarios)
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(fontsize="small", ncol=min(4, len(servers)))
    cfg = report["config"]
    ax.set_title(
        f"covet vs peers — {report['date']}, 1 worker on CPU {cfg['server_cpu']}, "
        f"wrk -t1 -c{cfg['connections']}, {_runs(cfg)} (missing bar: not run or failed)",
        fontsize="small",
    )
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    print(f"plot.py: wrote {out}")
    return 0


def _runs(cfg: dict) -> str:
    """How each bar was measured: one run, or the median of several."""
    runs = cfg.get("runs", 1)
    return f"{cfg['duration']} s" if runs == 1 else f"median of {runs} runs of {cfg['duration']} s"


if __name__ == "__main__":
    sys.exit(main(sys.argv))
