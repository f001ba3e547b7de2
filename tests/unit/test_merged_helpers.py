"""The helpers that replaced duplicated code (issue 20): each one rule, used by every former copy."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_rtc import departure
from airflow_provider_rtc.cleanup.enders import ender
from airflow_provider_rtc.cleanup.engine import BulkRun, BulkTarget
from airflow_provider_rtc.errors import RtcInvalidInputError, RtcTransientError
from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.hooks.forms import CONNECTION_TYPES
from airflow_provider_rtc.operators.trtc import (
    StopAITranscriptionOperator,
    StopPublishCdnStreamOperator,
    StopStreamIngestOperator,
)
from airflow_provider_rtc.operators.zego import BulkCloseRoomsOperator
from airflow_provider_rtc.retry import RetryClock, RetryPolicy
from airflow_provider_rtc.sensors.base import RtcWaitSensor
from airflow_provider_rtc.sensors.trtc import TrtcRecordingUploadedSensor
from airflow_provider_rtc.sensors.zego import ZegoMixTaskEndedSensor, ZegoRecordingUploadedSensor
from airflow_provider_rtc.transport import _Attempts
from airflow_provider_rtc.triggers import probes
from airflow_provider_rtc.triggers.trtc import TrtcRecordingUploadedTrigger
from airflow_provider_rtc.triggers.zego import ZegoRecordingUploadedTrigger
from airflow_provider_rtc.waits.spec import TrtcWaitSpec, ZegoWaitSpec

LOOP = {"end_time": 1.0, "poll_interval": 5.0}


# -- transport: the sync and async retry loops share the slot hand-over and the verdict ----------


class _Pacer:
    def wait(self) -> float:
        return 0.0

    async def await_slot(self) -> float:
        return 0.0


def test_an_attempt_carries_its_departure_slot_only_while_it_runs() -> None:
    attempts = _Attempts(RetryClock(RetryPolicy()), idempotent=True)
    with attempts.departing(_Pacer()):  # type: ignore[arg-type]
        assert departure.current.get() is not None
    assert departure.current.get() is None
    with attempts.departing(None):
        assert departure.current.get() is None


def test_a_failed_attempt_is_recorded_and_judged_once_for_both_loops() -> None:
    attempts = _Attempts(RetryClock(RetryPolicy(max_attempts=3, initial_delay=0.0)), idempotent=True)
    attempts.number = 1
    lost = RtcTransientError("answer lost", maybe_executed=True)
    lost.response_lost = True
    assert attempts.failed(lost) is not None  # transient and idempotent: retried
    assert (lost.attempts, lost.after_lost_response) == (1, False)
    attempts.number = 2
    refused = RtcInvalidInputError("bad", maybe_executed=False)
    assert attempts.failed(refused) is None  # never retried
    assert (refused.attempts, refused.after_lost_response) == (2, True)
    assert attempts.maybe_executed is True


# -- the executors share one interruption guard ----------------------------------------------------


def _target(name: str) -> BulkTarget:
    return BulkTarget(name, {"label": name}, lambda: {})


def test_the_guard_returns_an_interruption_with_every_target_accounted_for() -> None:
    run = BulkRun(3, progress_interval=2.0)
    seen: dict[str, Any] = {}

    def interrupted(work: Any, **options: Any) -> list[dict[str, Any]]:
        seen.update(options, work=work)
        raise KeyboardInterrupt

    results, exc = run.guarded(interrupted, ["job"], [_target("a"), _target("b")], log="L")
    assert isinstance(exc, KeyboardInterrupt)
    assert [r["status"] for r in results] == ["not_started", "not_started"]
    assert run.stopped == "KeyboardInterrupt"
    # the run's options, its stop switch and the caller's keywords reach the executor
    assert (seen["work"], seen["max_concurrency"], seen["progress_interval"], seen["log"]) == (
        ["job"],
        3,
        2.0,
        "L",
    )
    assert seen["stop"] is run._stop
    done = [{"status": "done"}]
    assert BulkRun(2).guarded(lambda work, **_: done, [], [_target("a")]) == (done, None)


# -- triggers take the spec's fields as keywords, without a second list of them --------------------


def test_trigger_flat_options_are_the_spec_fields() -> None:
    flat = TrtcRecordingUploadedTrigger(recording_task_id="t", storage="cos", wait_for_mp4=True, **LOOP)
    spec = TrtcWaitSpec(storage="cos", wait_for_mp4=True)
    assert flat.spec == spec
    assert (
        flat.serialize()
        == TrtcRecordingUploadedTrigger(recording_task_id="t", spec=spec.to_dict(), **LOOP).serialize()
    )
    zego = ZegoRecordingUploadedTrigger(recording_task_id="t", on_backup_file="fail", **LOOP)
    assert zego.spec == ZegoWaitSpec(on_backup_file="fail")
    assert zego.poll_interval == 5.0
    with pytest.raises(TypeError):
        TrtcRecordingUploadedTrigger(recording_task_id="t", storge="cos", **LOOP)


def test_split_keeps_the_loop_keywords_apart() -> None:
    options, rest = TrtcWaitSpec.split({"storage": "vod", "end_time": 1.0, "check_playlists": None})
    assert options == {"storage": "vod", "check_playlists": None}
    assert rest == {"end_time": 1.0}


# -- sensors: one make_probe, each names its builder -----------------------------------------------


def test_each_sensor_names_its_probe_builder() -> None:
    assert TrtcRecordingUploadedSensor.probe_of is probes.trtc_recording_probe_of
    assert ZegoRecordingUploadedSensor.probe_of is probes.zego_recording_probe_of
    assert ZegoMixTaskEndedSensor.probe_of is probes.zego_mix_probe_of
    sensor = ZegoMixTaskEndedSensor(task_id="s", mix_task_id="mix-1", mode="reschedule")
    probe = sensor.make_probe()
    assert probe.what == "ZEGO mix task mix-1"


def test_a_sensor_without_a_builder_says_so() -> None:
    class Bare(RtcWaitSensor):
        pass

    with pytest.raises(NotImplementedError, match="Bare sets no probe_of"):
        Bare(task_id="bare").make_probe()


# -- the TRTC stop-by-TaskId operators end through their ender rows --------------------------------


@pytest.mark.parametrize(
    ("cls", "method", "key"),
    [
        (StopPublishCdnStreamOperator, "stop_publish_cdn_stream", "relay_task_id"),
        (StopStreamIngestOperator, "stop_stream_ingest", "ingest_task_id"),
        (StopAITranscriptionOperator, "stop_ai_transcription", "ai_task_id"),
    ],
)
def test_stop_operators_call_their_row(cls: Any, method: str, key: str) -> None:
    calls: list[tuple[str, str]] = []

    class Hook:
        sdk_app_id = 1400000001

        def __getattr__(self, name: str) -> Any:
            return lambda task: calls.append((name, task)) or {"RequestId": "r-1"}

    op = cls(task_id="stop", task_id_to_stop="task-9")
    op.__dict__["hook"] = Hook()
    result = op.run_cleanup()
    assert ender(op.action).method == method
    assert calls == [(method, "task-9")]
    assert (result["status"], result[key], result["action"]) == ("done", "task-9", op.action)


def test_stop_operators_validate_before_the_call() -> None:
    op = StopStreamIngestOperator(task_id="stop", task_id_to_stop="has space")
    with pytest.raises(RtcValidationError, match="task_id_to_stop"):
        op.run_cleanup()
    assert "hook" not in op.__dict__


# -- the named bulk operators plan through one helper: every item checked before the hook ----------


def test_bulk_plan_checks_every_item_before_building_the_hook() -> None:
    op = BulkCloseRoomsOperator(task_id="close", room_ids=["ok", "not ok"], zegocloud_conn_id="missing")
    with pytest.raises(RtcValidationError, match=r"room_ids\[1\]"):
        op.plan()
    assert "hook" not in op.__dict__


# -- the two connection forms come from one entry builder ------------------------------------------


def test_both_forms_share_the_entry_rules() -> None:
    for entry in CONNECTION_TYPES:
        behaviour = entry["ui-field-behaviour"]
        assert behaviour["hidden-fields"] == ["host", "schema", "port"]
        fields = list(entry["conn-fields"])
        assert fields[:3] == ["rate_limit_backend", "rate_limit_redis_url", "rate_limit_redis_password"]
        assert fields[-2:] == ["callback_receiver_url", "callback_secret"]
        assert entry["conn-fields"]["endpoint"]["label"] == "Endpoint"
        assert entry["conn-fields"]["endpoint"]["description"].startswith("base URL replacing https://")


# -- ZEGO's id and reason rules, one function each for the hooks and the operators ------------------


def test_zego_rules_are_one_function_each() -> None:
    from airflow_provider_rtc import validation as v

    assert v.optional_zego_user_id("") is None and v.optional_zego_user_id(None) is None
    assert v.optional_zego_user_id("u-1") == "u-1"
    with pytest.raises(RtcValidationError, match="user_id"):
        v.optional_zego_user_id("u" * 65)
    assert v.zego_reason(None) is None and v.zego_reason("end of event") == "end of event"
    with pytest.raises(RtcValidationError, match="custom_reason"):
        v.zego_reason("x" * 257)


# -- the budget operator ends idle rooms through the engine-level function -------------------------


def test_the_budget_operator_ends_idle_rooms_through_end_event(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_rtc.cleanup import event_end
    from airflow_provider_rtc.operators import event as event_ops
    from airflow_provider_rtc.operators.budgets import UsageBudgetOperator

    calls: list[tuple[Any, Any]] = []

    def fake_end(context: Any, inputs: Any, how: Any, *, scope: Any = None) -> dict[str, Any]:
        calls.append((inputs, how))
        return {"plan": {"targets": [1, 2]}, "results": [{"status": "done"}], "survivors": []}

    monkeypatch.setattr(event_end, "end_event", fake_end)
    monkeypatch.setattr(event_ops, "EndEventOperator", None)  # no nested operator is built any more
    budget = {"cloud": "trtc", "metric": "Audio", "budget": 1000, "unit": "minutes"}
    op = UsageBudgetOperator(task_id="budget", budgets=[budget], zegocloud_conn_id="z")
    summary = op._end_idle({}, {"idle_for": 600})
    [(inputs, how)] = calls
    assert inputs.clouds == ("zego",) and inputs.inventory is None and inputs.dry_run is False
    assert (how.origin, how.verify, how.run.max_concurrency) == ("budget", True, 16)
    assert summary == {
        "selector": {"idle_for": 600},
        "targets": 2,
        "ended": 1,
        "survivors": 0,
        "nothing_to_end": False,
    }


# -- a TRTC observation says which task it is: the decision does not take it twice -----------------


def test_the_decision_reads_the_task_from_the_observation() -> None:
    from airflow_provider_rtc.recordings import trtc

    obs = trtc.TrtcObservation("InProgress", task_id="task-7", app_id=1400000001)
    assert trtc.evaluate_recording(obs).message.startswith("TRTC recording task-7: waiting")
    assert trtc.evaluate_recording(obs, task_id="other").message.startswith("TRTC recording other:")
    from airflow_provider_rtc.waits.steps import decide_trtc

    assert decide_trtc(TrtcWaitSpec(), obs).message == trtc.evaluate_recording(obs).message
