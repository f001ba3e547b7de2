"""The usage reports: one API each, the windows it accepts, and tidy rows from its answers.

A row is one Beijing date x scope x dimension x metric. Columns (:data:`COLUMNS`):

``date``           the calendar date, in ``time_zone``
``time_zone``      the zone ``date`` is in (``Asia/Shanghai``: Tencent reports in Beijing time)
``day_start_utc``  when that date began, in UTC (16:00 the day before)
``report``         the report name; ``api`` the API that answered
``sdk_app_id``     the SDKAppID asked for ("" = the whole account, and for Live)
``scope``          recording: ``single``/``multi``; room: the room id; transcode: the codec module;
                   bandwidth: ``all``; otherwise ""
``dimension``      the API's usage key (Audio, SD, HD, FullHD, 2K, 4K, SDH264...), the transcode
                   resolution; bandwidth: ""
``metric``/``unit``/``value``  ``duration`` in ``minute`` (``second`` for rooms), ``flux`` in ``MB``,
                   ``peak_bandwidth`` in ``Mbps``
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from airflow_provider_rtc.catalog import Api
from airflow_provider_rtc.catalog import live as live_api
from airflow_provider_rtc.catalog import trtc as trtc_api
from airflow_provider_rtc.reports import cloudtime

COLUMNS = (
    "date",
    "time_zone",
    "day_start_utc",
    "report",
    "api",
    "sdk_app_id",
    "scope",
    "dimension",
    "metric",
    "unit",
    "value",
)
#: The oldest Beijing date asked of an API that documents no retention (the four TRTC usage APIs:
#: their pages, trtc-api-tables.md "DescribeTrtcUsage", state only "at most 31 days per query").
#: UNCONFIRMED on purpose: it predates TRTC's public launch, so it never refuses a date the cloud could
#: hold; it exists to refuse typos (``0001-01-01``, a wrong century) before thousands of calls.
EARLIEST_DATE = dt.date(2015, 1, 1)
#: metrics totalled by their maximum (a peak), the others by their sum
PEAK_METRICS = frozenset({"peak_bandwidth"})

Row = dict[str, Any]
#: (metric, unit, scope, dimension) -> value, per Beijing date
Cells = dict[dt.date, dict[tuple[str, str, str, str], float]]


@dataclass(frozen=True)
class Report:
    name: str
    api: Api
    #: fetch(hook, first, last, sdk_app_id) -> cells; one call per window (two for recording)
    fetch: Callable[[Any, dt.date, dt.date, int | None], Cells]
    description: str
    #: the vendor's stated data delay, for the README and logs
    delay: str

    @property
    def product(self) -> str:
        return self.api.product

    @property
    def max_days(self) -> int:
        return self.api.max_range_days or 1

    def oldest(self, today: dt.date) -> dt.date:
        """The oldest Beijing date the API answers for on ``today`` (its ``history_days``, else
        :data:`EARLIEST_DATE`)."""
        history = self.api.history_days
        return EARLIEST_DATE if history is None else today - dt.timedelta(days=history)


def _empty() -> Cells:
    return defaultdict(dict)


def _add(
    cells: Cells, day: dt.date, key: tuple[str, str, str, str], value: float, *, peak: bool = False
) -> None:
    bucket = cells[day]
    old = bucket.get(key)
    bucket[key] = value if old is None else (max(old, value) if peak else old + value)


def _trtc_cells(answer: dict[str, Any], first: dt.date, last: dt.date, scope: str = "") -> Cells:
    """UsageKey/UsageList (5-minute or daily points, Beijing TimeKey) summed per date and key."""
    keys = answer.get("UsageKey") or []
    cells = _empty()
    for point in answer.get("UsageList") or []:
        day = cloudtime.cloud_date(point["TimeKey"])
        if first <= day <= last:
            for key, value in zip(keys, point.get("UsageValue") or [], strict=False):
                _add(cells, day, ("duration", "minute", scope, str(key)), float(value))
    return cells


def _trtc_fetcher(method: str) -> Callable[[Any, dt.date, dt.date, int | None], Cells]:
    def fetch(hook: Any, first: dt.date, last: dt.date, app: int | None) -> Cells:
        return _trtc_cells(getattr(hook, method)(first, last, sdk_app_id=app), first, last)

    return fetch


def _recording(hook: Any, first: dt.date, last: dt.date, app: int | None) -> Cells:
    cells = _empty()
    for mix in ("single", "multi"):
        answer = hook.describe_recording_usage(first, last, mix, sdk_app_id=app)
        for day, values in _trtc_cells(answer, first, last, scope=mix).items():
            cells[day].update(values)
    return cells


def _room(hook: Any, first: dt.date, last: dt.date, app: int | None) -> Cells:
    """One call per date (24 h cap): the CSV's seconds per room and key."""
    cells = _empty()
    day = first
    while day <= last:
        answer = hook.describe_trtc_room_usage(f"{day} 00:00", f"{day} 23:59", sdk_app_id=app)
        lines = [line for line in str(answer.get("Data") or "").splitlines() if line.strip()]
        if lines:
            header = [h.strip() for h in lines[0].split(",")]
            for line in lines[1:]:
                fields = [f.strip() for f in line.split(",")]
                for key, value in zip(header[1:], fields[1:], strict=False):
                    if value:
                        _add(cells, day, ("duration", "second", fields[0], key), float(value))
        day += dt.timedelta(days=1)
    return cells


def _bandwidth(hook: Any, first: dt.date, last: dt.date, app: int | None) -> Cells:
    answer = hook.describe_bill_bandwidth_and_flux_list(
        f"{first} 00:00:00", f"{last} 23:59:59", granularity=1440
    )
    cells = _empty()
    for point in answer.get("DataInfoList") or []:
        day = cloudtime.cloud_date(point["Time"])
        if first <= day <= last:
            _add(cells, day, ("flux", "MB", "all", ""), float(point.get("Flux") or 0))
            _add(
                cells,
                day,
                ("peak_bandwidth", "Mbps", "all", ""),
                float(point.get("Bandwidth") or 0),
                peak=True,
            )
    return cells


def _transcode(hook: Any, first: dt.date, last: dt.date, app: int | None) -> Cells:
    answer = hook.describe_live_transcode_total_info(f"{first} 00:00:00", f"{last} 23:59:59")
    cells = _empty()
    for point in answer.get("DataInfoList") or []:
        day = cloudtime.cloud_date(point["Time"])
        if first <= day <= last:
            key = ("duration", "minute", str(point.get("ModuleCodec", "")), str(point.get("Resolution", "")))
            _add(cells, day, key, float(point.get("Duration") or 0))
    return cells


_TRTC_DELAY = "5 min to 3 h (console: 5-180 min); the current day is inaccurate"
REPORTS: dict[str, Report] = {
    r.name: r
    for r in (
        Report(
            "trtc_usage",
            trtc_api.DESCRIBE_TRTC_USAGE,
            _trtc_fetcher("describe_trtc_usage"),
            "audio/video minutes per resolution",
            _TRTC_DELAY,
        ),
        Report(
            "trtc_recording",
            trtc_api.DESCRIBE_RECORDING_USAGE,
            _recording,
            "recording minutes, single-stream and mixed",
            _TRTC_DELAY,
        ),
        Report(
            "trtc_mix_transcoding",
            trtc_api.DESCRIBE_MIX_TRANSCODING_USAGE,
            _trtc_fetcher("describe_mix_transcoding_usage"),
            "MCU mix/transcoding minutes per codec and resolution",
            _TRTC_DELAY,
        ),
        Report(
            "trtc_relay",
            trtc_api.DESCRIBE_RELAY_USAGE,
            _trtc_fetcher("describe_relay_usage"),
            "relay-to-CDN minutes",
            _TRTC_DELAY,
        ),
        Report(
            "trtc_room",
            trtc_api.DESCRIBE_TRTC_ROOM_USAGE,
            _room,
            "seconds per room and resolution (not for billing reconciliation)",
            "same-day data may be inaccurate; from 2023-04-01, the last 3 months",
        ),
        Report(
            "live_bandwidth",
            live_api.DESCRIBE_BILL_BANDWIDTH_AND_FLUX_LIST,
            _bandwidth,
            "billable CDN traffic (MB) and daily peak bandwidth (Mbps)",
            "UNCONFIRMED; Live statistics are typically complete after about an hour",
        ),
        Report(
            "live_transcode",
            live_api.DESCRIBE_LIVE_TRANSCODE_TOTAL_INFO,
            _transcode,
            "Live transcoding minutes per codec module and resolution",
            "UNCONFIRMED; the last three months only",
        ),
    )
}


def rows_from_cells(
    report: Report, cells: Cells, days: Iterable[dt.date], sdk_app_id: int | None
) -> list[Row]:
    """Tidy rows for ``days`` in a stable order (the same data always serializes identically)."""
    rows: list[Row] = []
    app = "" if sdk_app_id is None or report.product != "trtc" else str(sdk_app_id)
    for day in sorted(days):
        start = cloudtime.day_start_utc(day).strftime("%Y-%m-%dT%H:%M:%SZ")
        for (metric, unit, scope, dimension), value in sorted(cells.get(day, {}).items()):
            rows.append(
                {
                    "date": day.isoformat(),
                    "time_zone": cloudtime.TENCENT_TZ,
                    "day_start_utc": start,
                    "report": report.name,
                    "api": report.api.action,
                    "sdk_app_id": app,
                    "scope": scope,
                    "dimension": dimension,
                    "metric": metric,
                    "unit": unit,
                    "value": round(value, 6),
                }
            )
    return rows


def totals(rows: Iterable[Row]) -> dict[str, float]:
    """Per ``metric_unit``: the sum, or the maximum for peaks."""
    out: dict[str, float] = {}
    for row in rows:
        key = f"{row['metric']}_{row['unit']}"
        value = float(row["value"])
        if key not in out:
            out[key] = value
        else:
            out[key] = max(out[key], value) if row["metric"] in PEAK_METRICS else out[key] + value
    return {k: round(v, 6) for k, v in sorted(out.items())}


def windows(first: dt.date, last: dt.date, max_days: int) -> list[tuple[dt.date, dt.date]]:
    """``first..last`` (inclusive) cut into consecutive windows of at most ``max_days`` dates."""
    out = []
    start = first
    while start <= last:
        end = min(last, start + dt.timedelta(days=max_days - 1))
        out.append((start, end))
        start = end + dt.timedelta(days=1)
    return out
