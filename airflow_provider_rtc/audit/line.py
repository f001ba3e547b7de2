"""One audit line, built from a result in the one shape (:mod:`airflow_provider_rtc.cleanup.result`).

The keys are the wave's common contract (G4's page reads them)::

    {"ts", "dag_id", "run_id", "task_id", "map_index", "try_number", "conn_id", "cloud", "product",
     "app_id", "ref", "action", "status", "code", "request_id", "dry_run", "maybe_executed", "origin"}

Only identities, codes and request ids: a result's ``error`` text is left out (it is the cloud's
message and may quote what was sent), and nothing of the connection but its id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: what a line's status may be: the engine's, minus ``not_started`` (no call: no line), plus ``planned``
STATUSES = ("done", "already_gone", "failed", "planned")
ORIGINS = ("operator", "bulk", "end_event", "caps", "budget", "retention")
KEYS = (
    "ts",
    "dag_id",
    "run_id",
    "task_id",
    "map_index",
    "try_number",
    "conn_id",
    "cloud",
    "product",
    "app_id",
    "ref",
    "action",
    "status",
    "code",
    "request_id",
    "dry_run",
    "maybe_executed",
    "origin",
)


@dataclass(frozen=True)
class Who:
    """The task try that makes the calls, and the connection id it uses per cloud."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1
    try_number: int = 1
    conn_ids: dict[str, str] = field(default_factory=dict)
    #: the origin of the task's lines when the operator says (``audit_origin``); else the engine's
    origin: str | None = None


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _maybe_executed(result: dict[str, Any], status: str) -> bool:
    """``done``: it ran. ``already_gone``: only when an earlier attempt's answer was lost (that
    attempt most likely did it). ``failed``: the engine's own judgement. ``planned``: never."""
    if status == "done":
        return True
    if status == "already_gone":
        return bool(result.get("after_lost_response"))
    if status == "failed":
        return bool(result.get("maybe_executed"))
    return False


def line_of(result: dict[str, Any], who: Who, *, origin: str, dry_run: bool = False) -> dict[str, Any] | None:
    """The line of one result, or None when no call was made (``not_started``)."""
    status = "planned" if dry_run else result.get("status")
    if status not in STATUSES:
        return None
    ref = result.get("ref")
    cloud = result.get("cloud")
    return {
        "ts": now_iso(),
        "dag_id": who.dag_id,
        "run_id": who.run_id,
        "task_id": who.task_id,
        "map_index": who.map_index,
        "try_number": who.try_number,
        # a result that names its connection wins (retention: the bucket's or the lake's)
        "conn_id": result.get("conn_id") or who.conn_ids.get(str(cloud)),
        "cloud": cloud,
        "product": result.get("product"),
        "app_id": ref.get("app_id") if isinstance(ref, dict) else None,
        "ref": ref,
        "action": result.get("action"),
        "status": status,
        "code": None if dry_run else result.get("code"),
        "request_id": None if dry_run else result.get("request_id"),
        "dry_run": dry_run,
        "maybe_executed": _maybe_executed(result, str(status)),
        "origin": who.origin or origin,
    }
