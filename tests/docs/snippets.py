"""Fenced code blocks of README.md and docs/, and what a test does with each (test_snippets.py).

Every block needs a language. ``python`` blocks of a page run in order in one namespace (a page is a
tutorial); a block that builds a DAG is also written to a file in a dags folder, parsed by a DagBag and
run with ``dag.test()``, which must succeed. ``bash`` blocks run in ``bash -euo pipefail`` with the
venv's scripts on ``PATH``. ``json``/``ini``/``toml`` blocks must parse. ``text`` blocks (output,
commands that need the internet or a real account) are not run; the page says why.

A directive in an HTML comment on the line right before a fence adjusts a block:
``<!-- snippet: parse-only -->`` (a DAG parsed, not run: it would write outside the sandbox),
``<!-- snippet: conf={"dry_run": true} -->`` (the ``dag.test()`` run conf; a JSON list runs it once
per conf, in order; ``"$name"`` is a value the fixture seeded, ``"$tmp/x"`` a scratch path),
``<!-- snippet: background -->`` (a server: started, its first stdout line must be JSON, then stopped).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = {"python", "bash", "json", "ini", "toml", "text"}
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,})(?P<lang>[\w+-]*)[^\n]*$")
_DIRECTIVE = re.compile(r"^\s*<!--\s*snippet:\s*(?P<body>.*?)\s*-->\s*$")


@dataclass
class Block:
    path: Path
    line: int
    lang: str
    code: str
    directives: dict[str, Any] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def pages() -> list[Path]:
    docs = sorted((ROOT / "docs").rglob("*.md"))
    return [ROOT / "README.md", *docs]


def _directives(line: str) -> dict[str, Any]:
    match = _DIRECTIVE.match(line)
    if not match:
        return {}
    body = match.group("body")
    if body.startswith("conf="):
        return {"conf": json.loads(body[len("conf=") :])}
    return {word: True for word in body.split()}


def blocks(path: Path) -> list[Block]:
    lines = path.read_text(encoding="utf-8").split("\n")
    found: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, fence = match.group("indent"), match.group("fence")
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
            i += 1
        before = lines[start - 1] if start else ""
        found.append(Block(path, start + 1, match.group("lang"), "\n".join(body) + "\n", _directives(before)))
        i += 1
    return found


def all_blocks() -> list[Block]:
    return [b for page in pages() for b in blocks(page)]
