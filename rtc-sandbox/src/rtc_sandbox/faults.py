"""Fault injection: seeded, so a failing run can be replayed; counted, so tests are deterministic.

A fault document (config ``faults``, ``PUT /_sandbox/faults``)::

    {
      "seed": 7,                       # optional: reseed the fault RNG
      "latency_seconds": 30,           # sleep of the "latency" kind (beyond client timeouts)
      "rules": [
        {"action": "DismissRoom", "kind": "drop", "probability": 1.0, "count": 2},
        {"action": "*", "kind": "internal", "probability": 0.1}
      ],
      "recordings": {"trtc_callback": "late"|"never"|"failed"|"late_commit"|null,
                     "zego_file_status": 4|5|null, "zego_task_status": 4|null},
      "lifecycle": {"lost": 0.2, "late": 0.1, "late_seconds": 5,     # see lifecycle.py
                    "kinds": ["room", "user", "stream", "push"]}
    }

Rules are tried in order for each call that passed signature and rate-limit checks; every rule
whose ``action`` matches draws once from the RNG (so sequences repeat for a given seed), and the
first that fires wins. ``count`` caps how many calls a rule may hit ("fail the first N calls").
CLI form: ``ACTION:KIND:PROB``, ``ACTION:KIND:PROB:COUNT`` or ``ACTION:KIND:once`` (= ``1:1``).

Kinds: ``throttle`` (the cloud's throttle code), ``internal`` (its internal-error code), ``http5xx``
(HTTP 502 with an HTML body; the action is not performed), ``latency`` (sleep, then perform), and
``drop`` (perform, then close the connection without answering). Recording-file downloads (action
``Download``, see ``media.py``) take only rules that name ``Download`` exactly, plus the kind
``short`` (half the bytes under the full ``Content-Length``, then the connection closes).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Any

from .lifecycle import FateDrawer, LifecycleFaults

KINDS = ("throttle", "internal", "http5xx", "latency", "drop", "short")
#: kinds that only make sense for one action
ACTION_ONLY_KINDS = {"short": "Download"}
DEFAULT_LATENCY_SECONDS = 30.0
TRTC_CALLBACK_FAULTS = ("late", "never", "failed", "late_commit")


@dataclass
class FaultRule:
    kind: str
    action: str = "*"
    probability: float = 1.0
    count: int | None = None
    latency_seconds: float | None = None
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"fault kind must be one of {KINDS}, not {self.kind!r}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("fault probability must be within [0, 1]")
        if self.count is not None and self.count < 0:
            raise ValueError("fault count must be >= 0")
        only = ACTION_ONLY_KINDS.get(self.kind)
        if only is not None and self.action != only:
            raise ValueError(f"fault kind {self.kind!r} applies to action {only!r} only")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultRule:
        allowed = {"kind", "action", "probability", "count", "latency_seconds"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault rule keys: {sorted(unknown)}")
        count = data.get("count")
        latency = data.get("latency_seconds")
        return cls(
            kind=str(data["kind"]),
            action=str(data.get("action", "*")),
            probability=float(data.get("probability", 1.0)),
            count=None if count is None else int(count),
            latency_seconds=None if latency is None else float(latency),
        )

    @classmethod
    def parse(cls, spec: str) -> FaultRule:
        """``ACTION:KIND:PROB[:COUNT]`` or ``ACTION:KIND:once``."""
        parts = spec.split(":")
        if len(parts) not in (3, 4):
            raise ValueError(f"fault spec must be ACTION:KIND:PROB[:COUNT] or ACTION:KIND:once, not {spec!r}")
        action, kind, prob = parts[0] or "*", parts[1], parts[2]
        if prob == "once":
            if len(parts) == 4:
                raise ValueError("'once' takes no COUNT")
            return cls(kind=kind, action=action, probability=1.0, count=1)
        return cls(
            kind=kind,
            action=action,
            probability=float(prob),
            count=int(parts[3]) if len(parts) == 4 else None,
        )

    def matches(self, action: str, *, exact: bool = False) -> bool:
        names = (action,) if exact else ("*", action)
        return self.action in names and (self.count is None or self.fired < self.count)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "action": self.action,
            "probability": self.probability,
            "count": self.count,
            "latency_seconds": self.latency_seconds,
            "fired": self.fired,
        }


@dataclass
class RecordingFaults:
    """Faults of a recording's outcome rather than of a request; per-task overrides live in backends."""

    trtc_callback: str | None = None
    zego_file_status: int | None = None
    zego_task_status: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RecordingFaults:
        unknown = set(data) - {"trtc_callback", "zego_file_status", "zego_task_status"}
        if unknown:
            raise ValueError(f"unknown recording fault keys: {sorted(unknown)}")
        out = cls(data.get("trtc_callback"), data.get("zego_file_status"), data.get("zego_task_status"))
        if out.trtc_callback not in (None, *TRTC_CALLBACK_FAULTS):
            raise ValueError(f"trtc_callback must be one of {TRTC_CALLBACK_FAULTS} or null")
        if out.zego_file_status not in (None, 4, 5):
            raise ValueError("zego_file_status must be 4, 5 or null")
        if out.zego_task_status not in (None, 4):
            raise ValueError("zego_task_status must be 4 or null")
        return out


class FaultPlan:
    """The active rules and the seeded RNG they draw from; thread-safe."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self._rng = random.Random(seed)
        self.rules: list[FaultRule] = []
        self.latency_seconds = DEFAULT_LATENCY_SECONDS
        self.recordings = RecordingFaults()
        self.lifecycle = FateDrawer(seed)

    def configure(self, doc: dict[str, Any], *, append: bool = False) -> None:
        """Replace (or extend) the rules from a fault document; validates before changing anything."""
        unknown = set(doc) - {"seed", "latency_seconds", "rules", "recordings", "lifecycle"}
        if unknown:
            raise ValueError(f"unknown fault keys: {sorted(unknown)}")
        rules = [r if isinstance(r, FaultRule) else FaultRule.from_dict(r) for r in doc.get("rules", [])]
        recordings = RecordingFaults.from_dict(doc["recordings"]) if "recordings" in doc else None
        lifecycle = LifecycleFaults.from_dict(doc["lifecycle"]) if "lifecycle" in doc else None
        with self._lock:
            if "seed" in doc:
                self._seed = int(doc["seed"])
                self._rng = random.Random(self._seed)
            if "latency_seconds" in doc:
                self.latency_seconds = float(doc["latency_seconds"])
            self.rules = [*self.rules, *rules] if append else rules
            if recordings is not None:
                self.recordings = recordings
            if lifecycle is not None:
                self.lifecycle.configure(lifecycle, self._seed)

    def reseed(self, seed: int) -> None:
        with self._lock:
            self._seed = seed
            self._rng = random.Random(seed)

    def reset(self, seed: int) -> None:
        """No rules, no recording faults, default latency, RNG back to ``seed``."""
        with self._lock:
            self._seed = seed
            self._rng = random.Random(seed)
            self.rules = []
            self.latency_seconds = DEFAULT_LATENCY_SECONDS
            self.recordings = RecordingFaults()
            self.lifecycle.configure(LifecycleFaults(), seed)

    def draw(self, action: str, *, exact: bool = False) -> FaultRule | None:
        """The rule that fires for this call, if any (and count it); ``exact`` ignores ``*`` rules."""
        with self._lock:
            for rule in self.rules:
                if not rule.matches(action, exact=exact):
                    continue
                if self._rng.random() < rule.probability:
                    rule.fired += 1
                    return rule
            return None

    def latency_for(self, rule: FaultRule) -> float:
        return self.latency_seconds if rule.latency_seconds is None else rule.latency_seconds

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "seed": self._seed,
                "latency_seconds": self.latency_seconds,
                "rules": [r.to_dict() for r in self.rules],
                "recordings": {
                    "trtc_callback": self.recordings.trtc_callback,
                    "zego_file_status": self.recordings.zego_file_status,
                    "zego_task_status": self.recordings.zego_task_status,
                },
                "lifecycle": self.lifecycle.faults.to_dict(),
            }
