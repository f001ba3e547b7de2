"""Discover what an event left live, and end it: plan (dry run), execute at the rate limits, verify.

``DiscoverLiveResourcesOperator`` returns the inventory (see :mod:`airflow_provider_rtc.discovery`);
``EndEventOperator`` takes a selector (and discovers) or an inventory (e.g. that XCom), logs the plan
as a table, returns it untouched with ``dry_run=True``, otherwise ends everything in it and verifies
by discovering again until nothing in scope is live, failing with the survivors listed if something
is. Both need the callback receiver (the connections' ``callback_receiver_url`` extra).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from airflow.providers.common.compat.sdk import AirflowException, BaseOperator

from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.validation import switch

ALL_CLOUDS = ("trtc", "live", "zego")
#: seconds an inventory may be old before EndEventOperator refuses it (rooms are reused; a plan
#: made an hour ago is not evidence of what lives in a room now)
DEFAULT_MAX_INVENTORY_AGE = 3600.0


class _EventOperator(BaseOperator):
    """Connections and the receiver, shared by the two operators."""

    ui_color = "#f4e3fa"

    def __init__(
        self,
        *,
        clouds: Sequence[str] = ALL_CLOUDS,
        allow_all: bool = False,
        tencentcloud_conn_id: str = "tencentcloud_default",
        zegocloud_conn_id: str = "zegocloud_default",
        callback_receiver_url: str | None = None,
        region: str | None = None,
        sdk_app_id: int | str | None = None,
        hook_params: dict[str, Any] | None = None,
        trtc_monitoring: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.trtc_monitoring = switch(trtc_monitoring, "trtc_monitoring")
        self.clouds = clouds
        self.allow_all = allow_all
        self.tencentcloud_conn_id = tencentcloud_conn_id
        self.zegocloud_conn_id = zegocloud_conn_id
        self.callback_receiver_url = callback_receiver_url
        self.region = region
        self.sdk_app_id = sdk_app_id
        self.hook_params = dict(hook_params or {})

    def _access(self, clouds: tuple[str, ...]) -> Any:
        from airflow_provider_rtc.discovery.discover import build_access

        access = build_access(
            clouds,
            tencentcloud_conn_id=self.tencentcloud_conn_id,
            zegocloud_conn_id=self.zegocloud_conn_id,
            callback_receiver_url=self.callback_receiver_url or None,
            region=self.region,
            sdk_app_id=self.sdk_app_id,
            hook_params=self.hook_params,
        )
        if self.trtc_monitoring and "trtc" in access:  # opt-in TRTC user reconciliation
            access["trtc"].hooks["trtc"].monitoring_reconcile = True
        return access


class DiscoverLiveResourcesOperator(_EventOperator):
    """What is live on the clouds for this selector, from callbacks, reconciled with list APIs.

    :param selector: which rooms (templated dict): ``room_ids``, ``room_id_prefix``,
        ``started_before``/``started_after``, ``idle_for``, ``older_than`` (seconds), ``allow_all``.
    :param clouds: any of ``trtc``, ``live``, ``zego``.
    :param reconcile: confirm/correct the callback inventory with the list and describe APIs.
    :param allow_all: accept a selector that matches everything.
    :param trtc_monitoring: opt in to TRTC user reconciliation with DescribeRoomInfo/DescribeUserInfo,
        which ``idle_for`` with TRTC requires (TRTC has no free API listing a room's users). Cost:
        paid monitoring data (a TRTC package or monitoring-dashboard edition, billed since
        2024-04-01; documented for "historical data or reconciliation purposes", not crucial
        business logic), 20 calls/s, one DescribeRoomInfo call per 100 rooms created in the last
        24 h and one DescribeUserInfo call per 100 users of each known live room, per discovery
        pass (verification repeats it). It only finds users; rooms older than 24 h and users the
        monitoring data has not caught up with (its delay is not documented) stay unknown.
    :return: the inventory JSON, grouped by cloud and kind (rooms, users, streams, mixes, recordings).
    """

    template_fields: Sequence[str] = ("selector", "clouds", "callback_receiver_url")

    def __init__(
        self,
        *,
        selector: dict[str, Any] | str | None,
        clouds: Sequence[str] = ALL_CLOUDS,
        reconcile: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(clouds=clouds, **kwargs)
        self.selector = selector
        self.reconcile = reconcile

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow_provider_rtc.discovery.discover import discover, validate_clouds
        from airflow_provider_rtc.discovery.reconcile import check_idle_for
        from airflow_provider_rtc.discovery.selector import Selector

        selector = Selector.parse(self.selector, allow_all=self.allow_all)
        clouds = validate_clouds(self.clouds)
        check_idle_for(selector, clouds, trtc_monitoring=self.trtc_monitoring)
        return discover(self._access(clouds), selector, reconcile=self.reconcile, log=self.log)


class EndEventOperator(_EventOperator):
    """End everything an event left live: discover (or take an inventory), plan, end, verify.

    :param selector: as for :class:`DiscoverLiveResourcesOperator` (templated); or
    :param inventory: a discovery result (e.g. ``"{{ ti.xcom_pull('discover') }}"``), or the report
        of a dry run of this operator (its ``inventory``: the real run then ends what the dry run
        planned, re-confirmed, without discovering again); exactly one of the two.
        It must name the app this task reaches per cloud (``app_id``) and be at most
        ``max_inventory_age`` old (``discovered_at``), else it is refused before any call.
    :param dry_run: log and return the plan without a single destructive call; ``True``/``False``
        or the text ``"true"``/``"false"`` only (templated).
    :param max_inventory_age: seconds (templated, default 3600) an inventory may be old: rooms are
        reused, so an older one is refused rather than trusted (discover again).
    :param verify: discover the whole scope again after the end until nothing in it is live.
    :param verify_timeout: seconds to keep verifying before failing with the survivors.
    :param verify_interval: seconds between verification passes.
    :param max_concurrency: calls in flight at once (the hooks' pacing, not this, sets each API's
        rate); targets run on the dependency-aware executor
        (:mod:`~airflow_provider_rtc.cleanup.schedule`): each API in its own lane, each target
        once what it depends on has ended.
    :param trtc_monitoring: as for :class:`DiscoverLiveResourcesOperator` (paid; needed for
        ``idle_for`` with TRTC).
    :param zego_mix_user_id: the UserId that started ZEGO mixes, when mix ownership is on (mix
        callbacks do not carry it).
    :return: ``{"plan", "results", "survivors", "skipped_stale", "timings", "corrections",
        "dry_run"}`` (and ``nothing_to_end`` when nothing was in scope; a dry run adds
        ``inventory``, the one its plan was built from); each result is ``done``,
        ``already_gone``, ``failed`` (with ``code``, ``maybe_executed``, ``after_lost_response``),
        ``not_started`` or ``skipped_stale`` (with ``reason``: the room was reused after the
        inventory), with its typed ``refs`` and ``label``. Stopped (``on_kill``, ``execution_timeout``),
        it issues no new call, lets calls on the wire finish, skips verification, pushes the report
        (with ``stopped``) to the ``report`` XCom and fails.
    """

    #: the ``origin`` of the audit lines (a subclass such as the caps operator says its own)
    audit_origin: str | None = None

    # ``dry_run`` is stored as ``dry_run_mode``: BaseOperator.dry_run() is a method
    template_fields: Sequence[str] = (
        "selector",
        "inventory",
        "clouds",
        "dry_run_mode",
        "callback_receiver_url",
        "max_inventory_age",
    )

    def __init__(
        self,
        *,
        selector: dict[str, Any] | str | None = None,
        inventory: dict[str, Any] | str | None = None,
        clouds: Sequence[str] = ALL_CLOUDS,
        dry_run: bool | str = False,
        verify: bool = True,
        verify_timeout: float = 300.0,
        verify_interval: float = 5.0,
        max_concurrency: int = 16,
        zego_mix_user_id: str | None = None,
        max_inventory_age: float | str = DEFAULT_MAX_INVENTORY_AGE,
        audit_path: str | bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(clouds=clouds, **kwargs)
        from airflow_provider_rtc import audit
        from airflow_provider_rtc.cleanup.engine import BulkRun

        #: where the audit trail goes (None: ``[rtc] audit_path``; False or "": none); docs/how-to/audit.md
        self.audit_path = audit_path
        audit.add_outlet(self)
        from airflow_provider_rtc.validation import number

        verify_timeout = number(verify_timeout, "verify_timeout", minimum=0.0) or 0.0
        verify_interval = (
            number(verify_interval, "verify_interval", minimum=0.0, exclusive_minimum=True) or 5.0
        )
        # the bulk engine's run: validates max_concurrency, holds the stop switch on_kill sets
        self.bulk = BulkRun(max_concurrency)
        self.selector = selector
        self.inventory = inventory
        self.dry_run_mode = dry_run
        self.verify = verify
        self.verify_timeout = verify_timeout
        self.verify_interval = verify_interval
        self.max_concurrency = self.bulk.max_concurrency
        self.zego_mix_user_id = zego_mix_user_id
        self.max_inventory_age = max_inventory_age

    def _inputs(self) -> tuple[Any, dict[str, Any] | None, tuple[str, ...], bool]:
        """Everything validated before the first call."""
        from airflow_provider_rtc.discovery.discover import validate_clouds
        from airflow_provider_rtc.discovery.selector import Selector

        clouds = validate_clouds(self.clouds)
        dry_run = switch(self.dry_run_mode, "dry_run")
        has_selector = self.selector not in (None, "", {})
        inventory = _inventory_value(self.inventory)
        if has_selector and inventory:
            raise RtcValidationError("inventory", "give a selector or an inventory, not both")
        if inventory:
            if not isinstance(inventory, dict) or not isinstance(inventory.get("clouds"), dict):
                raise RtcValidationError("inventory", "a discovery result with a 'clouds' object")
            unknown = set(inventory["clouds"]) - set(ALL_CLOUDS)
            if unknown:
                raise RtcValidationError("inventory", "clouds must be trtc, live or zego", sorted(unknown))
            inventory = {**inventory, "clouds": {c: v for c, v in inventory["clouds"].items() if c in clouds}}
            _check_age(inventory, self.max_inventory_age)
            return None, inventory, clouds, dry_run
        from airflow_provider_rtc.discovery.reconcile import check_idle_for

        selector = Selector.parse(self.selector, allow_all=self.allow_all)
        check_idle_for(selector, clouds, trtc_monitoring=self.trtc_monitoring)
        return selector, None, clouds, dry_run

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow_provider_rtc import audit

        with audit.task_trail(self, context):
            selector, inventory, clouds, dry_run = self._inputs()
            return self._end(context, selector, inventory, clouds, dry_run)

    def _end(
        self,
        context: Any,
        selector: Any,
        inventory: dict[str, Any] | None,
        clouds: tuple[str, ...],
        dry_run: bool,
        *,
        scope: Any = None,
    ) -> dict[str, Any]:
        """Discover (or take ``inventory``), plan, end, verify: the machinery EnforceCapsOperator
        shares; ``scope`` (refs) narrows verification to exactly what was meant to end."""
        from airflow_provider_rtc.cleanup import plan as planner
        from airflow_provider_rtc.discovery.discover import discover

        started = time.monotonic()
        access = self._access(clouds)
        given = inventory is not None
        if inventory is not None:
            _check_apps(inventory, access)  # before any call: another app's inventory is refused
        timings: dict[str, Any] = {}
        corrections: list[dict[str, Any]] = []
        if inventory is None:
            inventory = discover(access, selector, reconcile=True, log=self.log)
            corrections += inventory["corrections"]
            timings["discover"] = round(time.monotonic() - started, 3)
        plan = planner.build_plan(inventory, zego_mix_user_id=self.zego_mix_user_id)
        # a fresh read of the receiver: a target whose room was reused since the inventory is skipped
        skipped = planner.reconfirm(plan, inventory, access, log=self.log)
        plan["skipped_stale"] = skipped
        self.log.info("plan (%s):\n%s", "dry run" if dry_run else "executing", planner.render_table(plan))
        report: dict[str, Any] = {
            "dry_run": dry_run,
            "plan": plan,
            "results": [],
            "survivors": [],
            "skipped_stale": len(skipped),
            "corrections": corrections,
            "timings": timings,
        }
        if not plan["targets"]:
            report["nothing_to_end"] = True
            self.log.info(
                "nothing to end: no live resource in scope%s; no destructive call %s",
                f" ({len(skipped)} skipped as stale)" if skipped else "",
                "would be made" if dry_run else "was made",
            )
        if dry_run:
            # what the plan was built from, for the real run to take instead of discovering again:
            # ``EndEventOperator(inventory=<this task's output>)`` (the report itself is accepted);
            # it is re-confirmed there (age, app, a fresh read of the receiver) before any call
            report["inventory"] = inventory
            planner.audit_planned(plan, origin=self.audit_origin or "end_event")
            return report
        mark = time.monotonic()
        results, api_times, interrupted = planner.execute(plan, access, self.bulk, log=self.log)
        report["results"] = results + skipped
        timings["end"] = round(time.monotonic() - mark, 3)
        timings["apis"] = api_times  # per API: seconds until its last call ended
        counts: dict[str, int] = {}
        for r in report["results"]:
            counts[r["status"]] = counts.get(r["status"], 0) + 1
        if interrupted is not None or self.bulk.stopped:
            self._report_stop(context, report, counts, started)
            try:  # what did end is still recorded, so the re-run's discovery starts from it
                planner.record_results(results, access)
            except Exception:
                self.log.exception("could not record the ended targets in the receiver")
            if interrupted is not None:
                raise interrupted
            raise AirflowException(
                f"stopped ({self.bulk.stopped}): {counts}; the 'report' XCom and the log say where "
                "each target stood"
            )
        planner.record_results(results, access)
        failed = [r for r in results if r["status"] == "failed"]
        if self.verify:
            mark = time.monotonic()
            survivors, passes, seen = planner.verify(
                plan,
                access,
                timeout=self.verify_timeout,
                interval=self.verify_interval,
                selector=None if given else selector,
                inventory=inventory if given else None,
                now=_discovered_at(inventory),
                skipped=skipped,
                run=self.bulk,
                log=self.log,
                scope=scope,
            )
            report["survivors"] = survivors
            report["corrections"] += seen
            timings["verify"] = round(time.monotonic() - mark, 3)
            timings["verify_passes"] = passes
        timings["total"] = round(time.monotonic() - started, 3)
        self.log.info("ended: %s; survivors: %d; %.1fs", counts, len(report["survivors"]), timings["total"])
        if self.bulk.stopped:
            report["stopped"] = self.bulk.stopped
            _push(context, report, self.log)
            raise AirflowException(f"stopped ({self.bulk.stopped}) while verifying; see the 'report' XCom")
        if report["survivors"] or failed:
            _push(context, report, self.log)
            listed = ", ".join(_survivor_label(s) for s in report["survivors"][:10])
            raise AirflowException(
                f"the event is not fully ended: {len(report['survivors'])} resource(s) still live"
                + (f" ({listed}{' ...' if len(report['survivors']) > 10 else ''})" if listed else "")
                + f", {len(failed)} call(s) failed"
                + "".join(f"; {r['action']} {r['label']} [{r.get('code')}]" for r in failed[:5])
                + " (full report in the 'report' XCom)"
            )
        return report

    def _report_stop(
        self, context: Any, report: dict[str, Any], counts: dict[str, int], started: float
    ) -> None:
        """Stopped (on_kill, execution_timeout): no verification; the log and the 'report' XCom say
        where every target stood (``not_started`` for what no call was issued for)."""
        report["stopped"] = self.bulk.stopped
        report["timings"]["total"] = round(time.monotonic() - started, 3)
        self.log.warning("stopped (%s) after: %s", self.bulk.stopped, counts)
        for r in report["results"]:
            if r["status"] == "failed":
                self.log.error("failed: %s", r)
        waiting = [f"{r['action']} {r['label']}" for r in report["results"] if r["status"] == "not_started"]
        if waiting:
            self.log.warning("not started (%d): %s", len(waiting), waiting[:50])
        _push(context, report, self.log)

    def on_kill(self) -> None:
        """Issue no new call; calls on the wire finish and the report is still pushed."""
        self.bulk.stop("on_kill")


def _push(context: Any, report: dict[str, Any], log: Any) -> None:
    ti = context.get("ti") if isinstance(context, dict) else None
    if ti is None:
        return
    try:
        ti.xcom_push(key="report", value=report)
    except Exception:
        log.exception("could not push the 'report' XCom; the results are in this log")


#: bounds of a rendered inventory string (a few thousand items are a few MB; nesting is 6 deep)
MAX_INVENTORY_TEXT = 32 << 20
MAX_INVENTORY_DEPTH = 10


def _inventory_value(value: Any) -> Any:
    """An inventory as given: a dict, its JSON, or its Python repr (a template rendered without
    native objects), through the one parser of rendered values."""
    if isinstance(value, str):
        if not value.strip():
            return None
        from airflow_provider_rtc.validation import rendered_literal

        value = rendered_literal(
            value,
            "inventory",
            rule="a discovery result (a dict, its JSON or its Python repr)",
            opening=("{",),
            max_chars=MAX_INVENTORY_TEXT,
            max_depth=MAX_INVENTORY_DEPTH,
        )
    if isinstance(value, dict) and value.get("dry_run") is True and isinstance(value.get("inventory"), dict):
        return value["inventory"]  # a dry run's report: the inventory its plan was built from
    return value


def _discovered_at(inventory: dict[str, Any]) -> Any:
    import pendulum

    text = inventory.get("discovered_at")
    try:
        parsed = pendulum.parse(str(text))
    except Exception:
        return None
    return parsed if isinstance(parsed, pendulum.DateTime) else None


def _check_age(inventory: dict[str, Any], max_age: Any) -> None:
    """An inventory older than ``max_inventory_age`` describes rooms that may have been reused."""
    import pendulum

    from airflow_provider_rtc.validation import number

    limit = number(max_age, "max_inventory_age", minimum=0.0, exclusive_minimum=True)
    at = _discovered_at(inventory)
    if at is None:
        raise RtcValidationError(
            "inventory.discovered_at",
            "the ISO time the inventory was discovered (DiscoverLiveResourcesOperator writes it; a "
            "hand-built inventory must say it)",
            inventory.get("discovered_at"),
        )
    age = (pendulum.now("UTC") - at).total_seconds()
    if limit is not None and age > limit:
        raise RtcValidationError(
            "inventory",
            f"was discovered {age:.0f}s ago ({at.isoformat()}), more than max_inventory_age={limit:g}s: "
            "its rooms may have been reused since; discover again (or raise max_inventory_age)",
        )


def _check_apps(inventory: dict[str, Any], access: dict[str, Any]) -> None:
    """Each cloud of the inventory must name the app this task's connection (or ``sdk_app_id``)
    reaches: the same room id in another app is another room."""
    for cloud, data in inventory["clouds"].items():
        app = str((data or {}).get("app_id") or "") if isinstance(data, dict) else ""
        if not app:
            raise RtcValidationError(
                f"inventory.clouds.{cloud}.app_id",
                "the application the inventory was discovered for (a hand-built inventory must say it)",
            )
        mine = access[cloud].app_id if cloud in access else None
        if mine is not None and app != str(mine):
            raise RtcValidationError(
                "inventory",
                f"was discovered for {cloud} app {app}, but this task reaches {cloud} app {mine} "
                "(connection or sdk_app_id): refusing to end another app's resources",
            )


def _survivor_label(survivor: dict[str, Any]) -> str:
    from airflow_provider_rtc.discovery.refs import label
    from airflow_provider_rtc.identity import ResourceRef

    ref = survivor.get("ref")
    if isinstance(ref, dict):
        return label(ResourceRef.from_dict(ref))
    return f"{survivor['cloud']} {survivor['kind']} {survivor['ids']}"
