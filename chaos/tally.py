"""What a chaos scenario counts, and the markdown table `make chaos` prints.

A request is counted once, by what came back: a status code, or nothing. "Refused" (the
listener was already closed, so nothing was sent) is counted apart from "lost" (sent on an
accepted connection, then 0 bytes, a reset or no answer within the client's timeout)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

REFUSED = "refused"
LOST = "lost"  # sent, then the connection closed or was reset before any response byte
HUNG = "hung"  # sent, no response within the client timeout: also a request with no answer

COLUMNS = ["scenario", "sent", "2xx", "4xx", "429", "503", "5xx other", "no answer (lost)", "over-admitted", "notes"]


@dataclass
class Tally:
    """The outcomes of one scenario. `outcomes` maps a status code (int) or REFUSED/LOST/HUNG to
    a count; `over_admitted` is None where the scenario has no limit to exceed."""

    name: str
    outcomes: Counter[int | str] = field(default_factory=Counter)
    over_admitted: int | None = None
    extra_lost: int = 0  # lost by a scenario's own check (e.g. acknowledged rows missing)
    notes: list[str] = field(default_factory=list)
    no_500: bool = False  # the scenario's bar includes "never a 500" (any 5xx but 503)
    error: str | None = None  # the scenario could not run (a missing binary, a crash of the harness)

    def add(self, outcome: int | str) -> None:
        self.outcomes[outcome] += 1

    def _statuses(self, low: int, high: int, *, skip: tuple[int, ...] = ()) -> int:
        return sum(n for k, n in self.outcomes.items() if isinstance(k, int) and low <= k < high and k not in skip)

    @property
    def sent(self) -> int:
        return sum(n for k, n in self.outcomes.items() if k != REFUSED)

    @property
    def lost(self) -> int:
        return self.outcomes[LOST] + self.outcomes[HUNG] + self.extra_lost

    def row(self) -> dict[str, Any]:
        return {
            "scenario": self.name,
            "sent": self.sent,
            "2xx": self._statuses(200, 300),
            "4xx": self._statuses(400, 500, skip=(429,)),
            "429": self.outcomes[429],
            "503": self.outcomes[503],
            "5xx other": self._statuses(500, 600, skip=(503,)),
            "no answer (lost)": self.lost,
            "over-admitted": self.over_admitted,
            "notes": "; ".join(self._auto_notes() + self.notes),
        }

    def _auto_notes(self) -> list[str]:
        notes = [f"DID NOT RUN: {self.error}"] if self.error else []
        if self.outcomes[REFUSED]:
            notes.append(f"{self.outcomes[REFUSED]} refused after the listener closed (not lost)")
        if self.outcomes[HUNG]:
            notes.append(f"{self.outcomes[HUNG]} of the lost hung past the client timeout")
        if self.extra_lost:
            notes.append(f"{self.extra_lost} of the lost are acknowledged rows missing")
        other = sorted(k for k in self.outcomes if isinstance(k, int) and (k < 200 or 300 <= k < 400))
        if other:
            notes.append("other statuses: " + ", ".join(f"{k} x{self.outcomes[k]}" for k in other))
        return notes

    def failures(self) -> list[str]:
        """What breaks the bar `make chaos` holds every scenario to: nothing lost, nothing
        admitted beyond a limit."""
        out = []
        if self.error:
            out.append(f"{self.name}: did not run ({self.error})")
        if self.lost:
            out.append(f"{self.name}: {self.lost} lost")
        if self.over_admitted:
            out.append(f"{self.name}: {self.over_admitted} over-admitted")
        if self.no_500 and self.row()["5xx other"]:
            out.append(f"{self.name}: {self.row()['5xx other']} answers 5xx other than 503")
        return out


def markdown(tallies: list[Tally]) -> str:
    """The results as one markdown table (n/a where a scenario has no limit to exceed)."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
    for tally in tallies:
        row = tally.row()
        cells = ["n/a" if row[c] is None else str(row[c]).replace("|", "/") for c in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
