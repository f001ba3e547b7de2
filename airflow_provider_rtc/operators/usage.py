"""Usage reports into the lake: one tidy file per run, replaced atomically on re-runs.

Which Beijing dates a run writes (Tencent reports per Beijing calendar day, UTC+8, no DST):

* An interval ``start..end`` holds every Beijing date whose *end* (the next Beijing midnight) falls
  in ``(start, end]``: ``date(start in Beijing) .. date(end in Beijing) - 1``. Left-open,
  right-closed on purpose: a day ending exactly at ``end`` is complete when the run starts (Airflow
  starts a run at its data interval's end), and a day ending exactly at ``start`` was complete at the
  previous interval's end, so it belongs to that run. Consecutive intervals therefore never share or
  skip a date, and a Beijing-midnight interval ``[D 00:00, D+1 00:00)`` writes D itself. A
  UTC-daily run for 2026-11-01 writes Beijing 2026-11-01 (it ended at 16:00 UTC).
* An empty interval (``start == end``) - what Airflow 3's default ``CronTriggerTimetable`` (a plain
  cron string such as ``"0 0 * * *"``), ``DeltaTriggerTimetable``, ``EventsTimetable`` and manual
  runs of those give - stands for the Beijing day that ended at or before that instant: it is read
  as the one-day interval ending there. Runs with no data interval at all (asset-triggered, or
  triggered without a logical date) use their ``run_after`` the same way.
* A non-empty interval in which no Beijing day ends (shorter than a day) writes nothing and the task
  is *skipped* (with a log line saying why), never a silent success.

A fetch that returns no row at all fails the task (the clouds publish with a delay, so a retry may
find them) unless ``allow_empty=True``; an existing file is never replaced by an empty one unless so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowSkipException, BaseOperator

from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.hooks.settings import check_hook_params
from airflow_provider_rtc.reports import cloudtime
from airflow_provider_rtc.reports.files import FORMATS
from airflow_provider_rtc.validation import boolean

DAY = dt.timedelta(days=1)


class UsageReportOperator(BaseOperator):
    """Fetch one usage report for the task's data interval (or ``start``/``end``) and write it.

    Which dates a run writes: the module docstring (``(start, end]`` by day ends; an empty interval,
    as a plain cron schedule gives, is the Beijing day that ended at or before it).

    :param report: ``trtc_usage``, ``trtc_recording``, ``trtc_mix_transcoding``, ``trtc_relay``,
        ``trtc_room``, ``live_bandwidth`` or ``live_transcode`` (see the README).
    :param start: interval start (templated; datetime or ISO 8601, naive = UTC); default the data
        interval's start. A Beijing day ending exactly at ``start`` is not included.
    :param end: interval end (templated), likewise; default the data interval's end. A Beijing day
        ending exactly at ``end`` is included.
    :param destination: a folder (``ObjectStoragePath`` or URL/path text, templated); the file goes
        to ``<destination>/<report>/<report>_<first date>_<last date>.<format>``.
    :param format: ``csv``, ``parquet`` (needs the ``parquet`` extra: pyarrow) or ``jsonl``.
    :param lookback_days: also re-fetch the N Beijing dates before the interval and rewrite the
        earlier files that hold them (the clouds revise recent days); at most the API's history.
    :param window_days: dates per API call, at most what the API accepts (default: that maximum).
    :param sdk_app_id: TRTC app to report (default: the connection's; none there = the whole account).
    :param allow_empty: (templated) write a header-only file when the API returns no usage at all;
        by default such a run fails (the data may not be published yet; a retry may find it).
    :returns: ``{"path", "rows", "totals", "dates", "calls", "revised"}`` (XCom).
    """

    template_fields: Sequence[str] = (
        "start",
        "end",
        "destination",
        "tencentcloud_conn_id",
        "sdk_app_id",
        "allow_empty",
        "hook_params",
    )
    template_fields_renderers = {"hook_params": "json"}
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
        allow_empty: bool | str = False,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        from airflow_provider_rtc.reports.specs import REPORTS

        if report not in REPORTS:
            raise RtcValidationError("report", f"one of {sorted(REPORTS)}", report)
        if format not in FORMATS:
            raise RtcValidationError("format", f"one of {list(FORMATS)}", format)
        spec = REPORTS[report]
        if isinstance(lookback_days, bool) or not isinstance(lookback_days, int) or lookback_days < 0:
            raise RtcValidationError("lookback_days", "a whole number of days >= 0", lookback_days)
        today = cloudtime.beijing_date(dt.datetime.now(dt.UTC), "end")
        most = (today - spec.oldest(today)).days
        if lookback_days > most:
            raise RtcValidationError(
                "lookback_days",
                f"at most {most}: {spec.api.action} holds no older dates than {spec.oldest(today)}",
                lookback_days,
            )
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
        if not (isinstance(allow_empty, str) and "{{" in allow_empty):
            boolean(allow_empty, "allow_empty")
        from airflow_provider_rtc.lake.paths import check_uri_early

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
        self.allow_empty = allow_empty
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
        """(start, end) in UTC, an empty interval widened to the one day ending at its instant."""
        start = self.start if self.start not in (None, "") else context.get("data_interval_start")
        end = self.end if self.end not in (None, "") else context.get("data_interval_end")
        if start is None and end is None:  # no data interval: asset-triggered, or no logical date
            dag_run = context.get("dag_run")
            start = end = context.get("logical_date") or getattr(dag_run, "run_after", None)
        if start is None or end is None:
            param = "start" if start is None else "end"
            raise RtcValidationError(param, "required when the run has no data interval")
        start_utc, end_utc = cloudtime.to_utc(start, "start"), cloudtime.to_utc(end, "end")
        if start_utc == end_utc:
            if end_utc - dt.datetime.min.replace(tzinfo=dt.UTC) < 2 * DAY:
                raise RtcValidationError("end", "a date-time after 0001-01-02", end_utc.isoformat())
            start_utc = end_utc - DAY
        return start_utc, end_utc

    def plan(self, context: Any, now: dt.datetime | None = None) -> tuple[dt.date, dt.date] | None:
        """The Beijing dates this run writes (None: no day ends in the interval); checks every input."""
        from airflow_provider_rtc.reports.specs import REPORTS

        spec = REPORTS[self.report]
        start, end = self._interval(context)
        now = now or dt.datetime.now(dt.UTC)
        if start > end:
            raise RtcValidationError("start", f"must not be after end ({end.isoformat()})", start.isoformat())
        if end > now:
            raise RtcValidationError(
                "end", f"is in the future (now {now:%Y-%m-%dT%H:%M:%SZ})", end.isoformat()
            )
        boolean(self.allow_empty, "allow_empty")
        first = cloudtime.beijing_date(start, "start")
        last = cloudtime.beijing_date(end, "end") - DAY
        oldest = spec.oldest(cloudtime.beijing_date(now, "end"))
        if first < oldest:
            raise RtcValidationError(
                "start",
                f"{spec.api.action} holds no Beijing dates before {oldest}"
                + (f" (it keeps the last {spec.api.history_days} days)" if spec.api.history_days else ""),
                start.isoformat(),
            )
        if last < first:
            return None
        if self.format == "parquet":
            from airflow_provider_rtc.reports.files import require_pyarrow

            require_pyarrow()
        return first, last

    def _folder(self) -> Any:
        from airflow.providers.common.compat.sdk import ObjectStoragePath

        from airflow_provider_rtc.lake.paths import check_uri

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
        from airflow_provider_rtc.reports.specs import REPORTS

        dates = self.plan(context)
        folder = self._folder()
        if dates is None:
            start, end = self._interval(context)
            message = (
                f"{self.report}: no Beijing day ends in ({start:%Y-%m-%dT%H:%M:%SZ}, "
                f"{end:%Y-%m-%dT%H:%M:%SZ}] (an interval shorter than a day): nothing to fetch or write"
            )
            self.log.warning("%s", message)
            raise AirflowSkipException(message)
        first, last = dates
        app = self._app()
        result = self._write(folder, first, last, app)
        revised = []
        if self.lookback_days:
            since = first - dt.timedelta(days=self.lookback_days)
            oldest = REPORTS[self.report].oldest(cloudtime.beijing_date(dt.datetime.now(dt.UTC), "end"))

            def stray(name: str) -> None:
                self.log.warning(
                    "%s: ignoring %s in %s (not a %s report file)", self.report, name, folder, self.report
                )

            for old_first, old_last, _path in files.existing(folder, self.report, self.format, stray):
                if old_first < oldest:
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
        calls = len(chunks) * (2 if self.report == "trtc_recording" else 1)
        if not rows:
            message = (
                f"{self.report}: {spec.api.action} returned no usage for Beijing dates {first}..{last} "
                f"({calls} call(s))"
            )
            if not boolean(self.allow_empty, "allow_empty"):
                raise AirflowException(
                    f"{message}; nothing written. The clouds publish usage late ({spec.delay}), so a "
                    "retry may find it; set allow_empty=True if an empty report is expected"
                )
            self.log.warning("%s; allow_empty=True: writing a file with no rows", message)
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
            "calls": calls,
        }
