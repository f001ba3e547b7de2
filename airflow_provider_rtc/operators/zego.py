"""Operators for ZEGOCLOUD cleanups: stop mixes and recordings, delete streams, kick users, close rooms."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from airflow_provider_rtc import validation as v
from airflow_provider_rtc.hooks.zego import ZegoCloudHook, ZegoCloudRecordHook, ZegoRtcHook
from airflow_provider_rtc.operators.cleanup import RtcCleanupOperator


class _ZegoOperator(RtcCleanupOperator):
    cloud = "ZEGOCLOUD"

    def __init__(self, *, zegocloud_conn_id: str = ZegoCloudHook.default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.zegocloud_conn_id = zegocloud_conn_id

    @cached_property
    def hook(self) -> ZegoRtcHook:
        return ZegoRtcHook(self.zegocloud_conn_id, **self.hook_params)


class StopMixOperator(_ZegoOperator):
    """Stop a ZEGO stream-mixing task (StopMix); a task that no longer exists counts as stopped.

    Starting a new mix does not stop the old one (it runs on for 90 s after its inputs vanish),
    so end-of-event pipelines stop mixes explicitly. With task ownership on, pass the ``user_id``
    that started the task.
    """

    template_fields: Sequence[str] = ("mix_task_id", "user_id", "sequence", "zegocloud_conn_id")

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
        user = None if self.user_id in (None, "") else v.zego_id(self.user_id, "user_id", max_bytes=64)
        sequence = v.non_negative_int(self.sequence, "sequence")
        return self.cleanup(
            f"ZEGO mix task {task}",
            "StopMix",
            lambda: self.hook.stop_mix(task, user_id=user, sequence=sequence),
            mix_task_id=task,
        )


class DeleteStreamOperator(_ZegoOperator):
    """Remove a stream from a ZEGO room's stream list (DeleteStream); a gone room or stream counts as done."""

    template_fields: Sequence[str] = ("room_id", "user_id", "stream_id", "user_name", "zegocloud_conn_id")

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
        user = v.zego_id(self.user_id, "user_id", max_bytes=64)
        stream = v.zego_stream_id(self.stream_id)
        name = v.optional_text(self.user_name, "user_name", max_bytes=256)
        return self.cleanup(
            f"ZEGO stream {stream} in room {room}",
            "DeleteStream",
            lambda: self.hook.delete_stream(room, user, stream, user_name=name),
            room_id=room,
            stream_id=stream,
        )


class CloseRoomOperator(_ZegoOperator):
    """Remove every user and close a ZEGO room (CloseRoom). ZEGO allows 1 call/s per AppId."""

    template_fields: Sequence[str] = ("room_id", "custom_reason", "zegocloud_conn_id")

    def __init__(self, *, room_id: str, custom_reason: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.room_id = room_id
        self.custom_reason = custom_reason

    def run_cleanup(self) -> dict[str, Any]:
        room = v.zego_id(self.room_id, "room_id")
        reason = v.optional_text(self.custom_reason, "custom_reason", max_bytes=256)
        return self.cleanup(
            f"ZEGO room {room}",
            "CloseRoom",
            lambda: self.hook.close_room(room, custom_reason=reason),
            room_id=room,
        )


class KickoutUserOperator(_ZegoOperator):
    """Kick up to 5 users out of a ZEGO room (KickoutUser); a gone room or user counts as done."""

    template_fields: Sequence[str] = ("room_id", "user_ids", "custom_reason", "zegocloud_conn_id")

    def __init__(
        self, *, room_id: str, user_ids: list[str] | str, custom_reason: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.room_id = room_id
        self.user_ids = user_ids
        self.custom_reason = custom_reason

    def run_cleanup(self) -> dict[str, Any]:
        room = v.zego_id(self.room_id, "room_id")
        users = v.string_list(self.user_ids, "user_ids", max_items=5, max_bytes=64)
        reason = v.optional_text(self.custom_reason, "custom_reason", max_bytes=256)
        return self.cleanup(
            f"{len(users)} user(s) in ZEGO room {room}",
            "KickoutUser",
            lambda: self.hook.kickout_user(room, users, custom_reason=reason),
            room_id=room,
            user_ids=users,
        )


class StopRecordOperator(_ZegoOperator):
    """Stop a ZEGO cloud recording (StopRecord); an unknown or already-ended task counts as stopped."""

    template_fields: Sequence[str] = ("recording_task_id", "zegocloud_conn_id")

    def __init__(self, *, recording_task_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.recording_task_id = recording_task_id

    @cached_property
    def record_hook(self) -> ZegoCloudRecordHook:
        return ZegoCloudRecordHook(self.zegocloud_conn_id, **self.hook_params)

    def run_cleanup(self) -> dict[str, Any]:
        task = v.token(self.recording_task_id, "recording_task_id")
        return self.cleanup(
            f"ZEGO recording {task}",
            "StopRecord",
            lambda: self.record_hook.stop_record(task),
            recording_task_id=task,
        )
