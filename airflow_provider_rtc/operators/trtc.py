"""Operators for Tencent Cloud TRTC cleanups: dismiss rooms, remove users, stop recordings and relays."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_rtc import validation as v
from airflow_provider_rtc.hooks.trtc import TrtcHook
from airflow_provider_rtc.operators.cleanup import TENCENT_FIELDS, TencentCleanupOperator


class _TrtcOperator(TencentCleanupOperator):
    cloud = "Tencent Cloud TRTC"
    hook_class = TrtcHook

    hook: TrtcHook


class DismissRoomOperator(_TrtcOperator):
    """Remove every user and dismiss a TRTC room (DismissRoom, or DismissRoomByStrRoomId).

    :param room_id: numeric room id (a numeric string from a template is converted), or a string
        room id with ``str_room_id=True``.
    :param ignore_not_found: a room that no longer exists counts as dismissed (default).
    """

    template_fields: Sequence[str] = ("room_id", *TENCENT_FIELDS)

    def __init__(self, *, room_id: int | str, str_room_id: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.room_id = room_id
        self.str_room_id = str_room_id

    def run_cleanup(self) -> dict[str, Any]:
        room = v.trtc_room_id(self.room_id, str_room_id=self.str_room_id)
        if self.str_room_id:
            action, call = "DismissRoomByStrRoomId", lambda: self.hook.dismiss_room_by_str_room_id(str(room))
        else:
            action, call = "DismissRoom", lambda: self.hook.dismiss_room(room)
        return self.cleanup(f"TRTC room {room}", action, call, room_id=room)


class RemoveUserOperator(_TrtcOperator):
    """Kick up to 10 users out of a TRTC room (RemoveUser, or RemoveUserByStrRoomId)."""

    template_fields: Sequence[str] = ("room_id", "user_ids", *TENCENT_FIELDS)

    def __init__(
        self, *, room_id: int | str, user_ids: list[str] | str, str_room_id: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.room_id = room_id
        self.user_ids = user_ids
        self.str_room_id = str_room_id

    def run_cleanup(self) -> dict[str, Any]:
        room = v.trtc_room_id(self.room_id, str_room_id=self.str_room_id)
        users = v.string_list(self.user_ids, "user_ids", max_items=10)
        if self.str_room_id:
            action = "RemoveUserByStrRoomId"
            call = lambda: self.hook.remove_user_by_str_room_id(str(room), users)  # noqa: E731
        else:
            action, call = "RemoveUser", lambda: self.hook.remove_user(room, users)
        return self.cleanup(
            f"{len(users)} user(s) in TRTC room {room}", action, call, room_id=room, user_ids=users
        )


class DeleteCloudRecordingOperator(_TrtcOperator):
    """Stop a TRTC cloud recording (DeleteCloudRecording). Files keep uploading after the call."""

    template_fields: Sequence[str] = ("recording_task_id", *TENCENT_FIELDS)

    def __init__(self, *, recording_task_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.recording_task_id = recording_task_id

    def run_cleanup(self) -> dict[str, Any]:
        task = v.token(self.recording_task_id, "recording_task_id")
        return self.cleanup(
            f"TRTC recording {task}",
            "DeleteCloudRecording",
            lambda: self.hook.delete_cloud_recording(task),
            recording_task_id=task,
        )


class StopPublishCdnStreamOperator(_TrtcOperator):
    """Stop a TRTC mix / relay-to-CDN task (StopPublishCdnStream)."""

    template_fields: Sequence[str] = ("task_id_to_stop", *TENCENT_FIELDS)

    def __init__(self, *, task_id_to_stop: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.task_id_to_stop = task_id_to_stop

    def run_cleanup(self) -> dict[str, Any]:
        task = v.token(self.task_id_to_stop, "task_id_to_stop")
        return self.cleanup(
            f"TRTC relay task {task}",
            "StopPublishCdnStream",
            lambda: self.hook.stop_publish_cdn_stream(task),
            relay_task_id=task,
        )


class StopStreamIngestOperator(_TrtcOperator):
    """Stop pushing an online media stream into a TRTC room (StopStreamIngest)."""

    template_fields: Sequence[str] = ("task_id_to_stop", *TENCENT_FIELDS)

    def __init__(self, *, task_id_to_stop: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.task_id_to_stop = task_id_to_stop

    def run_cleanup(self) -> dict[str, Any]:
        task = v.token(self.task_id_to_stop, "task_id_to_stop")
        return self.cleanup(
            f"TRTC ingest task {task}",
            "StopStreamIngest",
            lambda: self.hook.stop_stream_ingest(task),
            ingest_task_id=task,
        )
