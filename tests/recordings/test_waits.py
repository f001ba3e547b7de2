"""The wait machinery itself: one spec per cloud, one step, one loop run by a sync and an async
driver that cannot drift, and a waiting message that is truthful and logged once per change."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from functools import partial
from typing import Any

import pytest

from airflow_provider_rtc.exceptions import RtcNotFoundError, RtcTransientError
from airflow_provider_rtc.recordings import trtc
from airflow_provider_rtc.waits import steps
from airflow_provider_rtc.waits.loop import Sleep, WaitMemory, adrive, drive, poll
from airflow_provider_rtc.waits.spec import TrtcWaitSpec, ZegoWaitSpec

from .conftest import trtc_event, zego_file, zego_record

TASK = "task-abc"
HLS = "1400000001_1001.m3u8"


def ev(body: dict[str, Any]) -> dict[str, Any]:
    return {"event_type": body["EventType"], "task_id": body["EventInfo"]["TaskId"], "body": body}


class Scripted:
    """Answers a check's calls from a script, counting them, the same way sync and async."""

    def __init__(self, answers: dict[str, list[Any]]) -> None:
        self.answers = {name: list(values) for name, values in answers.items()}
        self.calls: list[str] = []

    def perform(self, call: steps.Call) -> Any:
        self.calls.append(call.name)
        if call.name == steps.NOTE:
            return None
        queue = self.answers[call.name]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def aperform(self, call: steps.Call) -> Any:
        return self.perform(call)


def trtc_script() -> dict[str, list[Any]]:
    gone = RtcNotFoundError("gone", cloud="Tencent Cloud TRTC", action="DescribeCloudRecording", code="x")
    alive = {"Status": "InProgress", "StorageFileList": [{"FileName": HLS, "UserId": "", "TrackType": "a"}]}
    return {
        steps.RECEIVER: ["http://127.0.0.1:1/rtc-callbacks"],
        steps.APP_ID: [1400000001],
        steps.DESCRIBE_CLOUD_RECORDING: [alive, gone],
        steps.READ_CALLBACKS: [
            [],
            RtcTransientError("receiver down", cloud="r", action="ReadCallbacks"),
            [ev(trtc_event(TASK, 301, {"Status": 0}))],
            [ev(trtc_event(TASK, 301, {"Status": 0})), ev(trtc_event(TASK, 305, {"Status": 0}))],
        ],
    }


def run_loop(spec: TrtcWaitSpec, *, use_async: bool) -> tuple[dict[str, Any], list[str], list[float]]:
    script = Scripted(trtc_script())
    sleeps: list[float] = []
    loop = poll(
        partial(steps.trtc_check, spec, TASK),
        WaitMemory(),
        what=f"TRTC recording {TASK}",
        end_time=1e12,
        poll_interval=7,
        max_consecutive_errors=3,
        clock=lambda: 0.0,
    )
    if use_async:

        async def perform(call: steps.Call) -> Any:
            return await script.aperform(call)

        original_sleep = asyncio.sleep
        this_thread = threading.get_ident()

        async def fake_sleep(seconds: float) -> None:
            if threading.get_ident() != this_thread:  # another thread's loop (a server of the session)
                await original_sleep(seconds)
                return
            sleeps.append(seconds)
            await original_sleep(0)

        asyncio.sleep = fake_sleep  # type: ignore[assignment]
        try:
            result = asyncio.run(adrive(loop, perform))
        finally:
            asyncio.sleep = original_sleep  # type: ignore[assignment]
    else:
        result = drive(loop, script.perform, sleep=sleeps.append)
    return result, script.calls, sleeps


def test_sync_and_async_drivers_run_the_same_loop_to_the_same_event() -> None:
    spec = TrtcWaitSpec(storage="auto")
    sync_event, sync_calls, sync_sleeps = run_loop(spec, use_async=False)
    async_event, async_calls, async_sleeps = run_loop(spec, use_async=True)
    assert sync_event == async_event and sync_calls == async_calls and sync_sleeps == async_sleeps
    assert sync_event["status"] == "done" and sync_event["manifest"]["files"][0]["name"] == HLS
    # alive once, gone once, then callbacks only: empty, an outage (tolerated), 301 only, 305
    assert sync_calls.count(steps.DESCRIBE_CLOUD_RECORDING) == 2
    assert sync_sleeps == [7, 7, 7, 7]


def test_step_is_pure_and_remembers_what_the_task_said_while_alive() -> None:
    spec = TrtcWaitSpec()
    alive = trtc.TrtcObservation("Exited", [{"FileName": HLS}], task_id=TASK, app_id=1)
    state, verdict = steps.trtc_step(spec, alive, None)
    assert verdict.state == "waiting" and state == {"storage_files": [{"FileName": HLS, "UserId": None,
            "TrackType": None, "BeginTimeStamp": None}], "task_gone": False}  # fmt: skip
    gone = trtc.TrtcObservation(None, [], [ev(trtc_event(TASK, 305, {"Status": 0}))], task_id=TASK, app_id=1)
    state2, done = steps.trtc_step(spec, gone, state)
    assert state2["task_gone"] is True and done.state == "done"
    assert [f["name"] for f in done.manifest["files"]] == [HLS]
    assert steps.trtc_step(spec, gone, state) == (state2, done)  # same inputs, same outputs


def test_one_watcher_can_decide_for_many_tasks_from_one_read() -> None:
    events = [
        ev(trtc_event("t1", 312, {"Status": 0})),
        ev(trtc_event("t2", 301, {"Status": 0})),
        ev(trtc_event("t3", 305, {"Status": 0})),
    ]
    observations = steps.trtc_observations(events, app_id=7)
    spec = TrtcWaitSpec(vod_commit_grace=0)  # t1's VOD grace window is test_vod_grace's subject
    verdicts = {o.task_id: steps.decide_trtc(spec, o) for o in observations}
    assert {t: v.state for t, v in verdicts.items()} == {"t1": "done", "t2": "waiting", "t3": "done"}
    assert verdicts["t1"].manifest["storage"] == "vod" and verdicts["t1"].manifest["app_id"] == 7


def test_waiting_message_is_truthful_about_what_is_stored() -> None:
    none = steps.decide_trtc(TrtcWaitSpec(), trtc.TrtcObservation(None, [], [], task_id=TASK))
    assert "has reached the receiver yet" in none.message
    two = [ev(trtc_event(TASK, 301, {"Status": 0})), ev(trtc_event(TASK, 302, {"LeaveCode": 0}))]
    some = steps.decide_trtc(TrtcWaitSpec(), trtc.TrtcObservation(None, [], two, task_id=TASK))
    assert "no recording callback" not in some.message
    assert "2 callback(s) for this task are stored (301 RECORDER_START, 302 RECORDER_STOP)" in some.message


def zego_loop(*, end_time: float, poll_interval: float = 1, **kw: Any) -> Any:
    return poll(
        partial(steps.zego_check, ZegoWaitSpec(), "T"),
        WaitMemory(),
        what="ZEGO recording T",
        end_time=end_time,
        poll_interval=poll_interval,
        max_consecutive_errors=3,
        **kw,
    )


def test_waiting_message_is_info_once_then_debug(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("test.waits")
    caplog.set_level(logging.DEBUG, logger="test.waits")
    uploading = zego_record(3, [zego_file("a.mp4", 2)])
    more = zego_record(3, [zego_file("a.mp4", 2), zego_file("b.mp4", 2)])
    done = zego_record(3, [zego_file("a.mp4", 3)])
    script = Scripted({steps.APP_ID: [1], steps.DESCRIBE_RECORD_STATUS: [uploading, uploading, more, done]})
    loop = zego_loop(end_time=1e12, log=log)
    assert drive(loop, script.perform, sleep=lambda s: None)["status"] == "done"
    levels = [(r.levelname, r.getMessage()) for r in caplog.records if "waiting for" in r.getMessage()]
    assert [level for level, _ in levels] == ["INFO", "DEBUG", "INFO"]


def test_timeout_is_a_timeout_event_naming_what_is_missing() -> None:
    script = Scripted({steps.APP_ID: [1], steps.DESCRIBE_RECORD_STATUS: [zego_record(2, [])]})
    now = iter([0.0, 0.0, 5.0, 5.0, 11.0, 11.0])
    loop = zego_loop(end_time=10.0, poll_interval=5, clock=lambda: next(now))
    result = drive(loop, script.perform, sleep=lambda s: None)
    assert result["status"] == "timeout" and "the task to end" in result["message"]
    assert not isinstance(result, Sleep)


def test_specs_round_trip_as_json_and_reject_unknown_or_bad_options() -> None:
    spec = TrtcWaitSpec(storage="cos", wait_for_mp4=True, callback_receiver_url="http://h:8080/rtc-callbacks")
    assert TrtcWaitSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    assert TrtcWaitSpec.from_params(spec.to_dict(), storage="vod") == spec  # a serialized spec wins
    assert TrtcWaitSpec.from_params(storage=None).storage == "auto"  # unset flat params keep defaults
    with pytest.raises(ValueError, match="unknown trtc wait option"):
        TrtcWaitSpec.from_dict({"storage": "cos", "typo": 1})
    with pytest.raises(ValueError, match="on_backup_file"):
        ZegoWaitSpec(on_backup_file="wait")
    with pytest.raises(ValueError, match="on_failed_file"):
        TrtcWaitSpec(on_failed_file="ignore")


def test_a_zego_upload_callback_is_decided_like_describe_record_status() -> None:
    callback = {
        "app_id": 1234567890,
        "task_id": "T",
        "room_id": "r1",
        "event_type": 1,
        "detail": {
            "upload_status": 2,
            "file_info": [
                {"file_id": "T_r1_a.mp4", "file_url": "https://s/a.mp4", "status": 3, "file_size": 10},
                {"file_id": "T_r1_b.mp4", "status": 4, "media_track_type": 3},
            ],
        },
    }
    obs = steps.zego_observation_from_callback({"task_id": "T", "body": callback}, app_id=1234567890)
    assert obs is not None
    verdict = steps.decide_zego(ZegoWaitSpec(), obs)
    assert verdict.state == "done" and verdict.manifest["status"] == "partial"
    files = {f["name"]: f for f in verdict.manifest["files"]}
    assert files["T_r1_a.mp4"]["url"] == "https://s/a.mp4" and files["T_r1_a.mp4"]["size"] == 10
    assert files["T_r1_b.mp4"]["status"] == "backup" and files["T_r1_b.mp4"]["track_type"] == "audio_video"
    assert steps.decide_zego(ZegoWaitSpec(on_backup_file="fail"), obs).state == "failed"
    assert steps.zego_observation_from_callback({"task_id": "T", "body": {"event_type": 7}}, app_id=1) is None
