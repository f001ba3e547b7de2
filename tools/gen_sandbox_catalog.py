"""Generate rtc-sandbox/src/rtc_sandbox/data/catalog.json from the provider's catalog.

The sandbox is its own distribution and imports neither Airflow nor the provider, yet it must route,
check regions and throttle exactly as the provider's catalog (``airflow_provider_rtc.catalog``, where
every fact is written once, with its vendor source) says. So it ships the facts as data, written by
this script: every field of every entry, and each product module's constants (versions, region sets,
query windows). ``tests/sandbox/test_catalog_agrees.py`` fails when the committed file is not what
this script writes now.

Usage: python tools/gen_sandbox_catalog.py [--check]
(``--check`` writes nothing and exits 1 naming the stale fields).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "rtc-sandbox" / "src" / "rtc_sandbox" / "data" / "catalog.json"
COMMAND = "python tools/gen_sandbox_catalog.py"
#: the product modules of airflow_provider_rtc.catalog whose constants the sandbox carries
MODULES = ("trtc", "live", "vod", "zego")


def _plain(value: Any) -> Any:
    """A JSON value for a catalog fact: sets sorted (deterministic output), tuples as lists."""
    if isinstance(value, frozenset | set):
        return sorted(value, key=lambda v: (isinstance(v, str), v))
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def build() -> dict[str, Any]:
    """The data file's content, from the provider's catalog as it is imported now."""
    catalog = importlib.import_module("airflow_provider_rtc.catalog")
    constants = {}
    for name in MODULES:
        module = importlib.import_module(f"airflow_provider_rtc.catalog.{name}")
        constants[name] = {
            key: _plain(value)
            for key, value in sorted(vars(module).items())
            if key.isupper() and not key.startswith("_") and not isinstance(value, catalog.Api)
        }
    return {
        "generated_by": COMMAND,
        "source": "airflow_provider_rtc.catalog (each fact's vendor source is cited there)",
        "apis": [_plain(catalog.CATALOG[key]) for key in sorted(catalog.CATALOG)],
        "constants": constants,
    }


def render(data: dict[str, Any] | None = None) -> str:
    """The file's text: one line per API and per product's constants, so a diff names the entry."""
    data = build() if data is None else data

    def line(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False)

    head = [f" {line(k)}: {line(v)}," for k, v in data.items() if k not in ("apis", "constants")]
    apis = ",\n".join(f"  {line(api)}" for api in data["apis"])
    consts = ",\n".join(f"  {line(k)}: {line(v)}" for k, v in data["constants"].items())
    return "{\n" + "\n".join(head) + f'\n "apis": [\n{apis}\n ],\n "constants": {{\n{consts}\n }}\n}}\n'


def stale(committed: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """What differs, one line per field: ``trtc/DismissRoom.qps: file 21.0, catalog 20.0``."""
    out: list[str] = []
    ours = {(a["product"], a["action"]): a for a in committed.get("apis", [])}
    theirs = {(a["product"], a["action"]): a for a in wanted["apis"]}
    for key in sorted(ours.keys() | theirs.keys()):
        name = "/".join(key)
        if key not in ours:
            out.append(f"{name}: missing from the file")
        elif key not in theirs:
            out.append(f"{name}: in the file, not in the catalog")
        else:
            a, b = ours[key], theirs[key]
            for field in sorted(a.keys() | b.keys()):
                if a.get(field) != b.get(field):
                    out.append(f"{name}.{field}: file {a.get(field)!r}, catalog {b.get(field)!r}")
    mine, want = committed.get("constants", {}), wanted["constants"]
    for module in sorted(mine.keys() | want.keys()):
        a, b = mine.get(module, {}), want.get(module, {})
        for const in sorted(a.keys() | b.keys()):
            if a.get(const) != b.get(const):
                out.append(f"{module}.{const}: file {a.get(const)!r}, catalog {b.get(const)!r}")
    for top in sorted((committed.keys() | wanted.keys()) - {"apis", "constants"}):
        if committed.get(top) != wanted.get(top):
            out.append(f"{top}: file {committed.get(top)!r}, generator {wanted.get(top)!r}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if the file is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        committed = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {}
        problems = stale(committed, json.loads(text))
        if problems or (OUT.exists() and OUT.read_text(encoding="utf-8") != text):
            head = f"{OUT.relative_to(ROOT)} is stale; run `{COMMAND}`:"
            print(head, *problems, sep="\n  ", file=sys.stderr)
            return 1
        return 0
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(text.encode())} bytes, {len(json.loads(text)['apis'])} APIs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
