"""Operators for ZEGOCLOUD cleanups: stop mixes and recordings, delete streams, kick users, close rooms."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from airflow.providers.common.compat.sdk import conf

from airflow_provider_rtc import audit
from airflow_provider_rtc import validation as v
from airflow_provider_rtc.cleanup.enders import ender
from airflow_provider_rtc.cleanup.engine import BulkPlan, BulkRun, BulkTarget
from airflow_provider_rtc.cleanup.targets import checked
from airflow_provider_rtc.hooks.zego import ZegoCloudRecordHook, ZegoRtcHook
from airflow_provider_rtc.links import ZegoCloudConsoleLink
from airflow_provider_rtc.operators.cleanup import ZEGO_FIELDS, ZegoCleanupOperator
from airflow_provider_rtc.operators.upload_wait import UploadWait
from airflow_provider_rtc.triggers.probes import zego_recording_probe_of
from airflow_provider_rtc.waits.loop import DEFAULT_MAX_CONSECUTIVE_ERRORS
from airflow_provider_rtc.waits.probe import WaitProbe
from airflow_provider_rtc.waits.spec import SpecOf, ZegoWaitSpec


class StopMixOperator(ZegoCleanupOperator):
    """Stop a ZEGO stream-mixing task (StopMix); a task that no longer exists counts as stopped.

    Starting a new mix does not stop the old one (it runs on for 90 s after its inputs vanish),
    so end-of-event pipelines stop mixes explicitly. With task ownership on, pass the ``user_id``
    that started the task.
    """

    hook_class = ZegoRtcHook
    hook: ZegoRtcHook
    template_fields: Sequence[str] = ("mix_task_id", "user_id", "sequence", "hook_params", *ZEGO_FIELDS)
    template_fields_renderers = {"hook_params": "json"}
    operator_extra_links = (ZegoCloudConsoleLink(),)

    def __init__(
        self,
        *,
        mix_task_id: str,
        user_id: str | None = None,
        sequence: int | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.mix_task_id = mix_task_id
        self.user_id = user_id
        self.sequence = sequence

    def run_cleanup(self) -> dict[str, Any]:
        task = v.token(self.mix_task_id, "mix_task_id")
        user = v.optional_zego_user_id(self.user_id)
        sequence = v.non_negative_int(self.sequence, "sequence")
        return self.cleanup(
            f"ZEGO mix task {task}",
            "StopMix",
            lambda: self.hook.stop_mix(task, user_id=user, sequence=sequence),
            mix_task_id=task,
        )


class DeleteStreamOperator(ZegoCleanupOperator):
    """Remove a stream from a ZEGO room's stream list (DeleteStream); a gone room or stream counts as done."""

    hook_class = ZegoRtcHook
    hook: ZegoRtcHook
    template_fields: Sequence[str] = (
        "room_id",
        "user_id",
        "stream_id",
        "user_name",
        "hook_params",
        *ZEGO_FIELDS,
    )
    template_fields_renderers = {"hook_params": "json"}
    operator_extra_links = (ZegoCloudConsoleLink(),)

    def __init__(
        self, *, room_id: str, user_id: str, stream_id: str, user_name: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.room_id = room_id
        self.user_id = user_id
        self.stream_id = stream_id
        self.user_name = user_name

    def run_cleanup(self) -> dict[str, Any]:
        room = v.zego_id(self.room_id, "room_id")
        user = v.zego_user_id(self.user_id)
        stream = v.zego_stream_id(self.stream_id)
        name = v.optional_text(self.user_name, "user_name", max_bytes=256)
        return self.cleanup(
            f"ZEGO stream {stream} in room {room}",
            "DeleteStream",
            lambda: self.hook.delete_stream(room, user, stream, user_name=name),
            room_id=room,
            stream_id=stream,
        )


class CloseRoomOperator(ZegoCleanupOperator):
    """Remove every user and close a ZEGO room (CloseRoom). ZEGO allows 1 call/s per AppId."""

    hook_class = ZegoRtcHook
    hook: ZegoRtcHook
    template_fields: Sequence[str] = ("room_id", "custom_reason", "hook_params", *ZEGO_FIELDS)
    template_fields_renderers = {"hook_params": "json"}
    operator_extra_links = (ZegoCloudConsoleLink(),)

    def __init__(self, *, room_id: str, custom_reason: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.room_id = room_id
        self.custom_reason = custom_reason

    def run_cleanup(self) -> dict[str, Any]:
        room = v.zego_id(self.room_id, "room_id")
        reason = v.zego_reason(self.custom_reason)
        return self.cleanup(
            f"ZEGO room {room}",
            "CloseRoom",
            lambda: self.hook.close_room(room, custom_reason=reason),
            room_id=room,
        )


class KickoutUserOperator(ZegoCleanupOperator):
    """Kick users out of a ZEGO room (KickoutUser; at most the catalog's ``batch``, 5, per call); a
    gone room or user counts as done."""

    hook_class = ZegoRtcHook
    hook: ZegoRtcHook
    template_fields: Sequence[str] = ("room_id", "user_ids", "custom_reason", "hook_params", *ZEGO_FIELDS)
    template_fields_renderers = {"hook_params": "json", "user_ids": "json"}
    operator_extra_links = (ZegoCloudConsoleLink(),)

    def __init__(
        self, *, room_id: str, user_ids: list[str] | str, custom_reason: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.room_id = room_id
        self.user_ids = user_ids
        self.custom_reason = custom_reason

    def run_cleanup(self) -> dict[str, Any]:
        room = v.zego_id(self.room_id, "room_id")
        users = v.string_list(
            self.user_ids, "user_ids", max_items=ender("KickoutUser").batch or 1, item=v.zego_user_id
        )
        reason = v.zego_reason(self.custom_reason)
        return self.cleanup(
            f"{len(users)} user(s) in ZEGO room {room}",
            "KickoutUser",
            lambda: self.hook.kickout_user(room, users, custom_reason=reason),
            room_id=room,
            user_ids=users,
        )


class StopRecordOperator(ZegoCleanupOperator):
    """Stop a ZEGO cloud recording (StopRecord); an unknown or already-ended task counts as stopped.

    With ``wait_for_upload=True`` it then waits (in the worker or deferred to the triggerer) until the
    task ended and every file is final, exactly as
    :class:`~airflow_provider_rtc.sensors.zego.ZegoRecordingUploadedSensor` decides, and returns the
    manifest (also attached to the events of its ``outlets`` Assets). Without it (default) the
    operator returns the stop result as before.

    :param recording_task_id: the TaskId StartRecord returned (templated).
    :param wait_for_upload: wait for the upload after stopping (default False).
    :param deferrable: wait in the triggerer (defaults to ``[operators] default_deferrable``).
    :param poll_interval: seconds between checks (default 30).
    :param wait_timeout: seconds to wait before failing (default 6 h); the failure names the files
        still uploading.
    :param on_failed_file: ``"fail"`` (default) or ``"warn"`` for a file in Status 5.
    :param on_backup_file: ``"warn"`` (default) or ``"fail"`` for a file only in ZEGO's backup storage.
    :param max_consecutive_errors: transient errors in a row tolerated while waiting (default 5).
    """

    #: the wait options, from the (rendered) flat parameters
    spec = SpecOf(ZegoWaitSpec)

    hook_class = ZegoRtcHook
    hook: ZegoRtcHook
    template_fields: Sequence[str] = ("recording_task_id", "hook_params", *ZEGO_FIELDS)
    template_fields_renderers = {"hook_params": "json"}
    operator_extra_links = (ZegoCloudConsoleLink(),)

    def __init__(
        self,
        *,
        recording_task_id: str,
        wait_for_upload: bool = False,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = 30.0,
        wait_timeout: float = 6 * 3600.0,
        on_failed_file: str = "fail",
        on_backup_file: str = "warn",
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.recording_task_id = recording_task_id
        self.upload_wait = UploadWait(
            wait_for_upload=wait_for_upload,
            deferrable=deferrable,
            poll_interval=poll_interval,
            wait_timeout=wait_timeout,
            max_consecutive_errors=max_consecutive_errors,
        )
        self.on_failed_file = on_failed_file
        self.on_backup_file = on_backup_file
        self.spec  # noqa: B018 - a wrong option fails when the DAG is parsed

    def execute(self, context: Any) -> Any:
        with audit.task_trail(self, context):  # this execute replaces the base's, which opens it
            result = self.run_cleanup()
        return self.upload_wait.after_stop(self, context, result, self.make_probe)

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> Any:
        return self.upload_wait.complete(self, context, event)

    @cached_property
    def record_hook(self) -> ZegoCloudRecordHook:
        return ZegoCloudRecordHook(**self.connection_kwargs(), **self.hook_params)

    def run_cleanup(self) -> dict[str, Any]:
        task = v.token(self.recording_task_id, "recording_task_id")
        return self.cleanup(
            f"ZEGO recording {task}",
            "StopRecord",
            lambda: self.record_hook.stop_record(task),
            recording_task_id=task,
        )

    def make_probe(self) -> WaitProbe:
        return zego_recording_probe_of(
            self,
            record_hook=self.record_hook,  # one connection lookup and session for stop and wait
            max_consecutive_errors=self.upload_wait.max_consecutive_errors,
        )


class BulkCloseRoomsOperator(ZegoCleanupOperator):
    """Close many ZEGO rooms in one task, paced at ZEGO's 1 CloseRoom call/s per AppId.

    :param room_ids: a list, a JSON-array template, or an upstream XCom list of room ids.
    """

    hook_class = ZegoRtcHook
    hook: ZegoRtcHook
    template_fields: Sequence[str] = ("room_ids", "custom_reason", "hook_params", *ZEGO_FIELDS)
    template_fields_renderers = {"hook_params": "json", "room_ids": "json"}

    def __init__(
        self,
        *,
        room_ids: list[str] | str,
        custom_reason: str | None = None,
        max_concurrency: int = 16,
        progress_interval: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.room_ids = room_ids
        self.custom_reason = custom_reason
        self.bulk = BulkRun(max_concurrency, progress_interval)

    def plan(self) -> BulkPlan:
        reason = v.zego_reason(self.custom_reason)

        def target(raw: Any, param: str) -> BulkTarget:
            room = v.zego_id(raw, param)
            return checked({"room_id": room}, target=room)

        return self.bulk_plan("room_ids", ender("CloseRoom"), target, {"custom_reason": reason})


class BulkDeleteStreamsOperator(ZegoCleanupOperator):
    """Delete many ZEGO streams in one task, paced at ZEGO's 10 DeleteStream calls/s per AppId.

    :param streams: dicts ``{"room_id", "user_id", "stream_id", "user_name"?}`` as a list, a
        JSON-array template, or an upstream XCom.
    """

    hook_class = ZegoRtcHook
    hook: ZegoRtcHook
    template_fields: Sequence[str] = ("streams", "hook_params", *ZEGO_FIELDS)
    template_fields_renderers = {"hook_params": "json", "streams": "json"}

    def __init__(
        self,
        *,
        streams: list[dict[str, Any]] | str,
        max_concurrency: int = 16,
        progress_interval: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.streams = streams
        self.bulk = BulkRun(max_concurrency, progress_interval)

    def plan(self) -> BulkPlan:
        return self.bulk_plan("streams", ender("DeleteStream"), self._target)

    def _target(self, raw: Any, param: str) -> BulkTarget:
        if not isinstance(raw, dict):
            raise v.RtcValidationError(param, "each item must be {room_id, user_id, stream_id}", raw)
        unknown = set(raw) - {"room_id", "user_id", "stream_id", "user_name"}
        if unknown:
            raise v.RtcValidationError(param, f"unknown key(s) {sorted(unknown)}")
        room = v.zego_id(raw.get("room_id"), f"{param}.room_id")
        user = v.zego_user_id(raw.get("user_id"), f"{param}.user_id")
        stream = v.zego_stream_id(raw.get("stream_id"), f"{param}.stream_id")
        name = v.optional_text(raw.get("user_name"), f"{param}.user_name", max_bytes=256)
        described = {"room_id": room, "stream_id": stream}
        ids = {**described, "user_id": user, "user_name": name}
        return checked(ids, extra=described, target=described)


class BulkKickoutUsersOperator(ZegoCleanupOperator):
    """Kick users out of many ZEGO rooms in one task, paced at ZEGO's 50 KickoutUser calls/s per AppId.

    A large event kicks in dozens of rooms; one task per room costs seconds of scheduling each.

    :param kicks: dicts ``{"room_id", "user_ids": [at most 5]}`` as a list, a JSON-array template,
        or an upstream XCom (the shape ``end_of_event_cleanup``'s ``zego_kicks`` has); for longer
        user lists use ``BulkEndOperator(action="KickoutUser")``, which splits them into calls.
    """

    hook_class = ZegoRtcHook
    hook: ZegoRtcHook
    template_fields: Sequence[str] = ("kicks", "custom_reason", "hook_params", *ZEGO_FIELDS)
    template_fields_renderers = {"hook_params": "json", "kicks": "json"}

    def __init__(
        self,
        *,
        kicks: list[dict[str, Any]] | str,
        custom_reason: str | None = None,
        max_concurrency: int = 16,
        progress_interval: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.kicks = kicks
        self.custom_reason = custom_reason
        self.bulk = BulkRun(max_concurrency, progress_interval)

    def plan(self) -> BulkPlan:
        reason = v.zego_reason(self.custom_reason)
        row = ender("KickoutUser")

        def target(raw: Any, param: str) -> BulkTarget:
            if not isinstance(raw, dict):
                raise v.RtcValidationError(param, "each item must be {room_id, user_ids}", raw)
            unknown = set(raw) - {"room_id", "user_ids"}
            if unknown:
                raise v.RtcValidationError(param, f"unknown key(s) {sorted(unknown)}")
            room = v.zego_id(raw.get("room_id"), f"{param}.room_id")
            users = v.string_list(
                raw.get("user_ids"), f"{param}.user_ids", max_items=row.batch or 1, item=v.zego_user_id
            )
            described = {"room_id": room, "user_ids": users}
            return checked(described, target=described)

        return self.bulk_plan("kicks", row, target, {"custom_reason": reason})
