"""The RTC page's HTML: server-rendered, one inline stylesheet, no script and no external asset (it
works offline and inside the Airflow UI's iframe). Every value is escaped: ids come from callbacks,
i.e. from whoever runs a client of the cloud."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import quote

from airflow_provider_rtc.discovery.refs import label
from airflow_provider_rtc.identity import ResourceRef
from airflow_provider_rtc.plugins.ui_data import LiveRow, Page, Report

STYLE = """
body{font:14px system-ui,sans-serif;margin:16px;color:#1a202c}
h1{font-size:20px}h2{font-size:16px;margin-top:24px}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #cbd5e0;padding:4px 8px;text-align:left;
vertical-align:top}th{background:#edf2f7}.note{color:#4a5568;font-style:italic}
td.warn{color:#b7791f}td.ended,td.failed{color:#c53030}code{font-size:12px}
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _secs(value: float | None) -> str:
    if value is None:
        return "?"
    value = int(value)
    hours, rest = divmod(value, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{seconds:02d}s" if hours else f"{minutes}m{seconds:02d}s"


def run_link(prefix: str, dag_id: str, run_id: str) -> str:
    """A link to the DAG run in the Airflow UI (``target=_top``: the page may be in the UI's iframe)."""
    href = f"{prefix}/dags/{quote(str(dag_id), safe='')}/runs/{quote(str(run_id), safe='')}"
    return f'<a href="{_e(href)}" target="_top">{_e(dag_id)} / {_e(run_id)}</a>'


def _table(headers: list[str], rows: list[str], css_id: str) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    return f'<table id="{css_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _live(rows: list[LiveRow], note: str) -> str:
    if note:
        return f'<p class="note" id="live-note">{_e(note)}</p>'
    if not rows:
        return '<p class="note" id="live-note">nothing live in the inventory</p>'
    out = []
    for r in rows:
        source = "cloud start" if r.started_source == "cloud" else "first seen (upper bound)"
        css = "ended" if r.cap.startswith("ended") else "warn" if r.cap.startswith("warned") else ""
        out.append(
            f"<tr><td>{_e(r.ref.cloud)}</td><td>{_e(r.ref.app_id)}</td><td>{_e(r.ref.kind)}</td>"
            f'<td class="ref">{_e(r.label)}</td><td>{_secs(r.age_s)}</td><td>{_e(source)}</td>'
            f'<td>{_secs(r.idle_s)}</td><td class="{css}">{_e(r.cap)}</td></tr>'
        )
    headers = ["cloud", "app", "kind", "resource", "age", "age is", "idle", "cap status"]
    return _table(headers, out, "live")


def _summary(report: Report) -> str:
    value = report.value if isinstance(report.value, dict) else {}
    if report.kind == "caps":
        parts = [f"{k}: {len(value.get(k) or [])}" for k in ("warned", "ended", "unproven")]
        parts.append(f"within: {value.get('within', '?')}")
    else:
        counts: dict[str, int] = {}
        for result in value.get("results") or []:
            status = str(result.get("status", "?")) if isinstance(result, dict) else "?"
            counts[status] = counts.get(status, 0) + 1
        parts = [f"{k}: {v}" for k, v in sorted(counts.items())] or ["nothing ended"]
        parts.append(f"survivors: {len(value.get('survivors') or [])}")
        if value.get("nothing_to_end"):
            parts.append("nothing to end")
    if value.get("dry_run") is True:
        parts.append("dry run")
    return ", ".join(parts)


def _reports(reports: list[Report], note: str, prefix: str) -> str:
    if note:
        return f'<p class="note" id="reports-note">{_e(note)}</p>'
    if not reports:
        return '<p class="note" id="reports-note">no event-end or caps report yet</p>'
    out = [
        f"<tr><td>{_e(r.timestamp)}</td><td>{_e('caps' if r.kind == 'caps' else 'end event')}</td>"
        f"<td>{run_link(prefix, r.dag_id, r.run_id)}</td><td>{_e(r.task_id)}"
        f"{'' if r.map_index < 0 else f' [{r.map_index}]'}</td><td>{_e(_summary(r))}</td></tr>"
        for r in reports
    ]
    return _table(["at", "report", "DAG run", "task", "summary"], out, "reports")


def _ref_cell(ref: Any) -> tuple[str, str]:
    """The label the plan prints (``trtc:1400000001 room 1234 (int)``) and, as the cell's tooltip,
    the line's raw ``ref``; a line whose ref does not read as one (written by hand, or by another
    version) shows that raw text rather than hiding the row."""
    raw = json.dumps(ref, sort_keys=True) if isinstance(ref, dict) else str(ref)
    try:
        return label(ResourceRef.from_dict(ref)), raw
    except (KeyError, TypeError, ValueError):
        return raw, raw


def _audit(lines: list[dict[str, Any]], note: str, prefix: str) -> str:
    if note:
        return f'<p class="note" id="audit-note">{_e(note)}</p>'
    if not lines:
        return '<p class="note" id="audit-note">no destructive call audited yet</p>'
    out = []
    for line in lines:
        ref_label, ref_json = _ref_cell(line.get("ref"))
        status = str(line.get("status", ""))
        out.append(
            f"<tr><td>{_e(line.get('ts'))}</td>"
            f"<td>{run_link(prefix, str(line.get('dag_id')), str(line.get('run_id')))}</td>"
            f"<td>{_e(line.get('task_id'))}</td><td>{_e(line.get('action'))}</td>"
            f'<td class="ref" title="{_e(ref_json)}">{_e(ref_label)}</td>'
            f'<td class="{_e(status)}">{_e(status)}</td>'
            f"<td>{_e(line.get('code'))}</td><td>{_e(line.get('request_id'))}</td>"
            f"<td>{_e(line.get('origin'))}</td></tr>"
        )
    headers = ["at", "DAG run", "task", "action", "resource", "status", "code", "request id", "origin"]
    return _table(headers, out, "audit")


def render(page: Page, *, prefix: str = "", now: float | None = None, refresh_s: int = 30) -> str:
    """The whole page; ``prefix``: the Airflow base path the run links start with."""
    stamp = datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds") if now else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{int(refresh_s)}"><title>RTC</title>'
        f"<style>{STYLE}</style></head><body>"
        f'<h1>RTC: live now and what ended it</h1><p class="note">as of {_e(stamp)} UTC; '
        "ages marked first seen are upper bounds of the receiver, not the cloud's start</p>"
        f"<h2>Live now</h2>{_live(page.live, page.live_note)}"
        f"<h2>Event-end and caps reports</h2>{_reports(page.reports, page.reports_note, prefix)}"
        f"<h2>Audit trail</h2>{_audit(page.audit, page.audit_note, prefix)}"
        "</body></html>"
    )
