"""Data the conformance tests judge code and sandbox by: the vendors' own material, copied with its source."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


# -- the official Tencent SDK models and tccli's API-page examples -------------------------------------

SDK_VERSIONS = {"trtc": "v20190722", "live": "v20180801", "vod": "v20180717"}


def sdk_model(product: str, name: str) -> Any:
    """A fresh instance of ``tencentcloud.<product>.<version>.models.<name>`` (the official SDK)."""
    import importlib

    module = importlib.import_module(f"tencentcloud.{product}.{SDK_VERSIONS[product]}.models")
    return getattr(module, name)()


def unknown_members(model: Any, data: Any, path: str = "") -> list[str]:
    """Members of ``data`` the SDK model does not declare, recursively (``A[0].B``).

    The SDK's ``_deserialize`` silently drops unknown top-level response members and only warns
    ("fileds are useless") for nested ones, so the walk is done here after deserializing."""
    from tencentcloud.common.abstract_model import AbstractModel

    if not isinstance(data, dict):
        return [f"{path or '<root>'} (not an object: {type(data).__name__})"]
    declared = {name[1:] for name in vars(model) if name.startswith("_")}
    out: list[str] = []
    for key, value in data.items():
        where = f"{path}{key}"
        if key not in declared:
            out.append(where)
            continue
        attr = getattr(model, key)
        if isinstance(attr, AbstractModel):
            out += unknown_members(attr, value, where + ".")
        elif isinstance(attr, list) and isinstance(value, list):
            for i, (item, raw) in enumerate(zip(attr, value, strict=False)):
                if isinstance(item, AbstractModel):
                    out += unknown_members(item, raw, f"{where}[{i}].")
    return out


def deserialize(product: str, name: str, data: dict[str, Any]) -> tuple[Any, list[str]]:
    """``name`` deserialized from ``data`` and the members it does not know (warnings included)."""
    import warnings

    model = sdk_model(product, name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model._deserialize(data)
    unknown = unknown_members(model, data)
    unknown += [str(w.message) for w in caught if "useless" in str(w.message) and not unknown]
    return model, unknown


def tccli_examples(product: str, action: str) -> list[dict[str, Any]]:
    """The examples an API page prints, as tccli ships them: ``request``/``response`` (the ``Response``
    object) and ``title``, plus the file they came from."""
    import importlib.util

    spec = importlib.util.find_spec("tccli")
    assert spec is not None and spec.submodule_search_locations
    path = Path(next(iter(spec.submodule_search_locations))) / "services" / product / SDK_VERSIONS[product]
    examples = json.loads((path / "examples.json").read_text(encoding="utf-8"))["actions"].get(action, [])
    out = []
    for ex in examples:
        body = ex["input"].split("\n\n", 1)[1] if "\n\n" in ex["input"] else "{}"
        out.append(
            {
                "title": ex.get("title", ""),
                "request": json.loads(body or "{}"),
                "response": json.loads(ex["output"])["Response"],
                "source": f"tccli/services/{product}/{SDK_VERSIONS[product]}/examples.json",
            }
        )
    return out


def shape(value: Any) -> Any:
    """The keys of ``value``, recursively (a list's items merged): what "same shape" compares.
    ``None`` (JSON null) stays ``None``: it says nothing about the member's shape."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        merged: dict[str, Any] = {}
        leaf = False
        for item in value:
            if item is None:
                continue
            s = shape(item)
            if isinstance(s, dict):
                for k, v in s.items():
                    merged[k] = v if merged.get(k) in (None, "", [], {}) else merged[k]
            else:
                leaf = True
        return [merged] if merged else ([""] if leaf else [])
    return ""


def shape_diff(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Where two shapes differ: ``+A.B`` only in ours, ``-A.B`` only in theirs. An empty list on
    either side, or null, says nothing about its items."""
    if ours is None or theirs is None:
        return []
    if isinstance(ours, dict) and isinstance(theirs, dict):
        out = [f"+{path}{k}" for k in ours if k not in theirs]
        out += [f"-{path}{k}" for k in theirs if k not in ours]
        for k in ours.keys() & theirs.keys():
            out += shape_diff(ours[k], theirs[k], f"{path}{k}.")
        return sorted(out)
    if isinstance(ours, list) and isinstance(theirs, list):
        if not ours or not theirs:
            return []
        return shape_diff(ours[0], theirs[0], path.rstrip(".") + "[].")
    if type(ours) is not type(theirs):
        return [f"~{path.rstrip('.')} ({type(ours).__name__} vs {type(theirs).__name__})"]
    return []


def zego_example(stem: str) -> dict[str, Any]:
    """One of ZEGO's own example payloads (data/zego/<stem>.json: doc path, commit, payload)."""
    return load(f"zego/{stem}.json")


def provider_literals() -> set[str]:
    """Every quoted string in the provider's code outside the sandbox: what the code can read."""
    import re

    root = Path(__file__).resolve().parents[2] / "airflow_provider_rtc"
    found: set[str] = set()
    for path in root.rglob("*.py"):
        if "sandbox" not in path.relative_to(root).parts:
            found.update(re.findall(r'"([A-Za-z_][A-Za-z0-9_]*)"', path.read_text(encoding="utf-8")))
    return found


def read_names(path: str) -> list[str]:
    """The member names of a declared read path (``A[].B.C`` -> A, B, C)."""
    return [part.removesuffix("[]") for part in path.split(".")]
