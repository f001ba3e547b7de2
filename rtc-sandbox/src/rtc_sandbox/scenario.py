"""Scenarios users write: named rooms, users, streams, mixes, recordings, past start times, lost or
late callbacks and faults, as a TOML/JSON file (``rtc-sandbox --scenario FILE``) or the same dict
(``RtcSandbox(scenario=...)``, ``POST /_sandbox/seed``). The format is documented in docs/sandbox.md.

Top-level tables: ``sandbox`` (any key of the config document, see config.py), ``trtc``, ``zego``,
``live`` (resources), ``callbacks`` (``lost``/``late``/``sent`` rules, plus the probabilistic
``lost_probability``/``late_probability``/``late_seconds``/``kinds``) and ``faults`` (the fault
document of faults.py: request faults and recording outcomes). Resource tables take either counts
(``rooms = 3``, the counting seed of seed.py) or lists of named resources (``[[trtc.rooms]]``).
A callback rule names a resource by its scenario ``name`` or by its id; names are resolved once the
resources exist, so a rule cannot point at a room that is not there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .lifecycle import ALL_KINDS, DEFAULT_FAULT_KINDS, CallbackRule

if TYPE_CHECKING:
    from .core import Sandbox

SECTIONS = {"sandbox", "trtc", "zego", "live", "callbacks", "faults"}
CALLBACK_KEYS = {"lost", "late", "sent", "lost_probability", "late_probability", "late_seconds", "kinds"}
_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")


def parse_duration(value: Any, where: str) -> float:
    """Seconds from a number or a text like ``"2h"``, ``"90 minutes"``, ``"1h30m"``, ``"2 hours ago"``."""
    if isinstance(value, bool):
        raise ValueError(f"{where}: a duration is seconds or a text like '2h', not {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().removesuffix("ago").strip()
        parts = _PART.findall(text)
        if not parts or _PART.sub("", text).strip():
            raise ValueError(f"{where}: cannot read {value!r} as a duration ('2h', '90m', '1h30m', 3600)")
        seconds = 0.0
        for number, unit in parts:
            factor = _UNITS.get(unit.removesuffix("s")) or _UNITS.get(unit)
            if factor is None:
                raise ValueError(f"{where}: unknown time unit {unit!r} in {value!r}")
            seconds += float(number) * factor
    else:
        raise ValueError(f"{where}: a duration is seconds or a text like '2h', not {value!r}")
    if seconds < 0:
        raise ValueError(f"{where}: a duration must be >= 0")
    return seconds


def load_scenario(path: str | Path) -> dict[str, Any]:
    """A scenario file: ``.toml`` (stdlib tomllib) or ``.json``."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".toml":
        import tomllib

        data = tomllib.loads(text)
    elif path.suffix.lower() == ".json":
        data = json.loads(text)
    else:
        raise ValueError(f"{path}: a scenario file ends in .toml or .json")
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a scenario is a table/object")
    return data


def check(scenario: dict[str, Any]) -> None:
    unknown = set(scenario) - SECTIONS
    if unknown:
        raise ValueError(f"unknown scenario sections: {sorted(unknown)} (known: {sorted(SECTIONS)})")
    unknown = set(scenario.get("callbacks") or {}) - CALLBACK_KEYS
    if unknown:
        raise ValueError(f"unknown keys in 'callbacks': {sorted(unknown)} (known: {sorted(CALLBACK_KEYS)})")


def config_of(scenario: dict[str, Any]) -> dict[str, Any]:
    """The sandbox config document a scenario implies: its ``sandbox`` table and its ``faults``."""
    check(scenario)
    config = dict(scenario.get("sandbox") or {})
    if "seed" in config or "seed_event" in config:
        raise ValueError("a scenario's resources go in its trtc/zego/live tables, not sandbox.seed")
    if scenario.get("faults"):
        config["faults"] = {**dict(config.get("faults") or {}), **scenario["faults"]}
    return config


def apply_scenario(sandbox: Sandbox, scenario: dict[str, Any]) -> dict[str, Any]:
    """Create the scenario's resources and set its callback rules; return the seed result (ids and
    ``names``). Its ``sandbox``/``faults`` tables are applied when the sandbox is built (config_of)."""
    check(scenario)
    spec = {cloud: scenario[cloud] for cloud in ("trtc", "zego", "live") if scenario.get(cloud)}
    seeded = sandbox.seed(spec)
    callbacks = scenario.get("callbacks")
    if callbacks:
        # append: keeps the request-fault rules; the lifecycle part is replaced as a whole
        sandbox.set_faults({"lifecycle": lifecycle_doc(callbacks, seeded.get("names", {}))}, append=True)
    return seeded


def lifecycle_doc(callbacks: dict[str, Any], names: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The lifecycle fault document of a scenario's ``callbacks`` table, names resolved to ids."""
    rules: list[dict[str, Any]] = []
    for fate in ("sent", "lost", "late"):
        entries = callbacks.get(fate) or []
        if isinstance(entries, dict):
            entries = [entries]
        for i, entry in enumerate(entries):
            rules.append(_rule(fate, dict(entry), names, f"callbacks.{fate}[{i}]"))
    kinds = callbacks.get("kinds", list(DEFAULT_FAULT_KINDS))
    bad = set(kinds) - set(ALL_KINDS)
    if bad:
        raise ValueError(f"callbacks.kinds must be among {ALL_KINDS}, not {sorted(bad)}")
    return {
        "lost": float(callbacks.get("lost_probability", 0.0)),
        "late": float(callbacks.get("late_probability", 0.0)),
        "late_seconds": parse_duration(callbacks.get("late_seconds", 5.0), "callbacks.late_seconds"),
        "kinds": list(kinds),
        "rules": rules,
    }


def _rule(fate: str, entry: dict[str, Any], names: dict[str, dict[str, Any]], where: str) -> dict[str, Any]:
    unknown = set(entry) - {"room", "stream", "cloud", "kinds", "kind", "events", "event", "after"}
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    rule: dict[str, Any] = {"fate": fate}
    if "kind" in entry:
        entry.setdefault("kinds", [entry.pop("kind")])
    if "event" in entry:
        entry.setdefault("events", [entry.pop("event")])
    for key in ("cloud", "kinds", "events"):
        if key in entry:
            rule[key] = entry[key]
    if "after" in entry:
        if fate != "late":
            raise ValueError(f"{where}: only a late rule takes 'after'")
        rule["seconds"] = parse_duration(entry["after"], f"{where}.after")
    elif fate == "late":
        raise ValueError(f"{where}: a late rule says how late: after = '30s'")
    for key in ("room", "stream"):
        if key not in entry:
            continue
        ref = entry[key]
        named = names.get(ref) if isinstance(ref, str) else None
        if named is not None:
            if rule.get("cloud", named["cloud"]) != named["cloud"]:
                raise ValueError(f"{where}: {ref!r} is a {named['cloud']} resource, not {rule['cloud']}")
            field = "room_id" if key == "room" else "stream_id"
            if field not in named:
                raise ValueError(f"{where}: {ref!r} is not a {key}")
            rule["cloud"] = named["cloud"]
            rule[key] = named[field]
        elif "cloud" in rule:
            rule[key] = ref  # an id of a resource the scenario did not create (or name)
        else:
            # a typo must not silently match nothing: a bare id needs its cloud
            raise ValueError(f"{where}: {ref!r} names no resource of the scenario (to give an id, add cloud)")
    if not any(k in rule for k in ("room", "stream", "kinds", "events", "cloud")):
        raise ValueError(f"{where}: say which callbacks (room, stream, cloud, kind or event)")
    CallbackRule.from_dict(rule)  # validate here, naming the entry
    return rule


def started_before(now: float, entry: dict[str, Any], where: str) -> float:
    """The start time of a resource: ``started_ago`` ("2h", 7200) before ``now``, else ``now``."""
    if "started_ago" not in entry:
        return now
    return now - parse_duration(entry["started_ago"], f"{where}.started_ago")
