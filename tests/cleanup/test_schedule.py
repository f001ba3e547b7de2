"""The dependency-aware executor with fake calls: order per room, lanes that do not block each other,
failed dependencies, stop and interruption, the estimate. No sleeps: calls wait on events."""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

import pytest

from airflow_provider_rtc.cleanup import deps, schedule
from airflow_provider_rtc.cleanup.engine import BulkStop, BulkTarget, run_bulk
from airflow_provider_rtc.exceptions import RtcError
from airflow_provider_rtc.identity import ResourceRef

SAFETY = 20.0  # seconds an event wait may take before the test fails instead of hanging


def _target(cloud: str, kind: str, ident: str, room: str = "", id_type: str = "") -> dict[str, Any]:
    app = "1"
    ref = ResourceRef(cloud, app, kind, ident, id_type, "" if kind == "rooms" else room)
    return {"cloud": cloud, "kind": kind, "refs": [ref.as_dict()]}


class Log:
    """Start and end of every fake call, in one sequence."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[tuple[str, str]] = []

    def add(self, what: str, name: str) -> None:
        with self.lock:
            self.events.append((what, name))

    def at(self, what: str, name: str) -> int:
        return self.events.index((what, name))


def _job(log: Log, name: str, lane: str = "a", qps: float = 10.0, after: tuple[int, ...] = (), **kw: Any):
    fail = kw.get("fail", False)
    gate: threading.Event | None = kw.get("gate")

    def call() -> dict[str, Any]:
        log.add("start", name)
        try:
            if gate is not None:
                assert gate.wait(SAFETY)
            if fail:
                raise RtcError("refused", code="X")
            return {"RequestId": name}
        finally:
            log.add("end", name)

    return schedule.Job(BulkTarget(name, {"name": name}, call), lane, qps, after)


# -- dependencies --------------------------------------------------------------------------------


def test_a_zego_room_waits_for_its_own_streams_and_users_and_for_roomless_mixes_only():
    targets = [
        _target("zego", "mixes", "mix-1"),  # 0: no room known (conf gives task ids)
        _target("zego", "streams", "s1", room="r1"),  # 1
        _target("zego", "streams", "s2", room="r2"),  # 2
        _target("zego", "users", "u1", room="r1"),  # 3
        _target("zego", "rooms", "r1"),  # 4
        _target("zego", "rooms", "r2"),  # 5
        _target("trtc", "rooms", "r1", id_type="str"),  # 6: another cloud: independent
        _target("zego", "recordings", "rec-1"),  # 7
    ]
    after = deps.dependencies(targets)
    assert after[4] == (0, 1, 3, 7)  # not s2 of room r2
    assert after[5] == (0, 2, 7)
    assert after[1] == after[2] == after[3] == (0,)  # a mix before the streams it may read
    assert after[0] == after[6] == after[7] == ()


def test_trtc_rooms_are_keyed_by_typed_identity():
    targets = [
        _target("trtc", "users", "u", room="1234", id_type="int"),
        _target("trtc", "users", "v", room="1234", id_type="str"),
        _target("trtc", "rooms", "1234", id_type="int"),
        _target("trtc", "rooms", "1234", id_type="str"),
    ]
    after = deps.dependencies(targets)
    assert after[2] == (0,) and after[3] == (1,)  # numeric room 1234 and string room "1234" differ


# -- the executor --------------------------------------------------------------------------------


def test_a_target_starts_only_after_what_it_depends_on_ended():
    log = Log()
    jobs = [
        _job(log, "stream-1", "zego DeleteStream"),
        _job(log, "stream-2", "zego DeleteStream"),
        _job(log, "room-1", "zego CloseRoom", 1.0, after=(0, 1)),
        _job(log, "trtc-room", "trtc DismissRoom", 20.0),
    ]
    results = schedule.run_schedule(jobs, max_concurrency=8)
    assert [r["status"] for r in results] == ["done"] * 4
    assert [r["target"] for r in results] == ["stream-1", "stream-2", "room-1", "trtc-room"]  # job order
    assert log.at("start", "room-1") > max(log.at("end", "stream-1"), log.at("end", "stream-2"))


def _head_of_line(run: Any, wait: float) -> bool:
    """Ten slow calls (held until released) listed before ten fast ones: do the fast ones all end
    while the slow ones are still held?"""
    log, gate, fast_done = Log(), threading.Event(), threading.Event()
    count = [0]

    def fast(name: str) -> BulkTarget:
        def call() -> dict[str, Any]:
            with log.lock:
                count[0] += 1
                if count[0] == 10:
                    fast_done.set()
            return {}

        return BulkTarget(name, {}, call)

    slow = [_job(log, f"close-{i}", "zego CloseRoom", 1.0, gate=gate) for i in range(10)]
    quick = [schedule.Job(fast(f"dismiss-{i}"), "trtc DismissRoom", 20.0) for i in range(10)]
    outcome: list[Any] = []
    worker = threading.Thread(target=lambda: outcome.append(run(slow + quick)))
    worker.start()
    try:
        return fast_done.wait(wait)  # fast calls take microseconds
    finally:
        gate.set()
        worker.join(SAFETY)
        assert outcome and all(r["status"] == "done" for r in outcome[0])


def test_a_slow_api_does_not_hold_the_workers_a_fast_one_needs():
    assert _head_of_line(lambda jobs: schedule.run_schedule(jobs, max_concurrency=4), SAFETY)


def test_one_pool_would_block_the_fast_api_behind_the_slow_one():
    """What the lanes fix: the stage engine's one pool, four workers all held by CloseRoom."""
    assert not _head_of_line(lambda jobs: run_bulk([j.item for j in jobs], max_concurrency=4), 1.0)


def test_a_failed_dependency_does_not_stop_the_target_but_is_reported():
    log = Log()
    jobs = [
        _job(log, "recording", "trtc DeleteCloudRecording", fail=True),
        _job(log, "room", "trtc DismissRoom", after=(0,)),
    ]
    results = schedule.run_schedule(jobs, max_concurrency=2)
    assert results[0]["status"] == "failed"
    assert results[1]["status"] == "done" and results[1]["after_failed"] == ["recording"]
    assert log.at("start", "room") > log.at("end", "recording")


def test_after_stop_no_new_call_and_every_target_has_a_result():
    log, stop = Log(), BulkStop()
    first = _job(log, "mix", "zego StopMix")

    def then_stop() -> dict[str, Any]:
        try:
            return first.item.call()
        finally:
            stop.set()

    jobs = [
        schedule.Job(BulkTarget("mix", {}, then_stop), "zego StopMix", 100.0),
        _job(log, "stream", "zego DeleteStream", after=(0,)),
        _job(log, "room", "zego CloseRoom", 1.0, after=(0, 1)),
    ]
    results = schedule.run_schedule(jobs, max_concurrency=1, stop=stop)
    assert [r["status"] for r in results] == ["done", "not_started", "not_started"]
    assert ("start", "stream") not in log.events and ("start", "room") not in log.events


class _Alarm(BaseException):
    """Stands for Airflow's execution_timeout, raised in the calling thread by a signal handler."""


def test_an_interruption_waits_for_calls_on_the_wire_and_keeps_every_result():
    log, stop = Log(), BulkStop()
    main = threading.get_ident()
    seen_stop: list[bool] = []
    wire_started = threading.Event()

    def alarm() -> dict[str, Any]:
        log.add("start", "alarm")
        assert wire_started.wait(SAFETY)
        signal.pthread_kill(main, signal.SIGUSR1)
        return {}

    def on_the_wire() -> dict[str, Any]:
        wire_started.set()
        seen_stop.append(stop.wait(SAFETY))  # still running when the alarm stops the run
        log.add("end", "wire")
        return {}

    def raise_alarm(*_: Any) -> None:
        raise _Alarm

    jobs = [
        schedule.Job(BulkTarget("wire", {}, on_the_wire), "b", 10.0),
        schedule.Job(BulkTarget("alarm", {}, alarm), "a", 10.0),
        _job(log, "later", "a", after=(1,)),
    ]
    previous = signal.signal(signal.SIGUSR1, raise_alarm)
    try:
        with pytest.raises(_Alarm):
            schedule.run_schedule(jobs, max_concurrency=2, stop=stop)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert stop.is_set() and seen_stop == [True]
    assert stop.results is not None
    assert [r["status"] for r in stop.results] == ["done", "done", "not_started"]
    assert ("end", "wire") in log.events and ("start", "later") not in log.events


def test_a_cycle_is_refused_before_any_call():
    log = Log()
    with pytest.raises(ValueError, match="cycle"):
        schedule.run_schedule([_job(log, "a", after=(1,)), _job(log, "b", after=(0,))], max_concurrency=2)
    assert log.events == []


def test_lane_concurrency_is_enough_for_the_rate_and_bounded():
    assert schedule.lane_concurrency(1.0, 16) == 2
    assert schedule.lane_concurrency(20.0, 16) == 11
    assert schedule.lane_concurrency(100.0, 16) == 16
    assert schedule.lane_concurrency(100.0, 1) == 1


# -- the bound -----------------------------------------------------------------------------------


class _T:
    def __init__(self, lane: str, qps: float, after: tuple[int, ...] = ()) -> None:
        self.lane, self.qps, self.after = lane, qps, after


def test_estimate_is_the_critical_path_not_the_sum_of_stages():
    # 30 ZEGO rooms with 2 streams each (10/s), CloseRoom at 1/s; 300 TRTC rooms at 20/s
    jobs: list[_T] = []
    for _ in range(30):
        jobs += [_T("zego DeleteStream", 10.0), _T("zego DeleteStream", 10.0)]
        jobs.append(_T("zego CloseRoom", 1.0, (len(jobs) - 2, len(jobs) - 1)))
    jobs += [_T("trtc DismissRoom", 20.0) for _ in range(300)]
    bound = schedule.estimate(jobs)
    assert bound == pytest.approx(30.2)  # the first room waits for its 2 streams (0.2 s), then 30 x 1 s
    # without dependencies: the slowest API's targets / rate
    assert schedule.estimate([_T(j.lane, j.qps) for j in jobs]) == pytest.approx(30.0)


def test_estimate_follows_a_chain():
    jobs = [_T("mix", 1.0), _T("stream", 1.0, (0,)), _T("room", 1.0, (1,))]
    assert schedule.estimate(jobs) == pytest.approx(3.0)


@pytest.mark.skipif(os.name != "posix", reason="signals")
def test_nothing_is_left_running():
    before = threading.active_count()
    log = Log()
    schedule.run_schedule([_job(log, f"j{i}") for i in range(5)], max_concurrency=3)
    assert threading.active_count() == before


def test_the_plans_time_is_the_critical_path_not_the_sum_of_stage_maxima():
    from airflow_provider_rtc.cleanup.plan import build_plan, render_table

    rooms = [{"ids": {"room_id": f"room_{i}"}} for i in range(30)]
    inventory = {
        "clouds": {
            "trtc": {
                "app_id": "1400000001",
                "rooms": [{"ids": {"room_id": 1000 + i, "str_room": False}} for i in range(300)],
                "recordings": [{"ids": {"task_id": f"t{i}", "room_id": 1000 + i}} for i in range(10)],
            },
            "live": {"app_id": "1250000000", "mixes": [{"ids": {"session_id": f"m{i}"}} for i in range(10)]},
            "zego": {"app_id": "1234567890", "rooms": rooms},
        }
    }
    plan = build_plan(inventory)
    # stage by stage: 0.1 (mixes) + 0.5 (recordings) + 30 (rooms) = 30.6 s; with per-room
    # dependencies the 300 TRTC rooms (15 s) run beside the 30 ZEGO rooms (30 s at 1/s)
    assert plan["estimated_seconds"] == pytest.approx(30.0)
    assert plan["stage_by_stage_seconds"] == pytest.approx(30.6)
    assert plan["slowest_api"]["action"] == "CloseRoom"
    table = render_table(plan)
    assert "about 30.0s" in table and "slowest API: zego CloseRoom, 30 call(s) at 1/s = 30.0s" in table


def test_a_target_whose_description_cannot_be_read_fails_alone_and_never_hangs_the_run():
    """The loop waits for one result per job it submitted: a worker that raised before putting its
    result (a target whose description is not a mapping) left the run waiting forever."""
    log = Log()
    good = _job(log, "good")
    broken = schedule.Job(BulkTarget("broken", None, lambda: {"RequestId": "x"}), "a", 10.0, ())  # type: ignore[arg-type]
    after = _job(log, "after", after=(1,))
    out: list[Any] = []
    runner = threading.Thread(
        target=lambda: out.append(schedule.run_schedule([good, broken, after], max_concurrency=2)),
        daemon=True,
    )
    runner.start()
    runner.join(SAFETY)
    assert not runner.is_alive(), "run_schedule hung on a target it could not describe"
    results = out[0]
    assert [r["status"] for r in results] == ["done", "failed", "done"]
    assert results[1]["target"] == "broken" and results[1]["error"] == "TypeError"
    assert results[1]["maybe_executed"] is False  # its call was never made
    assert results[2]["after_failed"] == ["broken"]
