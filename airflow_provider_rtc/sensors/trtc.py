"""Tencent TRTC sensor: a cloud recording's files really uploaded, never reported before they are.

What "complete" means (the full rules are in :mod:`airflow_provider_rtc.recordings.trtc`):

* While DescribeCloudRecording answers (``Idle``, ``InProgress``, ``Exited``) the task is not
  complete; its ``StorageFileList`` (the HLS index files) is captured for the manifest.
* Once the task is gone, completion comes only from TRTC's recording callbacks, stored by the
  provider's callback receiver (:mod:`airflow_provider_rtc.callbacks`) and read back with a signed
  request:

  - **COS / third-party storage**: 305 UPLOAD_STOP Status 0 (all uploaded) or 2 (stuck files
    restored and uploaded); with ``wait_for_mp4=True`` also a 310 MP4_STOP for every index file.
  - **VOD**: 312 VOD_STOP Status 0, after a 311 VOD_COMMIT per file (Status 0 = in VOD).
  - Status 1 on 305/310/311 = a file still on Tencent's server or backup storage:
    ``on_backup_file="wait"`` (default) waits for the recovery, ``"warn"`` accepts it, ``"fail"``
    fails. Status 2 on 310/311 and 312 Status 1 are failures: ``on_failed_file``.

* A callback that arrives late is waited for; one that never arrives makes the sensor time out
  with a message naming the missing events.

The receiver's URL and key come from the sensor arguments or the ``tencentcloud`` connection
extras ``callback_receiver_url`` and ``callback_key``. The key is a secret: it is masked, never
logged and never passed to the trigger, which re-reads it from the connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_rtc.exceptions import RtcNotFoundError, RtcValidationError
from airflow_provider_rtc.recordings import trtc as logic
from airflow_provider_rtc.recordings.manifest import UploadPolicy, Verdict
from airflow_provider_rtc.recordings.tasks import RecordingProbe
from airflow_provider_rtc.sensors.base import RtcWaitSensor
from airflow_provider_rtc.validation import TRTC_FILE_URL_FIELDS, format_template

if TYPE_CHECKING:
    from airflow_provider_rtc.callbacks.client import ReceiverTarget
    from airflow_provider_rtc.hooks.trtc import TrtcHook
    from airflow_provider_rtc.triggers.trtc import TrtcRecordingUploadedTrigger

TENCENT_FIELDS = ("tencentcloud_conn_id", "region", "sdk_app_id")


def check_wait_options(*, storage: str, callback_key: str | None, deferrable: bool) -> None:
    if storage not in logic.STORAGE_CHOICES:
        raise RtcValidationError("storage", f"must be one of {logic.STORAGE_CHOICES}", storage)
    if callback_key and deferrable:
        raise RtcValidationError(
            "callback_key",
            "cannot be combined with deferrable=True: a trigger's arguments are stored in "
            "the metadata database. Put the key in the tencentcloud connection extra 'callback_key'.",
        )


class TrtcRecordingProbe(RecordingProbe):
    """One check of one TRTC recording (sync): DescribeCloudRecording, then the stored callbacks."""

    state_key = "rtc_trtc_recording_probe"

    def __init__(
        self,
        *,
        recording_task_id: str,
        tencentcloud_conn_id: str,
        region: str | None = None,
        sdk_app_id: int | str | None = None,
        storage: str = "auto",
        wait_for_mp4: bool = False,
        policy: UploadPolicy | None = None,
        callback_receiver_url: str | None = None,
        callback_key: str | None = None,
        file_url_template: str | None = None,
        check_playlists: bool = False,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        from airflow_provider_rtc import validation as v

        self.recording_task_id = v.token(recording_task_id, "recording_task_id")
        self.tencentcloud_conn_id = tencentcloud_conn_id
        self.region = region or None
        self.sdk_app_id = sdk_app_id or None
        self.storage = storage
        self.wait_for_mp4 = wait_for_mp4
        self.policy = policy or UploadPolicy(on_backup_file="wait")
        self.callback_receiver_url = callback_receiver_url or None
        self._callback_key = callback_key or None
        self.file_url_template = v.format_template(
            file_url_template, "file_url_template", fields=v.TRTC_FILE_URL_FIELDS
        )
        self.check_playlists = check_playlists
        self.hook_params = dict(hook_params or {})
        self.storage_files: list[dict[str, Any]] = []
        self.task_gone = False
        self.what = f"TRTC recording {self.recording_task_id}"

    @cached_property
    def hook(self) -> TrtcHook:
        from airflow_provider_rtc.hooks.trtc import TrtcHook

        return TrtcHook(
            self.tencentcloud_conn_id, region=self.region, sdk_app_id=self.sdk_app_id, **self.hook_params
        )

    @cached_property
    def target(self) -> ReceiverTarget:
        from airflow_provider_rtc.callbacks.client import target_for_connection

        return target_for_connection(
            self.tencentcloud_conn_id, url=self.callback_receiver_url, key=self._callback_key
        )

    def state(self) -> dict[str, Any]:
        return {"storage_files": self.storage_files, "task_gone": self.task_gone}

    def restore(self, state: dict[str, Any]) -> None:
        self.storage_files = logic.merge_storage_files(self.storage_files, state.get("storage_files"))
        self.task_gone = self.task_gone or bool(state.get("task_gone"))

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

    def _check(self, context: Any) -> Verdict:
        from airflow_provider_rtc.callbacks import client as receiver

        target = self.target  # a missing receiver setting fails at the first check, not hours later
        app_id = self.hook.sdk_app_id
        if not self.task_gone:
            try:
                response = self.hook.describe_cloud_recording(self.recording_task_id)
            except RtcNotFoundError as err:
                self.task_gone = True
                if self.log is not None:
                    self.log.info("%s is gone (%s); reading its recording callbacks", self.what, err.code)
            else:
                self.storage_files = logic.merge_storage_files(
                    self.storage_files, response.get("StorageFileList")
                )
                status = str(response.get("Status") or "Idle")
                return self._evaluate(logic.TrtcObservation(status, self.storage_files), app_id)
        timeout = self.hook.settings.timeout
        events = receiver.fetch_events(target, "trtc", app_id, self.recording_task_id, timeout=timeout)
        obs = logic.TrtcObservation(None, self.storage_files, events)
        verdict = self._evaluate(obs, app_id)
        if self.check_playlists:
            urls = logic.playlists_to_check(
                obs,
                verdict,
                app_id=app_id,
                task_id=self.recording_task_id,
                storage=self.storage,
                file_url_template=self.file_url_template,
            )
            if urls:
                obs.playlists = receiver.check_playlists_sync(urls, timeout=timeout)
                verdict = self._evaluate(obs, app_id)
        return verdict

    def trigger(self, *, end_time: float, poll_interval: float) -> TrtcRecordingUploadedTrigger:
        from airflow_provider_rtc.triggers.trtc import TrtcRecordingUploadedTrigger

        return TrtcRecordingUploadedTrigger(
            recording_task_id=self.recording_task_id,
            tencentcloud_conn_id=self.tencentcloud_conn_id,
            region=self.region,
            sdk_app_id=self.sdk_app_id,
            storage=self.storage,
            wait_for_mp4=self.wait_for_mp4,
            on_failed_file=self.policy.on_failed_file,
            on_backup_file=self.policy.on_backup_file,
            callback_receiver_url=self.callback_receiver_url,
            file_url_template=self.file_url_template,
            check_playlists=self.check_playlists,
            storage_files=self.storage_files,
            task_gone=self.task_gone,
            end_time=end_time,
            poll_interval=poll_interval,
            max_consecutive_errors=self.max_consecutive_errors,
            hook_params=self.hook_params,
        )


class TrtcRecordingUploadedSensor(RtcWaitSensor):
    """Wait until a TRTC cloud recording's files are uploaded; returns the manifest.

    :param recording_task_id: the TaskId CreateCloudRecording returned (templated).
    :param storage: ``"cos"`` (COS or third-party storage: 305, 310), ``"vod"`` (311, 312) or
        ``"auto"`` (default: decided by the first storage-specific callback).
    :param wait_for_mp4: COS only: also wait for a 310 MP4_STOP per index file (set it when the
        recording's ``OutputFormat`` includes mp4).
    :param on_failed_file: ``"fail"`` (default) or ``"warn"`` (310/311 Status 2, 312 Status 1).
    :param on_backup_file: ``"wait"`` (default), ``"warn"`` or ``"fail"`` for files still on
        Tencent's server or backup storage (Status 1).
    :param callback_receiver_url: the receiver's base URL (templated); default: the connection
        extra ``callback_receiver_url``.
    :param callback_key: the key signing reads; default: the connection extra ``callback_key``.
        Not allowed with ``deferrable=True`` (the trigger re-reads it from the connection).
    :param file_url_template: ``str.format`` template of a COS file's URL with ``{task_id}``,
        ``{sdk_app_id}`` and ``{file_name}``, e.g.
        ``"https://bucket-125.cos.ap-guangzhou.myqcloud.com/rec/{task_id}/{file_name}"``; fills the
        manifest's ``url`` for COS files (templated).
    :param check_playlists: with ``file_url_template``: also treat HLS as uploaded when every known
        ``.m3u8`` is reachable there and ends with ``#EXT-X-ENDLIST`` (a fallback for a lost 305).
    :param tencentcloud_conn_id: the ``tencentcloud`` connection; ``region`` and ``sdk_app_id``
        override its extras.

    Plus ``deferrable``, ``max_consecutive_errors``, ``hook_params`` and every BaseSensorOperator
    argument. If the task has ``outlets``, each Asset's event carries ``extra={"manifest": ...}``.
    """

    template_fields: Sequence[str] = (
        "recording_task_id",
        "callback_receiver_url",
        "file_url_template",
        *TENCENT_FIELDS,
    )

    def __init__(
        self,
        *,
        recording_task_id: str,
        tencentcloud_conn_id: str = "tencentcloud_default",
        region: str | None = None,
        sdk_app_id: int | str | None = None,
        storage: str = "auto",
        wait_for_mp4: bool = False,
        on_failed_file: str = "fail",
        on_backup_file: str = "wait",
        callback_receiver_url: str | None = None,
        callback_key: str | None = None,
        file_url_template: str | None = None,
        check_playlists: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_wait_options(storage=storage, callback_key=callback_key, deferrable=self.deferrable)
        self.recording_task_id = recording_task_id
        self.tencentcloud_conn_id = tencentcloud_conn_id
        self.region = region
        self.sdk_app_id = sdk_app_id
        self.storage = storage
        self.wait_for_mp4 = wait_for_mp4
        self.policy = UploadPolicy(on_failed_file=on_failed_file, on_backup_file=on_backup_file)
        self.callback_receiver_url = callback_receiver_url
        self.callback_key = callback_key
        self.file_url_template = format_template(
            file_url_template, "file_url_template", fields=TRTC_FILE_URL_FIELDS
        )
        self.check_playlists = check_playlists

    def make_probe(self) -> TrtcRecordingProbe:
        return TrtcRecordingProbe(
            recording_task_id=self.recording_task_id,
            tencentcloud_conn_id=self.tencentcloud_conn_id,
            region=self.region,
            sdk_app_id=self.sdk_app_id,
            storage=self.storage,
            wait_for_mp4=self.wait_for_mp4,
            policy=self.policy,
            callback_receiver_url=self.callback_receiver_url,
            callback_key=self.callback_key,
            file_url_template=self.file_url_template,
            check_playlists=self.check_playlists,
            hook_params=self.hook_params,
            max_consecutive_errors=self.max_consecutive_errors,
            log=self.log,
            persist_state=self.reschedule,
        )
