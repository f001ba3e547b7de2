"""One operator per shape, any destructive API: :class:`BulkEndOperator` (many targets, one task) and
:class:`EndOperator` (one target, e.g. mapped), both driven by the ender table
(:mod:`airflow_provider_rtc.cleanup.enders`), both returning the one result shape.

The engine's names are re-exported here: ``operators.bulk.run_bulk`` is its documented import path
(the engine lives in :mod:`airflow_provider_rtc.cleanup.engine`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_rtc import validation as v
from airflow_provider_rtc.cleanup.enders import ENDERS, Ender, ender
from airflow_provider_rtc.cleanup.engine import (
    MAX_CONCURRENCY,
    STATUSES,
    BulkPlan,
    BulkRun,
    BulkStop,
    BulkTarget,
    not_started,
    plan_targets,
    run_bulk,
)
from airflow_provider_rtc.cleanup.inputs import row_targets
from airflow_provider_rtc.cleanup.targets import app_of_hook, end_target
from airflow_provider_rtc.operators.cleanup import (
    RtcCleanupOperator,
    cleanup_outcome,
    tencent_connection_kwargs,
)

__all__ = [
    "MAX_CONCURRENCY",
    "STATUSES",
    "BulkEndOperator",
    "BulkPlan",
    "BulkRun",
    "BulkStop",
    "BulkTarget",
    "EndOperator",
    "not_started",
    "plan_targets",
    "run_bulk",
]

_CONNECTION_FIELDS = ("tencentcloud_conn_id", "zegocloud_conn_id", "region", "sdk_app_id")


def _row(action: Any) -> Ender:
    if not isinstance(action, str) or action not in ENDERS:
        raise v.RtcValidationError("action", f"one of {', '.join(sorted(ENDERS))}", action)
    return ender(action)


def _templated(value: Any) -> bool:
    return isinstance(value, str) and "{{" in value


class _AnyCloudEnd(RtcCleanupOperator):
    """The connection of whichever cloud the row's API belongs to (Tencent or ZEGO)."""

    def __init__(
        self,
        *,
        action: str,
        tencentcloud_conn_id: str = "tencentcloud_default",
        zegocloud_conn_id: str = "zegocloud_default",
        region: str | None = None,
        sdk_app_id: int | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not _templated(action):
            _row(action)  # a typo fails when the DAG is parsed
        self.action = action
        self.tencentcloud_conn_id = tencentcloud_conn_id
        self.zegocloud_conn_id = zegocloud_conn_id
        self.region = region
        self.sdk_app_id = sdk_app_id

    @property
    def row(self) -> Ender:
        return _row(self.action)

    @property
    def cloud(self) -> str:
        return self.row.cloud

    def connection_kwargs(self) -> dict[str, Any]:
        if self.row.cloud == "zego":
            return {"zegocloud_conn_id": v.conn_id(self.zegocloud_conn_id, "zegocloud_conn_id")}
        return tencent_connection_kwargs(self)

    @property
    def hook(self) -> Any:  # type: ignore[override]
        """The hook the row names, built once per task from this operator's connection."""
        cached = self.__dict__.get("_end_hook")
        if cached is None:
            cached = self.__dict__["_end_hook"] = _hook_class(self.row)(
                **self.connection_kwargs(), **self.hook_params
            )
        return cached

    def hooks(self) -> dict[str, Any]:
        return {self.row.hook: self.hook}


def _hook_class(row: Ender) -> Any:
    if row.cloud == "live":
        from airflow_provider_rtc.hooks.live import LiveHook

        return LiveHook
    if row.cloud == "trtc":
        from airflow_provider_rtc.hooks.trtc import TrtcHook

        return TrtcHook
    from airflow_provider_rtc.hooks.zego import ZegoCloudRecordHook, ZegoRtcHook

    return ZegoCloudRecordHook if row.hook == "record" else ZegoRtcHook


class BulkEndOperator(_AnyCloudEnd):
    """End many targets of ONE destructive API in one task, paced at its documented rate.

    Every destructive API has this bulk form: ``action`` names it (a row of the ender table), and
    ``targets`` lists what it ends, each item the row's identity fields as a dict (``{"room_id": 1,
    "user_ids": [...]}``) or, for a one-field row, the bare id (a room id, a TaskId). A user list
    longer than the API takes per call (RemoveUser: 10) is split into calls. Every item is
    validated before the first call.

    :param action: the API, e.g. ``"DismissRoom"``, ``"StopAITranscription"`` (templated).
    :param targets: a list, a JSON-array template, or an upstream XCom list (templated).
    :param options: keyword options every call gets (``custom_reason`` for ZEGO kicks, ...).
    :param max_concurrency: / :param progress_interval: see
        :class:`~airflow_provider_rtc.cleanup.engine.BulkRun`.
    Returns ``{"total", "counts", "elapsed_s", "rate_per_s", "duplicates_removed", "results"}``,
    each result in the one shape (``docs/cleanup-engine.md``); fails at the end, after trying every
    target, if any failed, and when stopped (``on_kill``, ``execution_timeout``) after reporting.
    """

    template_fields: Sequence[str] = ("action", "targets", "options", "hook_params", *_CONNECTION_FIELDS)
    template_fields_renderers = {"hook_params": "json", "targets": "json", "options": "json"}

    def __init__(
        self,
        *,
        action: str,
        targets: list[Any] | str,
        options: dict[str, Any] | None = None,
        max_concurrency: int = 16,
        progress_interval: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(action=action, **kwargs)
        self.targets = targets
        self.options = options
        self.bulk = BulkRun(max_concurrency, progress_interval)

    def plan(self) -> BulkPlan:
        row = self.row
        options = self.options or {}
        if not isinstance(options, dict) or set(options) - set(row.options):
            raise v.RtcValidationError("options", f"a dict of {list(row.options) or 'nothing'}", options)

        def one(raw: Any, param: str) -> list[dict[str, Any]]:
            return row_targets(row, {**options, **raw} if isinstance(raw, dict) else raw, param)

        # every item checked before a hook is built or a call made
        parsed = v.id_list(self.targets, "targets", item=one, min_items=0)
        app, hooks = app_of_hook(self.hook), self.hooks()
        targets = [
            end_target(row, ids, hooks, app, options=options) for calls in parsed.items for ids in calls
        ]
        return BulkPlan(targets, [calls[0] for calls in parsed.duplicates])


class EndOperator(_AnyCloudEnd):
    """End ONE target of any destructive API (a row of the ender table): the mapped form.

    :param action: the API (templated).
    :param target: the row's identity fields as a dict, or the bare id for a one-field row
        (templated); a user list longer than one call takes is refused (use :class:`BulkEndOperator`).
    :param options: keyword options of the call.
    Returns the one result shape; an "already gone" target succeeds unless ``ignore_not_found=False``.
    """

    template_fields: Sequence[str] = ("action", "target", "options", "hook_params", *_CONNECTION_FIELDS)
    template_fields_renderers = {"hook_params": "json", "target": "json", "options": "json"}

    def __init__(self, *, action: str, target: Any, options: dict[str, Any] | None = None, **kwargs: Any):
        super().__init__(action=action, **kwargs)
        self.target = target
        self.options = options

    def run_cleanup(self) -> dict[str, Any]:
        row = self.row
        raw = self.target
        if isinstance(raw, dict) and self.options:
            raw = {**self.options, **raw}
        calls = row_targets(row, raw, "target")
        if len(calls) != 1:
            raise v.RtcValidationError(
                "target", f"at most {row.batch} {row.batch_field} per {row.action} call", self.target
            )
        ids = calls[0]
        call = row.call(self.hooks(), ids, **ids)
        fields = {k: ids[k] for k in row.fields}
        return cleanup_outcome(
            self.log,
            row=row,
            app_id=app_of_hook(self.hook),
            what=f"{row.action} {fields}",
            call=call,
            ignore_not_found=self.ignore_not_found,
            **fields,
        )
