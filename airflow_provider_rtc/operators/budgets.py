"""Month-to-date usage against budgets: notify once per threshold per month, optionally end idle rooms.

An operator run on a schedule (hourly) rather than a sensor: the usage APIs publish with a delay of
minutes to hours (``reports/specs.py``), so a poke loop would hold a worker slot for days to learn
nothing sooner; a scheduled run checks, notifies what newly crossed, and ends.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from airflow.providers.common.compat.sdk import BaseNotifier, BaseOperator

from airflow_provider_rtc import metrics
from airflow_provider_rtc.budgets import (
    DEFAULT_THRESHOLDS,
    Budget,
    marker_name,
    markers,
    month_to_date,
    parse_budgets,
    parse_thresholds,
    usage_of,
)
from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.hooks.settings import check_hook_params
from airflow_provider_rtc.operators.notifiers import notifier_list
from airflow_provider_rtc.reports import cloudtime
from airflow_provider_rtc.validation import switch


def _templated(value: Any) -> bool:
    """Anything a template will still give (checked once rendered, at run, before any call)."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, dict):
        return any(_templated(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_templated(v) for v in value)
    return False


class UsageBudgetOperator(BaseOperator):
    """Compare month-to-date usage (Beijing month, as Tencent bills) with budgets; notify thresholds.

    Each threshold of each budget fires its notifier(s) once per month, across runs: the first run
    that sees it crossed claims a marker file under ``state_path`` (created exclusively, so two
    overlapping runs cannot both fire); a notifier that raises releases it, so the next run retries.

    :param budgets: (templated) a list of ``{"cloud", "metric", "budget", "unit"}`` (optional
        ``label``); metrics: trtc ``Audio``/``SD``/``HD``/``FullHD``/``2K``/``4K``/``all``
        (DescribeTrtcUsage), ``recording``, ``mix_transcoding``, ``relay``, all in ``minutes``;
        live ``flux`` (``MB``), ``transcode`` (``minutes``). ZEGO has no billed-usage API.
    :param thresholds: (templated) fractions of the budget that notify, default ``[0.8, 1.0]``.
    :param notifier: a ``BaseNotifier`` or a list of them; each fire gets a copy rendered against the
        task context plus ``budget_alert`` (cloud, metric, label, usage, unit, budget, fraction,
        percent, threshold, month).
    :param end_idle_rooms_at_full: at 100% of any budget, end ZEGO rooms idle for ``idle_for`` seconds
        with :class:`~airflow_provider_rtc.operators.event.EndEventOperator` (every run while at or
        over 100%). ZEGO only: TRTC has no free API listing a room's users, so it cannot tell idle.
    :param idle_for: seconds a ZEGO room must have been idle to be ended (default 600).
    :param room_id_prefix: only rooms whose id starts with this (for the idle sweep).
    :param state_path: where the fired markers live (a folder: path, URL or ``ObjectStoragePath``);
        default ``$AIRFLOW_HOME/rtc/budgets``.
    :returns: the report (XCom): per budget usage, unit, fraction, crossed and fired thresholds and
        the data's source and delay.
    """

    template_fields: Sequence[str] = (
        "budgets",
        "thresholds",
        "end_idle_rooms_at_full",
        "idle_for",
        "room_id_prefix",
        "state_path",
        "tencentcloud_conn_id",
        "zegocloud_conn_id",
        "sdk_app_id",
        "hook_params",
    )
    template_fields_renderers = {"budgets": "json", "hook_params": "json"}
    ui_color = "#fdf2e0"
    #: audit lines of the idle rooms this operator ends say "budget"
    audit_origin: str | None = "budget"

    def __init__(
        self,
        *,
        budgets: list[dict[str, Any]] | dict[str, Any] | str,
        thresholds: Sequence[float] | str = DEFAULT_THRESHOLDS,
        notifier: BaseNotifier | Sequence[BaseNotifier] | None = None,
        end_idle_rooms_at_full: bool | str = False,
        idle_for: float | str = 600,
        room_id_prefix: str | None = None,
        state_path: Any = None,
        tencentcloud_conn_id: str = "tencentcloud_default",
        zegocloud_conn_id: str = "zegocloud_default",
        callback_receiver_url: str | None = None,
        sdk_app_id: int | str | None = None,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not _templated(budgets):
            parse_budgets(budgets)
        if not _templated(thresholds):
            parse_thresholds(list(thresholds) if isinstance(thresholds, tuple) else thresholds)
        self.notifiers = notifier_list(notifier)
        if not _templated(end_idle_rooms_at_full):
            switch(end_idle_rooms_at_full, "end_idle_rooms_at_full")
        self.budgets = budgets
        self.thresholds = list(thresholds) if isinstance(thresholds, tuple) else thresholds
        self.end_idle_rooms_at_full = end_idle_rooms_at_full
        self.idle_for = idle_for
        self.room_id_prefix = room_id_prefix
        self.state_path = state_path
        self.tencentcloud_conn_id = tencentcloud_conn_id
        self.zegocloud_conn_id = zegocloud_conn_id
        self.callback_receiver_url = callback_receiver_url
        self.sdk_app_id = sdk_app_id
        self.hook_params = check_hook_params(hook_params)

    # -- input ---------------------------------------------------------------------------------

    def _selector(self) -> dict[str, Any] | None:
        """The idle sweep's selector, validated (ZEGO only), or None when the sweep is off."""
        if not switch(self.end_idle_rooms_at_full, "end_idle_rooms_at_full"):
            return None
        from airflow_provider_rtc.discovery.reconcile import check_idle_for
        from airflow_provider_rtc.discovery.selector import Selector

        raw: dict[str, Any] = {"idle_for": self.idle_for}
        if self.room_id_prefix:
            raw["room_id_prefix"] = self.room_id_prefix
        try:
            check_idle_for(Selector.parse(raw), ("zego",))
        except RtcValidationError as err:
            param = "idle_for" if err.param == "selector.idle_for" else err.param.removeprefix("selector.")
            raise RtcValidationError(param, err.rule, raw.get(param)) from None
        return raw

    def _state_base(self) -> Any:
        if self.state_path:
            from airflow_provider_rtc.lake.paths import check_uri

            if isinstance(self.state_path, str) and "://" in self.state_path:
                check_uri(self.state_path, "state_path")
            return self.state_path
        home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
        return os.path.join(home, "rtc", "budgets")

    def _now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    # -- clients -------------------------------------------------------------------------------

    @cached_property
    def trtc_hook(self) -> Any:
        from airflow_provider_rtc.hooks.trtc import TrtcHook

        return TrtcHook(self.tencentcloud_conn_id, sdk_app_id=self.sdk_app_id or None, **self.hook_params)

    @cached_property
    def live_hook(self) -> Any:
        from airflow_provider_rtc.hooks.live import LiveHook

        return LiveHook(self.tencentcloud_conn_id, **self.hook_params)

    # -- run -----------------------------------------------------------------------------------

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow_provider_rtc import audit

        with audit.task_trail(self, context):
            return self._execute(context)

    def _execute(self, context: Any) -> dict[str, Any]:
        from airflow_provider_rtc.reports.specs import REPORTS

        budgets = parse_budgets(self.budgets)
        thresholds = parse_thresholds(self.thresholds)
        selector = self._selector()
        base = self._state_base()
        now = self._now()
        first, last = month_to_date(now)
        month = f"{first:%Y-%m}"
        fetched: dict[str, Any] = {}
        lines = []
        for budget in budgets:
            spec = REPORTS[budget.metric.report]
            hook = self.trtc_hook if spec.product == "trtc" else self.live_hook
            app = hook.settings.sdk_app_id if spec.product == "trtc" else None
            if spec.name not in fetched:  # one fetch per report, shared by its budgets
                fetched[spec.name] = spec.fetch(hook, first, last, app)
            usage = usage_of(budget.metric, fetched[spec.name])
            lines.append(self._check(context, budget, usage, thresholds, base, app, month, spec, now))
        report: dict[str, Any] = {
            "checked_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "month": month,
            "dates": [first.isoformat(), last.isoformat()],
            "time_zone": cloudtime.TENCENT_TZ,
            "budgets": lines,
            "fired": sum(len(line["fired_now"]) for line in lines),
            "idle_rooms": None,
        }
        full = [line["label"] for line in lines if line["fraction"] >= 1.0]
        if selector is not None and full:
            self.log.warning("%s at 100%% of budget: ending ZEGO rooms idle for %ss", full, self.idle_for)
            report["idle_rooms"] = self._end_idle(context, selector)
        elif selector is not None:
            self.log.info("no budget at 100%: no idle room ended")
        if not report["fired"]:
            self.log.info("no threshold newly crossed: nothing notified")
        return report

    def _check(
        self,
        context: Any,
        budget: Budget,
        usage: float,
        thresholds: tuple[float, ...],
        base: Any,
        app: Any,
        month: str,
        spec: Any,
        now: dt.datetime,
    ) -> dict[str, Any]:
        fraction = round(usage / budget.budget, 6)
        crossed = [t for t in thresholds if fraction >= t]
        fired_now: list[float] = []
        for threshold in crossed:
            alert = {
                "cloud": budget.metric.cloud,
                "metric": budget.metric.name,
                "label": budget.label,
                "usage": usage,
                "unit": budget.metric.unit,
                "budget": budget.budget,
                "fraction": fraction,
                "percent": round(fraction * 100, 1),
                "threshold": threshold,
                "month": month,
                "app": app,
            }
            name = marker_name(self.tencentcloud_conn_id, budget.metric, app, month, threshold)
            stamp = {**alert, "fired_at": now.isoformat(), "run_id": _run_id(context)}
            if not markers.claim(base, name, stamp, self.log):
                continue
            try:
                self._notify(context, alert)
            except Exception:
                markers.release(base, name)  # not sent: the next run fires it again
                raise
            fired_now.append(threshold)
            metrics.incr(metrics.BUDGET_ALERTS, cloud=spec.product, metric=budget.metric.name)
        self.log.info(
            "%s: %s of %s %s (%.1f%%) month to date %s; crossed %s, fired now %s",
            budget.label,
            usage,
            budget.budget,
            budget.metric.unit,
            fraction * 100,
            month,
            crossed,
            fired_now,
        )
        return {
            "cloud": budget.metric.cloud,
            "metric": budget.metric.name,
            "label": budget.label,
            "app": app,
            "unit": budget.metric.unit,
            "budget": budget.budget,
            "usage": usage,
            "fraction": fraction,
            "thresholds_crossed": crossed,
            "fired_now": fired_now,
            "source": {
                "api": spec.api.action,
                "fetched_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                # the usage APIs lag: the month-to-date figure is as of up to this long before
                "delay": spec.delay,
            },
        }

    def _notify(self, context: Any, alert: dict[str, Any]) -> None:
        """Each notifier gets a fresh copy: BaseNotifier renders its template fields in place."""
        if not self.notifiers:
            self.log.warning(
                "%s crossed %s%% but no notifier is set", alert["label"], alert["threshold"] * 100
            )
            return
        merged = {**dict(context or {}), "budget_alert": alert}
        for notifier in self.notifiers:
            copy.deepcopy(notifier)(merged)

    def _end_idle(self, context: Any, selector: dict[str, Any]) -> dict[str, Any]:
        from airflow_provider_rtc.cleanup.engine import BulkRun
        from airflow_provider_rtc.cleanup.event_end import EventEnd, end_event, event_inputs
        from airflow_provider_rtc.discovery.discover import build_access

        def access(clouds: tuple[str, ...]) -> dict[str, Any]:
            return build_access(
                clouds,
                tencentcloud_conn_id="tencentcloud_default",
                zegocloud_conn_id=self.zegocloud_conn_id,
                callback_receiver_url=self.callback_receiver_url or None,
                region=None,
                sdk_app_id=None,
                hook_params=dict(self.hook_params or {}),
            )

        # the engine-level end of an event, inside this task: its audit trail (origin "budget")
        # records the calls, as no nested operator runs (no trail, no task-runner guard of its own)
        inputs = event_inputs(selector, None, ["zego"], False)
        how = EventEnd(access=access, run=BulkRun(16), log=self.log, origin=self.audit_origin or "end_event")
        result = end_event(context, inputs, how)
        ended = [r for r in result.get("results", []) if r.get("status") in ("done", "already_gone")]
        return {
            "selector": selector,
            "targets": len(result.get("plan", {}).get("targets", [])),
            "ended": len(ended),
            "survivors": len(result.get("survivors", [])),
            "nothing_to_end": bool(result.get("nothing_to_end")),
        }


def _run_id(context: Any) -> str | None:
    run = (context or {}).get("dag_run")
    return getattr(run, "run_id", None) or (context or {}).get("run_id")
