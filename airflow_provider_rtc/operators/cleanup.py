"""What every cleanup operator shares: "already gone" is the goal reached (by default), and the
result is a small JSON dict that says what happened, for XCom and for people."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.common.compat.sdk import BaseOperator

from airflow_provider_rtc.exceptions import RtcNotFoundError

if TYPE_CHECKING:
    from airflow_provider_rtc.hooks.tencentcloud import TencentCloudHook

#: template fields every Tencent operator adds to its business fields
TENCENT_FIELDS = ("tencentcloud_conn_id", "region", "sdk_app_id")


class RtcCleanupOperator(BaseOperator):
    """Base of the cleanup operators; subclasses implement :meth:`run_cleanup`."""

    ui_color = "#e8f4fd"
    cloud = ""
    action = ""

    def __init__(self, *, ignore_not_found: bool = True, hook_params: dict[str, Any] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.ignore_not_found = ignore_not_found
        self.hook_params = dict(hook_params or {})

    def run_cleanup(self) -> dict[str, Any]:
        raise NotImplementedError

    def execute(self, context: Any) -> dict[str, Any]:
        return self.run_cleanup()

    def cleanup(
        self, what: str, action: str, call: Callable[[], dict[str, Any]], **target: Any
    ) -> dict[str, Any]:
        """Run one cleanup call and describe the outcome; a not-found either succeeds or re-raises."""
        result: dict[str, Any] = {"cloud": self.cloud, "action": action, **target}
        try:
            response = call()
        except RtcNotFoundError as err:
            if err.after_lost_response:
                note = "an earlier attempt's answer was lost, so that attempt most likely did it"
            else:
                note = "it was already gone"
            if not self.ignore_not_found:
                self.log.error(
                    "%s not found (%s): %s; failing because ignore_not_found=False", what, err.code, note
                )
                raise
            self.log.info("%s: already gone (%s, %s); nothing left to do", what, err.code, note)
            result.update(
                status="already_gone",
                code=err.code,
                RequestId=err.request_id,
                after_lost_response=err.after_lost_response,
            )
            return result
        request_id = response.get("RequestId")
        self.log.info("%s: done (RequestId %s)", what, request_id)
        result.update(status="done", RequestId=request_id)
        return result


class TencentCleanupOperator(RtcCleanupOperator):
    """Adds the ``tencentcloud`` connection, with ``region`` and ``sdk_app_id`` overriding its extras."""

    hook_class: ClassVar[type[TencentCloudHook]]

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

    @cached_property
    def hook(self) -> Any:
        return self.hook_class(
            self.tencentcloud_conn_id,
            region=self.region or None,
            sdk_app_id=self.sdk_app_id or None,
            **self.hook_params,
        )
