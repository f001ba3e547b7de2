"""EndEventOperator runs its targets on the dependency-aware executor: stopped (on_kill), it issues
no new destructive call, targets without a call are ``not_started``, the report still says where every target
stood, and each result carries the engine's ``maybe_executed`` / ``after_lost_response``."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_rtc.hooks.trtc import TrtcHook
from airflow_provider_rtc.hooks.zego import ZegoRtcHook
from airflow_provider_rtc.operators.event import EndEventOperator

from .conftest import destructive_calls, live_in_sandbox
from .test_end_event import _TI, ALL, _seed


def _calls(bed: Any) -> dict[str, int]:
    actions = bed.server.backend.stats.snapshot()["actions"]
    return {action: int(stats["calls"]) for action, stats in actions.items()}


def _kill_after(monkeypatch: pytest.MonkeyPatch, hook: type, method: str, op: EndEventOperator) -> None:
    """The first ``method`` call that returns sets the stop, as SIGTERM's on_kill would."""
    original = getattr(hook, method)

    def then_kill(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, *args, **kwargs)
        finally:
            op.on_kill()

    monkeypatch.setattr(hook, method, then_kill)


def _started(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for r in results if r["status"] != "not_started"]


@pytest.mark.slow  # EndEventOperator end to end on sandbox + receiver: e2e-like (15-30 s)
def test_stop_after_a_mix_leaves_what_depends_on_mixes_not_started(bed, monkeypatch):
    _seed(bed)
    before = live_in_sandbox(bed.server)
    op = EndEventOperator(task_id="end", selector=ALL, max_concurrency=1)
    _kill_after(monkeypatch, ZegoRtcHook, "stop_mix", op)
    ti = _TI()
    with pytest.raises(AirflowException, match=r"stopped \(on_kill\)"):
        op.execute({"ti": ti})

    report = ti.pushed["report"]
    assert report["stopped"] == "on_kill"
    assert len(report["results"]) == report["plan"]["total_calls"]  # every target is reported
    started = _started(report["results"])
    mixes = [r["status"] for r in report["results"] if r["action"] == "StopMix"]
    assert mixes == ["done", "not_started"]  # one call in flight at a time: the second never went
    # ZEGO streams, users and rooms wait for the mixes (their inputs): none of them was called
    after_mixes = [r for r in report["results"] if r["cloud"] == "zego" and r["kind"] != "mixes"]
    after_mixes = [r["status"] for r in after_mixes if r["kind"] in ("streams", "users", "rooms")]
    assert (
        after_mixes
        and set(after_mixes) == {"not_started"}
        and {r["action"] for r in started}
        <= {
            "StopMix",
            "DeleteCloudRecording",
            "StopRecord",
            "DropLiveStream",
        }
    )
    # the cloud saw exactly the calls issued before the stop
    assert destructive_calls(bed.server) == len(started)
    assert _calls(bed).get("StopMix") == 1
    assert live_in_sandbox(bed.server)["trtc rooms"] == before["trtc rooms"]
    assert live_in_sandbox(bed.server)["zego rooms"] == before["zego rooms"]
    assert report["survivors"] == [] and "verify" not in report["timings"]  # stopped: no verification


@pytest.mark.slow  # EndEventOperator end to end on sandbox + receiver: e2e-like (15-30 s)
def test_stop_inside_the_rooms_stage_issues_no_further_room_call(bed, monkeypatch):
    _seed(bed)
    # typed: numeric rooms as ints, string rooms as strings (a str names only a string room)
    rooms = [r["room_id"] for r in bed.server.state()["trtc"]["rooms"]]
    op = EndEventOperator(task_id="end", selector={"room_ids": rooms}, clouds=["trtc"], max_concurrency=1)
    _kill_after(monkeypatch, TrtcHook, "dismiss_room", op)
    _kill_after(monkeypatch, TrtcHook, "dismiss_room_by_str_room_id", op)
    ti = _TI()
    with pytest.raises(AirflowException, match="stopped"):
        op.execute({"ti": ti})

    report = ti.pushed["report"]
    by_stage: dict[str, set[str]] = {}
    for r in report["results"]:
        by_stage.setdefault(r["stage"], set()).add(r["status"])
    assert by_stage["recordings"] <= {"done", "already_gone"}  # the stage before the stop finished
    room_results = [r for r in report["results"] if r["stage"] == "rooms"]
    assert [r["status"] for r in room_results].count("done") == 1
    assert {r["status"] for r in room_results} == {"done", "not_started"}
    calls = _calls(bed)
    assert calls.get("DismissRoom", 0) + calls.get("DismissRoomByStrRoomId", 0) == 1
    assert destructive_calls(bed.server) == len(_started(report["results"]))
    ended = {str(r["ids"]["room_id"]) for r in room_results if r["status"] == "done"}
    assert live_in_sandbox(bed.server)["trtc rooms"] == {str(r) for r in rooms} - ended


@pytest.mark.slow  # EndEventOperator end to end on sandbox + receiver: e2e-like (15-30 s)
def test_results_carry_the_engines_flags(bed):
    """A CloseRoom that always fails is reported with the engine's flags, not only its code."""
    _seed(bed)
    keep = sorted(live_in_sandbox(bed.server)["zego rooms"])[0]
    bed.server.backend.set_faults(
        {"rules": [{"action": "CloseRoom", "kind": "internal", "probability": 1.0}]}
    )
    ti = _TI()
    op = EndEventOperator(task_id="end", selector={"room_ids": [keep]}, clouds=["zego"], verify_timeout=0)
    with pytest.raises(AirflowException, match="failed"):
        op.execute({"ti": ti})
    (failed,) = [r for r in ti.pushed["report"]["results"] if r["status"] == "failed"]
    assert failed["kind"] == "rooms" and failed["action"] == "CloseRoom"
    # one result shape: the resource's kind stays "kind", the error's is "error_kind" (no rename)
    assert failed["error_kind"] and failed["code"] is not None and "kind_of_error" not in failed
    assert failed["maybe_executed"] is True  # the attempts reached the cloud
    assert failed["after_lost_response"] is False  # every answer was received
    assert "target" not in failed
