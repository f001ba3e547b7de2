"""The Airflow side of waiting for uploads, shared by the sensors and the stop-and-wait operators.

* :class:`RecordingProbe` - one sync check (``poke()``, blocking waits) with a bounded budget of
  consecutive transient errors, so a flaky API does not fail a long wait.
* :func:`finish` - a final verdict becomes the task's result: a failure raises
  :class:`RecordingUploadFailed`, a success logs the warnings, emits the asset events and returns
  the manifest.
* :func:`validate_event` / :func:`verdict_from_event` - what ``execute_complete`` accepts from a trigger.
* :func:`wait_blocking` - the operators' non-deferrable wait.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_rtc.exceptions import RtcThrottledError, RtcTransientError
from airflow_provider_rtc.recordings.manifest import Verdict
from airflow_provider_rtc.validation import number, positive_int

if TYPE_CHECKING:
    from airflow.triggers.base import BaseTrigger

EVENT_STATUSES = frozenset({"done", "failed", "timeout", "error"})
DEFAULT_MAX_CONSECUTIVE_ERRORS = 5


class RecordingUploadFailed(AirflowFailException):
    """The files cannot become uploaded (a failed file under the "fail" policy, a task that can no
    longer be queried...): retrying the task cannot help, so it fails without burning retries."""


class RecordingWaitTimeout(AirflowException):
    """A stop-and-wait operator gave up waiting; the message says for which events or files."""


def timeout_message(what: str, waited: float, waiting_for: list[str]) -> str:
    missing = "; ".join(waiting_for) if waiting_for else "the first successful check"
    return f"{what}: timed out after {waited:.0f} s; still waiting for: {missing}"


class RecordingProbe:
    """One cloud's sync check of one task. Subclasses implement :meth:`_check` and :meth:`trigger`."""

    #: what a person calls the thing waited for, e.g. "ZEGO recording X"
    what: str = "recording"

    #: key under which :meth:`state` is kept in ``context["task_state_store"]`` between reschedules
    state_key: str = ""

    def __init__(
        self,
        *,
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
        log: Any = None,
        persist_state: bool = False,
    ) -> None:
        max_consecutive_errors = positive_int(max_consecutive_errors, "max_consecutive_errors")
        self.max_consecutive_errors = max_consecutive_errors
        self.consecutive_errors = 0
        self.last_waiting_for: list[str] = []
        self.log = log
        self.persist_state = persist_state
        self._restored = False

    def _check(self, context: Any) -> Verdict:
        raise NotImplementedError

    # -- what a reschedule must not forget (JSON primitives) --------------------------------------
    def state(self) -> dict[str, Any]:
        return {}

    def restore(self, state: dict[str, Any]) -> None:
        """Take back what :meth:`state` returned in an earlier process."""

    def _store(self, context: Any) -> Any:
        if not self.persist_state or not self.state_key or not context:
            return None
        try:
            return context.get("task_state_store")
        except Exception:
            return None

    def _load(self, context: Any) -> None:
        if self._restored:
            return
        self._restored = True
        store = self._store(context)
        if store is None:
            return
        try:
            saved = store.get(self.state_key)
        except Exception as err:  # the state store is an optimisation, never a reason to fail
            if self.log is not None:
                self.log.debug("task state store unavailable: %s", type(err).__name__)
            return
        if isinstance(saved, dict):
            self.restore(saved)

    def _save(self, context: Any, before: dict[str, Any]) -> None:
        store = self._store(context)
        after = self.state()
        if store is None or after == before:
            return
        try:
            store.set(self.state_key, after)
        except Exception as err:
            if self.log is not None:
                self.log.debug("task state store unavailable: %s", type(err).__name__)

    def trigger(self, *, end_time: float, poll_interval: float) -> BaseTrigger:
        raise NotImplementedError

    def check(self, context: Any = None) -> Verdict:
        """One check. A throttle or transient fault (already retried by the hook) counts as "not yet"
        until ``max_consecutive_errors`` of them in a row, then it is raised."""
        self._load(context)
        before = self.state()
        try:
            verdict = self._check(context)
        except (RtcThrottledError, RtcTransientError) as err:
            self.consecutive_errors += 1
            if self.consecutive_errors >= self.max_consecutive_errors:
                raise
            if self.log is not None:
                self.log.warning(
                    "%s: %s (%d of %d consecutive errors allowed); will check again",
                    self.what,
                    err,
                    self.consecutive_errors,
                    self.max_consecutive_errors,
                )
            return Verdict("waiting", f"{self.what}: check failed ({err})", waiting_for=self.last_waiting_for)
        self.consecutive_errors = 0
        if not verdict.final:
            self.last_waiting_for = list(verdict.waiting_for)
            self._save(context, before)
        return verdict


def emit_asset_events(task: Any, context: Any, manifest: dict[str, Any]) -> None:
    """Attach the manifest to the asset event of every outlet Asset: ``extra = {"manifest": ...}``."""
    outlets = list(getattr(task, "outlets", None) or [])
    if not outlets or not context or "outlet_events" not in context:
        return
    from airflow.providers.common.compat.sdk import AssetAlias

    for outlet in outlets:
        if isinstance(outlet, AssetAlias):
            task.log.warning(
                "outlet %r is an AssetAlias: the manifest is attached only to Asset outlets", outlet
            )
            continue
        context["outlet_events"][outlet].extra = {"manifest": manifest}
        task.log.info("asset event for %r carries the recording manifest", getattr(outlet, "uri", outlet))


def finish(task: Any, context: Any, verdict: Verdict) -> dict[str, Any]:
    """Turn a final verdict into the task's outcome; returns the manifest (XCom)."""
    if verdict.state == "failed":
        raise RecordingUploadFailed(verdict.message)
    if verdict.state != "done" or verdict.manifest is None:
        raise AirflowException(f"not finished: {verdict.message}")
    manifest = verdict.manifest
    task.log.info("%s", verdict.message)
    for warning in manifest.get("warnings") or []:
        task.log.warning("%s", warning)
    emit_asset_events(task, context, manifest)
    return manifest


def validate_event(event: Any) -> dict[str, Any]:
    if not isinstance(event, dict) or event.get("status") not in EVENT_STATUSES:
        raise AirflowException(f"unexpected trigger event: {event!r}")
    return event


def verdict_from_event(event: dict[str, Any]) -> Verdict:
    """A ``done``/``failed`` trigger event back into the verdict it was made from."""
    return Verdict(
        state=event["status"],
        message=str(event.get("message") or ""),
        manifest=event.get("manifest"),
        waiting_for=list(event.get("waiting_for") or []),
    )


def wait_blocking(
    task: Any, probe: RecordingProbe, context: Any, *, timeout: float, poll_interval: float
) -> Verdict:
    """Check until final or ``timeout`` seconds; raises :class:`RecordingWaitTimeout` with what is missing."""
    started = time.monotonic()
    while True:
        verdict = probe.check(context)
        if verdict.final:
            return verdict
        waited = time.monotonic() - started
        remaining = timeout - waited
        if remaining <= 0:
            raise RecordingWaitTimeout(timeout_message(probe.what, waited, probe.last_waiting_for))
        task.log.info("%s; checking again in %.0f s", verdict.message, min(poll_interval, remaining))
        time.sleep(min(poll_interval, remaining))


def init_wait(
    op: Any,
    *,
    wait_for_upload: bool,
    deferrable: bool,
    poll_interval: float,
    wait_timeout: float,
    max_consecutive_errors: int,
) -> None:
    """Set and check the wait options both stop-and-wait operators take.

    A stop-and-wait operator composes these functions (it is not a mixin): it sets the attributes
    below, implements ``run_cleanup()`` and ``make_probe()``, and delegates ``execute`` to
    :func:`stop_and_wait` and ``execute_complete`` to :func:`complete_wait`.
    """
    op.wait_for_upload = wait_for_upload
    op.deferrable = deferrable
    op.poll_interval = number(poll_interval, "poll_interval")
    op.wait_timeout = number(wait_timeout, "wait_timeout")
    op.max_consecutive_errors = max_consecutive_errors
    if wait_for_upload:
        check_wait_numbers(op.poll_interval, op.wait_timeout)


def stop_and_wait(op: Any, context: Any) -> Any:
    return wait_after_stop(op, context, op.run_cleanup())


def wait_after_stop(op: Any, context: Any, stop_result: dict[str, Any]) -> Any:
    if not op.wait_for_upload:
        return stop_result
    from datetime import timedelta

    probe = op.make_probe()
    op.log.info("%s: stopped (%s); waiting for the upload", probe.what, stop_result.get("status"))
    if not op.deferrable:
        verdict = wait_blocking(op, probe, context, timeout=op.wait_timeout, poll_interval=op.poll_interval)
        return finish(op, context, verdict)
    verdict = probe.check(context)
    if verdict.final:
        return finish(op, context, verdict)
    op.log.info("%s; deferring", verdict.message)
    op.defer(
        trigger=probe.trigger(end_time=time.time() + op.wait_timeout, poll_interval=op.poll_interval),
        method_name="execute_complete",
        timeout=timedelta(seconds=op.wait_timeout),
    )


def complete_wait(
    op: Any,
    context: Any,
    event: dict[str, Any] | None = None,
    *,
    timeout_error: type[Exception] = RecordingWaitTimeout,
) -> Any:
    """``execute_complete`` of the stop-and-wait operators and the sensors (which fail a timeout
    with ``AirflowSensorTimeout`` so ``soft_fail`` applies)."""
    event = validate_event(event)
    status = event["status"]
    if status in ("done", "failed"):
        return finish(op, context, verdict_from_event(event))
    if status == "timeout":
        raise timeout_error(event.get("message") or "timed out")
    raise AirflowException(event.get("message") or "the trigger failed")


def check_wait_numbers(poll_interval: float, wait_timeout: float) -> None:
    number(poll_interval, "poll_interval", minimum=0.0, exclusive_minimum=True)
    number(wait_timeout, "wait_timeout", minimum=0.0, exclusive_minimum=True)
