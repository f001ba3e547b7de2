"""Report files at their edges: names, the files a run may replace, the temporary name, the bytes.

Written for `make mutate` (issue 24 item 5): the usage-report tests check the end state in a
folder the operator wrote; these check each rule of ``reports/files.py`` on its own, on local paths
(``pathlib.Path`` has the ObjectStoragePath methods the module uses).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_rtc.errors import RtcValidationError
from airflow_provider_rtc.reports import files
from airflow_provider_rtc.reports.specs import COLUMNS

D1, D2 = dt.date(2026, 8, 29), dt.date(2026, 8, 31)


def test_a_name_round_trips_and_a_single_day_is_a_valid_interval() -> None:
    name = files.file_name("trtc_usage", D1, D2, "csv")
    assert name == "trtc_usage_2026-08-29_2026-08-31.csv"
    assert files.parse_name(name) == ("trtc_usage", D1, D2, "csv")
    assert files.parse_name(files.file_name("live_usage", D1, D1, "jsonl")) == ("live_usage", D1, D1, "jsonl")


@pytest.mark.parametrize(
    "name",
    [
        "trtc_usage_2026-08-31_2026-08-29.csv",  # backwards
        "trtc_usage_2026-13-45_2026-08-29.csv",  # not a date
        "trtc_usage_2026-08-29_2026-08-31.csv.bak",
        "x trtc_usage_2026-08-29_2026-08-31.csv",
        "trtc_usage_2026-08-29.csv",
        "notes.txt",
    ],
)
def test_other_names_are_not_report_files(name: str) -> None:
    assert files.parse_name(name) is None


def test_existing_lists_this_report_in_this_format_oldest_first_and_reports_strays(tmp_path: Path) -> None:
    names = [
        files.file_name("trtc_usage", dt.date(2026, 9, 1), dt.date(2026, 9, 3), "csv"),
        files.file_name("trtc_usage", D1, D2, "csv"),
        files.file_name("trtc_usage", D1, D1, "csv"),
        files.file_name("trtc_usage", D1, D2, "jsonl"),  # another format: silent
        "." + files.file_name("trtc_usage", D1, D2, "csv") + ".tmp-1",  # another run's temporary file
        files.file_name("live_usage", D1, D2, "csv"),  # another report: a stray here
        "notes.txt",
    ]
    for name in names:
        (tmp_path / name).write_text("x")
    strays: list[str] = []
    found = files.existing(tmp_path, "trtc_usage", "csv", strays.append)
    assert [(first, last, path.name) for first, last, path in found] == [
        (D1, D1, names[2]),
        (D1, D2, names[1]),
        (dt.date(2026, 9, 1), dt.date(2026, 9, 3), names[0]),
    ]
    assert sorted(strays) == sorted([names[5], "notes.txt"])
    assert files.existing(tmp_path, "trtc_usage", "csv") == found  # no callback: strays just skipped
    assert files.existing(tmp_path / "absent", "trtc_usage", "csv") == []


def test_existing_orders_by_first_date_then_last(tmp_path: Path) -> None:
    wide = files.file_name("trtc_usage", D1, dt.date(2026, 9, 5), "csv")
    inner = files.file_name("trtc_usage", dt.date(2026, 8, 30), D2, "csv")  # ends first, starts later
    for name in (inner, wide):
        (tmp_path / name).write_text("x")
    assert [path.name for _, _, path in files.existing(tmp_path, "trtc_usage", "csv")] == [wide, inner]


def test_a_report_is_written_under_a_hidden_name_beside_the_final_one_then_renamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "new" / "folder" / files.file_name("trtc_usage", D1, D2, "csv")
    renames: list[tuple[Path, Path]] = []
    original = Path.rename

    def spy(self: Path, to: Any) -> Any:
        assert self.read_bytes() == b"complete", "renamed before it was written whole"
        renames.append((self, Path(to)))
        return original(self, to)

    monkeypatch.setattr(Path, "rename", spy)
    files.write_atomically(target, b"complete")
    assert target.read_bytes() == b"complete"
    [(temporary, final)] = renames
    assert final == target and temporary.parent == target.parent
    assert temporary.name.startswith(".") and temporary.name != target.name
    assert [p.name for p in target.parent.iterdir()] == [target.name]


def test_a_failed_write_leaves_neither_a_temporary_file_nor_a_new_final_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / files.file_name("trtc_usage", D1, D2, "csv")
    target.write_bytes(b"old")

    def fail(self: Path, to: Any) -> Any:
        raise OSError("rename refused")

    monkeypatch.setattr(Path, "rename", fail)
    with pytest.raises(OSError, match="rename refused"):
        files.write_atomically(target, b"new")
    assert [p.name for p in tmp_path.iterdir()] == [target.name] and target.read_bytes() == b"old"


def _row(day: str, value: float, metric: str = "minutes") -> dict[str, Any]:
    row: dict[str, Any] = {c: "" for c in COLUMNS}
    row.update(date=day, time_zone="Asia/Shanghai", day_start_utc="2026-08-28T16:00:00Z", value=value)
    row.update({c: metric for c in COLUMNS if c == "metric"})
    return row


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_rows_read_back_as_written(fmt: str) -> None:
    rows = [_row("2026-08-29", 1.5), _row("2026-08-29", 0.1 + 0.2)]
    data = files.serialize(rows, fmt)
    assert files.read_rows(data, fmt) == rows  # the exact float, not a rounded one
    assert data.endswith(b"\n") and data.count(b"\n") == len(rows) + (fmt == "csv")
    assert b"\r" not in data  # the same bytes on every platform: no CRLF from the csv module


def test_csv_has_the_columns_in_order_as_its_first_line() -> None:
    first = files.serialize([], "csv").decode().splitlines()
    assert first == [",".join(COLUMNS)]


def test_parquet_has_typed_columns_in_utc() -> None:
    """The lake's schema: a real date, a UTC timestamp, text dimensions and a float value."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [_row("2026-08-29", 2.5)]
    data = files.serialize(rows, "parquet")
    schema = pq.read_table(io.BytesIO(data)).schema
    assert schema.names == list(COLUMNS)
    assert schema.field("date").type == pa.date32()
    stamp = schema.field("day_start_utc").type  # whole seconds, stored by Parquet in its ms unit
    assert pa.types.is_timestamp(stamp) and stamp.tz == "UTC"
    assert schema.field("value").type == pa.float64()
    assert {schema.field(c).type for c in COLUMNS[3:-1]} == {pa.string()}
    assert files.read_rows(data, "parquet") == rows


def test_parquet_of_no_rows_keeps_the_types_and_is_snappy_compressed() -> None:
    """An interval without usage still gives a file with the schema a lake table expects."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    empty = pq.ParquetFile(io.BytesIO(files.serialize([], "parquet")))
    schema = empty.schema_arrow
    assert schema.field("date").type == pa.date32() and schema.field("value").type == pa.float64()
    assert pa.types.is_timestamp(schema.field("day_start_utc").type)
    assert schema.field("report").type == pa.string()
    full = pq.ParquetFile(io.BytesIO(files.serialize([_row("2026-08-29", 1.0)], "parquet")))
    assert full.metadata.row_group(0).column(0).compression == "SNAPPY"


def test_parquet_without_pyarrow_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow raises ImportError
    with pytest.raises(RtcValidationError) as caught:
        files.require_pyarrow()
    assert caught.value.param == "format"
    assert "'parquet' needs pyarrow: pip install 'airflow-provider-rtc[parquet]'" in str(caught.value)


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(RtcValidationError) as caught:
        files.serialize([], "xlsx")
    assert caught.value.param == "format"


def test_an_unknown_format_names_the_formats_and_the_value() -> None:
    with pytest.raises(RtcValidationError) as caught:
        files.serialize([], "xlsx")
    assert "one of ('csv', 'parquet', 'jsonl')" in str(caught.value) and "xlsx" in str(caught.value)


def test_jsonl_keeps_non_ascii_text_readable() -> None:
    row = _row("2026-08-29", 1.0)
    row["dimension"] = "\u623f\u95f4"
    assert "\u623f\u95f4".encode() in files.serialize([row], "jsonl")
