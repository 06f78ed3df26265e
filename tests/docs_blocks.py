"""The code blocks of README.md and docs/*.md, for tests/test_docs_code.py (the convention is in
docs/writing-docs.md).

A block is a fenced block (```python, ```sh); an HTML comment on the line before it (blank lines
between are allowed) changes what happens to it:

- `<!-- docs-test: skip (reason) -->`: not run; the reason is required.
- `<!-- docs-test: file NAME -->`: a Python block also written to NAME in the working directory
  (the page says "save this as app.py" and a later `covet run app:app` serves it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Block", "blocks", "commands", "ROOT", "PAGES"]

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^(\s*)(`{3,})([\w+-]*)\s*$")
MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(skip|file)\b\s*(.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the first line of code, 1-based
    language: str
    code: str
    skip: str | None = None  # the reason given, when marked skip
    file: str | None = None

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    marker: re.Match[str] | None = None
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if fence is None:
            if lines[i].strip():
                marker = MARKER.match(lines[i])
            i += 1
            continue
        indent, ticks, language = fence.groups()
        end = i + 1
        while end < len(lines) and lines[end].strip() != ticks:
            end += 1
        body = [line[len(indent) :] if line.startswith(indent) else line.lstrip() for line in lines[i + 1 : end]]
        skip = file = None
        if marker is not None:
            kind, argument = marker.groups()
            if kind == "skip":
                skip = argument.strip("() ") or ""
            else:
                file = argument
        found.append(Block(page, i + 2, language, "\n".join(body) + "\n", skip, file))
        marker = None
        i = end + 1
    return found


def commands(code: str) -> list[tuple[str, list[str]]]:
    """A shell block's commands (continuation lines joined, comment lines dropped), each with the
    output shown after it when the block is written as `$ command` then output."""
    prompt = any(line.startswith("$ ") for line in code.splitlines())
    result: list[tuple[str, list[str]]] = []
    pending = ""
    for raw in code.splitlines():
        if prompt and not raw.startswith("$ ") and not pending:
            if result and raw.strip():
                result[-1][1].append(raw)
            continue
        line = raw[2:] if prompt and raw.startswith("$ ") else raw
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        result.append((pending + line, []))
        pending = ""
    return result
