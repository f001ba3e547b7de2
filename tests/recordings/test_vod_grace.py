"""A TRTC VOD upload is not done at the 312 while a 311 may still be retried.

TRTC retries an unanswered callback "every 10 s until the message is 1 minute old"
(trtc.io/document/54914), each callback on its own: a 311 VOD_COMMIT whose first delivery failed can
reach the receiver after the 312 VOD_STOP. DescribeCloudRecording lists no StorageFileList for VOD,
so nothing else says a user's file is missing: the waits hold the completion ``vod_commit_grace``
seconds (default 60) after they first saw the 312, on their own clock.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc.errors import RtcValidationError
from airflow_provider_rtc.hooks.trtc import TrtcHook
from airflow_provider_rtc.operators.trtc import DeleteCloudRecordingOperator
from airflow_provider_rtc.recordings import trtc
from airflow_provider_rtc.sensors.trtc import TrtcRecordingUploadedSensor
from airflow_provider_rtc.triggers.trtc import TrtcRecordingUploadedTrigger
from airflow_provider_rtc.waits import steps
from airflow_provider_rtc.waits.loop import WaitMemory, adrive, drive, poll
from airflow_provider_rtc.waits.spec import TrtcWaitSpec
from tests.support.clock import ManualClock

from .conftest import (
    ReceiverServer,
    admin,
    fast_retry_extra,
    trtc_event,
    vod_311,
    wired_sandbox_config,
)

TASK = "task-vod"
APP = 1400000001
ALICE = vod_311(TASK, "5285890781", user="alice")
BOB = vod_311(TASK, "5285890782", user="bob")
STOP = trtc_event(TASK, 312, {"Status": 0})


def ev(body: dict[str, Any]) -> dict[str, Any]:
    return {"event_type": body["EventType"], "task_id": TASK, "body": body}


def gone(*bodies: dict[str, Any]) -> trtc.TrtcObservation:
    return trtc.TrtcObservation(None, [], [ev(b) for b in bodies], task_id=TASK, app_id=APP)


# -- the verdict ------------------------------------------------------------------------------------


@pytest.mark.parametrize("committed", [[ALICE], []], ids=["bob's 311 late", "every 311 late"])
def test_a_312_before_a_retried_311_is_not_done(committed: list[dict[str, Any]]) -> None:
    """On main: "done" with bob's file missing, or "committed no file to VOD" with none."""
    verdict = steps.decide_trtc(TrtcWaitSpec(storage="vod"), gone(*committed, STOP))
    assert verdict.state == "waiting", verdict.message
    assert verdict.manifest is None and "late 311 VOD_COMMIT retries" in verdict.waiting_for[0]


def test_the_window_runs_on_the_waits_clock_from_its_first_sight_of_the_312() -> None:
    spec = TrtcWaitSpec(storage="vod")
    state, first = steps.trtc_step(spec, gone(ALICE, STOP), {"task_gone": True}, 1000.0)
    assert first.state == "waiting" and state["vod_stop_seen_at"] == 1000.0
    assert "until 1970-01-01T00:17:40Z" in first.waiting_for[0]  # 1000 + 60 s
    assert "1 file(s) committed" in first.message
    # bob's 311, retried, arrives inside the window; the window does not restart
    state, later = steps.trtc_step(spec, gone(ALICE, STOP, BOB), state, 1059.9)
    assert later.state == "waiting" and state["vod_stop_seen_at"] == 1000.0
    assert "2 file(s) committed" in later.message
    state, done = steps.trtc_step(spec, gone(ALICE, STOP, BOB), state, 1060.0)
    assert done.state == "done", done.message
    assert sorted(f["user_id"] for f in done.manifest["files"]) == ["alice", "bob"]


def test_the_callbacks_time_never_shortens_the_window() -> None:
    """A 312 stamped an hour ago (another machine's clock, or a wait started late) still waits the
    whole window from when this wait saw it."""
    old_stop = trtc_event(TASK, 312, {"Status": 0}, at_ms=int((time.time() - 3600) * 1000))
    state, verdict = steps.trtc_step(TrtcWaitSpec(), gone(ALICE, old_stop), {"task_gone": True}, 5000.0)
    assert verdict.state == "waiting"
    _, verdict = steps.trtc_step(TrtcWaitSpec(), gone(ALICE, old_stop), state, 5030.0)
    assert verdict.state == "waiting"


def test_grace_zero_completes_at_the_312_as_before() -> None:
    spec = TrtcWaitSpec(storage="vod", vod_commit_grace=0)
    assert not steps.needs_clock(spec, gone(ALICE, STOP))  # no clock read at all
    verdict = steps.decide_trtc(spec, gone(ALICE, STOP))
    assert verdict.state == "done" and len(verdict.manifest["files"]) == 1


def test_failures_stand_and_cos_is_not_held() -> None:
    failed = steps.decide_trtc(TrtcWaitSpec(), gone(vod_311(TASK, "1", status=2), STOP))
    assert failed.state == "failed"  # a failure is final: nothing to wait for
    cos = trtc.TrtcObservation(None, [], [ev(trtc_event(TASK, 305, {"Status": 0}))], task_id=TASK)
    spec = TrtcWaitSpec()
    assert not steps.needs_clock(spec, cos) and steps.decide_trtc(spec, cos).state == "done"


# -- the option --------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [-1, -0.001, "soon", float("nan"), float("inf"), True, [60], 86401])
def test_vod_commit_grace_is_validated_naming_the_parameter(bad: Any) -> None:
    with pytest.raises(RtcValidationError, match="vod_commit_grace"):
        TrtcWaitSpec(vod_commit_grace=bad)
    with pytest.raises(RtcValidationError, match="vod_commit_grace"):
        TrtcRecordingUploadedSensor(task_id="s", recording_task_id="t", vod_commit_grace=bad)
    with pytest.raises(RtcValidationError, match="vod_commit_grace"):
        DeleteCloudRecordingOperator(
            task_id="d", recording_task_id="t", wait_for_upload=True, vod_commit_grace=bad
        )


@pytest.mark.parametrize(
    ("value", "seconds"), [(0, 0.0), (15, 15.0), ("20", 20.0), (2.5, 2.5), (timedelta(minutes=2), 120.0)]
)
def test_vod_commit_grace_takes_seconds_strings_and_timedeltas(value: Any, seconds: float) -> None:
    assert TrtcWaitSpec(vod_commit_grace=value).vod_commit_grace == seconds
    assert TrtcWaitSpec().vod_commit_grace == 60.0


def test_vod_commit_grace_is_templated_on_the_sensor_and_the_operator() -> None:
    assert "vod_commit_grace" in TrtcRecordingUploadedSensor.template_fields
    assert "vod_commit_grace" in DeleteCloudRecordingOperator.template_fields
    sensor = TrtcRecordingUploadedSensor(
        task_id="s", recording_task_id="t", vod_commit_grace="{{ params.grace }}"
    )  # parsed: checked once rendered
    sensor.vod_commit_grace = "30"  # what rendering leaves
    assert sensor.spec.vod_commit_grace == 30.0


# -- the sync and async drivers, on a controlled clock ---------------------------------------------


class ClockedScript:
    """Answers the calls of a wait on a manual clock: the receiver holds alice's 311 and the 312 at
    first; bob's retried 311 lands once the clock passed ``bob_at``."""

    def __init__(self, clock: ManualClock, bob_at: float) -> None:
        self.clock, self.bob_at = clock, bob_at
        self.calls: list[str] = []

    def perform(self, call: steps.Call) -> Any:
        self.calls.append(call.name)
        answers = {
            steps.RECEIVER: "http://127.0.0.1:1/rtc-callbacks",
            steps.APP_ID: APP,
            steps.NOW: self.clock.time(),
        }
        if call.name == steps.READ_CALLBACKS:
            late = [ev(BOB)] if self.clock.time() >= self.bob_at else []
            return [ev(ALICE), ev(STOP), *late]
        return answers.get(call.name)

    async def aperform(self, call: steps.Call, client: Any = None) -> Any:
        return self.perform(call)

    async def atimeouts(self) -> tuple[float, float]:
        return (1.0, 1.0)


def run_wait(clock: ManualClock, *, use_async: bool) -> tuple[dict[str, Any], float]:
    script = ClockedScript(clock, bob_at=clock.time() + 25)
    loop = poll(
        partial(steps.trtc_check, TrtcWaitSpec(), TASK),
        WaitMemory(state={"task_gone": True}),
        what=f"TRTC recording {TASK}",
        end_time=clock.time() + 3600,
        poll_interval=10,
        max_consecutive_errors=3,
        clock=clock.time,
    )
    started = clock.time()
    result = asyncio.run(adrive(loop, script.aperform)) if use_async else drive(loop, script.perform)
    return result, clock.time() - started


@pytest.mark.parametrize("use_async", [False, True], ids=["drive", "adrive"])
def test_both_drivers_hold_the_completion_for_the_window(manual_clock: ManualClock, use_async: bool) -> None:
    result, waited = run_wait(manual_clock, use_async=use_async)
    assert result["status"] == "done", result
    assert sorted(f["user_id"] for f in result["manifest"]["files"]) == ["alice", "bob"]
    assert waited == 60  # the first check saw the 312; six 10 s sleeps later the window is over
    assert manual_clock.sleeps == [10] * 6


async def test_a_restored_trigger_resumes_the_same_window(manual_clock: ManualClock) -> None:
    """serialize() mid-window carries when the 312 was first seen: the restored trigger completes
    at that sighting + 60 s, not 60 s after its own start."""
    seen = manual_clock.time()
    trigger = TrtcRecordingUploadedTrigger(
        recording_task_id=TASK, task_gone=True, end_time=seen + 3600, poll_interval=10
    )
    script = ClockedScript(manual_clock, bob_at=seen + 25)
    snapshot: dict[str, Any] = {}
    answer = script.aperform

    async def perform(call: steps.Call, client: Any = None) -> Any:
        if call.name == steps.READ_CALLBACKS and manual_clock.time() >= seen + 30 and not snapshot:
            snapshot.update(trigger.serialize()[1])  # what a triggerer restart would resume from
        return await answer(call)

    trigger.__dict__["calls"] = script
    script.aperform = perform  # type: ignore[method-assign]
    await trigger.poll()
    assert snapshot["vod_stop_seen_at"] == seen
    restored = TrtcRecordingUploadedTrigger(**snapshot)
    assert restored.state["vod_stop_seen_at"] == seen and restored.spec == trigger.spec
    manual_clock.now = seen + 30  # the restarted triggerer picks the wait up mid-window
    restored.__dict__["calls"] = ClockedScript(manual_clock, bob_at=seen + 25)
    event = await restored.poll()
    assert event["status"] == "done" and len(event["manifest"]["files"]) == 2
    assert manual_clock.time() - seen == 60  # the same window, not 30 + 60


class TaskStateStore(dict):
    """``context["task_state_store"]`` of a rescheduled sensor: kept between worker processes."""

    def set(self, key: str, value: Any) -> None:
        self[key] = value


def test_a_rescheduled_sensor_resumes_the_same_window(manual_clock: ManualClock) -> None:
    """Each reschedule pokes from a new process with a new probe: the first sighting of the 312
    travels in the task state store, so the window is not restarted at every poke."""
    sensor = TrtcRecordingUploadedSensor(
        task_id="wait", recording_task_id=TASK, mode="reschedule", callback_receiver_url="http://h:1"
    )
    context = {"task_state_store": TaskStateStore()}
    seen = manual_clock.time()

    def poke_in_a_new_process() -> Any:
        probe = sensor.make_probe()
        probe.calls = ClockedScript(manual_clock, bob_at=seen + 25)
        probe.memory.state = {}  # nothing in memory: only what the store kept
        return probe.check(context)

    manual_clock.now = seen
    context["task_state_store"]["rtc_trtc_recording_probe"] = {"task_gone": True}
    assert poke_in_a_new_process().state == "waiting"
    manual_clock.now = seen + 30
    assert poke_in_a_new_process().state == "waiting"
    manual_clock.now = seen + 60
    verdict = poke_in_a_new_process()
    assert verdict.state == "done" and len(verdict.manifest["files"]) == 2


# -- a real wait: the sandbox delivers the 311s after the 312 ------------------------------------------


@pytest.fixture
def sandbox_config(receiver: ReceiverServer) -> dict[str, Any]:
    return wired_sandbox_config(
        receiver,
        random_seed=5,
        upload_delay=0.2,
        recording_exit_seconds=0.1,
        callback_late_seconds=1.5,
    )


@pytest.fixture
def sandbox_conn_extra() -> dict[str, Any]:
    return fast_retry_extra()


def check_until(task: TrtcRecordingUploadedSensor, done: Any, what: str, seconds: float = 15) -> Any:
    """Poke until ``done(verdict)``; every verdict on the way is returned too (real time: the
    sandbox delivers callbacks on its own clock)."""
    deadline = time.monotonic() + seconds
    seen = []
    while time.monotonic() < deadline:
        verdict = task.probe.check({})
        seen.append(verdict)
        if done(verdict):
            return verdict, seen
        time.sleep(0.05)
    raise AssertionError(f"never {what}; last: {seen[-1].message if seen else None}")


def test_a_sandbox_312_before_its_late_311s_is_not_done(
    sandbox: SandboxServer, manual_clock: ManualClock
) -> None:
    seeded = sandbox.seed(
        {"trtc": {"rooms": 1, "users_per_room": 2, "recordings": 1, "recording_storage": "vod"}}
    )
    task_id = seeded["trtc"]["recordings"][0]["task_id"]
    admin(sandbox, f"/recordings/trtc/{task_id}", {"callback_fault": "late_commit"})
    TrtcHook().delete_cloud_recording(task_id)
    task = TrtcRecordingUploadedSensor(task_id="wait", recording_task_id=task_id, deferrable=False)
    # the 312 is stored, the 311s are not: on main this verdict was "done", with no file
    first, _ = check_until(task, lambda v: v.final or "late 311" in v.message, "saw the 312")
    assert first.state == "waiting" and "0 file(s) committed" in first.message, first.message
    # the retried 311s land: still inside the window on the wait's clock, still waiting
    storage = sandbox.backend.trtc.storage(task_id)
    files = f"{len(storage['files'])} file(s) committed"
    held, verdicts = check_until(task, lambda v: v.final or files in v.message, "got the 311s")
    assert all(v.state == "waiting" for v in verdicts), held.message
    manual_clock.advance(60)
    done = task.probe.check({})
    assert done.state == "done", done.message
    assert sorted(f["file_id"] for f in done.manifest["files"]) == sorted(
        f["vod_file_id"] for f in storage["files"]
    )


# -- the AssetWatcher's trigger decides VOD completion too: the same rule ------------------------------


class MemoryStore:
    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    async def aget(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    async def aset(self, key: str, value: Any) -> None:
        self.data[key] = value


async def test_the_upload_watcher_holds_vod_and_wakes_it_at_the_windows_end(
    manual_clock: ManualClock,
) -> None:
    from airflow_provider_rtc.triggers.uploads import RecordingUploadedEventTrigger

    watcher = RecordingUploadedEventTrigger(cloud="trtc", app_id=APP, poll_interval=5, commit_delay=0)
    stored = [ev(ALICE), ev(STOP)]

    async def read_events(target: Any, app_id: Any, task_ids: list[str], client: Any) -> list[Any]:
        return [list(stored) for _ in task_ids]

    on_main = RecordingUploadedEventTrigger(cloud="trtc", app_id=APP)._decide_from_callbacks(
        stored, APP, TASK
    )
    assert on_main is not None and on_main.state == "waiting", on_main.message  # main: done, bob missing
    watcher._read_events = read_events  # type: ignore[method-assign]
    first = watcher._decide_from_callbacks(list(stored), APP, TASK, changed_at=100.0)
    assert first is not None and first.state == "waiting", first.message
    watcher.asset_state_store = store = MemoryStore()
    watcher._watermark = 200.0
    await watcher.save_cursor(manual_clock.time())
    assert store.data[watcher.state_key]["watermark"] < 100.0  # a restart re-reads the held task

    stored.append(ev(BOB))  # retried; no new callback after it wakes the task
    manual_clock.advance(59)
    assert [x async for x in watcher._held_done(None, APP, set(), None)] == []
    manual_clock.advance(1)
    ((key, changed_at, verdict),) = [x async for x in watcher._held_done(None, APP, set(), None)]
    assert key == f"trtc/{APP}/{TASK}" and changed_at == 100.0 and verdict.state == "done"
    assert sorted(f["user_id"] for f in verdict.manifest["files"]) == ["alice", "bob"]
    assert not watcher._held
    assert watcher.serialize()[1]["vod_commit_grace"] == 60.0


def test_the_upload_watcher_validates_vod_commit_grace() -> None:
    from airflow_provider_rtc.triggers.uploads import RecordingUploadedEventTrigger

    with pytest.raises(RtcValidationError, match="vod_commit_grace"):
        RecordingUploadedEventTrigger(cloud="trtc", vod_commit_grace=-5)
    _, kwargs = RecordingUploadedEventTrigger(cloud="trtc", vod_commit_grace=0).serialize()
    assert kwargs["vod_commit_grace"] == 0.0
