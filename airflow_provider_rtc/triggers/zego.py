"""Triggers for ZEGOCLOUD: a recording's files uploaded (DescribeRecordStatus), a mix task gone."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_rtc.exceptions import RtcNotFoundError
from airflow_provider_rtc.recordings import zego as logic
from airflow_provider_rtc.recordings.manifest import UploadPolicy, Verdict
from airflow_provider_rtc.recordings.tasks import DEFAULT_MAX_CONSECUTIVE_ERRORS
from airflow_provider_rtc.triggers.base import PollingTrigger

if TYPE_CHECKING:
    import httpx

    from airflow_provider_rtc.hooks.zego import ZegoCloudRecordHook, ZegoRtcHook


class ZegoRecordingUploadedTrigger(PollingTrigger):
    """Polls DescribeRecordStatus until the task ended and every file is final (or failed / timeout).

    :param last_seen: what an earlier check saw (task status, start time), to explain a later
        300001000 precisely; JSON primitives only.
    """

    def __init__(
        self,
        *,
        recording_task_id: str,
        end_time: float,
        poll_interval: float,
        zegocloud_conn_id: str = "zegocloud_default",
        on_failed_file: str = "fail",
        on_backup_file: str = "warn",
        last_seen: dict[str, Any] | None = None,
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
        hook_params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            end_time=end_time,
            poll_interval=poll_interval,
            max_consecutive_errors=max_consecutive_errors,
            hook_params=hook_params,
        )
        self.recording_task_id = recording_task_id
        self.zegocloud_conn_id = zegocloud_conn_id
        self.policy = UploadPolicy(on_failed_file=on_failed_file, on_backup_file=on_backup_file)
        self.last_seen = dict(last_seen) if last_seen else None
        self.what = f"ZEGO recording {recording_task_id}"

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "recording_task_id": self.recording_task_id,
                "zegocloud_conn_id": self.zegocloud_conn_id,
                "on_failed_file": self.policy.on_failed_file,
                "on_backup_file": self.policy.on_backup_file,
                "last_seen": self.last_seen,
                **self.common_kwargs(),
            },
        )

    @cached_property
    def hook(self) -> ZegoCloudRecordHook:
        from airflow_provider_rtc.hooks.zego import ZegoCloudRecordHook

        return ZegoCloudRecordHook(self.zegocloud_conn_id, **self.hook_params)

    async def probe(self, client: httpx.AsyncClient) -> Verdict:
        settings = await self.hook.asettings()
        try:
            envelope = await self.hook.adescribe_record_status(self.recording_task_id, client=client)
        except RtcNotFoundError:
            return logic.not_queryable(self.recording_task_id, self.last_seen)
        self.last_seen = logic.seen_summary(envelope)
        return logic.evaluate_record_status(
            envelope, app_id=settings.credentials.app_id, task_id=self.recording_task_id, policy=self.policy
        )


class ZegoMixTaskEndedTrigger(PollingTrigger):
    """Polls GetMixTaskInfo until ZEGO answers 110209001 (the mix task is gone)."""

    def __init__(
        self,
        *,
        mix_task_id: str,
        end_time: float,
        poll_interval: float,
        zegocloud_conn_id: str = "zegocloud_default",
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
        hook_params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            end_time=end_time,
            poll_interval=poll_interval,
            max_consecutive_errors=max_consecutive_errors,
            hook_params=hook_params,
        )
        self.mix_task_id = mix_task_id
        self.zegocloud_conn_id = zegocloud_conn_id
        self.what = f"ZEGO mix task {mix_task_id}"

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "mix_task_id": self.mix_task_id,
                "zegocloud_conn_id": self.zegocloud_conn_id,
                **self.common_kwargs(),
            },
        )

    @cached_property
    def hook(self) -> ZegoRtcHook:
        from airflow_provider_rtc.hooks.zego import ZegoRtcHook

        return ZegoRtcHook(self.zegocloud_conn_id, **self.hook_params)

    async def probe(self, client: httpx.AsyncClient) -> Verdict:
        settings = await self.hook.asettings()
        try:
            envelope = await self.hook.aget_mix_task_info(self.mix_task_id, client=client)
        except RtcNotFoundError:
            envelope = None
        return logic.evaluate_mix_task(envelope, app_id=settings.credentials.app_id, task_id=self.mix_task_id)
