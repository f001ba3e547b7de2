"""A target as the engine runs it, built through the ender table: its call and its result's identity."""

from __future__ import annotations

from typing import Any

from airflow_provider_rtc.cleanup.enders import Ender
from airflow_provider_rtc.cleanup.engine import BulkPlan, BulkTarget
from airflow_provider_rtc.cleanup.result import identity


def app_of_hook(hook: Any) -> str:
    """The application a hook reaches, for the refs of what it ends ("-" when it names none: Live,
    or a TRTC connection without ``sdk_app_id`` calling StopAITranscription, which needs none)."""
    try:
        if getattr(hook, "service", "") == "live":  # Live callbacks carry the account APPID
            extra = hook.get_connection(hook.conn_id).extra_dejson
            return str(extra.get("live_app_id") or "-")
        sdk_app = getattr(hook, "sdk_app_id", None)
        if sdk_app is not None:
            return str(sdk_app)
        credentials = getattr(hook.settings, "credentials", None)
        return str(getattr(credentials, "app_id", "") or "-")
    except Exception:  # an unset sdk_app_id is the call's own error to report, not this label's
        return "-"


def end_target(
    row: Ender,
    ids: dict[str, Any],
    hooks: dict[str, Any],
    app_id: Any,
    *,
    options: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    target: Any = None,
) -> BulkTarget:
    """``ids`` ended by ``row`` with ``hooks``; ``extra`` keys (an old bulk operator's ``room_id``)
    stay in the result beside the shape's, ``target`` is what the engine logs (default: the label)."""
    described = {**(extra or {}), **identity(row, ids, row.refs(app_id, ids))}
    call = row.call(hooks, ids, **{**(options or {}), **ids})  # an item's own option wins
    return BulkTarget(target if target is not None else described["label"], described, call)


def checked(ids: dict[str, Any], *, extra: dict[str, Any] | None = None, target: Any = None) -> BulkTarget:
    """A target validated but not yet bound to a connection: no hook is built before every item
    of a bulk has passed its check (:func:`bind`)."""
    return BulkTarget(target, extra if extra is not None else ids, _unbound, ids)


def _unbound() -> dict[str, Any]:
    raise RuntimeError("a checked target was run before bind()")


def bind(
    plan: BulkPlan, row: Ender, hooks: dict[str, Any], app_id: Any, options: dict[str, Any] | None = None
) -> BulkPlan:
    """Every checked target of ``plan`` with its call and its result's identity, through ``row``."""
    bound = [
        end_target(row, t.ids or {}, hooks, app_id, options=options, extra=t.described, target=t.target)
        for t in plan.targets
    ]
    return BulkPlan(bound, plan.duplicates)
