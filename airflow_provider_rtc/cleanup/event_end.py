"""Ending an event, below the operators: check the inputs, then discover (or take an inventory),
plan, end at the rate limits, verify.

:class:`~airflow_provider_rtc.operators.event.EndEventOperator` runs it as its task; the caps
operator with the scope it classified; ``UsageBudgetOperator`` inside its own task, for the idle
rooms of a spent budget. One function for the three, so none reaches into another's privates.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_rtc.cleanup.engine import BulkRun
from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.validation import switch

ALL_CLOUDS = ("trtc", "live", "zego")
#: seconds an inventory may be old before it is refused (rooms are reused; a plan made an hour ago
#: is not evidence of what lives in a room now)
DEFAULT_MAX_INVENTORY_AGE = 3600.0
#: bounds of a rendered inventory string (a few thousand items are a few MB; nesting is 6 deep)
MAX_INVENTORY_TEXT = 32 << 20
MAX_INVENTORY_DEPTH = 10


@dataclass(frozen=True)
class EventInputs:
    """What to end, validated before the first call: a selector or an inventory, never both."""

    selector: Any
    inventory: dict[str, Any] | None
    clouds: tuple[str, ...]
    dry_run: bool


@dataclass(frozen=True)
class EventEnd:
    """How to end it: the connections (``access``: clouds -> the discovery access), the run that
    executes the plan and holds the stop switch, where to log, and the verification."""

    access: Callable[[tuple[str, ...]], dict[str, Any]]
    run: BulkRun
    log: Any
    origin: str = "end_event"
    zego_mix_user_id: str | None = None
    verify: bool = True
    verify_timeout: float = 300.0
    verify_interval: float = 5.0


def event_inputs(
    selector: Any,
    inventory: Any,
    clouds: Sequence[str],
    dry_run: Any,
    *,
    allow_all: bool = False,
    trtc_monitoring: bool = False,
    max_inventory_age: Any = DEFAULT_MAX_INVENTORY_AGE,
) -> EventInputs:
    """Everything validated before the first call."""
    from airflow_provider_rtc.discovery.discover import validate_clouds
    from airflow_provider_rtc.discovery.selector import Selector

    valid_clouds = validate_clouds(clouds)
    dry = switch(dry_run, "dry_run")
    has_selector = selector not in (None, "", {})
    given = _inventory_value(inventory)
    if has_selector and given:
        raise RtcValidationError("inventory", "give a selector or an inventory, not both")
    if given:
        if not isinstance(given, dict) or not isinstance(given.get("clouds"), dict):
            raise RtcValidationError("inventory", "a discovery result with a 'clouds' object")
        unknown = set(given["clouds"]) - set(ALL_CLOUDS)
        if unknown:
            raise RtcValidationError("inventory", "clouds must be trtc, live or zego", sorted(unknown))
        given = {**given, "clouds": {c: v for c, v in given["clouds"].items() if c in valid_clouds}}
        _check_age(given, max_inventory_age)
        return EventInputs(None, given, valid_clouds, dry)
    from airflow_provider_rtc.discovery.reconcile import check_idle_for

    parsed = Selector.parse(selector, allow_all=allow_all)
    check_idle_for(parsed, valid_clouds, trtc_monitoring=trtc_monitoring)
    return EventInputs(parsed, None, valid_clouds, dry)


def end_event(context: Any, inputs: EventInputs, how: EventEnd, *, scope: Any = None) -> dict[str, Any]:
    """Discover (or take the inventory), plan, end, verify; ``scope`` (refs) narrows verification to
    exactly what was meant to end. Returns the report; raises (after pushing it to the ``report``
    XCom) when stopped, when a call failed or when something in scope is still live."""
    from airflow_provider_rtc.cleanup import plan as planner
    from airflow_provider_rtc.discovery.discover import discover

    log, run = how.log, how.run
    selector, inventory, dry_run = inputs.selector, inputs.inventory, inputs.dry_run
    started = time.monotonic()
    access = how.access(inputs.clouds)
    given = inventory is not None
    if inventory is not None:
        _check_apps(inventory, access)  # before any call: another app's inventory is refused
    timings: dict[str, Any] = {}
    corrections: list[dict[str, Any]] = []
    if inventory is None:
        inventory = discover(access, selector, reconcile=True, log=log)
        corrections += inventory["corrections"]
        timings["discover"] = round(time.monotonic() - started, 3)
    plan = planner.build_plan(inventory, zego_mix_user_id=how.zego_mix_user_id)
    # a fresh read of the receiver: a target whose room was reused since the inventory is skipped
    skipped = planner.reconfirm(plan, inventory, access, log=log)
    plan["skipped_stale"] = skipped
    log.info("plan (%s):\n%s", "dry run" if dry_run else "executing", planner.render_table(plan))
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
        log.info(
            "nothing to end: no live resource in scope%s; no destructive call %s",
            f" ({len(skipped)} skipped as stale)" if skipped else "",
            "would be made" if dry_run else "was made",
        )
    if dry_run:
        # what the plan was built from, for the real run to take instead of discovering again:
        # ``EndEventOperator(inventory=<this task's output>)`` (the report itself is accepted);
        # it is re-confirmed there (age, app, a fresh read of the receiver) before any call
        report["inventory"] = inventory
        planner.audit_planned(plan, origin=how.origin)
        return report
    mark = time.monotonic()
    results, api_times, interrupted = planner.execute(plan, access, run, log=log)
    report["results"] = results + skipped
    timings["end"] = round(time.monotonic() - mark, 3)
    timings["apis"] = api_times  # per API: seconds until its last call ended
    counts: dict[str, int] = {}
    for r in report["results"]:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    if interrupted is not None or run.stopped:
        _report_stop(context, report, counts, started, run, log)
        try:  # what did end is still recorded, so the re-run's discovery starts from it
            planner.record_results(results, access)
        except Exception:
            log.exception("could not record the ended targets in the receiver")
        if interrupted is not None:
            raise interrupted
        raise AirflowException(
            f"stopped ({run.stopped}): {counts}; the 'report' XCom and the log say where each target stood"
        )
    planner.record_results(results, access)
    failed = [r for r in results if r["status"] == "failed"]
    if how.verify:
        mark = time.monotonic()
        survivors, passes, seen = planner.verify(
            plan,
            access,
            timeout=how.verify_timeout,
            interval=how.verify_interval,
            selector=None if given else selector,
            inventory=inventory if given else None,
            now=_discovered_at(inventory),
            skipped=skipped,
            run=run,
            log=log,
            scope=scope,
        )
        report["survivors"] = survivors
        report["corrections"] += seen
        timings["verify"] = round(time.monotonic() - mark, 3)
        timings["verify_passes"] = passes
    timings["total"] = round(time.monotonic() - started, 3)
    log.info("ended: %s; survivors: %d; %.1fs", counts, len(report["survivors"]), timings["total"])
    if run.stopped:
        report["stopped"] = run.stopped
        _push(context, report, log)
        raise AirflowException(f"stopped ({run.stopped}) while verifying; see the 'report' XCom")
    if report["survivors"] or failed:
        _push(context, report, log)
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
    context: Any, report: dict[str, Any], counts: dict[str, int], started: float, run: BulkRun, log: Any
) -> None:
    """Stopped (on_kill, execution_timeout): no verification; the log and the 'report' XCom say
    where every target stood (``not_started`` for what no call was issued for)."""
    report["stopped"] = run.stopped
    report["timings"]["total"] = round(time.monotonic() - started, 3)
    log.warning("stopped (%s) after: %s", run.stopped, counts)
    for r in report["results"]:
        if r["status"] == "failed":
            log.error("failed: %s", r)
    waiting = [f"{r['action']} {r['label']}" for r in report["results"] if r["status"] == "not_started"]
    if waiting:
        log.warning("not started (%d): %s", len(waiting), waiting[:50])
    _push(context, report, log)


def _push(context: Any, report: dict[str, Any], log: Any) -> None:
    ti = context.get("ti") if isinstance(context, dict) else None
    if ti is None:
        return
    try:
        ti.xcom_push(key="report", value=report)
    except Exception:
        log.exception("could not push the 'report' XCom; the results are in this log")


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
