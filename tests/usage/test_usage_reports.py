"""UsageReportOperator against the sandbox on 127.0.0.1: window splitting and pacing as the sandbox
received them, atomic idempotent files, Beijing dates around midnight, formats, bad input."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from rtc_sandbox.backends.usage import UsageQuery
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.operators.usage import UsageReportOperator
from airflow_provider_rtc.reports import files
from airflow_provider_rtc.reports.specs import REPORTS

UTC = dt.UTC
#: a fixed, finished range: 100 UTC days ending well before "now"
END = dt.datetime(2026, 9, 1, tzinfo=UTC)
START = END - dt.timedelta(days=100)
#: for APIs that keep only recent months: midnight UTC two days ago
RECENT = dt.datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=2)


def run(report: str, tmp_path: Path, start: Any = START, end: Any = END, **kw: Any) -> dict[str, Any]:
    op = UsageReportOperator(
        task_id=f"usage_{report}", report=report, start=start, end=end, destination=str(tmp_path), **kw
    )
    return op.execute({})


def max_in_any_second(log: list[UsageQuery]) -> int:
    """The most calls the sandbox received inside any one-second span, first call included: the
    slot is taken once the connection is open, so the first call no longer arrives late and close
    to the second (issue 20 item 4; ``tests/unit/test_pacing_arrivals.py``)."""
    stamps = sorted(q.at for q in log)
    return max((sum(1 for t in stamps if s <= t < s + 1.0) for s in stamps), default=0)


def span(query: UsageQuery) -> int:
    """Dates in a TRTC query (StartTime..EndTime inclusive)."""
    return (dt.date.fromisoformat(query.end[:10]) - dt.date.fromisoformat(query.start[:10])).days + 1


# -- splitting and pacing -------------------------------------------------------------------------


@pytest.mark.slow  # the real pacing at the server: arrival times on the wall clock (load bunches them)
@pytest.mark.timing  # serially, on a core of its own (make test-all)
def test_100_days_split_into_31_date_windows_paced_at_5_per_second(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    result = run("trtc_recording", tmp_path)
    log = sandbox.sandbox.usage.log("DescribeRecordingUsage")
    # Beijing dates 2026-05-24 .. 2026-08-31 = 100 dates -> 31+31+31+7, once per MixType
    assert len(log) == 8 == result["calls"]
    assert sorted(span(q) for q in log) == [7, 7, 31, 31, 31, 31, 31, 31]
    assert all(span(q) <= REPORTS["trtc_recording"].api.max_range_days for q in log)
    covered = {dt.date.fromisoformat(q.start) + dt.timedelta(days=i) for q in log for i in range(span(q))}
    assert len(covered) == 100 and min(covered) == dt.date(2026, 5, 24)
    # the sandbox enforces the documented 5/s (token bucket): nothing was throttled, and the
    # client kept to the limit over the whole run
    stats = sandbox.sandbox.stats.snapshot()["actions"]["DescribeRecordingUsage"]
    assert stats["throttled"] == 0 and stats["ok"] == 8
    assert sandbox.sandbox.limiter.rate(REPORTS["trtc_recording"].api) == 5.0
    assert max_in_any_second(log) <= 5
    assert result["rows"] == 100 * 2 * 6  # dates x MixType x UsageKey


def test_live_windows_respect_their_caps(sandbox: SandboxServer, tmp_path: Path) -> None:
    run("live_bandwidth", tmp_path, start=START, end=END)
    run("live_transcode", tmp_path, start=RECENT - dt.timedelta(days=85), end=RECENT)
    bandwidth = sandbox.sandbox.usage.log("DescribeBillBandwidthAndFluxList")
    assert [q.start[:10] for q in bandwidth] == ["2026-05-24", "2026-06-24", "2026-07-25", "2026-08-25"]
    assert all(q.start.endswith("00:00:00") and q.end.endswith("23:59:59") for q in bandwidth)
    assert len(sandbox.sandbox.usage.log("DescribeLiveTranscodeTotalInfo")) == 1  # 85 dates <= 90


def test_room_usage_is_one_call_per_date_at_its_configured_rate(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    """The documented 1 call / 15 s would make this test take minutes: both sides get the same
    override (20/s) and the test checks the client kept to it; the documented value is pinned below."""
    sandbox.sandbox.limiter.configure(qps={"DescribeTrtcRoomUsage": 20.0})
    result = run(
        "trtc_room",
        tmp_path,
        start=RECENT - dt.timedelta(days=10),
        end=RECENT,
        hook_params={"qps": {"DescribeTrtcRoomUsage": 20.0}},
    )
    log = sandbox.sandbox.usage.log("DescribeTrtcRoomUsage")
    assert len(log) == 10 == result["calls"]
    assert all(
        q.start.endswith(" 00:00") and q.end.endswith(" 23:59") and q.start[:10] == q.end[:10] for q in log
    )
    assert max_in_any_second(log) <= 20
    assert sandbox.sandbox.stats.snapshot()["actions"]["DescribeTrtcRoomUsage"]["throttled"] == 0
    assert {r for r in result["totals"]} == {"duration_second"}


def test_documented_limits_drive_the_pacer() -> None:
    from airflow_provider_rtc.pacing import pacer_for

    room = pacer_for("trtc", "k", "DescribeTrtcRoomUsage", None)
    usage = pacer_for("trtc", "k", "DescribeTrtcUsage", None)
    assert room is not None and usage is not None
    assert room.interval >= 15.0 and usage.interval >= 0.2
    assert REPORTS["trtc_room"].api.qps == pytest.approx(1 / 15)
    assert REPORTS["trtc_usage"].api.max_range_days == 31


# -- files -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_rerun_replaces_the_file_with_identical_content(
    sandbox: SandboxServer, tmp_path: Path, fmt: str
) -> None:
    start, end = END - dt.timedelta(days=3), END
    first = run("trtc_usage", tmp_path, start=start, end=end, format=fmt)
    path = Path(first["path"].removeprefix("file://"))
    before = path.read_bytes()
    second = run("trtc_usage", tmp_path, start=start, end=end, format=fmt)
    assert second["path"] == first["path"] and path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temp file left, no copy
    rows = files.read_rows(before, fmt)
    assert len(rows) == first["rows"] == 3 * 6
    assert {r["date"] for r in rows} == {"2026-08-29", "2026-08-30", "2026-08-31"}


def test_csv_and_parquet_round_trip_the_same_rows(sandbox: SandboxServer, tmp_path: Path) -> None:
    a = run("live_bandwidth", tmp_path / "a", start=END - dt.timedelta(days=5), format="csv")
    b = run("live_bandwidth", tmp_path / "b", start=END - dt.timedelta(days=5), format="parquet")
    csv_rows = files.read_rows(Path(a["path"].removeprefix("file://")).read_bytes(), "csv")
    pq_rows = files.read_rows(Path(b["path"].removeprefix("file://")).read_bytes(), "parquet")
    assert csv_rows == pq_rows and len(csv_rows) == 10
    assert a["totals"] == b["totals"] and set(a["totals"]) == {"flux_MB", "peak_bandwidth_Mbps"}
    assert a["totals"]["flux_MB"] == pytest.approx(sum(r["value"] for r in csv_rows if r["metric"] == "flux"))


def test_lookback_rewrites_earlier_files_without_duplicating_days(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    day = dt.timedelta(days=1)
    for i in range(3, 0, -1):
        run("trtc_relay", tmp_path, start=END - i * day, end=END - (i - 1) * day)
    folder = tmp_path / "trtc_relay"
    old = (folder / "trtc_relay_2026-08-30_2026-08-30.csv").stat().st_mtime_ns
    result = run("trtc_relay", tmp_path, start=END, end=END + day, lookback_days=2)
    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"trtc_relay_2026-08-{d}_2026-08-{d}.csv" for d in (29, 30, 31)] + [
        "trtc_relay_2026-09-01_2026-09-01.csv"
    ]
    assert [Path(p).name for p in result["revised"]] == names[1:3]
    assert (folder / names[1]).stat().st_mtime_ns >= old
    keys = [
        (r["date"], r["dimension"]) for n in names for r in files.read_rows((folder / n).read_bytes(), "csv")
    ]
    assert len(keys) == len(set(keys)) == 4 * 6  # every (date, key) exactly once across all files
    assert sorted({d for d, _ in keys}) == ["2026-08-29", "2026-08-30", "2026-08-31", "2026-09-01"]


# -- time zones ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # UTC-daily interval: the Beijing day that ended inside it (at 16:00 UTC)
        ("2026-08-01T00:00:00Z", "2026-08-02T00:00:00Z", ("2026-08-01", "2026-08-01")),
        # Beijing-aligned interval (00:00+08:00 = 16:00Z the day before)
        ("2026-07-31T16:00:00Z", "2026-08-01T16:00:00Z", ("2026-08-01", "2026-08-01")),
        # one second before Beijing midnight: still the earlier Beijing date ends inside
        ("2026-07-31T15:59:59Z", "2026-08-01T15:59:59Z", ("2026-07-31", "2026-07-31")),
        # one second after: the later one
        ("2026-07-31T16:00:01Z", "2026-08-01T16:00:01Z", ("2026-08-01", "2026-08-01")),
        ("2026-08-01T00:00:00+08:00", "2026-08-03T00:00:00+08:00", ("2026-08-01", "2026-08-02")),
    ],
)
def test_interval_to_beijing_dates_around_midnight(start: str, end: str, expected: tuple[str, str]) -> None:
    op = UsageReportOperator(task_id="t", report="trtc_usage", start=start, end=end, destination="/tmp/x")
    dates = op.plan({})
    assert dates is not None and (dates[0].isoformat(), dates[1].isoformat()) == expected


def test_rows_say_their_zone_and_points_land_on_their_beijing_date(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    """A one-date query answers 5-minute points; the 23:55 Beijing point (15:55 UTC) belongs to
    that date, and the row carries the zone and the UTC start of its day."""
    result = run("trtc_usage", tmp_path, start="2026-08-01T00:00:00Z", end="2026-08-02T00:00:00Z")
    (query,) = sandbox.sandbox.usage.log("DescribeTrtcUsage")
    assert (query.start, query.end) == ("2026-08-01", "2026-08-01")
    rows = files.read_rows(Path(result["path"].removeprefix("file://")).read_bytes(), "csv")
    assert {(r["date"], r["time_zone"], r["day_start_utc"]) for r in rows} == {
        ("2026-08-01", "Asia/Shanghai", "2026-07-31T16:00:00Z")
    }
    daily = run("trtc_usage", tmp_path / "wide", start="2026-07-31T00:00:00Z", end="2026-08-02T00:00:00Z")
    wide = files.read_rows(Path(daily["path"].removeprefix("file://")).read_bytes(), "csv")
    # the same date from a two-date query (daily points) has the same numbers as the 5-minute sum
    assert [r for r in wide if r["date"] == "2026-08-01"] == rows


def test_live_times_in_utc_become_beijing_dates() -> None:
    from airflow_provider_rtc.reports import cloudtime

    assert cloudtime.cloud_date("2026-07-31T16:00:00Z") == dt.date(2026, 8, 1)
    assert cloudtime.cloud_date("2026-07-31T15:59:59Z") == dt.date(2026, 7, 31)
    assert cloudtime.cloud_date("2026-08-01 00:00:00") == dt.date(2026, 8, 1)  # old SDK format: Beijing


# -- bad input, before any call --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"report": "trtc_minutes"}, "report"),
        ({"format": "xlsx"}, "format"),
        ({"lookback_days": -1}, "lookback_days"),
        ({"report": "trtc_room", "window_days": 2}, "window_days"),
        ({"report": "trtc_usage", "window_days": 32}, "window_days"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs: dict[str, Any], param: str) -> None:
    args = {"task_id": "t", "report": "trtc_usage", "destination": "/tmp/x", **kwargs}
    with pytest.raises(RtcValidationError) as err:
        UsageReportOperator(**args)
    assert err.value.param == param


@pytest.mark.parametrize(
    ("start", "end", "param", "report"),
    [
        ("2026-08-02T00:00:00Z", "2026-08-01T00:00:00Z", "start", "trtc_usage"),
        ("2026-08-01T00:00:00Z", "2999-01-01T00:00:00Z", "end", "trtc_usage"),
        ("2999-01-01T00:00:00Z", "2999-01-02T00:00:00Z", "end", "live_bandwidth"),
        ("2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z", "start", "trtc_room"),
        ("not a time", "2020-01-02T00:00:00Z", "start", "trtc_usage"),
    ],
)
def test_bad_ranges_fail_before_any_call(
    sandbox: SandboxServer, tmp_path: Path, start: str, end: str, param: str, report: str
) -> None:
    with pytest.raises(RtcValidationError) as err:
        run(report, tmp_path, start=start, end=end)
    assert err.value.param == param
    assert sandbox.sandbox.usage.log() == []


def test_parquet_without_pyarrow_is_a_clear_error(
    sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins

    real_import = builtins.__import__

    def no_pyarrow(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("pyarrow"):
            raise ImportError("No module named 'pyarrow'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(RtcValidationError, match=r"airflow-provider-rtc\[parquet\]") as err:
        run("trtc_usage", tmp_path, start=END - dt.timedelta(days=1), format="parquet")
    assert err.value.param == "format" and sandbox.sandbox.usage.log() == []


def test_sandbox_refuses_a_too_long_window_with_the_documented_code(sandbox: SandboxServer) -> None:
    from airflow_provider_rtc.exceptions import RtcInvalidInputError
    from airflow_provider_rtc.hooks.live import LiveHook
    from airflow_provider_rtc.hooks.trtc import TrtcHook

    with pytest.raises(RtcInvalidInputError, match=r"InvalidParameter\.QueryScaleOversize"):
        TrtcHook().call("DescribeTrtcUsage", {"StartTime": "2026-01-01", "EndTime": "2026-02-01"})
    with pytest.raises(RtcInvalidInputError, match="InvalidParameterValue"):
        LiveHook().call(
            "DescribeBillBandwidthAndFluxList",
            {"StartTime": "2026-01-01 00:00:00", "EndTime": "2026-03-01 00:00:00", "Granularity": 1440},
        )
    with pytest.raises(RtcValidationError) as err:  # the hook refuses it before sending
        TrtcHook().describe_trtc_usage("2026-01-01", "2026-02-01")
    assert err.value.param == "end_date"


def test_same_request_same_numbers(sandbox: SandboxServer) -> None:
    from airflow_provider_rtc.hooks.trtc import TrtcHook

    hook = TrtcHook()
    one = hook.describe_mix_transcoding_usage("2026-08-01", "2026-08-10")
    two = hook.describe_mix_transcoding_usage("2026-08-01", "2026-08-10")
    assert one["UsageList"] == two["UsageList"] and len(one["UsageList"]) == 10
    assert len(one["UsageKey"]) == 11 and all(v >= 0 for p in one["UsageList"] for v in p["UsageValue"])


# -- hooks: validation and request shapes --------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (lambda h, lv: h.describe_recording_usage("2026-08-01", "2026-08-02", "mixed"), "mix_type"),
        (lambda h, lv: h.describe_trtc_usage("2026-08-02", "2026-08-01"), "end_date"),
        (lambda h, lv: h.describe_relay_usage("yesterday", "2026-08-01"), "start_date"),
        (
            lambda h, lv: h.describe_trtc_room_usage(
                dt.datetime(2026, 8, 1, tzinfo=UTC), dt.datetime(2026, 8, 2, 1, tzinfo=UTC)
            ),
            "end_time",
        ),
        (lambda h, lv: lv.describe_bill_bandwidth_and_flux_list("a", "b", granularity=30), "granularity"),
        (
            lambda h, lv: lv.describe_bill_bandwidth_and_flux_list(
                dt.datetime(2026, 8, 1, tzinfo=UTC), dt.datetime(2026, 8, 3, tzinfo=UTC), granularity=5
            ),
            "end_time",
        ),
        (
            lambda h, lv: lv.describe_live_transcode_total_info("a", "b", mainland_or_oversea="Asia"),
            "mainland_or_oversea",
        ),
    ],
)
def test_hooks_refuse_bad_usage_input_before_calling(sandbox: SandboxServer, call: Any, param: str) -> None:
    from airflow_provider_rtc.hooks.live import LiveHook
    from airflow_provider_rtc.hooks.trtc import TrtcHook

    with pytest.raises(RtcValidationError) as err:
        call(TrtcHook(), LiveHook())
    assert err.value.param == param
    assert sandbox.sandbox.usage.log() == []


def test_hooks_send_beijing_times_and_fall_back_to_a_usage_region(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_rtc.hooks.live import LiveHook
    from airflow_provider_rtc.hooks.trtc import TrtcHook

    hook = TrtcHook(region="ap-beijing")  # a room region: usage is served from ap-guangzhou instead
    start = dt.datetime(2026, 7, 31, 16, 0, tzinfo=UTC)  # Beijing midnight
    answer = hook.describe_trtc_room_usage(start, start + dt.timedelta(hours=23, minutes=59))
    assert answer["Data"].startswith("RoomId,Audio,SD,HD,FullHD,2K,4K\n")
    LiveHook().describe_live_transcode_total_info(start, start + dt.timedelta(days=1))
    room, live = sandbox.sandbox.usage.log()
    assert (room.start, room.end) == ("2026-08-01 00:00", "2026-08-01 23:59")
    assert (live.start, live.end) == ("2026-08-01 00:00:00", "2026-08-02 00:00:00")


def test_room_usage_header_keys_take_the_trtc_usage_spelling(sandbox: SandboxServer) -> None:
    """DescribeTrtcRoomUsage's documented header is "RoomId,Audio,SD,hd,FullHD,2K,4K" (647/89181),
    and the sandbox answers it so: the hook hands reports "HD", DescribeTrtcUsage's key."""
    from airflow_provider_rtc.hooks.trtc import TrtcHook, room_usage_csv

    start = dt.datetime(2026, 7, 31, 16, 0, tzinfo=UTC)
    answer = TrtcHook().describe_trtc_room_usage(start, start + dt.timedelta(hours=23, minutes=59))
    assert answer["Data"].split("\n", 1)[0] == "RoomId,Audio,SD,HD,FullHD,2K,4K"
    assert room_usage_csv("RoomId,audio,hd,New\nr,1,2,3\n") == "RoomId,Audio,HD,New\nr,1,2,3\n"


def test_transcode_with_push_domains_is_hourly_even_within_one_day(sandbox: SandboxServer) -> None:
    """ "如果是查询跨天或指定域名, 则返回1小时粒度数据" (Go SDK live client; 267/59864)."""
    from airflow_provider_rtc.hooks.live import LiveHook

    start = RECENT - dt.timedelta(hours=8)  # Beijing midnight of a finished day
    end = start + dt.timedelta(hours=23, minutes=59)
    all_domains = LiveHook().describe_live_transcode_total_info(start, end)["DataInfoList"]
    one = LiveHook().describe_live_transcode_total_info(start, end, push_domains=["push.example.com"])
    minutes = {p["Time"][14:16] for p in one["DataInfoList"]}
    assert one["DataInfoList"] and minutes == {"00"}
    assert {p["Time"][14:16] for p in all_domains} != {"00"}  # 5-minute points without domains


# -- a failure mid-write --------------------------------------------------------------------------


@pytest.mark.parametrize("old", [None, b"the previous report\n"], ids=["no-file-yet", "old-file"])
def test_a_failure_mid_write_never_leaves_a_partial_file_at_the_final_name(
    sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, old: bytes | None
) -> None:
    """The disk fills half-way through the write: the final name holds the old file or nothing,
    never half a report (a reader between the failure and the retry would take it as complete)."""
    from airflow.providers.common.compat.sdk import ObjectStoragePath

    start, end = END - dt.timedelta(days=3), END
    folder = tmp_path / "trtc_usage"  # the operator writes under <destination>/<report>/
    folder.mkdir()
    final = folder / files.file_name("trtc_usage", dt.date(2026, 8, 29), dt.date(2026, 8, 31), "csv")
    if old is not None:
        final.write_bytes(old)
    writes: list[str] = []

    def half_then_disk_full(self: Any, data: bytes) -> int:
        writes.append(str(self.name))
        with self.open("wb") as handle:
            handle.write(data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ObjectStoragePath, "write_bytes", half_then_disk_full)
    with pytest.raises(OSError, match="No space left"):
        run("trtc_usage", tmp_path, start=start, end=end, format="csv")
    assert writes, "the report was never written: the test did not exercise the write"
    if old is None:
        assert not final.exists(), final.read_bytes()
    else:
        assert final.read_bytes() == old
    assert sorted(p.name for p in folder.iterdir()) == ([final.name] if old else [])  # no temp left
