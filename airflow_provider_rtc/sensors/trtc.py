"""Tencent TRTC sensor: a cloud recording's files really uploaded, never reported before they are.

What "complete" means (the full rules are in :mod:`airflow_provider_rtc.recordings.trtc`):

* While DescribeCloudRecording answers (``Idle``, ``InProgress``, ``Exited``) the task is not
  complete; its ``StorageFileList`` (the HLS index files) is captured for the manifest.
* Once the task is gone, completion comes only from TRTC's recording callbacks, stored by the
  provider's callback receiver (:mod:`airflow_provider_rtc.callbacks`) and read back with a signed
  request:

  - **COS / third-party storage**: 305 UPLOAD_STOP Status 0 (all uploaded) or 2 (stuck files
    restored and uploaded); with ``wait_for_mp4=True`` also a 310 MP4_STOP for every index file.
  - **VOD**: 312 VOD_STOP Status 0, after a 311 VOD_COMMIT per file (Status 0 = in VOD), then
    ``vod_commit_grace`` seconds from the wait's first sight of the 312 for a 311 TRTC may still be
    retrying (it retries each callback on its own for about a minute).
  - Status 1 on 305/310/311 = a file still on Tencent's server or backup storage:
    ``on_backup_file="wait"`` (default) waits for the recovery, ``"warn"`` accepts it, ``"fail"``
    fails. Status 2 on 310/311 and 312 Status 1 are failures: ``on_failed_file``.

* A callback that arrives late is waited for; one that never arrives makes the sensor time out
  with a message naming the missing events.

The receiver's URL and secret come from the sensor arguments or the ``tencentcloud`` connection
extras ``callback_receiver_url`` and ``callback_secret`` (the older ``callback_key`` is still read).
The secret is masked, never logged and never passed to the trigger, which re-reads it from the
connection. The decision and the polling loop are :mod:`airflow_provider_rtc.waits`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow_provider_rtc.recordings.trtc import VOD_COMMIT_GRACE_SECONDS
from airflow_provider_rtc.sensors.base import RtcWaitSensor
from airflow_provider_rtc.triggers.probes import trtc_recording_probe_of
from airflow_provider_rtc.waits.spec import SpecOf, TrtcWaitSpec, refuse_key_with_deferrable

TENCENT_FIELDS = ("tencentcloud_conn_id", "region", "sdk_app_id")


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
    :param callback_receiver_url: the receiver's URL, with the path prefix it is mounted at if any
        (e.g. ``https://airflow.example.com/rtc-callbacks`` for the Airflow plugin; templated);
        default: the connection extra ``callback_receiver_url``.
    :param callback_key: the callback secret signing reads; default: the connection extra
        ``callback_secret``. Not allowed with ``deferrable=True`` (the trigger re-reads it from the
        connection).
    :param file_url_template: ``str.format`` template of a COS file's URL with ``{task_id}``,
        ``{sdk_app_id}`` and ``{file_name}``, e.g.
        ``"https://bucket-125.cos.ap-guangzhou.myqcloud.com/rec/{task_id}/{file_name}"``; fills the
        manifest's ``url`` for COS files (templated).
    :param check_playlists: with ``file_url_template``: also treat HLS as uploaded when every known
        ``.m3u8`` is reachable there and ends with ``#EXT-X-ENDLIST`` (a fallback for a lost 305).
    :param vod_commit_grace: VOD only: seconds to keep waiting after the wait first saw the 312
        VOD_STOP, for a 311 VOD_COMMIT that TRTC is still retrying (it retries an unanswered callback
        for about a minute, so one can arrive after the 312). Default 60; ``0`` completes at the 312,
        accepting that a late 311's file is missing from the manifest. A number, numeric string or
        ``timedelta`` (templated). Measured on the wait's own clock, never the callback's time.
    :param tencentcloud_conn_id: the ``tencentcloud`` connection; ``region`` and ``sdk_app_id``
        override its extras.

    Plus ``deferrable``, ``max_consecutive_errors``, ``hook_params`` and every BaseSensorOperator
    argument. If the task has ``outlets``, each Asset's event carries ``extra={"manifest": ...}``.
    """

    probe_of = staticmethod(trtc_recording_probe_of)
    #: the wait options, from the (rendered) flat parameters
    spec = SpecOf(TrtcWaitSpec)

    template_fields: Sequence[str] = (
        "recording_task_id",
        "callback_receiver_url",
        "file_url_template",
        "vod_commit_grace",
        "hook_params",
        *TENCENT_FIELDS,
    )
    template_fields_renderers = {"hook_params": "json"}

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
        vod_commit_grace: float | str | timedelta = VOD_COMMIT_GRACE_SECONDS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        refuse_key_with_deferrable(callback_key, self.deferrable)
        self.recording_task_id = recording_task_id
        self.tencentcloud_conn_id = tencentcloud_conn_id
        self.region = region
        self.sdk_app_id = sdk_app_id
        self.storage = storage
        self.wait_for_mp4 = wait_for_mp4
        self.on_failed_file = on_failed_file
        self.on_backup_file = on_backup_file
        self.callback_receiver_url = callback_receiver_url
        self.callback_key = callback_key
        self.file_url_template = file_url_template
        self.check_playlists = check_playlists
        self.vod_commit_grace = vod_commit_grace
        self.spec  # noqa: B018 - a wrong option fails when the DAG is parsed
