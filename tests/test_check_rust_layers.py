"""The binding's layer check (scripts/check_rust_layers.py, run by `make lint`): the crate as it is
passes, and a conversion that reaches into the connection, or two modules that import each
other, are caught."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("check_layers", ROOT / "scripts" / "check_rust_layers.py")
assert _spec is not None and _spec.loader is not None
check_layers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_layers)


def _crate(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_binding_keeps_its_layers() -> None:
    assert check_layers.check(check_layers.SRC) == []


def test_a_conversion_using_the_connection_is_refused(tmp_path: Path) -> None:
    src = _crate(
        tmp_path,
        {
            "lib.rs": "mod convert;\nmod protocol;\n",
            "convert/mod.rs": "pub mod request;\n",
            "convert/request.rs": "use crate::protocol::stream::BodyStream;\n",
            "protocol/mod.rs": "pub mod stream;\n",
            "protocol/stream.rs": "// use crate::convert::request; (a comment, not a use)\n",
        },
    )
    problems = check_layers.check(src)
    assert len(problems) == 1
    assert "convert::request (layer 1) uses protocol::stream (layer 2)" in problems[0]


def test_modules_importing_each_other_are_a_cycle(tmp_path: Path) -> None:
    src = _crate(
        tmp_path,
        {
            "lib.rs": "mod convert;\n",
            "convert/mod.rs": "pub mod policy;\npub mod options;\n",
            "convert/policy.rs": "use super::options::opt;\n",
            "convert/options.rs": "pub fn opt() { crate::convert::policy::build(); }\n",
        },
    )
    assert check_layers.check(src) == [
        "import cycle among convert::options, convert::policy "
        "(one: convert::options -> convert::policy -> convert::options)"
    ]


def test_a_module_outside_the_layers_is_named(tmp_path: Path) -> None:
    src = _crate(tmp_path, {"lib.rs": "mod cache;\n", "cache.rs": "\n"})
    assert check_layers.check(src) == ["cache.rs: cache is in no layer: put it under convert/ or protocol/"]
