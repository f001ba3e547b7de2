"""What every cleanup operator shares, composed rather than stacked.

Every public operator is at most three provider classes deep: :class:`RtcCleanupOperator`, one
connection base per cloud (:class:`TencentCleanupOperator`, :class:`ZegoCleanupOperator`, built
the same way), and the operator itself. Behaviour that several operators share is a plain
function (:func:`cleanup_outcome`) or a small object the operator holds (the bulk run in
:mod:`~airflow_provider_rtc.cleanup.engine`), never a mixin whose place among the bases matters.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.common.compat.sdk import BaseOperator

from airflow_provider_rtc import audit, errors
from airflow_provider_rtc import validation as v
from airflow_provider_rtc.cleanup.enders import PRODUCTS, Ender, ender
from airflow_provider_rtc.cleanup.engine import BulkPlan, BulkTarget, observe, plan_targets
from airflow_provider_rtc.cleanup.inputs import ID_ALIASES
from airflow_provider_rtc.cleanup.result import identity, outcome
from airflow_provider_rtc.cleanup.targets import app_of_hook, bind
from airflow_provider_rtc.exceptions import RtcNotFoundError
from airflow_provider_rtc.hooks.settings import check_hook_params

if TYPE_CHECKING:
    from airflow_provider_rtc.cleanup.engine import BulkRun
    from airflow_provider_rtc.hooks.base import RtcBaseHook

#: template fields every Tencent operator adds to its business fields
TENCENT_FIELDS = ("tencentcloud_conn_id", "region", "sdk_app_id")
ZEGO_FIELDS = ("zegocloud_conn_id",)


def cleanup_outcome(
    log: Any,
    *,
    row: Ender,
    app_id: Any,
    what: str,
    call: Callable[[], dict[str, Any]],
    ignore_not_found: bool,
    **target: Any,
) -> dict[str, Any]:
    """Run one cleanup call and describe the outcome in the one result shape
    (:mod:`airflow_provider_rtc.cleanup.result`); ``target`` (the operator's own argument names)
    stays beside it. A not-found either succeeds or re-raises; any other error is raised."""
    ids = {ID_ALIASES.get(k, k): v for k, v in target.items()}
    result: dict[str, Any] = {**target, **identity(row, ids, row.refs(app_id, ids))}
    started_ms, mark = int(time.time() * 1000), time.monotonic()

    def timings() -> dict[str, Any]:
        return {"started_ms": started_ms, "elapsed_s": round(time.monotonic() - mark, 3)}

    try:
        response = call()
    except RtcNotFoundError as err:
        if err.after_lost_response:
            note = "an earlier attempt's answer was lost, so that attempt most likely did it"
        else:
            note = "it was already gone"
        if not ignore_not_found:
            log.error("%s not found (%s): %s; failing because ignore_not_found=False", what, err.code, note)
            _observe_failure(result, err, timings(), maybe_executed=False)
            raise
        log.info("%s: already gone (%s, %s); nothing left to do", what, err.code, note)
        result.update(
            outcome(
                "already_gone",
                code=err.code,
                request_id=err.request_id,
                after_lost_response=err.after_lost_response,
                timings=timings(),
            )
        )
        observe(result, origin="operator")
        return result
    except errors.RtcError as err:
        _observe_failure(result, err, timings(), maybe_executed=err.maybe_executed)
        raise
    request_id = response.get("RequestId")
    log.info("%s: done (RequestId %s)", what, request_id)
    result.update(outcome("done", request_id=request_id, timings=timings()))
    observe(result, origin="operator")
    return result


def _observe_failure(
    result: dict[str, Any], err: errors.RtcError, timings: Any, *, maybe_executed: Any
) -> None:
    """A single call that raises is audited as ``failed`` before the error propagates (a stop
    before it was sent is ``not_started``: no call, no line)."""
    if isinstance(err, errors.RtcStoppedError) and not err.maybe_executed:
        return
    failed = outcome(
        "failed",
        code=err.code,
        request_id=getattr(err, "request_id", None),
        maybe_executed=maybe_executed,
        after_lost_response=err.after_lost_response,
        timings=timings,
    )
    observe({**result, **failed}, origin="operator")


class RtcCleanupOperator(BaseOperator):
    """Base of the cleanup operators: a single call (:meth:`run_cleanup`) or, for the bulk
    operators, a :class:`~airflow_provider_rtc.cleanup.engine.BulkRun` they hold as ``bulk``."""

    ui_color = "#e8f4fd"
    action = ""
    hook_class: ClassVar[type[RtcBaseHook[Any]]]
    #: set by the bulk operators; it runs :meth:`plan`'s targets
    bulk: BulkRun | None = None

    #: the ``origin`` of this operator's audit lines (None: the engine's, "operator" or "bulk")
    audit_origin: str | None = None

    def __init__(
        self,
        *,
        ignore_not_found: bool = True,
        hook_params: dict[str, Any] | None = None,
        audit_path: str | bool | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.ignore_not_found = v.flag(ignore_not_found, "ignore_not_found")
        self.hook_params = check_hook_params(hook_params)
        #: where the audit trail goes (None: ``[rtc] audit_path``; False or "": none): docs/how-to/audit.md
        self.audit_path = audit_path
        audit.add_outlet(self)

    @property
    def cloud(self) -> str:
        """The cloud code of the results ("trtc", "live", "zego")."""
        service = getattr(self.hook_class, "service", "")
        return service if service in PRODUCTS else "zego"

    def connection_kwargs(self) -> dict[str, Any]:
        """The hook arguments naming the connection (each cloud base says which)."""
        raise NotImplementedError

    @cached_property
    def hook(self) -> Any:
        return self.hook_class(**self.connection_kwargs(), **self.hook_params)

    def run_cleanup(self) -> dict[str, Any]:
        raise NotImplementedError

    def plan(self) -> Any:
        """Bulk operators: every target validated, as a :class:`~.bulk.BulkPlan`."""
        raise NotImplementedError

    def bulk_plan(
        self,
        param: str,
        row: Ender,
        target: Callable[[Any, str], BulkTarget],
        options: dict[str, Any] | None = None,
    ) -> BulkPlan:
        """A named bulk operator's plan: every item of its ``param`` checked by ``target`` before the
        hook is built, then bound to ``row``'s call with this operator's hook."""
        checked_plan = plan_targets(getattr(self, param), param, target)
        return bind(checked_plan, row, {row.hook: self.hook}, app_of_hook(self.hook), options)

    def execute(self, context: Any) -> dict[str, Any]:
        with audit.task_trail(self, context):
            if self.bulk is not None:
                return self.bulk.execute(self, context, self.plan())
            return self.run_cleanup()

    def on_kill(self) -> None:
        if self.bulk is not None:
            self.bulk.stop("on_kill")

    def cleanup(
        self, what: str, action: str, call: Callable[[], dict[str, Any]], **target: Any
    ) -> dict[str, Any]:
        """One call of ``action`` (its ender row says what it ends); the result in the one shape."""
        return cleanup_outcome(
            self.log,
            row=ender(action),
            app_id=app_of_hook(self.hook),
            what=what,
            call=call,
            ignore_not_found=self.ignore_not_found,
            **target,
        )


def tencent_connection_kwargs(op: Any) -> dict[str, Any]:
    """The checked ``tencentcloud`` hook arguments of an operator with ``tencentcloud_conn_id``,
    ``region`` and ``sdk_app_id`` (each named in its error)."""
    return {
        "tencentcloud_conn_id": v.conn_id(op.tencentcloud_conn_id, "tencentcloud_conn_id"),
        "region": v.region(op.region, required=False),
        "sdk_app_id": None
        if op.sdk_app_id in (None, "")
        else v.positive_int(op.sdk_app_id, "sdk_app_id", maximum=v.UINT32_MAX),
    }


class TencentCleanupOperator(RtcCleanupOperator):
    """The ``tencentcloud`` connection, with ``region`` and ``sdk_app_id`` overriding its extras."""

    def __init__(
        self,
        *,
        tencentcloud_conn_id: str = "tencentcloud_default",
        region: str | None = None,
        sdk_app_id: int | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.tencentcloud_conn_id = tencentcloud_conn_id
        self.region = region
        self.sdk_app_id = sdk_app_id

    def connection_kwargs(self) -> dict[str, Any]:
        return tencent_connection_kwargs(self)


class ZegoCleanupOperator(RtcCleanupOperator):
    """The ``zegocloud`` connection (AppId, ServerSecret and options in its extras)."""

    def __init__(self, *, zegocloud_conn_id: str = "zegocloud_default", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.zegocloud_conn_id = zegocloud_conn_id

    def connection_kwargs(self) -> dict[str, Any]:
        return {"zegocloud_conn_id": v.conn_id(self.zegocloud_conn_id, "zegocloud_conn_id")}
