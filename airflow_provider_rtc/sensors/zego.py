"""ZEGOCLOUD sensors: a cloud recording's files really uploaded, a stream-mixing task gone.

Both work in poke, reschedule and deferrable mode; the decision is made by
:mod:`airflow_provider_rtc.recordings.zego` in every mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_rtc.exceptions import RtcNotFoundError, RtcValidationError
from airflow_provider_rtc.recordings import zego as logic
from airflow_provider_rtc.recordings.manifest import UploadPolicy, Verdict
from airflow_provider_rtc.recordings.tasks import RecordingProbe
from airflow_provider_rtc.sensors.base import RtcWaitSensor

if TYPE_CHECKING:
    from airflow_provider_rtc.hooks.zego import ZegoCloudRecordHook, ZegoRtcHook
    from airflow_provider_rtc.triggers.zego import ZegoMixTaskEndedTrigger, ZegoRecordingUploadedTrigger

ZEGO_BACKUP_CHOICES = ("fail", "warn")


def zego_policy(on_failed_file: str, on_backup_file: str) -> UploadPolicy:
    if on_backup_file not in ZEGO_BACKUP_CHOICES:
        raise RtcValidationError(
            "on_backup_file",
            f"must be one of {ZEGO_BACKUP_CHOICES} for ZEGO (file Status 4 is final)",
            on_backup_file,
        )
    return UploadPolicy(on_failed_file=on_failed_file, on_backup_file=on_backup_file)


class ZegoRecordingProbe(RecordingProbe):
    """One DescribeRecordStatus check of one task (sync), and the trigger that continues it."""

    state_key = "rtc_zego_recording_probe"

    def __init__(
        self,
        *,
        recording_task_id: str,
        zegocloud_conn_id: str,
        policy: UploadPolicy,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        from airflow_provider_rtc import validation as v

        self.recording_task_id = v.token(recording_task_id, "recording_task_id")
        self.zegocloud_conn_id = zegocloud_conn_id
        self.policy = policy
        self.hook_params = dict(hook_params or {})
        self.last_seen: dict[str, Any] | None = None
        self.what = f"ZEGO recording {self.recording_task_id}"

    @cached_property
    def hook(self) -> ZegoCloudRecordHook:
        from airflow_provider_rtc.hooks.zego import ZegoCloudRecordHook

        return ZegoCloudRecordHook(self.zegocloud_conn_id, **self.hook_params)

    def state(self) -> dict[str, Any]:
        return {"last_seen": self.last_seen}

    def restore(self, state: dict[str, Any]) -> None:
        self.last_seen = state.get("last_seen") or self.last_seen

    def _check(self, context: Any) -> Verdict:
        try:
            envelope = self.hook.describe_record_status(self.recording_task_id)
        except RtcNotFoundError:
            return logic.not_queryable(self.recording_task_id, self.last_seen)
        self.last_seen = logic.seen_summary(envelope)
        return logic.evaluate_record_status(
            envelope,
            app_id=self.hook.settings.credentials.app_id,
            task_id=self.recording_task_id,
            policy=self.policy,
        )

    def trigger(self, *, end_time: float, poll_interval: float) -> ZegoRecordingUploadedTrigger:
        from airflow_provider_rtc.triggers.zego import ZegoRecordingUploadedTrigger

        return ZegoRecordingUploadedTrigger(
            recording_task_id=self.recording_task_id,
            zegocloud_conn_id=self.zegocloud_conn_id,
            end_time=end_time,
            poll_interval=poll_interval,
            on_failed_file=self.policy.on_failed_file,
            on_backup_file=self.policy.on_backup_file,
            last_seen=self.last_seen,
            max_consecutive_errors=self.max_consecutive_errors,
            hook_params=self.hook_params,
        )


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

    template_fields: Sequence[str] = ("recording_task_id", "zegocloud_conn_id")

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
        self.policy = zego_policy(on_failed_file, on_backup_file)

    def make_probe(self) -> ZegoRecordingProbe:
        return ZegoRecordingProbe(
            recording_task_id=self.recording_task_id,
            zegocloud_conn_id=self.zegocloud_conn_id,
            policy=self.policy,
            hook_params=self.hook_params,
            max_consecutive_errors=self.max_consecutive_errors,
            log=self.log,
            persist_state=self.reschedule,
        )


class ZegoMixTaskProbe(RecordingProbe):
    """One GetMixTaskInfo check (sync): done when ZEGO answers 110209001."""

    def __init__(
        self,
        *,
        mix_task_id: str,
        zegocloud_conn_id: str,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        from airflow_provider_rtc import validation as v

        self.mix_task_id = v.token(mix_task_id, "mix_task_id")
        self.zegocloud_conn_id = zegocloud_conn_id
        self.hook_params = dict(hook_params or {})
        self.what = f"ZEGO mix task {self.mix_task_id}"

    @cached_property
    def hook(self) -> ZegoRtcHook:
        from airflow_provider_rtc.hooks.zego import ZegoRtcHook

        return ZegoRtcHook(self.zegocloud_conn_id, **self.hook_params)

    def _check(self, context: Any) -> Verdict:
        try:
            envelope: dict[str, Any] | None = self.hook.get_mix_task_info(self.mix_task_id)
        except RtcNotFoundError:
            envelope = None
        return logic.evaluate_mix_task(
            envelope, app_id=self.hook.settings.credentials.app_id, task_id=self.mix_task_id
        )

    def trigger(self, *, end_time: float, poll_interval: float) -> ZegoMixTaskEndedTrigger:
        from airflow_provider_rtc.triggers.zego import ZegoMixTaskEndedTrigger

        return ZegoMixTaskEndedTrigger(
            mix_task_id=self.mix_task_id,
            zegocloud_conn_id=self.zegocloud_conn_id,
            end_time=end_time,
            poll_interval=poll_interval,
            max_consecutive_errors=self.max_consecutive_errors,
            hook_params=self.hook_params,
        )


class ZegoMixTaskEndedSensor(RtcWaitSensor):
    """Wait until a ZEGO stream-mixing task is gone (GetMixTaskInfo answers 110209001).

    A mix runs on for 90 s after its inputs vanish, and starting a new mix does not stop the old one;
    use this after :class:`~airflow_provider_rtc.operators.zego.StopMixOperator` (or instead of it, for
    mixes that end on their own). Returns ``{"cloud": "zego", "app_id", "mix_task_id", "status": "gone"}``.

    :param mix_task_id: the mix TaskId (templated).
    """

    template_fields: Sequence[str] = ("mix_task_id", "zegocloud_conn_id")

    def __init__(
        self, *, mix_task_id: str, zegocloud_conn_id: str = "zegocloud_default", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.mix_task_id = mix_task_id
        self.zegocloud_conn_id = zegocloud_conn_id

    def make_probe(self) -> ZegoMixTaskProbe:
        return ZegoMixTaskProbe(
            mix_task_id=self.mix_task_id,
            zegocloud_conn_id=self.zegocloud_conn_id,
            hook_params=self.hook_params,
            max_consecutive_errors=self.max_consecutive_errors,
            log=self.log,
        )
