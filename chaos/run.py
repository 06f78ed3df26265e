"""`make chaos`: runs the fault scenarios under load, prints one markdown table and writes
chaos/results/latest.json. Exits 1 when anything was lost or admitted beyond a limit.

    python -m chaos.run [--only shutdown,ratelimit,redis,postgres,malformed]"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

from chaos.scenarios import SCENARIOS
from chaos.tally import Tally, markdown

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


async def run(names: list[str]) -> list[Tally]:
    tallies: list[Tally] = []
    for name in names:
        started = time.monotonic()
        print(f"chaos: {name} ...", file=sys.stderr, flush=True)
        try:
            tallies += await SCENARIOS[name]()
        except Exception as exc:  # one broken scenario still leaves the others' rows
            tallies.append(Tally(name, error=f"{type(exc).__name__}: {exc}"))
        print(f"chaos: {name} done in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return tallies


def report(tallies: list[Tally], path: Path) -> dict[str, object]:
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True, text=True).stdout.strip()
    data = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": commit,
        "rows": [t.row() for t in tallies],
        "outcomes": {t.name: {str(k): v for k, v in sorted(t.outcomes.items(), key=str)} for t in tallies},
        "failures": [f for t in tallies for f in t.failures()],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")
    return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenario names")
    parser.add_argument("--json", type=Path, default=RESULTS, help="where to write the results")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenarios {unknown}; known: {', '.join(SCENARIOS)}")
    tallies = asyncio.run(run(names))
    data = report(tallies, args.json)
    print(markdown(tallies))
    failures = data["failures"]
    print(
        "\n"
        + (
            "FAIL: " + "; ".join(failures)
            if failures
            else "PASS: nothing lost, nothing over-admitted, no 500 where none is allowed"
        )
    )  # type: ignore[arg-type]
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
