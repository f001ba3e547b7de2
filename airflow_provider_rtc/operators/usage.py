"""Usage reports into the lake: one tidy file per data interval, replaced atomically on re-runs.

Which dates an interval holds: Tencent reports per Beijing calendar day, so an interval
``[start, end)`` holds every Beijing date that *ends* inside it, i.e. ``date(start in Beijing) ..
date(end in Beijing) - 1``. Consecutive intervals therefore never share or skip a date, every date
written is complete when the interval is over, and a UTC-daily schedule's run for 2026-11-01 holds
Beijing date 2026-11-01 (it ended at 16:00 UTC). An interval in which no Beijing day ends (shorter
than a day) writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from airflow.providers.common.compat.sdk import BaseOperator

from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.hooks.settings import check_hook_params
from airflow_provider_rtc.reports import cloudtime
from airflow_provider_rtc.reports.files import FORMATS


class UsageReportOperator(BaseOperator):
    """Fetch one usage report for the task's data interval (or ``start``/``end``) and write it.

    :param report: ``trtc_usage``, ``trtc_recording``, ``trtc_mix_transcoding``, ``trtc_relay``,
        ``trtc_room``, ``live_bandwidth`` or ``live_transcode`` (see the README).
    :param start: interval start (templated; datetime or ISO 8601, naive = UTC); default the data
        interval's start.
    :param end: interval end (exclusive), likewise; default the data interval's end.
    :param destination: a folder (``ObjectStoragePath`` or URL/path text, templated); the file goes
        to ``<destination>/<report>/<report>_<first date>_<last date>.<format>``.
    :param format: ``csv``, ``parquet`` (needs the ``parquet`` extra: pyarrow) or ``jsonl``.
    :param lookback_days: also re-fetch the N Beijing dates before the interval and rewrite the
        earlier files that hold them (the clouds revise recent days).
    :param window_days: dates per API call, at most what the API accepts (default: that maximum).
    :param sdk_app_id: TRTC app to report (default: the connection's; none there = the whole account).
    :returns: ``{"path", "rows", "totals", "dates", "calls", "revised"}`` (XCom).
    """

    template_fields: Sequence[str] = ("start", "end", "destination", "tencentcloud_conn_id", "sdk_app_id")
    ui_color = "#eef7e8"

    def __init__(
        self,
        *,
        report: str,
        destination: Any,
        start: Any = None,
        end: Any = None,
        format: str = "csv",
        lookback_days: int = 0,
        window_days: int | None = None,
        tencentcloud_conn_id: str = "tencentcloud_default",
        sdk_app_id: int | str | None = None,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        from airflow_provider_rtc.reports.specs import REPORTS

        if report not in REPORTS:
            raise RtcValidationError("report", f"one of {sorted(REPORTS)}", report)
        if format not in FORMATS:
            raise RtcValidationError("format", f"one of {list(FORMATS)}", format)
        if isinstance(lookback_days, bool) or not isinstance(lookback_days, int) or lookback_days < 0:
            raise RtcValidationError("lookback_days", "a whole number of days >= 0", lookback_days)
        spec = REPORTS[report]
        if window_days is not None and (
            isinstance(window_days, bool) or not isinstance(window_days, int) or window_days < 1
        ):
            raise RtcValidationError("window_days", "a whole number of days >= 1", window_days)
        if window_days is not None and window_days > spec.max_days:
            raise RtcValidationError(
                "window_days",
                f"{spec.api.action} accepts at most {spec.max_days} day(s) per query",
                window_days,
            )
        from airflow_provider_rtc.recordings.lake import check_uri_early

        check_uri_early(destination, "destination")
        self.report = report
        self.destination = destination
        self.start = start
        self.end = end
        self.format = format
        self.lookback_days = lookback_days
        self.window_days = window_days or spec.max_days
        self.tencentcloud_conn_id = tencentcloud_conn_id
        self.sdk_app_id = sdk_app_id
        self.hook_params = check_hook_params(hook_params)

    @cached_property
    def hook(self) -> Any:
        from airflow_provider_rtc.reports.specs import REPORTS

        if REPORTS[self.report].product == "live":
            from airflow_provider_rtc.hooks.live import LiveHook

            return LiveHook(self.tencentcloud_conn_id, **self.hook_params)
        from airflow_provider_rtc.hooks.trtc import TrtcHook

        return TrtcHook(self.tencentcloud_conn_id, sdk_app_id=self.sdk_app_id or None, **self.hook_params)

    # -- input ---------------------------------------------------------------------------------

    def _interval(self, context: Any) -> tuple[dt.datetime, dt.datetime]:
        start = self.start if self.start not in (None, "") else context.get("data_interval_start")
        end = self.end if self.end not in (None, "") else context.get("data_interval_end")
        if start is None or end is None:
            param = "start" if start is None else "end"
            raise RtcValidationError(param, "required when the run has no data interval (e.g. manual runs)")
        return cloudtime.to_utc(start, "start"), cloudtime.to_utc(end, "end")

    def plan(self, context: Any, now: dt.datetime | None = None) -> tuple[dt.date, dt.date] | None:
        """The Beijing dates this run writes (None: no day ends in the interval); checks every input."""
        from airflow_provider_rtc.reports.specs import REPORTS

        start, end = self._interval(context)
        now = now or dt.datetime.now(dt.UTC)
        if start > end:
            raise RtcValidationError("start", f"must not be after end ({end.isoformat()})", start.isoformat())
        if end > now:
            raise RtcValidationError(
                "end", f"is in the future (now {now:%Y-%m-%dT%H:%M:%SZ})", end.isoformat()
            )
        first = cloudtime.beijing_date(start, "start")
        last = cloudtime.beijing_date(end, "end") - dt.timedelta(days=1)
        if last < first:
            return None
        oldest = self._oldest_kept(now)
        if oldest is not None:
            history = REPORTS[self.report].api.history_days
            if first < oldest:
                raise RtcValidationError(
                    "start",
                    f"{REPORTS[self.report].api.action} keeps only the last {history} days "
                    f"(Beijing dates from {oldest})",
                    start.isoformat(),
                )
        if self.format == "parquet":
            from airflow_provider_rtc.reports.files import require_pyarrow

            require_pyarrow()
        return first, last

    def _oldest_kept(self, now: dt.datetime) -> dt.date | None:
        """The oldest Beijing date the report's API still answers for, when it keeps a limited history."""
        from airflow_provider_rtc.reports.specs import REPORTS

        history = REPORTS[self.report].api.history_days
        return None if history is None else cloudtime.beijing_date(now, "end") - dt.timedelta(days=history)

    def _folder(self) -> Any:
        from airflow.providers.common.compat.sdk import ObjectStoragePath

        from airflow_provider_rtc.recordings.lake import check_uri

        if not self.destination:
            raise RtcValidationError("destination", "a folder: an ObjectStoragePath, a URL or a local path")
        base = self.destination
        if not isinstance(base, ObjectStoragePath):
            text = check_uri(str(base), "destination")
            base = ObjectStoragePath(text if "://" in text else f"file://{text}")
        return base / self.report

    # -- run -----------------------------------------------------------------------------------

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow_provider_rtc.reports import files

        dates = self.plan(context)
        folder = self._folder()
        if dates is None:
            self.log.info("%s: no Beijing day ends in this interval; nothing to write", self.report)
            return {"path": None, "rows": 0, "totals": {}, "dates": None, "calls": 0, "revised": []}
        first, last = dates
        app = self._app()
        result = self._write(folder, first, last, app)
        revised = []
        if self.lookback_days:
            since = first - dt.timedelta(days=self.lookback_days)
            oldest = self._oldest_kept(dt.datetime.now(dt.UTC))
            for old_first, old_last, _path in files.existing(folder, self.report, self.format):
                if oldest is not None and old_first < oldest:
                    self.log.info(
                        "%s: %s..%s is older than the API keeps; left as is", self.report, old_first, old_last
                    )
                elif since <= old_last < first:
                    self.log.info("%s: lookback re-fetches %s..%s", self.report, old_first, old_last)
                    revised.append(self._write(folder, old_first, old_last, app)["path"])
        result["revised"] = revised
        return result

    def _app(self) -> int | None:
        from airflow_provider_rtc.reports.specs import REPORTS

        if REPORTS[self.report].product != "trtc":
            return None
        return self.hook.settings.sdk_app_id

    def _write(self, folder: Any, first: dt.date, last: dt.date, app: int | None) -> dict[str, Any]:
        from airflow_provider_rtc.reports import files
        from airflow_provider_rtc.reports.specs import REPORTS, rows_from_cells, totals, windows

        spec = REPORTS[self.report]
        chunks = windows(first, last, self.window_days)
        cells: dict[dt.date, dict[Any, float]] = {}
        for index, (lo, hi) in enumerate(chunks, 1):
            for day, values in spec.fetch(self.hook, lo, hi, app).items():
                cells.setdefault(day, {}).update(values)
            if len(chunks) > 1:
                self.log.info("%s: window %d/%d (%s..%s) fetched", self.report, index, len(chunks), lo, hi)
        days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
        rows = rows_from_cells(spec, cells, days, app)
        path = folder / files.file_name(self.report, first, last, self.format)
        files.write_atomically(path, files.serialize(rows, self.format))
        summary = totals(rows)
        self.log.info(
            "%s %s..%s (Beijing dates): %d rows -> %s; totals %s",
            self.report,
            first,
            last,
            len(rows),
            path,
            summary,
        )
        return {
            "path": str(path),
            "rows": len(rows),
            "totals": summary,
            "dates": [first.isoformat(), last.isoformat()],
            "calls": len(chunks) * (2 if self.report == "trtc_recording" else 1),
        }
