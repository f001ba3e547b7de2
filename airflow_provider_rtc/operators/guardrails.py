"""Cost caps: end what has run past its cap, warn about what is close (issue 23).

``EnforceCapsOperator`` discovers what is live (the discovery engine of
:class:`~airflow_provider_rtc.operators.event.DiscoverLiveResourcesOperator`), classifies it against a
policy (:mod:`airflow_provider_rtc.guardrails`), warns through Airflow notifiers, and ends what is past
its cap with the plan/end/verify machinery of
:class:`~airflow_provider_rtc.operators.event.EndEventOperator` (it is one, with a policy instead of a
selector).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any

from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_rtc import metrics
from airflow_provider_rtc.cleanup.event_end import _check_age, _push
from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.operators.event import ALL_CLOUDS, EndEventOperator
from airflow_provider_rtc.operators.notifiers import notifier_list
from airflow_provider_rtc.validation import switch

#: warned items listed one by one in the notifier message (all of them are in ``caps_warnings``)
MESSAGE_ITEMS = 50


def _templated(value: Any) -> bool:
    """Whether a value still holds a Jinja template (validated after rendering, in execute)."""
    try:
        text = value if isinstance(value, str) else json.dumps(value, default=str)
    except (TypeError, ValueError):
        return False
    return "{{" in text or "{%" in text


def _prefix(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) < 2:
        raise RtcValidationError("room_id_prefix", "a string of at least 2 characters", value)
    return value


def _approved(value: Any) -> dict[str, Any] | None:
    """The caps report of a dry run (``plan=``), parsed; None when no plan was given."""
    if value in (None, "", {}):
        return None
    if isinstance(value, str):
        from airflow_provider_rtc.validation import rendered_literal

        value = rendered_literal(
            value, "plan", rule="a dry run's caps report", opening=("{",), max_chars=32 << 20, max_depth=12
        )
    if not isinstance(value, dict) or not isinstance(value.get("ended"), list) or "result" not in value:
        raise RtcValidationError(
            "plan", "the caps report of an EnforceCapsOperator dry run", type(value).__name__
        )
    if value.get("dry_run") is not True:
        raise RtcValidationError(
            "plan", "a DRY RUN's caps report (a real run's report ended its items already)"
        )
    result = value["result"]
    if result is not None and not (isinstance(result, dict) and isinstance(result.get("inventory"), dict)):
        raise RtcValidationError("plan.result", "the dry run's end report with its 'inventory'")
    return value


def message(warned: list[dict[str, Any]], unproven: list[dict[str, Any]]) -> str:
    """The text notifiers get as ``caps_message``: one line per item."""
    lines = [f"RTC caps: {len(warned)} item(s) near their cap, {len(unproven)} past it on an unproven start"]
    for item in (warned + unproven)[:MESSAGE_ITEMS]:
        age = "unknown" if item["age_s"] is None else f"{item['age_s']:.0f}s"
        lines.append(
            f"- {item['label']}: {item['rule']} {item['cap_s']:g}s, age {age} "
            f"(start: {item['started_source']} {item['started_at']})"
        )
    if len(warned) + len(unproven) > MESSAGE_ITEMS:
        lines.append(f"... and {len(warned) + len(unproven) - MESSAGE_ITEMS} more (in caps_warnings)")
    return "\n".join(lines)


class EnforceCapsOperator(EndEventOperator):
    """End live resources past their cap; warn, through notifiers, about those close to it.

    :param policy: the caps (templated dict or JSON): per kind (``rooms``, ``recordings``, ``mixes``,
        ``relays``, ``streams``) ``max_duration``, rooms also ``idle_timeout``, optional per room-id
        ``prefixes``; see :mod:`airflow_provider_rtc.guardrails.policy`. Validated before any call.
    :param clouds: any of ``trtc``, ``live``, ``zego`` (templated).
    :param dry_run: classify and plan without a destructive call (templated; ``"true"``/``"false"``).
    :param warn_before: warn about items this close to their cap (duration, templated; wins over the
        policy's ``warn_before``; must be shorter than every ``max_duration``).
    :param notifier: a ``BaseNotifier`` or a list, called once per run that warns, with the context
        holding ``caps_warnings`` (warned and unproven items) and ``caps_message`` (text); e.g.
        :class:`airflow_provider_rtc.notifications.LogNotifier`.
    :param room_id_prefix: only rooms (Live: streams) whose id starts with it (templated).
    :param plan: a dry run's caps report (e.g. ``plan_caps.output``): end exactly what it planned,
        re-confirmed (age, app, rooms reused since are skipped), never more; nothing is discovered.
    :param trtc_monitoring: lets ``idle_timeout`` apply to TRTC rooms (paid; see
        :class:`~airflow_provider_rtc.operators.event.DiscoverLiveResourcesOperator`).

    Connections, ``verify*``, ``max_concurrency``, ``max_inventory_age`` and ``zego_mix_user_id`` are
    :class:`~airflow_provider_rtc.operators.event.EndEventOperator`'s.

    :return: the caps report ``{"checked_at", "policy", "dry_run", "warned", "ended", "unproven",
        "within", "result"}`` (``result``: the end report, or None when nothing was past its cap).
    """

    template_fields: Sequence[str] = (
        "policy",
        "clouds",
        "dry_run_mode",
        "warn_before",
        "room_id_prefix",
        "plan",
        "callback_receiver_url",
        "max_inventory_age",
    )
    ui_color = "#fde2c8"
    #: audit lines of this operator say "caps" (the trail names who ended what, and why)
    audit_origin: str | None = "caps"

    def __init__(
        self,
        *,
        policy: dict[str, Any] | str,
        clouds: Sequence[str] | str = ALL_CLOUDS,
        dry_run: bool | str = False,
        warn_before: float | str | None = None,
        notifier: Any = None,
        room_id_prefix: str | None = None,
        plan: dict[str, Any] | str | None = None,
        **kwargs: Any,
    ) -> None:
        for key in ("selector", "inventory"):
            if key in kwargs:
                raise RtcValidationError(key, "is not an EnforceCapsOperator argument: the policy selects")
        super().__init__(clouds=clouds, dry_run=dry_run, **kwargs)
        self.policy = policy
        self.warn_before = warn_before
        self.notifiers = notifier_list(notifier)
        self.room_id_prefix = room_id_prefix
        self.plan = plan
        if not _templated(policy) and not _templated(warn_before):
            from airflow_provider_rtc.guardrails.policy import parse_policy

            parse_policy(policy, warn_before=warn_before)  # a bad policy fails the DAG file, not a run
        if not _templated(room_id_prefix):
            _prefix(room_id_prefix)

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow_provider_rtc import audit

        with audit.task_trail(self, context):
            return self._enforce(context)

    def _enforce(self, context: Any) -> dict[str, Any]:
        from airflow_provider_rtc.discovery.discover import discover, validate_clouds
        from airflow_provider_rtc.discovery.selector import Selector
        from airflow_provider_rtc.guardrails import caps
        from airflow_provider_rtc.guardrails.policy import parse_policy

        # everything validated before the first call
        policy = parse_policy(self.policy, warn_before=self.warn_before)
        clouds = validate_clouds(self.clouds)
        dry_run = switch(self.dry_run_mode, "dry_run")
        prefix = _prefix(self.room_id_prefix)
        approved = _approved(self.plan)
        if approved is not None and approved["result"] is not None:
            inventory = approved["result"]["inventory"]
            approved_inventory = {
                **inventory,
                "clouds": {c: d for c, d in (inventory.get("clouds") or {}).items() if c in clouds},
            }
            _check_age(approved_inventory, self.max_inventory_age)
        now = caps.utcnow()
        if "relays" in policy.kinds:
            self.log.info("relays: no discovery source lists TRTC relay/ingest tasks yet; none checked")
        if approved is not None:
            found = {
                "warned": [],
                "ended": approved["ended"],
                "unproven": [],
                "within": 0,
                "to_end": approved_inventory if approved["result"] is not None else {"clouds": {}},
            }
            self.log.info(
                "ending the approved plan of %s: %d item(s)",
                approved.get("checked_at"),
                len(approved["ended"]),
            )
            if approved.get("policy") not in (None, policy.to_dict()):
                # the approval covers the plan, not the policy: end what was approved, say it changed
                self.log.warning("the policy changed since the plan was made; ending the approved plan as is")
        else:
            access = self._access(clouds)
            selector = Selector(room_id_prefix=prefix, allow_all=prefix is None)
            inventory = discover(access, selector, reconcile=True, log=self.log, now=now)
            idle_ok = caps.idle_clouds(clouds, trtc_monitoring=self.trtc_monitoring)
            rooms = policy.kinds.get("rooms")
            if rooms is not None and (
                rooms.caps.idle_timeout or any(c.idle_timeout for c in rooms.prefixes.values())
            ):
                for cloud, why in idle_ok.items():
                    if why:
                        self.log.info("idle_timeout not applied on %s: %s", cloud, why)
            found = caps.classify(inventory, policy, now, idle_ok=idle_ok)
            self._notify(context, found["warned"], found["unproven"])
            for item in found["warned"] + found["unproven"]:
                metrics.incr(metrics.CAP_WARNINGS, cloud=item["ref"]["cloud"], kind=item["kind"])
        report: dict[str, Any] = {
            "checked_at": now.isoformat(),
            "policy": policy.to_dict(),
            "dry_run": dry_run,
            "warned": found["warned"],
            "ended": found["ended"],
            "unproven": found["unproven"],
            "within": found["within"],
            "result": None,
        }
        for item in found["unproven"]:
            self.log.warning(
                "unproven (not ended): %s: %s start %s",
                item["label"],
                item["started_source"],
                item["started_at"],
            )
        if caps.count(found["to_end"]) == 0:
            self.log.info(
                "nothing past its cap (%d within, %d warned, %d unproven): no destructive call %s",
                found["within"],
                len(found["warned"]),
                len(found["unproven"]),
                "would be made" if dry_run else "was made",
            )
            return report
        self.log.info("past cap: %s", [f"{i['label']} ({i['rule']})" for i in found["ended"]])
        to_end = found["to_end"]
        try:  # _end refuses an inventory of another app (the plan's) before any call
            report["result"] = self._end(context, None, to_end, clouds, dry_run, scope=caps.scope(to_end))
        except AirflowException:
            _push(context, report, self.log)  # the caps report, with the end report in the 'report' XCom
            raise
        return report

    def _notify(self, context: Any, warned: list[dict[str, Any]], unproven: list[dict[str, Any]]) -> None:
        """Call each notifier once (Airflow's way: ``notifier(context)`` renders its templated fields
        with the context, then ``notify``), the items in ``caps_warnings``/``caps_message``."""
        if not (warned or unproven):
            return
        text = message(warned, unproven)
        self.log.warning("%s", text)
        ctx = dict(context or {})
        ctx.update(caps_warnings=warned + unproven, caps_message=text)
        for notifier in self.notifiers:
            try:
                copy.copy(notifier)(ctx)  # a copy: rendering replaces its fields in place
            except Exception:
                self.log.exception("notifier %s failed; the warning is in this log", type(notifier).__name__)
