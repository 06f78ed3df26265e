"""mkdocs hooks (mkdocs.yml `hooks:`): the repository files the docs link to become pages.

The docs link to examples and other files with paths relative to the repository
(`../examples/chat/app.py`), which work when reading them on a forge or in an editor. On the
site those targets are outside `docs/`, so each linked file is added as a generated page under
`source/` showing the file, and the link is pointed there; a link to a file that does not exist
is left alone, and `mkdocs build --strict` fails on it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

LINK = re.compile(r"\]\(\.\./([^)#\s]+)(#[^)\s]*)?\)")
LANGUAGES = {".py": "python", ".json": "json", ".md": "markdown", ".yml": "yaml", ".yaml": "yaml", ".toml": "toml"}


def _root(config: Any) -> Path:
    return Path(config.config_file_path).resolve().parent


def _page(target: str, path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    fence = "`" * max([3, *(len(run) + 1 for run in re.findall(r"`{3,}", text))])
    language = LANGUAGES.get(path.suffix, "text")
    return f"# `{target}`\n\n{fence}{language}\n{text.rstrip()}\n{fence}\n"


def on_files(files: Files, config: Any) -> Files:
    root = _root(config)
    for markdown in sorted(Path(config.docs_dir).rglob("*.md")):
        for target, _anchor in LINK.findall(markdown.read_text(encoding="utf-8")):
            path = root / target
            uri = f"source/{target}.md"
            if path.is_file() and files.get_file_from_path(uri) is None:
                files.append(File.generated(config, uri, content=_page(target, path)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    root = _root(config)
    prefix = "../" * page.file.src_uri.count("/")

    def point(match: re.Match[str]) -> str:
        target = match.group(1)
        if not (root / target).is_file():
            return match.group(0)
        return f"]({prefix}source/{target}.md)"

    return LINK.sub(point, markdown)
