"""What the RTC page shows, gathered without Airflow where possible (so tests feed it directly).

* live items: the receiver's lifecycle inventory (:class:`~..callbacks.lifecycle_store.LifecycleStore`),
  every application with something live, each item keyed by its
  :class:`~airflow_provider_rtc.identity.ResourceRef`;
* cap status: the newest ``enforce_caps`` report (caps report format of the wave's contract) that
  names a ref wins; a ref no report names is "not flagged" (a policy only covers its own scope);
* reports: the ``return_value`` XComs of ``EndEventOperator`` and ``EnforceCapsOperator`` tasks
  (:func:`read_reports`, Airflow's metadata DB in the API server);
* the audit trail: ``airflow_provider_rtc.audit.read_lines`` (the audit module), when installed.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_rtc.discovery.refs import label, ref_of
from airflow_provider_rtc.identity import ResourceRef

log = logging.getLogger(__name__)

#: operator class name -> report kind shown on the page
REPORT_OPERATORS = {"EndEventOperator": "end_event", "EnforceCapsOperator": "caps"}
#: ``[rtc] audit_path`` default (the wave's audit contract): under ``$AIRFLOW_HOME``
AUDIT_SECTION, AUDIT_OPTION = "rtc", "audit_path"
AUDIT_MISSING = "audit module not installed"


@dataclass
class LiveRow:
    ref: ResourceRef
    label: str
    age_s: float | None
    #: ``"cloud"``: the cloud's own start time; ``"first_seen"``: when the receiver first saw it
    started_source: str
    idle_s: float | None
    cap: str = "no policy run yet"


@dataclass
class Report:
    kind: str  # "end_event" | "caps"
    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    timestamp: str
    value: Any


@dataclass
class Page:
    live: list[LiveRow] = field(default_factory=list)
    live_note: str = ""
    reports: list[Report] = field(default_factory=list)
    reports_note: str = ""
    audit: list[dict[str, Any]] = field(default_factory=list)
    audit_note: str = ""


def live_rows(store: Any, now: float) -> list[LiveRow]:
    """Every live item of every application in the inventory, with its age and idle time (seconds)."""
    rows = []
    for cloud, app_id in store.live_apps():
        for item in store.items(cloud, app_id, now=now):
            if not item.live:
                continue  # an end still unconfirmed (Live stop-push): not live for the page
            ref = ref_of(cloud, app_id, item.kind, item.ids)
            age = None if item.started_ms is None else max(0.0, now - item.started_ms / 1000)
            idle = max(0.0, now - item.last_activity_ms / 1000)
            rows.append(LiveRow(ref, label(ref), age, item.started_source, idle))
    return rows


def apply_caps(rows: list[LiveRow], reports: Iterable[Report]) -> None:
    """Set each row's cap status from the newest caps report naming its ref (``reports`` newest first)."""
    status: dict[ResourceRef, str] = {}
    newest: str | None = None
    for report in reports:
        value = report.value if isinstance(report.value, dict) else {}
        if report.kind != "caps" or not value:
            continue
        checked = str(value.get("checked_at") or report.timestamp)
        newest = newest or checked
        for bucket in ("ended", "warned", "unproven"):
            for item in value.get(bucket) or []:
                try:
                    ref = ResourceRef.from_dict(item["ref"])
                except (KeyError, TypeError, ValueError):
                    continue
                if ref not in status:
                    status[ref] = _cap_text(bucket, item, checked, value.get("dry_run") is True)
    for row in rows:
        if row.ref in status:
            row.cap = status[row.ref]
        elif newest is not None:
            row.cap = f"not flagged (policy run {newest})"


def _cap_text(bucket: str, item: dict[str, Any], checked: str, dry_run: bool) -> str:
    verb = {"ended": "would be ended" if dry_run else "ended", "warned": "warned", "unproven": "unproven"}
    rule = str(item.get("rule") or "?")
    cap = item.get("cap_s")
    cap_text = f"{float(cap):g} s" if isinstance(cap, int | float) else "?"
    return f"{verb[bucket]}: {rule} cap {cap_text} ({checked})"


def audit_base() -> str:
    """``[rtc] audit_path`` (env ``AIRFLOW__RTC__AUDIT_PATH``), default ``file://$AIRFLOW_HOME/rtc/audit``."""
    value = None
    try:
        from airflow.providers.common.compat.sdk import conf

        value = conf.get(AUDIT_SECTION, AUDIT_OPTION, fallback=None)
    except Exception:  # no Airflow config: the default below
        value = None
    if value:
        return str(value)
    home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
    return "file://" + os.path.join(home, "rtc", "audit")


def read_audit(dag_ids: set[str] | None, *, limit: int = 200) -> tuple[list[dict[str, Any]], str]:
    """The newest audit lines (of ``dag_ids`` only, ``None``: all) and a note ("" when read)."""
    try:
        from airflow_provider_rtc.audit import read_lines  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return [], AUDIT_MISSING
    base = audit_base()
    try:
        lines = list(read_lines(base, dag_id=None, limit=limit))
    except Exception as err:  # an unreachable object store: say so, the rest of the page still shows
        log.warning("RTC page: audit trail at %s unreadable: %s", base, err)
        return [], f"audit trail unreadable ({type(err).__name__})"
    lines = [_as_dict(line) for line in lines]
    if dag_ids is not None:
        lines = [line for line in lines if str(line.get("dag_id")) in dag_ids]
    return lines, ""


def _as_dict(line: Any) -> dict[str, Any]:
    """An audit line as a dict: the contract's JSON object, or a dataclass/pydantic record of it."""
    if isinstance(line, Mapping):
        return dict(line)
    if dataclasses.is_dataclass(line) and not isinstance(line, type):
        return dataclasses.asdict(line)
    dump = getattr(line, "model_dump", None)
    return dict(dump()) if callable(dump) else {"action": str(line)}


def read_reports(dag_ids: set[str] | None, *, limit: int = 20) -> list[Report]:
    """The newest ``return_value`` XComs of EndEventOperator / EnforceCapsOperator tasks, newest first.

    Read from Airflow's metadata DB through the API server's own session: the page is served by the
    API server, the same query works on 3.0-3.3 (``xcom`` has carried ``dag_id``/``run_id`` and a JSON
    ``value`` since 3.0; ``task_instance.operator`` is the class name) and it is one indexed query.
    """
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import and_, select

    query = (
        select(XComModel, TaskInstance.operator)
        .join(
            TaskInstance,
            and_(
                TaskInstance.dag_id == XComModel.dag_id,
                TaskInstance.run_id == XComModel.run_id,
                TaskInstance.task_id == XComModel.task_id,
                TaskInstance.map_index == XComModel.map_index,
            ),
        )
        .where(XComModel.key == "return_value", TaskInstance.operator.in_(list(REPORT_OPERATORS)))
        .order_by(XComModel.timestamp.desc())
        .limit(limit)
    )
    if dag_ids is not None:
        query = query.where(XComModel.dag_id.in_(sorted(dag_ids)))
    with create_session() as session:
        rows = session.execute(query).all()
        return [
            Report(
                REPORT_OPERATORS[str(operator)],
                x.dag_id,
                x.run_id,
                x.task_id,
                x.map_index,
                x.timestamp.isoformat() if x.timestamp else "",
                XComModel.deserialize_value(x),
            )
            for x, operator in rows
        ]
