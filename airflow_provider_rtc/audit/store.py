"""Where audit lines go, and how they are read back.

A file per task try, ``<base>/<dag_id>/<run_id>/<task_id>.<map_index>.<try_number>.jsonl``, so tries
and mapped tasks never write to the same object and a retry keeps the first try's lines. The base is
an ``ObjectStoragePath`` URL: ``[rtc] audit_path`` (``AIRFLOW__RTC__AUDIT_PATH``), default
``file://{AIRFLOW_HOME}/rtc/audit``; an operator's ``audit_path`` wins; ``False``/``""`` disables.

Lines must survive a task that fails midway. On a local base each line is appended and flushed as
its answer is read (a SIGKILL loses nothing already answered). Object stores cannot append: there
the lines are kept in memory and the whole object is rewritten at every :meth:`AuditLog.flush`,
which the engine calls when each batch of calls ends - in a ``finally``, so a failing or stopped
batch still writes what it did.

``[rtc] audit_format = parquet`` (the ``parquet`` extra: pyarrow) writes ``.parquet`` files with a
typed schema instead, for a lake to query without parsing JSON. Parquet cannot be appended to either:
the file is rewritten with every line on a local base (still on disk as each answer is read) and at
every flush on an object store. :func:`read_lines` reads both formats.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import Counter
from typing import Any

from airflow_provider_rtc.audit.line import KEYS, Who

log = logging.getLogger(__name__)

SECTION, OPTION, FORMAT_OPTION = "rtc", "audit_path", "audit_format"
DEFAULT = "file://{AIRFLOW_HOME}/rtc/audit"
FORMATS = ("jsonl", "parquet")
_LOCAL = ("", "file", "local")


def _airflow_home() -> str:
    return os.path.expanduser(os.environ.get("AIRFLOW_HOME") or "~/airflow")


def audit_base(value: Any = None) -> Any:
    """The base as an ``ObjectStoragePath``, or None when disabled. ``value``: an operator's
    ``audit_path`` (None: the ``[rtc] audit_path`` option, then the default)."""
    from airflow.providers.common.compat.sdk import ObjectStoragePath, conf

    if value is None:
        value = conf.get(SECTION, OPTION, fallback=None)
        if value is None:
            value = DEFAULT
    if value is False or str(value).strip() == "":
        return None
    text = str(value).strip().replace("{AIRFLOW_HOME}", _airflow_home())
    if "://" not in text:
        text = "file://" + os.path.abspath(os.path.expanduser(text))
    return ObjectStoragePath(text)


def audit_format(value: Any = None) -> str:
    """``jsonl`` or ``parquet`` (``value``, else ``[rtc] audit_format``, else ``jsonl``); checked when
    a task opens its trail, before its first call."""
    from airflow.providers.common.compat.sdk import conf

    from airflow_provider_rtc.errors import RtcValidationError

    if value is None:
        value = conf.get(SECTION, FORMAT_OPTION, fallback=None) or "jsonl"
    fmt = str(value).strip().lower()
    if fmt not in FORMATS:
        raise RtcValidationError(f"[{SECTION}] {FORMAT_OPTION}", "'jsonl' or 'parquet'", value)
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise RtcValidationError(
                f"[{SECTION}] {FORMAT_OPTION}",
                "'parquet' needs pyarrow: pip install 'airflow-provider-rtc[parquet]' (or use 'jsonl')",
            ) from None
    return fmt


def _parquet(lines: list[dict[str, Any]]) -> bytes:
    """The lines as one Parquet file with a fixed schema (a column per key, ``ref`` a struct): ids and
    codes are text whatever type the cloud answered with, so every file of the trail has one schema."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    text, flag, number = pa.string(), pa.bool_(), pa.int64()
    ref = pa.struct([(k, text) for k in ("cloud", "app_id", "kind", "id", "id_type", "room")])
    types = {"map_index": number, "try_number": number, "dry_run": flag, "maybe_executed": flag, "ref": ref}
    schema = pa.schema([(key, types.get(key, text)) for key in KEYS])

    def cell(key: str, value: Any) -> Any:
        if value is None or key in ("map_index", "try_number", "dry_run", "maybe_executed"):
            return value
        if key == "ref":
            return {k: None if value.get(k) is None else str(value.get(k)) for k in ref.names}
        return str(value)

    rows = [{key: cell(key, line.get(key)) for key in KEYS} for line in lines]
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), buffer)
    return buffer.getvalue()


class AuditLog:
    """The append-only file of one task try; thread-safe (the engine's workers record into it)."""

    def __init__(self, base: Any, who: Who, fmt: str = "jsonl") -> None:
        self.who = who
        self.format = fmt
        name = f"{who.task_id}.{who.map_index}.{who.try_number}.{fmt}"
        self.path = base / who.dag_id / who.run_id / name
        self.local = getattr(self.path, "protocol", "file") in _LOCAL
        self.lines: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._written = 0

    @property
    def counts(self) -> dict[str, int]:
        """Lines per status, for the asset event's extra."""
        return dict(Counter(str(line["status"]) for line in self.lines))

    def write(self, lines: list[dict[str, Any]]) -> None:
        """Add ``lines``; on a local base they are on disk (flushed) when this returns."""
        if not lines:
            return
        with self._lock:
            self.lines.extend(lines)
            if self.local and self.format == "parquet":
                self._rewrite()
            elif self.local:
                self._append_local()

    def _append_local(self) -> None:
        text = "".join(json.dumps(line, default=str) + "\n" for line in self.lines[self._written :])
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as fh:
            fh.write(text)
            fh.flush()
        self._written = len(self.lines)

    def flush(self) -> None:
        """Object stores: write the whole file again (they cannot append). A failure is logged, never
        raised: the calls were made, and the task's own result must still be reported."""
        with self._lock:
            if self._written == len(self.lines):
                return
            try:
                self._rewrite()
            except Exception:
                log.exception("could not write the audit trail to %s", self.path)

    def _rewrite(self) -> None:
        """The whole file again, every line so far (object stores; Parquet)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.format == "parquet":
            with self.path.open("wb") as fh:
                fh.write(_parquet(self.lines))
        else:
            with self.path.open("w") as fh:
                fh.write("".join(json.dumps(line, default=str) + "\n" for line in self.lines))
        self._written = len(self.lines)


def read_lines(base: Any = None, *, dag_id: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """The newest ``limit`` lines under ``base`` (an URL, a path, an ``ObjectStoragePath``; None:
    the configured base), of one DAG when ``dag_id`` is given; newest first. Unreadable lines are
    skipped, so one torn line does not hide the others."""
    root = audit_base(base) if base is None or isinstance(base, str) else base
    if root is None:
        return []
    if dag_id:
        root = root / dag_id
    if not root.exists():
        return []
    lines: list[dict[str, Any]] = []
    for path in root.rglob("*.jsonl"):
        try:
            text = path.read_text()
        except OSError:
            continue
        for raw in text.splitlines():
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if isinstance(line, dict):
                lines.append(line)
    for path in root.rglob("*.parquet"):
        lines += _read_parquet(path)
    lines.sort(key=lambda line: str(line.get("ts", "")), reverse=True)
    return lines[: max(limit, 0)]


def _read_parquet(path: Any) -> list[dict[str, Any]]:
    """The lines of one Parquet trail file; none when pyarrow is missing or the file is unreadable
    (a file being rewritten), with a log line."""
    try:
        import pyarrow.parquet as pq

        with path.open("rb") as fh:
            return [dict(row) for row in pq.read_table(fh).to_pylist()]
    except ImportError:
        log.warning("skipping %s: reading Parquet audit files needs pyarrow (the parquet extra)", path)
    except Exception:
        log.warning("skipping unreadable audit file %s", path, exc_info=True)
    return []
