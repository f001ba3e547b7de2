"""Per-action counters: what the clients asked, what they got, and what the sandbox injected."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from typing import Any


class _ActionStats:
    __slots__ = ("calls", "dropped", "errors", "faults", "ok", "throttled")

    def __init__(self) -> None:
        self.calls = 0
        self.ok = 0
        self.errors: Counter[str] = Counter()
        self.throttled = 0
        self.faults: Counter[str] = Counter()
        self.dropped = 0


class Stats:
    """Thread-safe counters; ``snapshot()`` is what ``GET /_sandbox/stats`` returns."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._actions: defaultdict[str, _ActionStats] = defaultdict(_ActionStats)

    def reset(self) -> None:
        with self._lock:
            self._actions.clear()

    def call(self, action: str) -> None:
        with self._lock:
            self._actions[action].calls += 1

    def ok(self, action: str) -> None:
        with self._lock:
            self._actions[action].ok += 1

    def error(self, action: str, code: str | int) -> None:
        with self._lock:
            self._actions[action].errors[str(code)] += 1

    def throttled(self, action: str) -> None:
        with self._lock:
            self._actions[action].throttled += 1

    def fault(self, action: str, kind: str) -> None:
        with self._lock:
            self._actions[action].faults[kind] += 1

    def dropped(self, action: str) -> None:
        with self._lock:
            self._actions[action].dropped += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            items = sorted(self._actions.items())
            actions: dict[str, Any] = {
                name: {
                    "calls": s.calls,
                    "ok": s.ok,
                    "errors": dict(s.errors),
                    "throttled": s.throttled,
                    "faults": dict(s.faults),
                    "dropped": s.dropped,
                }
                for name, s in items
            }
            totals = {
                "calls": sum(s.calls for _, s in items),
                "ok": sum(s.ok for _, s in items),
                "errors": sum(sum(s.errors.values()) for _, s in items),
                "throttled": sum(s.throttled for _, s in items),
                "faults": dict(sum((s.faults for _, s in items), Counter())),
                "dropped": sum(s.dropped for _, s in items),
            }
        return {"actions": actions, "totals": totals}
