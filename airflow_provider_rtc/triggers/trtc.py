"""Trigger for Tencent TRTC: a cloud recording's files uploaded (DescribeCloudRecording + callbacks).

While DescribeCloudRecording still finds the task it is not complete; once the task is gone, the
trigger reads the task's callbacks from the provider's receiver (signed with the ``callback_key``
the trigger re-reads from the ``tencentcloud`` connection with the async API: the key is never one
of its kwargs) and evaluates them with :func:`airflow_provider_rtc.recordings.trtc.evaluate_recording`,
exactly as ``poke()`` does.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_rtc.exceptions import RtcNotFoundError
from airflow_provider_rtc.recordings import trtc as logic
from airflow_provider_rtc.recordings.manifest import UploadPolicy, Verdict
from airflow_provider_rtc.recordings.tasks import DEFAULT_MAX_CONSECUTIVE_ERRORS
from airflow_provider_rtc.triggers.base import PollingTrigger

if TYPE_CHECKING:
    import httpx

    from airflow_provider_rtc.callbacks.client import ReceiverTarget
    from airflow_provider_rtc.hooks.trtc import TrtcHook


class TrtcRecordingUploadedTrigger(PollingTrigger):
    """Polls until a TRTC recording's files are uploaded per its storage mode (or failed / timeout).

    :param storage_files: ``StorageFileList`` entries captured while the task lived (JSON primitives).
    :param task_gone: DescribeCloudRecording already said the task is gone; go straight to callbacks.
    :param callback_receiver_url: the receiver's base URL; ``None`` reads the connection extra.
    """

    def __init__(
        self,
        *,
        recording_task_id: str,
        end_time: float,
        poll_interval: float,
        tencentcloud_conn_id: str = "tencentcloud_default",
        region: str | None = None,
        sdk_app_id: int | str | None = None,
        storage: str = "auto",
        wait_for_mp4: bool = False,
        on_failed_file: str = "fail",
        on_backup_file: str = "wait",
        callback_receiver_url: str | None = None,
        file_url_template: str | None = None,
        check_playlists: bool = False,
        storage_files: list[dict[str, Any]] | None = None,
        task_gone: bool = False,
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
        hook_params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            end_time=end_time,
            poll_interval=poll_interval,
            max_consecutive_errors=max_consecutive_errors,
            hook_params=hook_params,
        )
        if storage not in logic.STORAGE_CHOICES:
            raise ValueError(f"storage must be one of {logic.STORAGE_CHOICES}, got {storage!r}")
        self.recording_task_id = recording_task_id
        self.tencentcloud_conn_id = tencentcloud_conn_id
        self.region = region
        self.sdk_app_id = sdk_app_id
        self.storage = storage
        self.wait_for_mp4 = bool(wait_for_mp4)
        self.policy = UploadPolicy(on_failed_file=on_failed_file, on_backup_file=on_backup_file)
        self.callback_receiver_url = callback_receiver_url
        self.file_url_template = file_url_template
        self.check_playlists = bool(check_playlists)
        self.storage_files = logic.merge_storage_files([], storage_files or [])
        self.task_gone = bool(task_gone)
        self.what = f"TRTC recording {recording_task_id}"
        self._target: ReceiverTarget | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "recording_task_id": self.recording_task_id,
                "tencentcloud_conn_id": self.tencentcloud_conn_id,
                "region": self.region,
                "sdk_app_id": self.sdk_app_id,
                "storage": self.storage,
                "wait_for_mp4": self.wait_for_mp4,
                "on_failed_file": self.policy.on_failed_file,
                "on_backup_file": self.policy.on_backup_file,
                "callback_receiver_url": self.callback_receiver_url,
                "file_url_template": self.file_url_template,
                "check_playlists": self.check_playlists,
                "storage_files": [dict(f) for f in self.storage_files],
                "task_gone": self.task_gone,
                **self.common_kwargs(),
            },
        )

    @cached_property
    def hook(self) -> TrtcHook:
        from airflow_provider_rtc.hooks.trtc import TrtcHook

        return TrtcHook(
            self.tencentcloud_conn_id, region=self.region, sdk_app_id=self.sdk_app_id, **self.hook_params
        )

    def _evaluate(self, obs: logic.TrtcObservation, app_id: int) -> Verdict:
        return logic.evaluate_recording(
            obs,
            app_id=app_id,
            task_id=self.recording_task_id,
            storage=self.storage,
            wait_for_mp4=self.wait_for_mp4,
            policy=self.policy,
            file_url_template=self.file_url_template,
        )

    async def probe(self, client: httpx.AsyncClient) -> Verdict:
        from airflow_provider_rtc import validation as v
        from airflow_provider_rtc.callbacks import client as receiver

        settings = await self.hook.asettings()
        app_id = v.sdk_app_id(settings.sdk_app_id)
        if not self.task_gone:
            try:
                response = await self.hook.adescribe_cloud_recording(self.recording_task_id, client=client)
            except RtcNotFoundError:
                self.task_gone = True
            else:
                self.storage_files = logic.merge_storage_files(
                    self.storage_files, response.get("StorageFileList")
                )
                status = str(response.get("Status") or "Idle")
                return self._evaluate(logic.TrtcObservation(status, self.storage_files), app_id)
        if self._target is None:
            self._target = await receiver.atarget_for_connection(
                self.tencentcloud_conn_id, url=self.callback_receiver_url
            )
        events = await receiver.afetch_events(
            self._target, "trtc", app_id, self.recording_task_id, client=client
        )
        obs = logic.TrtcObservation(None, self.storage_files, events)
        verdict = self._evaluate(obs, app_id)
        urls = (
            logic.playlists_to_check(
                obs,
                verdict,
                app_id=app_id,
                task_id=self.recording_task_id,
                storage=self.storage,
                file_url_template=self.file_url_template,
            )
            if self.check_playlists
            else {}
        )
        if urls:
            obs.playlists = await receiver.acheck_playlists(urls, client=client)
            verdict = self._evaluate(obs, app_id)
        return verdict
