"""Operators for Tencent Cloud TRTC cleanups: dismiss rooms, remove users, stop recordings and relays."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.providers.common.compat.sdk import conf

from airflow_provider_rtc import audit
from airflow_provider_rtc import validation as v
from airflow_provider_rtc.cleanup.enders import ender, ender_for
from airflow_provider_rtc.cleanup.engine import BulkPlan, BulkRun, BulkTarget
from airflow_provider_rtc.cleanup.targets import checked
from airflow_provider_rtc.exceptions import RtcNotFoundError
from airflow_provider_rtc.hooks.trtc import TrtcHook
from airflow_provider_rtc.identity import ID_INT, ID_STR
from airflow_provider_rtc.links import TencentCloudConsoleLink
from airflow_provider_rtc.operators.cleanup import TENCENT_FIELDS, TencentCleanupOperator
from airflow_provider_rtc.operators.upload_wait import UploadWait
from airflow_provider_rtc.recordings.trtc import VOD_COMMIT_GRACE_SECONDS
from airflow_provider_rtc.triggers.probes import trtc_recording_probe_of
from airflow_provider_rtc.waits.loop import DEFAULT_MAX_CONSECUTIVE_ERRORS
from airflow_provider_rtc.waits.probe import WaitProbe
from airflow_provider_rtc.waits.spec import SpecOf, TrtcWaitSpec, refuse_key_with_deferrable

FILE_URL_FIELDS = v.TRTC_FILE_URL_FIELDS


class DismissRoomOperator(TencentCleanupOperator):
    """Remove every user and dismiss a TRTC room (DismissRoom, or DismissRoomByStrRoomId).

    :param room_id: numeric room id (a numeric string from a template is converted), or a string
        room id with ``str_room_id=True``.
    :param ignore_not_found: a room that no longer exists counts as dismissed (default).
    """

    hook_class = TrtcHook
    hook: TrtcHook
    template_fields: Sequence[str] = ("room_id", "hook_params", *TENCENT_FIELDS)
    template_fields_renderers = {"hook_params": "json"}
    operator_extra_links = (TencentCloudConsoleLink(),)

    def __init__(self, *, room_id: int | str, str_room_id: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.room_id = room_id
        self.str_room_id = v.flag(str_room_id, "str_room_id")

    def run_cleanup(self) -> dict[str, Any]:
        room = v.trtc_room_id(self.room_id, str_room_id=self.str_room_id)
        row = ender_for("trtc", "rooms", ID_STR if self.str_room_id else ID_INT)
        call = row.call({"trtc": self.hook}, {"room_id": room})
        return self.cleanup(f"TRTC room {room}", row.action, call, room_id=room)


class RemoveUserOperator(TencentCleanupOperator):
    """Kick users out of a TRTC room (RemoveUser, or RemoveUserByStrRoomId): at most the catalog's
    ``batch`` (10) per call; more is refused before the call (``BulkEndOperator`` chunks them)."""

    hook_class = TrtcHook
    hook: TrtcHook
    template_fields: Sequence[str] = ("room_id", "user_ids", "hook_params", *TENCENT_FIELDS)
    template_fields_renderers = {"hook_params": "json", "user_ids": "json"}
    operator_extra_links = (TencentCloudConsoleLink(),)

    def __init__(
        self, *, room_id: int | str, user_ids: list[str] | str, str_room_id: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.room_id = room_id
        self.user_ids = user_ids
        self.str_room_id = v.flag(str_room_id, "str_room_id")

    def run_cleanup(self) -> dict[str, Any]:
        room = v.trtc_room_id(self.room_id, str_room_id=self.str_room_id)
        row = ender_for("trtc", "users", ID_STR if self.str_room_id else ID_INT)
        users = v.trtc_user_ids(self.user_ids, max_items=row.batch or 1)
        call = row.call({"trtc": self.hook}, {"room_id": room, "user_ids": users})
        what = f"{len(users)} user(s) in TRTC room {room}"
        return self.cleanup(what, row.action, call, room_id=room, user_ids=users)


class DeleteCloudRecordingOperator(TencentCleanupOperator):
    """Stop a TRTC cloud recording (DeleteCloudRecording); optionally wait until its files are uploaded.

    Files keep uploading after DeleteCloudRecording returns. With ``wait_for_upload=False`` (default)
    the operator returns the stop result as before. With ``wait_for_upload=True`` it then waits, in
    the worker or deferred to the triggerer, until the files are uploaded exactly as
    :class:`~airflow_provider_rtc.sensors.trtc.TrtcRecordingUploadedSensor` decides, and returns the
    manifest (and attaches it to the events of its ``outlets`` Assets). A task that is already gone
    is waited for just the same (the stop is idempotent, so a retry stops and waits again).

    :param recording_task_id: the TaskId CreateCloudRecording returned (templated).
    :param wait_for_upload: wait for the upload after stopping (default False).
    :param deferrable: wait in the triggerer (defaults to ``[operators] default_deferrable``).
    :param poll_interval: seconds between checks (default 30).
    :param wait_timeout: seconds to wait for the upload before failing (default 6 h); the failure
        names the callbacks still missing.
    :param storage: ``"auto"`` (default), ``"cos"`` or ``"vod"``; see the sensor.
    :param wait_for_mp4: COS: also wait for a 310 MP4_STOP per index file.
    :param on_failed_file: ``"fail"`` (default) or ``"warn"``.
    :param on_backup_file: ``"wait"`` (default), ``"warn"`` or ``"fail"``.
    :param callback_receiver_url: receiver URL, with its path prefix if any (templated); default the
        connection extra.
    :param callback_key: secret signing reads; default the connection extra ``callback_secret``;
        not allowed with ``deferrable=True``.
    :param file_url_template: COS file URL template (templated); see the sensor.
    :param check_playlists: HLS also counts as uploaded when every playlist ends with ``#EXT-X-ENDLIST``.
    :param vod_commit_grace: VOD: seconds to wait after the 312 for a late-retried 311 (default 60,
        ``0`` completes at the 312; templated); see the sensor.
    :param max_consecutive_errors: transient errors in a row tolerated while waiting (default 5).
    :param recording_started_at: when the task was created (epoch seconds or ISO 8601, templated).
        TRTC refuses every call on a task ``resource_expired_hour`` hours after it was created, while
        the recording itself may still run until its MaxIdleTime: a not-found answer for a task that
        old is reported as ``expired_task: true`` with a warning, not as a plain "already gone".
    :param resource_expired_hour: the task's ``ResourceExpiredHour`` (CreateCloudRecording; default 72).
    """

    #: the wait options, from the (rendered) flat parameters
    spec = SpecOf(TrtcWaitSpec)

    hook_class = TrtcHook
    hook: TrtcHook
    template_fields: Sequence[str] = (
        "recording_task_id",
        "recording_started_at",
        "callback_receiver_url",
        "file_url_template",
        "vod_commit_grace",
        "hook_params",
        *TENCENT_FIELDS,
    )
    template_fields_renderers = {"hook_params": "json"}
    operator_extra_links = (TencentCloudConsoleLink(),)

    def __init__(
        self,
        *,
        recording_task_id: str,
        wait_for_upload: bool = False,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = 30.0,
        wait_timeout: float = 6 * 3600.0,
        storage: str = "auto",
        wait_for_mp4: bool = False,
        on_failed_file: str = "fail",
        on_backup_file: str = "wait",
        callback_receiver_url: str | None = None,
        callback_key: str | None = None,
        file_url_template: str | None = None,
        check_playlists: bool = False,
        vod_commit_grace: float | str | timedelta = VOD_COMMIT_GRACE_SECONDS,
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
        recording_started_at: str | float | None = None,
        resource_expired_hour: int = 72,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.recording_task_id = recording_task_id
        self.recording_started_at = recording_started_at
        self.resource_expired_hour = resource_expired_hour
        self.upload_wait = UploadWait(
            wait_for_upload=wait_for_upload,
            deferrable=deferrable,
            poll_interval=poll_interval,
            wait_timeout=wait_timeout,
            max_consecutive_errors=max_consecutive_errors,
        )
        self.storage = storage
        self.wait_for_mp4 = wait_for_mp4
        self.on_failed_file = on_failed_file
        self.on_backup_file = on_backup_file
        self.callback_receiver_url = callback_receiver_url
        self.callback_key = callback_key
        # checked when the task is built, with or without waiting (Jinja is checked once rendered)
        self.file_url_template = v.format_template(
            file_url_template, "file_url_template", fields=FILE_URL_FIELDS
        )
        self.check_playlists = check_playlists
        self.vod_commit_grace = vod_commit_grace
        if wait_for_upload:
            self.spec  # noqa: B018 - a wrong option fails when the DAG is parsed
            refuse_key_with_deferrable(callback_key, deferrable)

    def execute(self, context: Any) -> Any:
        # the rendered options (a file_url_template typo...) fail before the stop, not after it
        v.format_template(self.file_url_template, "file_url_template", fields=FILE_URL_FIELDS)
        if self.upload_wait.wait_for_upload:
            self.spec  # noqa: B018
        with audit.task_trail(self, context):  # this execute replaces the base's, which opens it
            result = self.run_cleanup()
        return self.upload_wait.after_stop(self, context, result, self.make_probe)

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> Any:
        return self.upload_wait.complete(self, context, event)

    def run_cleanup(self) -> dict[str, Any]:
        task = v.token(self.recording_task_id, "recording_task_id")
        limit = v.positive_int(self.resource_expired_hour, "resource_expired_hour")
        age_hours = _age_hours(self.recording_started_at)
        expired = age_hours is not None and age_hours >= limit
        try:
            result = self.cleanup(
                f"TRTC recording {task}",
                "DeleteCloudRecording",
                lambda: self.hook.delete_cloud_recording(task),
                recording_task_id=task,
            )
        except RtcNotFoundError:
            if expired:
                self._warn_expired(task, age_hours)
            raise
        if expired and result.get("status") == "already_gone":
            self._warn_expired(task, age_hours)
            result["expired_task"] = True
        return result

    def _warn_expired(self, task: str, age_hours: float | None) -> None:
        self.log.warning(
            "TRTC recording %s answered not-found, but it was created %.1f h ago, beyond its "
            "ResourceExpiredHour (%s h): TRTC refuses calls on it now although the recording may still "
            "run until its MaxIdleTime. It may NOT be stopped; check it in the TRTC console.",
            task,
            age_hours,
            self.resource_expired_hour,
        )

    def make_probe(self) -> WaitProbe:
        return trtc_recording_probe_of(self, max_consecutive_errors=self.upload_wait.max_consecutive_errors)


def _age_hours(started_at: str | float | None) -> float | None:
    """Hours since ``started_at`` (epoch seconds, or ISO 8601 with a zone), None when not given."""
    if started_at is None or started_at == "":
        return None
    try:
        epoch = float(started_at)
    except (TypeError, ValueError):
        import pendulum

        try:
            parsed = pendulum.parse(str(started_at))
        except ValueError:  # pendulum's ParserError included
            parsed = None
        if not isinstance(parsed, pendulum.DateTime):
            raise v.RtcValidationError(
                "recording_started_at", "epoch seconds or an ISO 8601 time", started_at
            ) from None
        epoch = parsed.timestamp()
    return (time.time() - epoch) / 3600.0


def _stop_by_task_id(op: TencentCleanupOperator, what: str, result_key: str) -> dict[str, Any]:
    """What the three stop-by-TaskId operators share: the check of ``task_id_to_stop``, the call
    through the ender row of ``op.action`` and the result under ``result_key``. (Composition: the
    operators stay three provider classes deep, single inheritance, as the project's shape rules.)"""
    task = v.token(op.task_id_to_stop, "task_id_to_stop")  # type: ignore[attr-defined]
    call = ender(op.action).call({"trtc": op.hook}, {"task_id": task})
    return op.cleanup(f"{what} {task}", op.action, call, **{result_key: task})


class StopPublishCdnStreamOperator(TencentCleanupOperator):
    """Stop a TRTC mix / relay-to-CDN task (StopPublishCdnStream)."""

    hook_class = TrtcHook
    template_fields: Sequence[str] = ("task_id_to_stop", "hook_params", *TENCENT_FIELDS)
    template_fields_renderers = {"hook_params": "json"}
    operator_extra_links = (TencentCloudConsoleLink(),)
    action = "StopPublishCdnStream"

    def __init__(self, *, task_id_to_stop: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.task_id_to_stop = task_id_to_stop

    def run_cleanup(self) -> dict[str, Any]:
        return _stop_by_task_id(self, "TRTC relay task", "relay_task_id")


class StopStreamIngestOperator(TencentCleanupOperator):
    """Stop pushing an online media stream into a TRTC room (StopStreamIngest)."""

    hook_class = TrtcHook
    template_fields: Sequence[str] = ("task_id_to_stop", "hook_params", *TENCENT_FIELDS)
    template_fields_renderers = {"hook_params": "json"}
    operator_extra_links = (TencentCloudConsoleLink(),)
    action = "StopStreamIngest"

    def __init__(self, *, task_id_to_stop: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.task_id_to_stop = task_id_to_stop

    def run_cleanup(self) -> dict[str, Any]:
        return _stop_by_task_id(self, "TRTC ingest task", "ingest_task_id")


class StopAITranscriptionOperator(TencentCleanupOperator):
    """Stop a TRTC AI transcription task (StopAITranscription); an ended task counts as stopped.

    :param task_id_to_stop: the TaskId StartAITranscription returned (templated).
    """

    hook_class = TrtcHook
    template_fields: Sequence[str] = ("task_id_to_stop", "hook_params", *TENCENT_FIELDS)
    template_fields_renderers = {"hook_params": "json"}
    operator_extra_links = (TencentCloudConsoleLink(),)
    action = "StopAITranscription"

    def __init__(self, *, task_id_to_stop: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.task_id_to_stop = task_id_to_stop

    def run_cleanup(self) -> dict[str, Any]:
        return _stop_by_task_id(self, "TRTC AI transcription", "ai_task_id")


class BulkDismissRoomsOperator(TencentCleanupOperator):
    """Dismiss many TRTC rooms in one task, paced at the documented 20 calls/s per SecretId and region.

    :param room_ids: a list, a JSON-array template, or an upstream XCom list of room ids.
    :param str_room_id: the ids are string room ids (DismissRoomByStrRoomId).
    :param max_concurrency: / :param progress_interval: see :class:`~.bulk.BulkRun`.
    Returns ``{"total", "counts", "elapsed_s", "rate_per_s", "duplicates_removed", "results":
    [per room]}`` (also the ``bulk_results`` XCom); fails at the end, after trying every room, if
    any room failed, and when stopped (``on_kill``, ``execution_timeout``) after reporting.
    """

    hook_class = TrtcHook
    hook: TrtcHook
    template_fields: Sequence[str] = ("room_ids", "hook_params", *TENCENT_FIELDS)
    template_fields_renderers = {"hook_params": "json", "room_ids": "json"}

    def __init__(
        self,
        *,
        room_ids: list[int | str] | str,
        str_room_id: bool = False,
        max_concurrency: int = 16,
        progress_interval: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.room_ids = room_ids
        self.str_room_id = v.flag(str_room_id, "str_room_id")
        self.bulk = BulkRun(max_concurrency, progress_interval)

    def plan(self) -> BulkPlan:
        row = ender_for("trtc", "rooms", ID_STR if self.str_room_id else ID_INT)
        return self.bulk_plan("room_ids", row, self._target)

    def _target(self, raw: Any, param: str) -> BulkTarget:
        room = v.trtc_room_id(raw, str_room_id=self.str_room_id, param=param)
        return checked({"room_id": room}, target=room)
