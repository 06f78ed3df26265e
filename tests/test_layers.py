"""The layering rules of python/covet (docs/architecture.md, "The Python layers"), checked by
scripts/check_layers.py: no import cycle, no module but applications.py touching a private
attribute of the app. The checker runs on covet itself, and on small packages written here to
show that it finds what it is meant to find."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "check_layers.py"


def check(package: Path) -> tuple[int, str]:
    done = subprocess.run([sys.executable, str(SCRIPT), str(package)], capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout


def write(package: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return package


def test_covet_keeps_its_layers() -> None:
    code, out = check(ROOT / "python" / "covet")
    assert (code, out) == (0, "")


def test_a_cycle_through_a_deferred_import_is_found(tmp_path: Path) -> None:
    package = write(
        tmp_path / "covet",
        {
            "__init__.py": "",
            "a.py": "from covet.b import thing\n",
            "b.py": "def thing():\n    from covet import a\n    return a\n",
            "c.py": "from covet.a import thing\n",  # depends on the cycle, is not part of it
        },
    )
    code, out = check(package)
    assert code == 1
    assert "import cycle between covet.a, covet.b:" in out
    assert "covet.a -> covet.b" in out and "covet.b -> covet.a" in out
    assert "covet.c" not in out


def test_imports_for_type_checking_only_are_not_a_cycle(tmp_path: Path) -> None:
    package = write(
        tmp_path / "covet",
        {
            "__init__.py": "",
            "a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from covet.b import B\n",
            "b.py": "from covet import a\nclass B: ...\n",
            "sub/__init__.py": "",
            "sub/x.py": "from . import y\n",  # relative imports resolve too
            "sub/y.py": "import covet.a\n",
        },
    )
    assert check(package) == (0, "")


@pytest.mark.parametrize(
    "line",
    [
        "app._tasks.add(1)",
        "self.app._policy = None",
        "request.app._collect(ValueError())",
        "getattr(app, '_analysed_overrides', {})",
    ],
)
def test_a_private_attribute_of_the_app_is_found(tmp_path: Path, line: str) -> None:
    source = f"def f(self, app, request):\n    {line}\n"
    package = write(tmp_path / "covet", {"__init__.py": "", "routing.py": source, "applications.py": source})
    code, out = check(package)
    assert code == 1
    assert "routing.py:2: private attribute of the app" in out
    assert "applications.py" not in out  # the app's own module may


def test_public_attributes_and_other_objects_privates_pass(tmp_path: Path) -> None:
    source = "def f(app, request, pipeline):\n    app.runtime.start(None)\n    request._raw\n    app.__class__\n"
    package = write(tmp_path / "covet", {"__init__.py": "", "routing.py": source})
    assert check(package) == (0, "")
