"""ZEGO sensors against a scripted DescribeRecordStatus / GetMixTaskInfo on 127.0.0.1, in poke,
reschedule and deferrable mode: late uploads are waited for, never reported early, failures follow the
policy, and a task beyond the 3-day window is explained."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from airflow.providers.common.compat.sdk import (
    AirflowSensorTimeout,
    AirflowSkipException,
    TaskDeferred,
)
from airflow.sdk.exceptions import AirflowRescheduleException

from airflow_provider_rtc.sensors.zego import ZegoMixTaskEndedSensor, ZegoRecordingUploadedSensor
from airflow_provider_rtc.triggers.zego import ZegoMixTaskEndedTrigger, ZegoRecordingUploadedTrigger
from airflow_provider_rtc.waits.outcome import RecordingUploadFailed
from tests.support.clock import ManualClock
from tests.support.credentials import ZEGO_SECRET

from .conftest import ZEGO_APP_ID, Script, zego_error, zego_file, zego_ok, zego_record

TASK = "X3CgNeE4I1qAAABN"
SECRET = ZEGO_SECRET

pytestmark = pytest.mark.usefixtures("zego_conn")


def sensor(**kw: Any) -> ZegoRecordingUploadedSensor:
    kw.setdefault("poke_interval", 0.01)
    kw.setdefault("timeout", 5)
    kw.setdefault("deferrable", False)
    return ZegoRecordingUploadedSensor(task_id="wait_upload", recording_task_id=TASK, **kw)


LATE = [
    zego_record(2, [zego_file("a.mp4", 1)]),
    zego_record(3, [zego_file("a.mp4", 2), zego_file("b.mp4", 2)]),
    zego_record(3, [zego_file("a.mp4", 3), zego_file("b.mp4", 2)]),
    zego_record(3, [zego_file("a.mp4", 3), zego_file("b.mp4", 3)]),
]


def test_poke_mode_waits_for_late_uploads_and_returns_the_manifest(script: Script) -> None:
    script.on("DescribeRecordStatus", *LATE)
    manifest = sensor().execute({})
    assert script.calls.count("DescribeRecordStatus") == 4  # not done before the last file uploaded
    assert manifest["status"] == "uploaded" and [f["name"] for f in manifest["files"]] == ["a.mp4", "b.mp4"]
    assert manifest["app_id"] == ZEGO_APP_ID and manifest["task_id"] == TASK


def test_failed_file_fails_the_task_and_soft_fail_skips(script: Script) -> None:
    script.on("DescribeRecordStatus", zego_record(3, [zego_file("a.mp4", 5)]))
    with pytest.raises(RecordingUploadFailed, match="Status 5"):
        sensor().execute({})
    with pytest.raises(AirflowSkipException):
        sensor(soft_fail=True).execute({})


def test_failed_file_with_warn_policy_succeeds_partial(script: Script, capsys: Any) -> None:
    script.on("DescribeRecordStatus", zego_record(3, [zego_file("a.mp4", 5), zego_file("b.mp4", 4)]))
    manifest = sensor(on_failed_file="warn").execute({})
    assert manifest["status"] == "partial"
    assert [f["status"] for f in manifest["files"]] == ["failed", "backup"]
    assert "backup storage" in capsys.readouterr().out


def test_backup_fail_policy(script: Script) -> None:
    script.on("DescribeRecordStatus", zego_record(3, [zego_file("a.mp4", 4)]))
    with pytest.raises(RecordingUploadFailed, match="backup storage"):
        sensor(on_backup_file="fail").execute({})


def test_wait_is_not_a_zego_backup_policy() -> None:
    with pytest.raises(ValueError, match="Status 4 is final"):
        sensor(on_backup_file="wait")


def test_expired_task_is_explained_not_taken_as_done(script: Script) -> None:
    script.on("DescribeRecordStatus", zego_error(300001000, "task not exist"))
    with pytest.raises(RecordingUploadFailed) as err:
        sensor().execute({})
    assert "300001000" in str(err.value) and "3 days" in str(err.value)
    assert SECRET not in str(err.value)


def test_task_that_ages_out_while_watched_says_so(script: Script) -> None:
    script.on("DescribeRecordStatus", zego_record(2, []), zego_error(300001000))
    with pytest.raises(RecordingUploadFailed, match="answered earlier"):
        sensor().execute({})


def test_no_files_is_an_empty_manifest(script: Script, capsys: Any) -> None:
    script.on("DescribeRecordStatus", zego_record(3, None))
    manifest = sensor().execute({})
    assert manifest["status"] == "empty" and manifest["files"] == []
    assert "nothing was published" in capsys.readouterr().out


def test_timeout_names_the_files_still_uploading(script: Script) -> None:
    script.on("DescribeRecordStatus", zego_record(3, [zego_file("a.mp4", 3), zego_file("b.mp4", 2)]))
    with pytest.raises(AirflowSensorTimeout, match=r"Still waiting for: .*b\.mp4 \(uploading\)"):
        sensor(timeout=0.2).execute({})


def test_transient_errors_are_polled_through_up_to_the_budget(script: Script) -> None:
    failure = (500, {"oops": True})
    script.on("DescribeRecordStatus", failure, failure, zego_record(3, [zego_file("a.mp4", 3)]))
    manifest = sensor(max_consecutive_errors=3, hook_params={"retry_limit": 1}).execute({})
    assert manifest["status"] == "uploaded"


def test_transient_errors_beyond_the_budget_fail(script: Script) -> None:
    script.on("DescribeRecordStatus", (500, {"oops": True}))
    from airflow_provider_rtc.exceptions import RtcTransientError

    with pytest.raises(RtcTransientError):
        sensor(max_consecutive_errors=2, hook_params={"retry_limit": 1}).execute({})
    assert script.calls.count("DescribeRecordStatus") == 2


class FakeStateStore:
    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def set(self, key: str, value: Any, **kw: Any) -> None:
        self.data[key] = value


def reschedule_context(store: FakeStateStore) -> dict[str, Any]:
    ti = mock.Mock()
    ti.get_first_reschedule_date.return_value = None
    return {"ti": ti, "task_state_store": store}


def test_reschedule_mode_reschedules_then_completes(script: Script) -> None:
    script.on(
        "DescribeRecordStatus",
        zego_record(3, [zego_file("a.mp4", 2)]),
        zego_record(3, [zego_file("a.mp4", 3)]),
    )
    store = FakeStateStore()
    with pytest.raises(AirflowRescheduleException):
        sensor(mode="reschedule").execute(reschedule_context(store))
    assert store.data["rtc_zego_recording_probe"]["last_seen"]["status"] == 3
    manifest = sensor(mode="reschedule").execute(reschedule_context(store))  # a fresh process
    assert manifest["status"] == "uploaded"


def test_reschedule_mode_remembers_the_task_across_processes_for_the_expiry_message(script: Script) -> None:
    script.on("DescribeRecordStatus", zego_record(2, []), zego_error(300001000))
    store = FakeStateStore()
    with pytest.raises(AirflowRescheduleException):
        sensor(mode="reschedule").execute(reschedule_context(store))
    with pytest.raises(RecordingUploadFailed, match="answered earlier"):
        sensor(mode="reschedule").execute(reschedule_context(store))


def test_reschedule_mode_counts_errors_across_processes(script: Script) -> None:
    """Each reschedule is a new process: the error budget must survive it, or a dead API never fails."""
    from airflow_provider_rtc.exceptions import RtcTransientError

    script.on("DescribeRecordStatus", (500, {"oops": True}))
    store = FakeStateStore()
    kwargs = {"mode": "reschedule", "max_consecutive_errors": 3, "hook_params": {"retry_limit": 1}}
    for _ in range(2):
        with pytest.raises(AirflowRescheduleException):
            sensor(**kwargs).execute(reschedule_context(store))
    with pytest.raises(RtcTransientError):
        sensor(**kwargs).execute(reschedule_context(store))
    assert script.calls.count("DescribeRecordStatus") == 3
    assert store.data["rtc_zego_recording_probe"]["consecutive_errors"] == 0  # a task retry starts afresh


def test_deferrable_checks_first_then_defers_with_the_sensor_timeout(script: Script) -> None:
    script.on("DescribeRecordStatus", zego_record(3, [zego_file("a.mp4", 2)]))
    task = sensor(deferrable=True, timeout=600, poke_interval=7, on_failed_file="warn")
    with pytest.raises(TaskDeferred) as deferred:
        task.execute({})
    assert script.calls == ["DescribeRecordStatus"]
    assert deferred.value.timeout == timedelta(seconds=600)
    assert deferred.value.method_name == "execute_complete"
    trigger = deferred.value.trigger
    assert isinstance(trigger, ZegoRecordingUploadedTrigger)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_rtc.triggers.zego.ZegoRecordingUploadedTrigger"
    assert kwargs["poll_interval"] == 7 and kwargs["spec"] == {
        "on_failed_file": "warn",
        "on_backup_file": "warn",
    }
    assert kwargs["last_seen"]["status"] == 3
    assert SECRET not in repr(kwargs)


def test_the_trigger_deadline_is_read_on_the_installed_clock(
    script: Script, manual_clock: ManualClock
) -> None:
    """The deferral's absolute ``end_time`` comes from the clock the trigger measures it on (the
    client's clock), so a test's manual clock and a wait's windows agree; it read ``time.time()``."""
    script.on("DescribeRecordStatus", zego_record(3, [zego_file("a.mp4", 2)]))
    manual_clock.advance(4_000)
    with pytest.raises(TaskDeferred) as deferred:
        sensor(deferrable=True, timeout=600, poke_interval=7).execute({})
    assert deferred.value.trigger.serialize()[1]["end_time"] == manual_clock.time() + 600 == 5_600


def test_deferrable_done_at_the_first_check_never_defers(script: Script) -> None:
    script.on("DescribeRecordStatus", zego_record(3, [zego_file("a.mp4", 3)]))
    assert sensor(deferrable=True).execute({})["status"] == "uploaded"


def test_deferrable_first_check_failure_respects_soft_fail(script: Script) -> None:
    script.on("DescribeRecordStatus", zego_error(300001000))
    with pytest.raises(AirflowSkipException):
        sensor(deferrable=True, soft_fail=True).execute({})


def test_execute_complete_branches() -> None:
    task = sensor(deferrable=True)
    manifest = {"cloud": "zego", "status": "uploaded", "files": [], "warnings": ["w"]}
    assert task.execute_complete({}, {"status": "done", "message": "ok", "manifest": manifest}) == manifest
    with pytest.raises(RecordingUploadFailed, match="bad"):
        task.execute_complete({}, {"status": "failed", "message": "bad"})
    with pytest.raises(AirflowSensorTimeout, match=r"b\.mp4"):
        task.execute_complete({}, {"status": "timeout", "message": "still waiting for: b.mp4"})
    with pytest.raises(Exception, match="unexpected trigger event"):
        task.execute_complete({}, None)
    with pytest.raises(Exception, match="boom"):
        task.execute_complete({}, {"status": "error", "message": "boom"})


def test_timeout_event_with_soft_fail_skips_through_resume_execution() -> None:
    task = sensor(deferrable=True, soft_fail=True)
    with pytest.raises(AirflowSkipException):
        task.resume_execution("execute_complete", {"event": {"status": "timeout", "message": "late"}}, {})


def test_outlet_assets_get_the_manifest_as_extra(script: Script) -> None:
    from airflow.providers.common.compat.sdk import Asset

    script.on("DescribeRecordStatus", zego_record(3, [zego_file("a.mp4", 3)]))
    asset = Asset("rtc://zego/recordings")
    accessor = mock.MagicMock()
    events = mock.MagicMock()
    events.__getitem__.return_value = accessor
    manifest = sensor(outlets=[asset]).execute({"outlet_events": events})
    events.__getitem__.assert_called_with(asset)
    assert accessor.extra == {"manifest": manifest}


# -- mix task ---------------------------------------------------------------------------------------


def mix_sensor(**kw: Any) -> ZegoMixTaskEndedSensor:
    kw.setdefault("poke_interval", 0.01)
    kw.setdefault("timeout", 5)
    kw.setdefault("deferrable", False)
    return ZegoMixTaskEndedSensor(task_id="mix_gone", mix_task_id="mix_task_1", **kw)


def test_mix_sensor_waits_until_110209001(script: Script) -> None:
    running = zego_ok({"TaskInfo": {"TaskId": "mix_task_1", "MixDuration": 12}})
    script.on("GetMixTaskInfo", running, running, zego_error(110209001, "task not exist"))
    result = mix_sensor().execute({})
    assert result == {"cloud": "zego", "app_id": ZEGO_APP_ID, "mix_task_id": "mix_task_1", "status": "gone"}
    assert script.calls.count("GetMixTaskInfo") == 3


def test_mix_sensor_times_out_while_running(script: Script) -> None:
    script.on("GetMixTaskInfo", zego_ok({"TaskInfo": {"TaskId": "mix_task_1", "MixDuration": 12}}))
    with pytest.raises(AirflowSensorTimeout, match="mix task mix_task_1 to stop"):
        mix_sensor(timeout=0.1).execute({})


def test_mix_sensor_defers_to_its_trigger(script: Script) -> None:
    script.on("GetMixTaskInfo", zego_ok({"TaskInfo": {"TaskId": "mix_task_1", "MixDuration": 1}}))
    with pytest.raises(TaskDeferred) as deferred:
        mix_sensor(deferrable=True).execute({})
    assert isinstance(deferred.value.trigger, ZegoMixTaskEndedTrigger)
    assert deferred.value.trigger.serialize()[1]["mix_task_id"] == "mix_task_1"


def test_mix_sensor_reschedule_mode(script: Script) -> None:
    running = zego_ok({"TaskInfo": {"TaskId": "mix_task_1", "MixDuration": 12}})
    script.on("GetMixTaskInfo", running, zego_error(110209001))
    context = reschedule_context(FakeStateStore())
    with pytest.raises(AirflowRescheduleException):
        mix_sensor(mode="reschedule").execute(context)
    assert mix_sensor(mode="reschedule").execute(context)["status"] == "gone"


def test_deferrable_first_check_error_with_never_fail_skips(script: Script) -> None:
    script.on("DescribeRecordStatus", zego_error(300000004, "invalid input"))
    with pytest.raises(AirflowSkipException, match="never_fail"):
        sensor(deferrable=True, never_fail=True).execute({})
