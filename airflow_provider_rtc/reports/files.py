"""Report files: deterministic bytes per format, one file per interval, replaced atomically.

The same rows always give the same bytes (fixed column order, sorted rows, no timestamps in the
content), so re-running an interval over unchanged data leaves an identical file. A file is first
written under a hidden temporary name next to its final name and then renamed over it: on a local
or POSIX file system readers see the old or the new file, never a half-written one; on object
stores the rename is a copy of the finished object (each object write is all-or-nothing there).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import uuid
from collections.abc import Callable
from typing import Any

from airflow_provider_rtc.errors import RtcValidationError
from airflow_provider_rtc.reports.specs import COLUMNS, Row

FORMATS = ("csv", "parquet", "jsonl")
_NAME = re.compile(
    r"^(?P<report>[a-z_]+)_(?P<first>\d{4}-\d{2}-\d{2})_(?P<last>\d{4}-\d{2}-\d{2})\.(?P<ext>\w+)$"
)


def file_name(report: str, first: dt.date, last: dt.date, fmt: str) -> str:
    return f"{report}_{first.isoformat()}_{last.isoformat()}.{fmt}"


def parse_name(name: str) -> tuple[str, dt.date, dt.date, str] | None:
    """(report, first, last, format) of a report file's name; None for any other name, including
    one shaped like ours whose dates are not real dates or run backwards (``x_2026-13-45_...``)."""
    match = _NAME.match(name)
    if not match:
        return None
    try:
        first, last = dt.date.fromisoformat(match["first"]), dt.date.fromisoformat(match["last"])
    except ValueError:
        return None
    if last < first:
        return None
    return match["report"], first, last, match["ext"]


def require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise RtcValidationError(
            "format",
            "'parquet' needs pyarrow: pip install 'airflow-provider-rtc[parquet]' (or use 'csv' / 'jsonl')",
        ) from None


def serialize(rows: list[Row], fmt: str) -> bytes:
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([repr(row[c]) if c == "value" else row[c] for c in COLUMNS])
        return buffer.getvalue().encode()
    if fmt == "jsonl":
        lines = [json.dumps({c: row[c] for c in COLUMNS}, ensure_ascii=False) for row in rows]
        return "".join(line + "\n" for line in lines).encode()
    if fmt == "parquet":
        return _parquet(rows)
    raise RtcValidationError("format", f"one of {FORMATS}", fmt)


def _parquet(rows: list[Row]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            ("date", pa.date32()),
            ("time_zone", pa.string()),
            ("day_start_utc", pa.timestamp("s", tz="UTC")),
            *[(c, pa.string()) for c in COLUMNS[3:-1]],
            ("value", pa.float64()),
        ]
    )
    columns: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    for row in rows:
        for c in COLUMNS:
            columns[c].append(row[c])
    columns["date"] = [dt.date.fromisoformat(d) for d in columns["date"]]
    columns["day_start_utc"] = [
        dt.datetime.fromisoformat(s.replace("Z", "+00:00")) for s in columns["day_start_utc"]
    ]
    table = pa.Table.from_pydict(columns, schema=schema)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy")
    return sink.getvalue()


def read_rows(data: bytes, fmt: str) -> list[Row]:
    """Rows back from a file's bytes, typed like the writer's input (for checks and tests)."""
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(data.decode())))
        return [{**r, "value": float(r["value"])} for r in rows]
    if fmt == "jsonl":
        return [json.loads(line) for line in data.decode().splitlines() if line]
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(data))
    out = []
    for record in table.to_pylist():
        record["date"] = record["date"].isoformat()
        record["day_start_utc"] = record["day_start_utc"].strftime("%Y-%m-%dT%H:%M:%SZ")
        out.append(record)
    return out


def write_atomically(path: Any, data: bytes) -> None:
    """Write ``data`` to ``path`` (an ObjectStoragePath) via a hidden temporary name and a rename."""
    parent = path.parent
    parent.mkdir(parents=True, exist_ok=True)
    temporary = parent / f".{path.name}.tmp-{uuid.uuid4().hex}"
    try:
        temporary.write_bytes(data)
        temporary.rename(path)
    except BaseException:
        if temporary.exists():
            temporary.unlink()
        raise


def existing(
    folder: Any, report: str, fmt: str, on_stray: Callable[[str], None] | None = None
) -> list[tuple[dt.date, dt.date, Any]]:
    """The report's files already in ``folder``: (first date, last date, path), oldest first.

    Anything else there is left alone: hidden names (another run's temporary file) and the report in
    another format silently, every other name (a stray or hand-edited file) through ``on_stray``, so
    one odd file can neither fail a run after its calls nor be rewritten by it.
    """
    if not folder.exists():
        return []
    found = []
    for child in folder.iterdir():
        name = str(child.name)
        if name.startswith("."):
            continue
        parsed = parse_name(name)
        if parsed is None or parsed[0] != report:
            if on_stray is not None:
                on_stray(name)
        elif parsed[3] == fmt:
            found.append((parsed[1], parsed[2], child))
    return sorted(found, key=lambda item: (item[0], item[1]))
