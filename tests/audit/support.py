"""What the audit tests share: a task try as Airflow's context gives it, and the sandbox's count of
destructive calls per action (the truth the audit file is compared with)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from airflow_provider_rtc.catalog import CATALOG

DESTRUCTIVE = {api.action for api in CATALOG.values() if api.destructive}


class TI:
    """The fields of a RuntimeTaskInstance the audit reads, and the XCom push the operators use."""

    def __init__(self, task_id: str = "end", try_number: int = 1, map_index: int = -1) -> None:
        self.dag_id = "event_dag"
        self.run_id = "manual__2026-12-07T03:00:00+00:00"
        self.task_id = task_id
        self.map_index = map_index
        self.try_number = try_number
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def context(ti: TI | None = None, **extra: Any) -> dict[str, Any]:
    return {"ti": ti or TI(), **extra}


def file_of(base: Path, ti: TI) -> Path:
    return base / ti.dag_id / ti.run_id / f"{ti.task_id}.{ti.map_index}.{ti.try_number}.jsonl"


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(raw) for raw in path.read_text().splitlines()] if path.exists() else []


def per_action(lines: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in lines:
        out[line["action"]] = out.get(line["action"], 0) + 1
    return out


def destructive_calls(server: Any) -> dict[str, int]:
    """Calls the sandbox received per destructive action (its own request log), less the attempts
    it refused as throttled: those were not executed, and the client repeats them as the same call
    (one audit line per call; the attempts are in ``rtc.calls``/``rtc.throttles``)."""
    actions = server.backend.stats.snapshot()["actions"]
    out = {
        a: int(s["calls"]) - int(s["throttled"]) - int(s["faults"].get("throttle", 0))
        for a, s in actions.items()
        if a in DESTRUCTIVE
    }
    return {a: n for a, n in out.items() if n}
