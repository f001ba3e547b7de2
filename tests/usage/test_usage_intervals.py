"""Which Beijing dates a UsageReportOperator run writes under every Airflow 3 timetable, runs that
fetch nothing, and the edge inputs that used to fail after calls were made (sandbox on 127.0.0.1)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pendulum
import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowSkipException
from airflow.timetables.base import TimeRestriction
from airflow.timetables.events import EventsTimetable
from airflow.timetables.interval import CronDataIntervalTimetable, DeltaDataIntervalTimetable
from airflow.timetables.trigger import (
    CronTriggerTimetable,
    DeltaTriggerTimetable,
    MultipleCronTriggerTimetable,
)
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.operators.usage import UsageReportOperator
from airflow_provider_rtc.reports import files

BJ = "Asia/Shanghai"
#: Beijing midnight starting 2026-08-01 (= 2026-07-31T16:00:00Z)
T0 = pendulum.datetime(2026, 8, 1, tz=BJ)


def op(report: str = "trtc_usage", destination: Any = "/tmp/unused", **kw: Any) -> UsageReportOperator:
    return UsageReportOperator(task_id=f"usage_{report}", report=report, destination=str(destination), **kw)


def context_of(start: Any, end: Any, logical: Any = None, run_after: Any = None) -> dict[str, Any]:
    """The keys an Airflow 3 task context gives the operator."""
    return {
        "data_interval_start": start,
        "data_interval_end": end,
        "logical_date": logical if logical is not None else start,
        "dag_run": SimpleNamespace(run_after=run_after or end),
    }


def first_run(timetable: Any) -> dict[str, Any]:
    """The context of the timetable's first scheduled run at or after T0, as the scheduler makes it."""
    info = timetable.next_dagrun_info(
        last_automated_data_interval=None, restriction=TimeRestriction(earliest=T0, latest=None, catchup=True)
    )
    return context_of(info.data_interval.start, info.data_interval.end, info.logical_date, info.run_after)


def dates(plan: tuple[dt.date, dt.date] | None) -> tuple[str, str] | None:
    return None if plan is None else (plan[0].isoformat(), plan[1].isoformat())


# -- defect 1: every Airflow 3 timetable writes the day(s) its run stands for ---------------------


@pytest.mark.parametrize(
    ("timetable", "expected"),
    [
        # Airflow 3's default for schedule="0 0 * * *": an empty interval at Beijing midnight 08-01
        (CronTriggerTimetable("0 0 * * *", timezone=BJ), "2026-07-31"),
        (CronTriggerTimetable("0 0 * * *", timezone="UTC"), "2026-07-31"),  # 08:00 Beijing 08-01
        (CronTriggerTimetable("0 3 * * *", timezone=BJ), "2026-07-31"),  # 3 h after the day ended
        (DeltaTriggerTimetable(dt.timedelta(days=1)), "2026-07-31"),
        (MultipleCronTriggerTimetable("0 0 * * *", "0 12 * * *", timezone=BJ), "2026-07-31"),
        (EventsTimetable([T0.add(hours=5)]), "2026-07-31"),
        # a cron trigger with an explicit one-day interval, and the interval timetables: [08-01, 08-02)
        (CronTriggerTimetable("0 0 * * *", timezone=BJ, interval=dt.timedelta(days=1)), "2026-07-31"),
        (CronDataIntervalTimetable("0 0 * * *", timezone=BJ), "2026-08-01"),
        (DeltaDataIntervalTimetable(dt.timedelta(days=1)), "2026-08-01"),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, str) else v,
)
def test_every_timetable_writes_the_beijing_day_that_ended_before_its_run(
    timetable: Any, expected: str
) -> None:
    context = first_run(timetable)
    assert dates(op().plan(context)) == (expected, expected)


def test_manual_runs_and_runs_without_a_data_interval_write_the_day_before() -> None:
    run_after = T0.add(hours=10)  # 10:00 Beijing 08-01
    manual = CronTriggerTimetable("0 0 * * *", timezone=BJ).infer_manual_data_interval(run_after=run_after)
    assert manual.start == manual.end  # Airflow 3: an empty interval
    assert dates(op().plan(context_of(manual.start, manual.end))) == ("2026-07-31", "2026-07-31")
    # asset-triggered, or triggered with no logical date: no data interval, only run_after
    bare = {"data_interval_start": None, "data_interval_end": None, "logical_date": None}
    assert dates(op().plan({**bare, "dag_run": SimpleNamespace(run_after=run_after)})) == (
        "2026-07-31",
        "2026-07-31",
    )


def test_plain_cron_run_writes_its_file_and_lookback_reaches_before_it(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    timetable = CronTriggerTimetable("0 0 * * *", timezone=BJ)
    for day in (T0.subtract(days=2), T0.subtract(days=1)):  # two earlier runs
        op("trtc_relay", tmp_path).execute(context_of(day, day))
    result = op("trtc_relay", tmp_path, lookback_days=2).execute(first_run(timetable))
    folder = tmp_path / "trtc_relay"
    assert Path(result["path"].removeprefix("file://")).name == "trtc_relay_2026-07-31_2026-07-31.csv"
    assert result["rows"] == 6 and result["dates"] == ["2026-07-31", "2026-07-31"]
    assert [Path(p).name for p in result["revised"]] == [
        "trtc_relay_2026-07-29_2026-07-29.csv",
        "trtc_relay_2026-07-30_2026-07-30.csv",
    ]
    rows = files.read_rows((folder / "trtc_relay_2026-07-31_2026-07-31.csv").read_bytes(), "csv")
    assert {r["date"] for r in rows} == {"2026-07-31"}


def test_an_interval_shorter_than_a_day_holding_no_day_end_is_skipped_not_a_silent_success(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    hourly = first_run(CronDataIntervalTimetable("0 * * * *", timezone=BJ))  # [00:00, 01:00) Beijing
    with pytest.raises(AirflowSkipException, match=r"no Beijing day ends in \(2026-07-31T16:00:00Z"):
        op("trtc_usage", tmp_path).execute(hourly)
    assert sandbox.sandbox.usage.log() == [] and not (tmp_path / "trtc_usage").exists()


def test_dates_are_the_days_ending_in_start_exclusive_end_inclusive() -> None:
    """The documented rule, at both edges: a day ending exactly at ``start`` belongs to the previous
    interval, a day ending exactly at ``end`` to this one."""
    day_end = "2026-08-01T16:00:00Z"  # Beijing 2026-08-01 ends here
    assert dates(op(start=day_end, end="2026-08-02T16:00:00Z").plan({})) == ("2026-08-02", "2026-08-02")
    assert dates(op(start="2026-07-31T16:00:00Z", end=day_end).plan({})) == ("2026-08-01", "2026-08-01")
    # one second short of that end: 08-01 has not ended inside; one second past the start: it has
    assert op(start="2026-08-01T00:00:00Z", end="2026-08-01T15:59:59Z").plan({}) is None
    one_past = op(start="2026-07-31T16:00:01Z", end="2026-08-01T16:00:01Z").plan({})
    assert dates(one_past) == ("2026-08-01", "2026-08-01")
    doc = UsageReportOperator.__module__
    import importlib

    assert "(start, end]" in (importlib.import_module(doc).__doc__ or "")


# -- defect 1: a run that fetches nothing says so, and fails unless allow_empty ---------------------


@pytest.fixture
def no_rooms(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    """A day on which the app had no room: DescribeTrtcRoomUsage answers its CSV header only."""
    monkeypatch.setattr(sandbox.sandbox.usage, "room_seconds", lambda *a, **k: [])
    sandbox.sandbox.limiter.configure(qps={"DescribeTrtcRoomUsage": 20.0})
    return sandbox


RECENT = pendulum.now(BJ).start_of("day").subtract(days=2)


def test_an_empty_fetch_fails_and_writes_nothing_by_default(no_rooms: SandboxServer, tmp_path: Path) -> None:
    task = op("trtc_room", tmp_path, hook_params={"qps": {"DescribeTrtcRoomUsage": 20.0}})
    with pytest.raises(AirflowException, match=r"returned no usage .* allow_empty=True") as err:
        task.execute(context_of(RECENT, RECENT))
    assert not isinstance(err.value, AirflowSkipException)
    assert len(no_rooms.sandbox.usage.log("DescribeTrtcRoomUsage")) == 1  # it did ask
    assert not (tmp_path / "trtc_room").exists() or not any((tmp_path / "trtc_room").iterdir())


@pytest.mark.parametrize("allow", [True, "True", "{{ params.allow }}"])
def test_allow_empty_writes_a_header_only_file_and_says_so(
    no_rooms: SandboxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], allow: Any
) -> None:
    task = op("trtc_room", tmp_path, allow_empty=allow, hook_params={"qps": {"DescribeTrtcRoomUsage": 20.0}})
    assert "allow_empty" in task.template_fields
    if isinstance(allow, str) and "{{" in allow:
        task.allow_empty = "true"  # as rendered from params.allow
    result = task.execute(context_of(RECENT, RECENT))
    assert result["rows"] == 0 and result["path"]
    assert Path(result["path"].removeprefix("file://")).read_text().startswith("date,time_zone,")
    out = capsys.readouterr().out
    assert "[warning" in out and "no usage" in out and "allow_empty=True" in out


def test_allow_empty_must_be_a_boolean() -> None:
    with pytest.raises(RtcValidationError) as err:
        op(allow_empty="sometimes")
    assert err.value.param == "allow_empty"


# -- defect 2: bad input is an RtcValidationError before any call ----------------------------------


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"start": "0001-01-01", "end": "2026-08-01T00:00:00Z"}, "start"),
        ({"start": "0001-01-01T00:00:00+08:00", "end": "2026-08-01T00:00:00Z"}, "start"),
        ({"start": "2026-08-01T00:00:00Z", "end": "9999-12-31T23:00:00-08:00"}, "end"),
        ({"start": "1999-01-01T00:00:00Z", "end": "1999-01-02T00:00:00Z"}, "start"),  # before any TRTC
        ({"start": "0001-01-01T00:00:00Z", "end": "0001-01-01T00:00:00Z"}, "end"),  # empty, at the edge
    ],
)
def test_absurd_dates_fail_before_any_call(
    sandbox: SandboxServer, tmp_path: Path, kwargs: dict[str, Any], param: str
) -> None:
    with pytest.raises(RtcValidationError) as err:
        op("trtc_usage", tmp_path, **kwargs).execute({})
    assert err.value.param == param
    assert sandbox.sandbox.usage.log() == [] and not (tmp_path / "trtc_usage").exists()


@pytest.mark.parametrize(
    ("report", "lookback", "ok"),
    [
        ("trtc_usage", 10**9, False),
        ("trtc_room", 93, False),
        ("trtc_room", 92, True),
        ("live_transcode", 91, False),
    ],
)
def test_lookback_is_bounded_by_the_apis_history(report: str, lookback: int, ok: bool) -> None:
    if ok:
        assert op(report, lookback_days=lookback).lookback_days == lookback
        return
    with pytest.raises(RtcValidationError) as err:
        op(report, lookback_days=lookback)
    assert err.value.param == "lookback_days"


def test_stray_files_in_the_destination_are_ignored_with_a_warning(
    sandbox: SandboxServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "trtc_relay"
    folder.mkdir()
    strays = {
        "trtc_relay_2026-13-45_2026-13-45.csv": b"not ours",
        "trtc_relay_2026-07-30_2026-07-01.csv": b"backwards",
        "notes.txt": b"hand-written",
    }
    for name, data in strays.items():
        (folder / name).write_bytes(data)
    (folder / ".trtc_relay_2026-07-30_2026-07-30.csv.tmp-abc").write_bytes(b"another run's temp file")
    result = op("trtc_relay", tmp_path, lookback_days=2).execute(context_of(T0, T0))
    out = capsys.readouterr().out
    assert result["rows"] == 6 and result["revised"] == []
    for name, data in strays.items():
        assert (folder / name).read_bytes() == data  # left alone
        assert f"ignoring {name}" in out
    assert ".tmp-abc" not in out
