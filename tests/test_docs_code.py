"""Every Python and shell block of README.md and docs/*.md runs (docs/writing-docs.md), so the
documentation cannot drift from the code: one test per page, its blocks in order, in a
directory of its own; skips are explicit markers in the page, each with its reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.docs_blocks import PAGES, ROOT, Block, blocks, commands
from tests.docs_runner import classify

SHELL = {"sh", "bash", "shell", "console"}


def runnable(block: Block) -> bool:
    if block.skip is not None or block.language not in SHELL | {"python"}:
        return False
    if block.language == "python":
        return True
    kinds = {classify(command) for command, _ in commands(block.code)}
    return kinds == {"run"}


def test_every_skip_says_why_and_every_command_is_classified() -> None:
    problems = []
    for page in PAGES:
        for block in blocks(page):
            if block.skip == "":
                problems.append(f"{block.where}: a skip marker without a reason")
            if block.language in SHELL and block.skip is None:
                for command, _ in commands(block.code):
                    if classify(command) == "unknown":
                        problems.append(f"{block.where}: `{command}`: add it to RUN or NOT_RUN in tests/docs_runner.py")
    assert problems == []


PAGES_WITH_CODE = [p for p in PAGES if any(runnable(b) for b in blocks(p))]


@pytest.mark.parametrize("page", PAGES_WITH_CODE, ids=[str(p.relative_to(ROOT)) for p in PAGES_WITH_CODE])
def test_page_code_runs(page: Path, tmp_path: Path) -> None:
    todo = [
        {
            "where": block.where,
            "line": block.line,
            "language": "python" if block.language == "python" else "sh",
            "code": block.code,
            "file": block.file,
            "commands": commands(block.code) if block.language in SHELL else [],
        }
        for block in blocks(page)
        if runnable(block)
    ]
    venv_bin = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "docs_runner.py"), str(free_port())],
        input=json.dumps(todo),
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-6000:]
    assert done.stdout.count("RAN ") == len(todo)
