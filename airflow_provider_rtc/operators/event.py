"""Discover what an event left live, and end it: plan (dry run), execute at the rate limits, verify.

``DiscoverLiveResourcesOperator`` returns the inventory (see :mod:`airflow_provider_rtc.discovery`);
``EndEventOperator`` takes a selector (and discovers) or an inventory (e.g. that XCom), logs the plan
as a table, returns it untouched with ``dry_run=True``, otherwise ends everything in it and verifies
by discovering again until nothing in scope is live, failing with the survivors listed if something
is. Both need the callback receiver (the connections' ``callback_receiver_url`` extra).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.providers.common.compat.sdk import BaseOperator

# the engine-level machinery (ALL_CLOUDS and the age default stay importable from here)
from airflow_provider_rtc.cleanup.event_end import (
    ALL_CLOUDS,
    DEFAULT_MAX_INVENTORY_AGE,
    EventEnd,
    EventInputs,
    _check_apps,
    end_event,
    event_inputs,
)
from airflow_provider_rtc.validation import switch

__all__ = [
    "ALL_CLOUDS",
    "DEFAULT_MAX_INVENTORY_AGE",
    "DiscoverLiveResourcesOperator",
    "EndEventOperator",
    "_check_apps",
]


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
        """Validated inputs (:func:`~airflow_provider_rtc.cleanup.event_end.event_inputs`)."""
        got = event_inputs(
            self.selector,
            self.inventory,
            self.clouds,
            self.dry_run_mode,
            allow_all=self.allow_all,
            trtc_monitoring=self.trtc_monitoring,
            max_inventory_age=self.max_inventory_age,
        )
        return got.selector, got.inventory, got.clouds, got.dry_run

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
        """:func:`~airflow_provider_rtc.cleanup.event_end.end_event` with this operator's connections,
        run and verification; EnforceCapsOperator passes its ``scope``."""
        inputs = EventInputs(selector, inventory, clouds, dry_run)
        return end_event(context, inputs, self.how(), scope=scope)

    def how(self) -> EventEnd:
        """How this task ends an event (its connections, run, log and verification)."""
        return EventEnd(
            access=self._access,
            run=self.bulk,
            log=self.log,
            origin=self.audit_origin or "end_event",
            zego_mix_user_id=self.zego_mix_user_id,
            verify=self.verify,
            verify_timeout=self.verify_timeout,
            verify_interval=self.verify_interval,
        )

    def on_kill(self) -> None:
        """Issue no new call; calls on the wire finish and the report is still pushed."""
        self.bulk.stop("on_kill")
