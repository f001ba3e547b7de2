"""The probes of each wait, beside the triggers that continue them: which check, which calls and
which trigger make a TRTC recording, ZEGO recording or ZEGO mix wait.

Sensors and stop-and-wait operators build their :class:`~airflow_provider_rtc.waits.probe.WaitProbe`
here, so the waits floor below never imports a trigger.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from airflow_provider_rtc import validation as v
from airflow_provider_rtc.triggers.trtc import TrtcRecordingUploadedTrigger
from airflow_provider_rtc.triggers.zego import ZegoMixTaskEndedTrigger, ZegoRecordingUploadedTrigger
from airflow_provider_rtc.waits import steps
from airflow_provider_rtc.waits.calls import TrtcCalls, ZegoCalls
from airflow_provider_rtc.waits.probe import WaitProbe
from airflow_provider_rtc.waits.spec import TrtcWaitSpec, ZegoWaitSpec


def trtc_recording_probe_of(task: Any, **kwargs: Any) -> WaitProbe:
    """The probe of a TRTC operator or sensor: both hold the same wait parameters under the same
    names, so they build it the same way (``kwargs``: what differs, e.g. ``max_consecutive_errors``)."""
    task_id = v.token(task.recording_task_id, "recording_task_id")
    spec: TrtcWaitSpec = task.spec
    where: dict[str, Any] = {
        "tencentcloud_conn_id": task.tencentcloud_conn_id,
        "region": task.region,
        "sdk_app_id": task.sdk_app_id,
        "hook_params": task.hook_params,
    }
    return WaitProbe(
        what=f"TRTC recording {task_id}",
        check=partial(steps.trtc_check, spec, task_id),
        calls=TrtcCalls(
            **where,
            callback_receiver_url=spec.callback_receiver_url,
            callback_key=task.callback_key,
            log=task.log,
        ),
        make_trigger=partial(
            TrtcRecordingUploadedTrigger, recording_task_id=task_id, spec=spec.to_dict(), **where
        ),
        state_key="rtc_trtc_recording_probe",
        log=task.log,
        **kwargs,
    )


def zego_recording_probe_of(task: Any, *, record_hook: Any = None, **kwargs: Any) -> WaitProbe:
    """The probe of a ZEGO recording operator or sensor, from the wait parameters both hold under
    the same names (``record_hook``: the operator's, so stop and wait share one connection lookup)."""
    task_id = v.token(task.recording_task_id, "recording_task_id")
    spec: ZegoWaitSpec = task.spec
    where = {"zegocloud_conn_id": task.zegocloud_conn_id, "hook_params": task.hook_params}
    return WaitProbe(
        what=f"ZEGO recording {task_id}",
        check=partial(steps.zego_check, spec, task_id),
        calls=ZegoCalls(**where, record_hook=record_hook, log=task.log),
        make_trigger=partial(
            ZegoRecordingUploadedTrigger, recording_task_id=task_id, spec=spec.to_dict(), **where
        ),
        state_key="rtc_zego_recording_probe",
        log=task.log,
        **kwargs,
    )


def zego_mix_probe_of(task: Any, **kwargs: Any) -> WaitProbe:
    """The probe of a ZEGO mix sensor, from its ``mix_task_id``, connection and hook parameters, as
    the recording probes read theirs."""
    task_id = v.token(task.mix_task_id, "mix_task_id")
    where = {"zegocloud_conn_id": task.zegocloud_conn_id, "hook_params": task.hook_params}
    return WaitProbe(
        what=f"ZEGO mix task {task_id}",
        check=partial(steps.mix_check, task_id),
        calls=ZegoCalls(**where, mix=True, log=task.log),
        make_trigger=partial(ZegoMixTaskEndedTrigger, mix_task_id=task_id, **where),
        state_key="rtc_zego_mix_probe",
        log=task.log,
        **kwargs,
    )
