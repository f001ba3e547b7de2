"""A task try's audit trail: which file its destructive calls go to, and the asset event.

Operators open it around ``execute`` (:func:`task_trail`); the cleanup engine and the single-call
path record into whatever trail is active (:func:`record`), so every operator built on the engine
is audited. An operator that did not open a trail (a new one calling the engine directly) still is,
when it runs as an Airflow task: :func:`active` then finds the try from Airflow's current context.
Outside a task (a script, a unit test calling ``execute({})``) nothing is written.

The asset: every destructive operator declares the outlet ``Asset("rtc-audit://<dag_id>/")`` (one
per DAG: a data team schedules its loader on the DAGs it cares about); the event's extra names the
file written (``path``), its line count (``lines``) and the lines per status (``counts``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from airflow_provider_rtc.audit.line import Who, line_of
from airflow_provider_rtc.audit.store import AuditLog, audit_base, audit_format

log = logging.getLogger(__name__)

_UNSET: Any = object()
#: the trail :func:`recording` made active (None: explicitly none, e.g. disabled); unset: look it up
_CURRENT: ContextVar[Any] = ContextVar("rtc_audit_log", default=_UNSET)
#: trails found from Airflow's current context, per try (a process may run several: dag.test())
_FOUND: dict[tuple[Any, ...], AuditLog | None] = {}
#: connection-id attributes of the operators, per cloud
_CONN_ATTRS = {"trtc": "tencentcloud_conn_id", "live": "tencentcloud_conn_id", "zego": "zegocloud_conn_id"}


def asset_uri(dag_id: str) -> str:
    return f"rtc-audit://{dag_id}/"


def asset_for(dag_id: str) -> Any:
    from airflow.providers.common.compat.sdk import Asset

    return Asset(asset_uri(dag_id))


def _disabled(value: Any) -> bool:
    return value is False or (isinstance(value, str) and not value.strip())


def add_outlet(op: Any) -> None:
    """Declare the DAG's audit asset as an outlet of ``op`` (when it is in a DAG and not disabled)."""
    if _disabled(getattr(op, "audit_path", None)) or not op.has_dag():
        return
    asset = asset_for(op.dag_id)
    if all(getattr(o, "uri", None) != asset.uri for o in op.outlets):
        op.outlets = [*op.outlets, asset]


def who_of(task: Any, context: Any) -> Who | None:
    """The try of ``context`` (its ``ti``), or None outside a task."""
    ti = context.get("ti") if hasattr(context, "get") else None
    if ti is None or not getattr(ti, "run_id", None):
        return None
    conn_ids = {c: getattr(task, a, None) for c, a in _CONN_ATTRS.items()}
    map_index = getattr(ti, "map_index", -1)
    return Who(
        dag_id=str(ti.dag_id),
        run_id=str(ti.run_id),
        task_id=str(ti.task_id),
        map_index=-1 if map_index is None else int(map_index),
        try_number=int(getattr(ti, "try_number", 1) or 1),
        conn_ids={c: str(v) for c, v in conn_ids.items() if v},
        origin=getattr(task, "audit_origin", None),
    )


def _open(task: Any, context: Any) -> AuditLog | None:
    who = who_of(task, context)
    if who is None:
        return None
    value = getattr(task, "audit_path", None)
    if _disabled(value):
        getattr(task, "log", log).info("audit trail disabled (audit_path=%r): no line is written", value)
        return None
    base = audit_base(value)
    if base is None:
        getattr(task, "log", log).info("audit trail disabled ([rtc] audit_path is empty)")
        return None
    return AuditLog(base, who, audit_format())


def active() -> AuditLog | None:
    """The trail calls made now go to: the one :func:`task_trail` opened, else the running task's."""
    trail = _CURRENT.get()
    if trail is not _UNSET:
        return trail  # type: ignore[no-any-return]
    try:
        from airflow.providers.common.compat.sdk import get_current_context

        context = get_current_context()
    except Exception:  # not in a task
        return None
    ti = context.get("ti")
    key = tuple(getattr(ti, k, None) for k in ("dag_id", "run_id", "task_id", "map_index", "try_number"))
    if key not in _FOUND:
        _FOUND[key] = _open(context.get("task"), context)
    return _FOUND[key]


@contextmanager
def recording(trail: AuditLog | None) -> Iterator[AuditLog | None]:
    """Make ``trail`` the active one (tests, and :func:`task_trail`)."""
    token = _CURRENT.set(trail)
    try:
        yield trail
    finally:
        _CURRENT.reset(token)


def record(
    results: list[dict[str, Any]], *, origin: str, dry_run: bool = False, trail: AuditLog | None = None
) -> None:
    """Write the lines of ``results`` (one shape) to ``trail`` or the active one; ``not_started``
    results get none. Never raises: the call was made, its report must not be lost to the audit."""
    trail = trail if trail is not None else active()
    if trail is None:
        return
    try:
        lines = [line_of(r, trail.who, origin=origin, dry_run=dry_run) for r in results]
        trail.write([line for line in lines if line is not None])
    except Exception:
        log.exception("could not write %d audit line(s) to %s", len(results), trail.path)


def record_planned(results: list[dict[str, Any]], *, origin: str) -> None:
    """A dry run's targets, as ``planned`` lines."""
    record(results, origin=origin, dry_run=True)


def flush(trail: AuditLog | None = None) -> None:
    trail = trail if trail is not None else active()
    if trail is not None:
        trail.flush()


@contextmanager
def task_trail(task: Any, context: Any) -> Iterator[AuditLog | None]:
    """The try's trail, active around ``execute``; flushed however it ends, and on success its file
    named in the audit asset's event."""
    trail = _open(task, context)
    with recording(trail):
        try:
            yield trail
        finally:
            if trail is not None:
                trail.flush()
    if trail is not None and trail.lines:
        _emit(task, context, trail)


def _emit(task: Any, context: Any, trail: AuditLog) -> None:
    events = context.get("outlet_events") if hasattr(context, "get") else None
    if events is None or not task.has_dag():
        return
    try:
        event = events[asset_for(trail.who.dag_id)]
        event.extra = {"path": str(trail.path), "lines": len(trail.lines), "counts": trail.counts}
    except Exception:  # an outlet the DAG does not declare: the file is still written
        log.warning("could not emit the audit asset event for %s", trail.path, exc_info=True)
