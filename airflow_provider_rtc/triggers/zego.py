"""Triggers for ZEGOCLOUD: a recording's files uploaded (DescribeRecordStatus), a mix task gone.

Each runs the same check as the sensor's ``poke()`` (:mod:`airflow_provider_rtc.waits.steps`).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_rtc.triggers.base import PollingTrigger
from airflow_provider_rtc.waits import steps
from airflow_provider_rtc.waits.spec import ZegoWaitSpec

if TYPE_CHECKING:
    from airflow_provider_rtc.waits.calls import ZegoCalls


class _ZegoTrigger(PollingTrigger):
    zegocloud_conn_id: str
    mix = False

    @cached_property
    def calls(self) -> ZegoCalls:
        from airflow_provider_rtc.waits.calls import ZegoCalls

        return ZegoCalls(
            zegocloud_conn_id=self.zegocloud_conn_id, hook_params=self.hook_params, mix=self.mix, log=self.log
        )


class ZegoRecordingUploadedTrigger(_ZegoTrigger):
    """Polls DescribeRecordStatus until the task ended and every file is final (or failed / timeout).

    :param on_failed_file: / :param on_backup_file: the sensor's options (the fields of
        :class:`~airflow_provider_rtc.waits.spec.ZegoWaitSpec`, taken as keywords), or ``spec``: a
        serialized spec (what :meth:`serialize` writes). The other keywords are the loop's.
    :param last_seen: what an earlier check saw (task status, start time), to explain a later
        300001000 precisely; JSON primitives only. ``state`` is the same as one dict.
    """

    def __init__(
        self,
        *,
        recording_task_id: str,
        zegocloud_conn_id: str = "zegocloud_default",
        spec: dict[str, Any] | None = None,
        last_seen: dict[str, Any] | None = None,
        state: dict[str, Any] | None = None,
        **options_and_loop: Any,
    ) -> None:
        options, loop = ZegoWaitSpec.split(options_and_loop)
        super().__init__(**loop)
        self.spec = ZegoWaitSpec.from_params(spec, **options)
        self.recording_task_id = recording_task_id
        self.zegocloud_conn_id = zegocloud_conn_id
        seen = (state or {}).get("last_seen") or last_seen
        self.state = {"last_seen": dict(seen) if seen else None}
        self.what = f"ZEGO recording {recording_task_id}"

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return self.serialized(
            recording_task_id=self.recording_task_id,
            zegocloud_conn_id=self.zegocloud_conn_id,
            spec=self.spec.to_dict(),
            last_seen=self.state.get("last_seen"),
        )

    def check(self, state: dict[str, Any]) -> steps.Check:
        return steps.zego_check(self.spec, self.recording_task_id, state)


class ZegoMixTaskEndedTrigger(_ZegoTrigger):
    """Polls GetMixTaskInfo until ZEGO answers 110209001 (the mix task is gone)."""

    mix = True

    def __init__(
        self,
        *,
        mix_task_id: str,
        zegocloud_conn_id: str = "zegocloud_default",
        state: dict[str, Any] | None = None,
        **loop: Any,
    ) -> None:
        super().__init__(**loop)
        self.mix_task_id = mix_task_id
        self.zegocloud_conn_id = zegocloud_conn_id
        self.what = f"ZEGO mix task {mix_task_id}"

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return self.serialized(
            mix_task_id=self.mix_task_id,
            zegocloud_conn_id=self.zegocloud_conn_id,
        )

    def check(self, state: dict[str, Any]) -> steps.Check:
        return steps.mix_check(self.mix_task_id, state)
