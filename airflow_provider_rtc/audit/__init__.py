"""The audit trail: one JSON line per destructive call the provider makes (or plans, in a dry run).

:mod:`.line` builds a line from the one result shape (:mod:`airflow_provider_rtc.cleanup.result`),
:mod:`.store` writes and reads the per-try files under the configured base (an ``ObjectStoragePath``),
:mod:`.trail` ties a task try to its file: the cleanup engine records through :func:`record`, so no
operator can forget; docs/how-to/audit.md is the user's page.
"""

from __future__ import annotations

from airflow_provider_rtc.audit.line import ORIGINS, STATUSES, Who, line_of
from airflow_provider_rtc.audit.store import AuditLog, audit_base, read_lines
from airflow_provider_rtc.audit.trail import (
    active,
    add_outlet,
    asset_for,
    asset_uri,
    flush,
    record,
    record_planned,
    recording,
    task_trail,
)

__all__ = [
    "ORIGINS",
    "STATUSES",
    "AuditLog",
    "Who",
    "active",
    "add_outlet",
    "asset_for",
    "asset_uri",
    "audit_base",
    "flush",
    "line_of",
    "read_lines",
    "record",
    "record_planned",
    "recording",
    "task_trail",
]
