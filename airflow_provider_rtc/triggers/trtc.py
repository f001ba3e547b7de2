"""Trigger for Tencent TRTC: a cloud recording's files uploaded (DescribeCloudRecording + callbacks).

It runs the same check as ``poke()`` (:func:`airflow_provider_rtc.waits.steps.trtc_check`) with the
same :class:`~airflow_provider_rtc.waits.spec.TrtcWaitSpec`: while DescribeCloudRecording still finds
the task it is not complete; once the task is gone, the trigger reads the task's callbacks from the
provider's receiver, signed with the callback secret it re-reads from the ``tencentcloud``
connection with the async API (the secret is never one of its kwargs).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_rtc.triggers.base import PollingTrigger
from airflow_provider_rtc.waits import steps
from airflow_provider_rtc.waits.spec import TrtcWaitSpec

if TYPE_CHECKING:
    from airflow_provider_rtc.waits.calls import TrtcCalls


class TrtcRecordingUploadedTrigger(PollingTrigger):
    """Polls until a TRTC recording's files are uploaded per its storage mode (or failed / timeout).

    The wait options are the sensor's (``storage``, ``wait_for_mp4``, ``on_failed_file``,
    ``on_backup_file``, ``callback_receiver_url``, ``file_url_template``, ``check_playlists``,
    ``vod_commit_grace``: the
    fields of :class:`~airflow_provider_rtc.waits.spec.TrtcWaitSpec`, taken as keywords), or ``spec``:
    a serialized spec, which is what :meth:`serialize` writes. The other keywords are the loop's.

    :param storage_files: ``StorageFileList`` entries captured while the task lived (JSON primitives).
    :param task_gone: DescribeCloudRecording already said the task is gone; go straight to callbacks.
    :param vod_stop_seen_at: when the wait first saw the 312 VOD_STOP (its own clock, epoch
        seconds): a restored trigger resumes that ``vod_commit_grace`` window, not a new one.
    :param state: the above as one dict (what a probe hands over).
    """

    def __init__(
        self,
        *,
        recording_task_id: str,
        tencentcloud_conn_id: str = "tencentcloud_default",
        region: str | None = None,
        sdk_app_id: int | str | None = None,
        spec: dict[str, Any] | None = None,
        storage_files: list[dict[str, Any]] | None = None,
        task_gone: bool = False,
        vod_stop_seen_at: float | None = None,
        state: dict[str, Any] | None = None,
        **options_and_loop: Any,
    ) -> None:
        options, loop = TrtcWaitSpec.split(options_and_loop)
        super().__init__(**loop)
        self.spec = TrtcWaitSpec.from_params(spec, **options)
        self.recording_task_id = recording_task_id
        self.tencentcloud_conn_id = tencentcloud_conn_id
        self.region = region
        self.sdk_app_id = sdk_app_id
        self.state = steps.trtc_state(
            state
            or {"storage_files": storage_files, "task_gone": task_gone, "vod_stop_seen_at": vod_stop_seen_at}
        )
        self.what = f"TRTC recording {recording_task_id}"

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return self.serialized(
            recording_task_id=self.recording_task_id,
            tencentcloud_conn_id=self.tencentcloud_conn_id,
            region=self.region,
            sdk_app_id=self.sdk_app_id,
            spec=self.spec.to_dict(),
            **steps.trtc_state(self.state),
        )

    @cached_property
    def calls(self) -> TrtcCalls:
        from airflow_provider_rtc.waits.calls import TrtcCalls

        return TrtcCalls(
            tencentcloud_conn_id=self.tencentcloud_conn_id,
            region=self.region,
            sdk_app_id=self.sdk_app_id,
            hook_params=self.hook_params,
            callback_receiver_url=self.spec.callback_receiver_url,
            log=self.log,
        )

    def check(self, state: dict[str, Any]) -> steps.Check:
        return steps.trtc_check(self.spec, self.recording_task_id, state)
