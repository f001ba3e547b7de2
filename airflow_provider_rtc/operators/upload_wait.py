"""Stop, then wait for the upload: the part of a stop-and-wait operator that is not the stop.

:class:`UploadWait` is a small object the operator holds (composition, not a mixin): after the stop
call it returns the stop result (``wait_for_upload=False``), or waits in the worker with the blocking
driver of the one polling loop, or checks once and defers to the trigger that continues the same
wait. ``execute_complete`` hands the trigger's event to :meth:`UploadWait.complete`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow_provider_rtc.clock import current_clock
from airflow_provider_rtc.waits.loop import DEFAULT_MAX_CONSECUTIVE_ERRORS
from airflow_provider_rtc.waits.outcome import RecordingWaitTimeout, complete, finish

if TYPE_CHECKING:
    from airflow_provider_rtc.waits.probe import WaitProbe


@dataclass(frozen=True)
class UploadWait:
    """How a stop-and-wait operator waits; the numbers are checked only when it waits at all."""

    wait_for_upload: bool = False
    deferrable: bool = False
    poll_interval: float = 30.0
    wait_timeout: float = 6 * 3600.0
    max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS

    def __post_init__(self) -> None:
        from airflow_provider_rtc import validation as v

        # finite numbers (a NaN would never time out), RtcValidationError naming the parameter
        poll = timeout = None
        if self.wait_for_upload:
            poll = v.number(self.poll_interval, "poll_interval", minimum=0.0, exclusive_minimum=True)
            timeout = v.number(self.wait_timeout, "wait_timeout", minimum=0.0, exclusive_minimum=True)
        object.__setattr__(self, "poll_interval", float(poll or self.poll_interval))
        object.__setattr__(self, "wait_timeout", float(timeout or self.wait_timeout))
        if self.wait_for_upload:
            v.positive_int(self.max_consecutive_errors, "max_consecutive_errors")

    def after_stop(
        self, task: Any, context: Any, stop_result: dict[str, Any], make_probe: Callable[[], WaitProbe]
    ) -> Any:
        """The operator's result: the stop result, or the manifest once the files are uploaded."""
        if not self.wait_for_upload:
            return stop_result
        probe = make_probe()
        task.log.info("%s: stopped (%s); waiting for the upload", probe.what, stop_result.get("status"))
        if not self.deferrable:
            event = probe.wait(timeout=self.wait_timeout, poll_interval=self.poll_interval)
            return self.complete(task, context, event)
        verdict = probe.check(context)
        if verdict.final:
            return finish(task, context, verdict)
        task.log.info("%s: not uploaded yet; deferring to the triggerer", probe.what)
        task.defer(
            trigger=probe.trigger(
                end_time=current_clock().time() + self.wait_timeout, poll_interval=self.poll_interval
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.wait_timeout),
        )

    def complete(self, task: Any, context: Any, event: Any) -> Any:
        return complete(task, context, event, on_timeout=RecordingWaitTimeout)
