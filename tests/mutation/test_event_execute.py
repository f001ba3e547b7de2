"""EndEvent's execution judged without a sandbox: each target called once with its own arguments,
one result per target in plan order, the per-API times, and what the receiver is told afterwards
(issue 17, issue 24 item 5).

Written for `make mutate` (cleanup/plan.py ``execute`` with ``timed``, ``_bulk_target``, ``_call``,
``_as_result``, ``_lane``, ``record_results``, ``audit_planned``). The hooks are plain objects that
record their calls, the clock is the test's, the receiver a function: each mutant is judged in
milliseconds. The sandbox runs (tests/discovery/) check the same against the imitated clouds.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_rtc.cleanup import plan as planner
from airflow_provider_rtc.cleanup.enders import ENDERS
from airflow_provider_rtc.cleanup.engine import BulkRun
from airflow_provider_rtc.discovery.discover import Access
from airflow_provider_rtc.exceptions import RtcApiError, RtcNotFoundError
from airflow_provider_rtc.identity import ResourceRef

A = "1400000001"
EPOCH = 1_795_975_200.0  # 2026-11-29T18:00:00Z: the wall clock the calls start at
STEP = 0.1234567  # seconds each fake call takes on the test's clock


SAFETY = 10.0  # seconds execute may take (it takes milliseconds) before the test fails, not hangs


def execute(*args: Any, **kwargs: Any) -> Any:
    """``planner.execute`` in a thread, failing after SAFETY: a target the executor cannot report
    on (its description lost) must fail the test, not hang it until mutmut's timeout."""
    out: list[Any] = []
    worker = threading.Thread(target=lambda: out.append(planner.execute(*args, **kwargs)), daemon=True)
    worker.start()
    worker.join(SAFETY)
    assert out, f"execute did not return within {SAFETY}s"
    return out[0]


class Clock:
    """``time`` as execute reads it; a call moves both clocks by STEP (one call at a time)."""

    def __init__(self) -> None:
        self.mono = 50.0
        self.wall = EPOCH

    def monotonic(self) -> float:
        return self.mono

    def time(self) -> float:
        return self.wall

    def step(self) -> None:
        self.mono += STEP
        self.wall += STEP


class Hook:
    """Any hook: records ``(method, args, kwargs)``; raises what ``fail`` maps the first arg to."""

    def __init__(
        self, calls: list[tuple[str, tuple, dict]], clock: Clock, fail: dict[Any, Exception]
    ) -> None:
        self._calls, self._clock, self._fail = calls, clock, fail

    def __getattr__(self, method: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> dict[str, Any]:
            self._calls.append((method, args, kwargs))
            self._clock.step()
            if args and args[0] in self._fail:
                raise self._fail[args[0]]
            return {"RequestId": f"req-{method}-{args[0]}"}

        return call


class Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, msg: str, *args: Any) -> None:
        self.lines.append(msg % args)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(planner, "time", SimpleNamespace(monotonic=c.monotonic, time=c.time))
    return c


INVENTORY = {
    "clouds": {
        "trtc": {
            "app_id": A,
            "rooms": [{"ids": {"room_id": 1234}}, {"ids": {"room_id": "1234"}}],
            "users": [{"ids": {"room_id": 7, "user_id": "u1"}}, {"ids": {"room_id": 7, "user_id": "u2"}}],
        },
        "zego": {"app_id": "9", "mixes": [{"ids": {"task_id": "m1"}}]},
    }
}


def setup(clock: Clock, fail: dict[Any, Exception] | None = None) -> tuple[dict, dict, list]:
    calls: list[tuple[str, tuple, dict]] = []
    hook = Hook(calls, clock, fail or {})
    access = {
        "trtc": Access("trtc", A, "receiver-trtc", lambda: {"trtc": hook}),
        "zego": Access("zego", "9", "receiver-zego", lambda: {"rtc": hook}),
    }
    return planner.build_plan(INVENTORY, zego_mix_user_id="mixer"), access, calls


def test_each_target_is_called_once_with_its_own_arguments(clock) -> None:
    plan, access, calls = setup(clock)
    results, _, interrupted = execute(plan, access, BulkRun(max_concurrency=1))
    assert interrupted is None
    assert sorted(calls, key=repr) == sorted(
        [
            ("stop_mix", ("m1",), {"user_id": "mixer"}),
            ("remove_user", (7, ["u1", "u2"]), {}),
            ("dismiss_room", (1234,), {}),
            ("dismiss_room_by_str_room_id", ("1234",), {}),
        ],
        key=repr,
    )
    assert [r["label"] for r in results] == [t["label"] for t in plan["targets"]]  # plan order
    assert [r["status"] for r in results] == ["done"] * 4


def test_a_result_is_the_targets_identity_and_its_answer_without_the_engines_label(clock) -> None:
    plan, access, _ = setup(clock)
    (mix, *_), _, _ = execute(plan, access, BulkRun(max_concurrency=1))
    target = plan["targets"][0]
    assert target["action"] == "StopMix"
    assert "target" not in mix
    at_ms = mix["at_ms"]
    assert mix == {
        "stage": "mixes",
        "cloud": "zego",
        "product": "ZEGOCLOUD",
        "action": "StopMix",
        "kind": "mixes",
        "ids": {"task_id": "m1"},
        "ref": target["refs"][0],
        "refs": target["refs"],
        "label": "zego:9 mix m1",
        "at_ms": at_ms,
        "status": "done",
        "code": None,
        "request_id": "req-stop_mix-m1",
        "RequestId": "req-stop_mix-m1",
        "maybe_executed": None,
        "after_lost_response": False,
        "timings": mix["timings"],
    }
    # the moment the call started, on the wall clock, in ms: a callback about a later moment wins
    assert int(EPOCH * 1000) <= at_ms < int((EPOCH + 4 * STEP) * 1000)
    assert at_ms % 1 == 0 and isinstance(at_ms, int)


def test_at_ms_is_read_when_each_call_starts(clock) -> None:
    plan, access, _ = setup(clock)
    results, _, _ = execute(plan, access, BulkRun(max_concurrency=1))
    expected, wall = [], EPOCH
    for _ in range(4):  # the wall clock as the calls move it (the same float sums)
        expected.append(int(wall * 1000))
        wall += STEP
    assert sorted(r["at_ms"] for r in results) == expected


def test_the_seconds_until_each_apis_last_call_ended(clock) -> None:
    """One call at a time, each STEP long: the lanes end at 1, 2, 3 and 4 steps, in call order."""
    plan, access, calls = setup(clock)
    _, ended, _ = execute(plan, access, BulkRun(max_concurrency=1))
    lanes = {
        "stop_mix": "zego StopMix",
        "remove_user": "trtc RemoveUser",
        "dismiss_room": "trtc DismissRoom",
        "dismiss_room_by_str_room_id": "trtc DismissRoomByStrRoomId",
    }
    expected = {lanes[method]: round((n + 1) * STEP, 3) for n, (method, _, _) in enumerate(calls)}
    assert ended == expected
    assert list(ended) == sorted(expected)  # by lane name


def test_a_lane_keeps_the_end_of_its_last_call() -> None:
    """Two rooms in one lane, the first call slower: the lane ends with the later of the two."""
    clock = Clock()
    gate = threading.Event()
    calls: list[str] = []

    class Slow:
        def dismiss_room(self, room_id: int) -> dict[str, Any]:
            calls.append(str(room_id))
            if room_id == 1:
                assert gate.wait(20)
                clock.mono = 50.9
            else:
                clock.mono = 50.4
                gate.set()
            return {}

    inv = {"clouds": {"trtc": {"app_id": A, "rooms": [{"ids": {"room_id": 1}}, {"ids": {"room_id": 2}}]}}}
    access = {"trtc": Access("trtc", A, "r", lambda: {"trtc": Slow()})}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(planner, "time", SimpleNamespace(monotonic=clock.monotonic, time=clock.time))
        results, ended, _ = execute(planner.build_plan(inv), access, BulkRun(max_concurrency=4))
    assert sorted(calls) == ["1", "2"] and [r["status"] for r in results] == ["done", "done"]
    assert ended == {"trtc DismissRoom": 0.9}


def test_failed_and_gone_answers_are_results_too(clock) -> None:
    fail = {
        1234: RtcApiError("refused", cloud="trtc", action="DismissRoom", code="FailedOperation"),
        "1234": RtcNotFoundError("no such room", cloud="trtc", action="DismissRoomByStrRoomId", code="x"),
    }
    plan, access, calls = setup(clock, fail)
    results, ended, interrupted = execute(plan, access, BulkRun(max_concurrency=1))
    by_action = {r["action"]: r for r in results}
    assert by_action["DismissRoom"]["status"] == "failed"
    assert by_action["DismissRoom"]["code"] == "FailedOperation"
    assert by_action["DismissRoomByStrRoomId"]["status"] == "already_gone"
    assert len(calls) == len(results) == 4 and interrupted is None
    assert set(ended) == {
        "trtc DismissRoom",
        "trtc DismissRoomByStrRoomId",
        "trtc RemoveUser",
        "zego StopMix",
    }


def test_a_stopped_run_calls_nothing_and_every_target_is_not_started(clock) -> None:
    plan, access, calls = setup(clock)
    run = BulkRun(max_concurrency=1)
    run.stop("stopped by the test")
    log = Log()
    results, ended, interrupted = execute(plan, access, run, log=log)
    assert calls == [] and ended == {} and interrupted is None
    assert [r["status"] for r in results] == ["not_started"] * 4
    assert [r["label"] for r in results] == [t["label"] for t in plan["targets"]]
    assert [line for line in log.lines if line.startswith("ended: ")] == [
        "ended: {'not_started': 4} in 0.0s; per API, last call ended at: {}"
    ]


def test_the_run_is_logged_with_its_lanes_and_counts(clock) -> None:
    plan, access, _ = setup(clock)
    log = Log()
    execute(plan, access, BulkRun(max_concurrency=1), log=log)
    assert log.lines[0] == "ending 4 target(s) in 4 API lane(s), up to 1 calls in flight"
    # the executor's own progress goes to the same log: the last call always says so
    assert any(line.startswith("progress: 4/4 done, 0 remaining, ") for line in log.lines)
    ended = [line for line in log.lines if line.startswith("ended: ")]
    assert ended == [
        "ended: {'done': 4} in 0.5s; per API, last call ended at: {'trtc DismissRoom': 0.123, "
        "'trtc DismissRoomByStrRoomId': 0.247, 'trtc RemoveUser': 0.37, 'zego StopMix': 0.494}"
    ]


def test_an_empty_plan_calls_nothing_and_logs_nothing(clock) -> None:
    log = Log()
    plan = planner.build_plan({})
    assert execute(plan, {}, BulkRun(), log=log) == ([], {}, None)
    assert log.lines == []


def test_an_interruption_is_returned_with_the_results_up_to_it(clock, monkeypatch) -> None:
    """The executor's interruption (the execution_timeout alarm) comes back, not raised, with a
    result per target in the report's shape."""
    alarm = KeyboardInterrupt("alarm")
    seen: list[Any] = []

    def run_jobs(run: Any, jobs: list, *, log: Any = None) -> tuple[list[dict[str, Any]], BaseException]:
        seen.append([(j.lane, j.qps, j.after) for j in jobs])
        return [{"target": j.item.target, "status": "not_started"} for j in jobs], alarm

    monkeypatch.setattr(planner.schedule, "run_jobs", run_jobs)
    plan, access, calls = setup(clock)
    results, ended, interrupted = execute(plan, access, BulkRun(max_concurrency=1))
    assert interrupted is alarm and calls == [] and ended == {}
    assert [(r["action"], r["status"]) for r in results] == [
        (t["action"], "not_started") for t in plan["targets"]
    ]
    assert all("target" not in r for r in results)
    # each job in its API's lane at the API's documented rate, after what it depends on
    assert seen == [
        [
            ("zego StopMix", ENDERS["StopMix"].qps, ()),
            ("trtc RemoveUser", ENDERS["RemoveUser"].qps, ()),
            ("trtc DismissRoom", ENDERS["DismissRoom"].qps, ()),
            ("trtc DismissRoomByStrRoomId", ENDERS["DismissRoomByStrRoomId"].qps, ()),
        ]
    ]


# -- what the receiver is told ---------------------------------------------------------------------


def result(kind: str, action: str, status: str, ids: dict[str, Any], cloud: str = "trtc") -> dict[str, Any]:
    return {"cloud": cloud, "kind": kind, "action": action, "status": status, "ids": ids, "at_ms": 77}


def test_every_target_said_gone_is_recorded_as_ended(monkeypatch) -> None:
    posted: list[tuple[Any, str, str, list]] = []
    monkeypatch.setattr(planner.receiver, "post_corrections", lambda *a: posted.append(a))
    access = {
        "trtc": Access("trtc", A, "receiver-trtc", dict),
        "zego": Access("zego", "9", "receiver-zego", dict),
    }
    results = [
        result("rooms", "DismissRoom", "done", {"room_id": 1}),
        result("rooms", "DismissRoomByStrRoomId", "already_gone", {"room_id": "1", "str_room": True}),
        result("users", "RemoveUser", "done", {"room_id": 7, "user_ids": ["a", "b"]}),
        result("rooms", "DismissRoom", "failed", {"room_id": 2}),
        result("rooms", "DismissRoom", "not_started", {"room_id": 3}),
        result("rooms", "CloseRoom", "done", {"room_id": "z"}, cloud="zego"),
        result("streams", "DropLiveStream", "done", {"stream_name": "s"}, cloud="live"),  # no access
    ]
    planner.record_results(results, access)
    assert posted == [
        (
            "receiver-trtc",
            "trtc",
            A,
            [
                {
                    "kind": "rooms",
                    "ids": {"room_id": 1},
                    "live": False,
                    "at_ms": 77,
                    "reason": "DismissRoom: done",
                },
                {
                    "kind": "rooms",
                    "ids": {"room_id": "1", "str_room": True},  # no typed ref here: as given
                    "live": False,
                    "at_ms": 77,
                    "reason": "DismissRoomByStrRoomId: already_gone",
                },
                {
                    "kind": "users",
                    "ids": {"room_id": 7, "user_id": "a"},
                    "live": False,
                    "at_ms": 77,
                    "reason": "RemoveUser: done",
                },
                {
                    "kind": "users",
                    "ids": {"room_id": 7, "user_id": "b"},
                    "live": False,
                    "at_ms": 77,
                    "reason": "RemoveUser: done",
                },
            ],
        ),
        (
            "receiver-zego",
            "zego",
            "9",
            [
                {
                    "kind": "rooms",
                    "ids": {"room_id": "z"},
                    "live": False,
                    "at_ms": 77,
                    "reason": "CloseRoom: done",
                }
            ],
        ),
    ]


def test_nothing_gone_tells_the_receiver_nothing(monkeypatch) -> None:
    posted: list[Any] = []
    monkeypatch.setattr(planner.receiver, "post_corrections", lambda *a: posted.append(a))
    access = {"trtc": Access("trtc", A, "r", dict)}
    planner.record_results([result("rooms", "DismissRoom", "failed", {"room_id": 1})], access)
    planner.record_results([], access)
    assert posted == []


def test_a_dry_run_audits_each_target_as_planned(monkeypatch) -> None:
    recorded: list[tuple[list, dict]] = []
    monkeypatch.setattr(planner.audit, "record_planned", lambda rows, **kw: recorded.append((rows, kw)))
    plan = planner.build_plan(INVENTORY, zego_mix_user_id="mixer")
    planner.audit_planned(plan, origin="end_event")
    ((rows, kw),) = recorded
    assert kw == {"origin": "end_event"}
    assert [(r["action"], r["label"], r["status"]) for r in rows] == [
        (t["action"], t["label"], "planned") for t in plan["targets"]
    ]
    assert rows[1] == {
        "cloud": "trtc",
        "product": "Tencent Cloud TRTC",
        "action": "RemoveUser",
        "kind": "users",
        "ids": {"room_id": 7, "user_ids": ["u1", "u2"]},
        "ref": plan["targets"][1]["refs"][0],
        "refs": plan["targets"][1]["refs"],
        "label": f"trtc:{A} user u1 in room 7 (int), trtc:{A} user u2 in room 7 (int)",
        "status": "planned",
    }


def test_a_correction_names_the_room_the_plan_ended_whatever_the_json_type_of_its_id(
    clock, monkeypatch
) -> None:
    """``{"room_id": "1234", "str_room": false}`` is TRTC's numeric room (refs.py, the receiver's
    item_key): its DismissRoom must be recorded against the numeric room, not the string room
    "1234". Posted as ``{"room_id": "1234"}`` (str_room dropped) the receiver read it as the string
    room: a live string room "1234" marked ended (verification then misses it) and the numeric
    room's lost callback left uncorrected. Same for the users of such a room, and the other way
    round (an int id with ``str_room: true``)."""
    from airflow_provider_rtc.callbacks.inventory import item_key
    from airflow_provider_rtc.discovery.refs import ref_of

    inventory = {
        "clouds": {
            "trtc": {
                "app_id": A,
                "rooms": [
                    {"ids": {"room_id": "1234", "str_room": False}},
                    {"ids": {"room_id": 55, "str_room": True}},
                ],
                "users": [{"ids": {"room_id": "77", "str_room": False, "user_id": "u"}}],
            },
            "zego": {"app_id": "9", "rooms": [{"ids": {"room_id": "1234"}}]},  # no id types on ZEGO
        }
    }
    plan = planner.build_plan(inventory)
    calls: list[tuple[str, tuple, dict]] = []
    hook = Hook(calls, clock, {})
    access = {
        "trtc": Access("trtc", A, "receiver-trtc", lambda: {"trtc": hook}),
        "zego": Access("zego", "9", "receiver-zego", lambda: {"rtc": hook}),
    }
    results, _, _ = execute(plan, access, BulkRun(max_concurrency=1))
    assert sorted(m for m, _, _ in calls) == [
        "close_room",
        "dismiss_room",
        "dismiss_room_by_str_room_id",
        "remove_user",
    ]
    posted: dict[str, list[dict[str, Any]]] = {}
    monkeypatch.setattr(
        planner.receiver,
        "post_corrections",
        lambda target, cloud, app, c: posted.setdefault(cloud, []).extend(c),
    )
    planner.record_results(results, access)
    assert posted["zego"] == [
        {
            "kind": "rooms",
            "ids": {"room_id": "1234"},
            "live": False,
            "at_ms": results[-1]["at_ms"],
            "reason": "CloseRoom: done",
        }
    ]
    ended = {ResourceRef.from_dict(r) for t in plan["targets"] if t["cloud"] == "trtc" for r in t["refs"]}
    assert {ref_of("trtc", A, c["kind"], c["ids"]) for c in posted["trtc"]} == ended
    # the receiver's own key: the numeric room 1234 and its user in numeric room 77, the string room "55"
    assert sorted(item_key(c["kind"], c["ids"]) for c in posted["trtc"]) == sorted(
        [
            item_key("rooms", {"room_id": 1234}),
            item_key("rooms", {"room_id": "55"}),
            item_key("users", {"room_id": 77, "user_id": "u"}),
        ]
    )


def test_a_target_after_a_failed_one_names_it(clock) -> None:
    """The room's dismissal waits for its recording; when that stop failed, the dismissal's result
    says which call it came after (the engine's label: action and target)."""
    inventory = {
        "clouds": {
            "trtc": {
                "app_id": A,
                "recordings": [{"ids": {"task_id": "t1", "room_id": 5}}],
                "rooms": [{"ids": {"room_id": 5}}],
            }
        }
    }
    plan = planner.build_plan(inventory)
    calls: list[tuple[str, tuple, dict]] = []
    refused = RtcApiError("refused", cloud="trtc", action="DeleteCloudRecording", code="FailedOperation")
    hook = Hook(calls, clock, {"t1": refused})
    access = {"trtc": Access("trtc", A, "r", lambda: {"trtc": hook})}
    (recording, room), _, _ = execute(plan, access, BulkRun(max_concurrency=1))
    assert [m for m, _, _ in calls] == ["delete_cloud_recording", "dismiss_room"]
    assert (recording["status"], room["status"]) == ("failed", "done")
    assert room["after_failed"] == [f"DeleteCloudRecording trtc:{A} recording t1 in room 5 (int)"]
