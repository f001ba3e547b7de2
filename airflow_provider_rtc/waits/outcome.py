"""A wait's end becomes the task's result: the same for sensors and stop-and-wait operators.

* :func:`finish` - a final verdict: a failure raises :class:`RecordingUploadFailed`; a success logs
  the warnings, attaches the manifest to the outlet Assets' events and returns it (XCom).
* :func:`complete` - what ``execute_complete`` does with a trigger event.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_rtc.recordings.manifest import WaitVerdict
from airflow_provider_rtc.waits.loop import EVENT_STATUSES


class RecordingUploadFailed(AirflowFailException):
    """The files cannot become uploaded (a failed file under the "fail" policy, a task that can no
    longer be queried...): retrying the task cannot help, so it fails without burning retries."""


class RecordingWaitTimeout(AirflowException):
    """A stop-and-wait operator gave up waiting; the message says for which events or files."""


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


def finish(task: Any, context: Any, verdict: WaitVerdict) -> dict[str, Any]:
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


def verdict_from_event(event: dict[str, Any]) -> WaitVerdict:
    """A ``done``/``failed`` trigger event back into the verdict it was made from."""
    return WaitVerdict(
        state=event["status"],
        message=str(event.get("message") or ""),
        manifest=event.get("manifest"),
        waiting_for=list(event.get("waiting_for") or []),
    )


def complete(task: Any, context: Any, event: Any, *, on_timeout: type[Exception]) -> dict[str, Any]:
    """A trigger (or blocking loop) event becomes the result; a timeout raises ``on_timeout``."""
    event = validate_event(event)
    status = event["status"]
    if status in ("done", "failed"):
        return finish(task, context, verdict_from_event(event))
    if status == "timeout":
        raise on_timeout(event.get("message") or "timed out")
    raise AirflowException(event.get("message") or "the trigger failed")
