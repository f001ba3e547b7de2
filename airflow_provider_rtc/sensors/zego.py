"""ZEGOCLOUD sensors: a cloud recording's files really uploaded, a stream-mixing task gone.

Both work in poke, reschedule and deferrable mode; the decision is made by
:mod:`airflow_provider_rtc.waits` in every mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_rtc.sensors.base import RtcWaitSensor
from airflow_provider_rtc.triggers.probes import zego_mix_probe_of, zego_recording_probe_of
from airflow_provider_rtc.waits.spec import SpecOf, ZegoWaitSpec


class ZegoRecordingUploadedSensor(RtcWaitSensor):
    """Wait until a ZEGO cloud recording ended and every file is final; returns the manifest.

    Done when DescribeRecordStatus says the task ended (Status 3, or 4 = ended abnormally, which is
    logged) and every ``RecordFiles[]`` entry is final: 3 uploaded, 4 in ZEGO's backup storage,
    5 failed. A task with no file at all (nothing was published) is done with an empty manifest.
    A task ZEGO cannot find (300001000: wrong TaskId, or started more than 3 days ago) fails with a
    message saying so; it is never taken as uploaded.

    :param recording_task_id: the TaskId StartRecord returned (templated).
    :param zegocloud_conn_id: the ``zegocloud`` connection.
    :param on_failed_file: ``"fail"`` (default) or ``"warn"`` for a file in Status 5.
    :param on_backup_file: ``"warn"`` (default) or ``"fail"`` for a file in Status 4 (only in ZEGO's
        backup storage, kept 3 days: the warning says until when).
    :param deferrable: see :class:`~airflow_provider_rtc.sensors.base.RtcWaitSensor`, as are
        ``max_consecutive_errors`` and ``hook_params``; plus every BaseSensorOperator argument
        (``poke_interval``, ``timeout``, ``mode``, ``soft_fail``...).

    If the task has ``outlets``, each Asset's event carries ``extra={"manifest": <manifest>}``.
    """

    probe_of = staticmethod(zego_recording_probe_of)
    #: the wait options, from the (rendered) flat parameters
    spec = SpecOf(ZegoWaitSpec)

    template_fields: Sequence[str] = ("recording_task_id", "zegocloud_conn_id", "hook_params")
    template_fields_renderers = {"hook_params": "json"}

    def __init__(
        self,
        *,
        recording_task_id: str,
        zegocloud_conn_id: str = "zegocloud_default",
        on_failed_file: str = "fail",
        on_backup_file: str = "warn",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.recording_task_id = recording_task_id
        self.zegocloud_conn_id = zegocloud_conn_id
        self.on_failed_file = on_failed_file
        self.on_backup_file = on_backup_file
        self.spec  # noqa: B018 - a wrong option fails when the DAG is parsed


class ZegoMixTaskEndedSensor(RtcWaitSensor):
    """Wait until a ZEGO stream-mixing task is gone (GetMixTaskInfo answers 110209001).

    A mix runs on for 90 s after its inputs vanish, and starting a new mix does not stop the old one;
    use this after :class:`~airflow_provider_rtc.operators.zego.StopMixOperator` (or instead of it, for
    mixes that end on their own). Returns ``{"cloud": "zego", "app_id", "mix_task_id", "status": "gone"}``.

    :param mix_task_id: the mix TaskId (templated).
    """

    probe_of = staticmethod(zego_mix_probe_of)
    template_fields: Sequence[str] = ("mix_task_id", "zegocloud_conn_id", "hook_params")
    template_fields_renderers = {"hook_params": "json"}

    def __init__(
        self, *, mix_task_id: str, zegocloud_conn_id: str = "zegocloud_default", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.mix_task_id = mix_task_id
        self.zegocloud_conn_id = zegocloud_conn_id
