"""EndEventOperator against the sandbox with 20% of lifecycle callbacks lost: the dry run touches
nothing, the end leaves nothing, and verification never calls an event ended while something is live."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_rtc.cleanup import plan as planner
from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.operators.event import DiscoverLiveResourcesOperator, EndEventOperator

from .conftest import EVENT, LOSSY, destructive_calls, discovered, live_in_sandbox

ALL = {"allow_all": True}


class _TI:
    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def _seed(bed: Any) -> None:
    bed.server.backend.zego.room_list_enabled = True
    bed.server.seed(EVENT)
    bed.settle()


@pytest.mark.slow  # EndEventOperator end to end on sandbox + receiver: e2e-like (15-30 s)
@pytest.mark.parametrize("bed", [LOSSY], indirect=True)
def test_dry_run_plans_everything_and_makes_no_destructive_call(bed):
    _seed(bed)
    before = destructive_calls(bed.server)
    report = EndEventOperator(task_id="end", selector=ALL, dry_run=True).execute({})
    assert destructive_calls(bed.server) == before == 0
    plan = report["plan"]
    assert [s["stage"] for s in plan["stages"]] == ["mixes", "recordings", "streams and users", "rooms"]
    actions = {c["action"]: c["calls"] for s in plan["stages"] for c in s["calls"]}
    assert actions == {
        "StopMix": 2,
        "DeleteCloudRecording": 3,
        "StopRecord": 2,
        "DropLiveStream": 3,
        "DismissRoom": 8,
        "DismissRoomByStrRoomId": 2,
        "CloseRoom": 5,
    }
    rooms = next(s for s in plan["stages"] if s["stage"] == "rooms")
    assert rooms["seconds"] == pytest.approx(5.0)  # ZEGO CloseRoom: 1 call/s
    assert report["results"] == [] and live_in_sandbox(bed.server)["zego rooms"]


@pytest.mark.slow  # EndEventOperator end to end on sandbox + receiver: e2e-like (15-30 s)
@pytest.mark.parametrize("bed", [LOSSY], indirect=True)
def test_the_real_run_takes_the_dry_runs_inventory_instead_of_discovering_again(bed):
    _seed(bed)
    dry = EndEventOperator(task_id="dry", selector=ALL, dry_run=True).execute({})
    assert dry["inventory"]["clouds"] and destructive_calls(bed.server) == 0
    planned = sorted(t["label"] for t in dry["plan"]["targets"])
    # the whole dry-run report, as `inventory=dry.output` hands it over
    real = EndEventOperator(task_id="end", inventory=dry, verify_timeout=60, verify_interval=1).execute({})
    assert "discover" not in real["timings"]  # nothing discovered again
    assert sorted(t["label"] for t in real["plan"]["targets"]) == planned
    assert real["survivors"] == [] and not any(live_in_sandbox(bed.server).values())


@pytest.mark.slow  # EndEventOperator end to end on sandbox + receiver: e2e-like (15-30 s)
@pytest.mark.parametrize("bed", [LOSSY], indirect=True)
def test_end_event_ends_everything_and_verifies_nothing_is_left(bed):
    _seed(bed)
    truth = live_in_sandbox(bed.server)
    op = EndEventOperator(task_id="end", selector=ALL, verify_timeout=60, verify_interval=1)
    report = op.execute({})
    assert report["survivors"] == []
    assert not any(live_in_sandbox(bed.server).values()), live_in_sandbox(bed.server)
    statuses = {r["status"] for r in report["results"]}
    assert statuses <= {"done", "already_gone"}
    ended_rooms = {str(r["ids"]["room_id"]) for r in report["results"] if r["kind"] == "rooms"}
    assert ended_rooms == truth["trtc rooms"] | truth["zego rooms"]
    assert report["corrections"]  # reconciliation corrected what the lost callbacks hid
    assert set(report["timings"]) >= {"discover", "end", "verify", "total"}


@pytest.mark.slow  # EndEventOperator end to end on sandbox + receiver: e2e-like (15-30 s)
@pytest.mark.parametrize("bed", [LOSSY], indirect=True)
def test_end_event_takes_an_upstream_inventory(bed):
    _seed(bed)
    inventory = DiscoverLiveResourcesOperator(
        task_id="d", selector={"room_id_prefix": "room_"}, clouds=["zego"]
    ).execute({})
    assert discovered(inventory)["zego rooms"] == live_in_sandbox(bed.server)["zego rooms"]
    report = EndEventOperator(task_id="end", inventory=inventory, clouds=["zego"], verify_interval=1).execute(
        {}
    )
    assert report["survivors"] == [] and not live_in_sandbox(bed.server)["zego rooms"]
    assert live_in_sandbox(bed.server)["trtc rooms"]  # out of scope: untouched


@pytest.mark.slow  # EndEventOperator end to end on sandbox + receiver: e2e-like (15-30 s)
def test_verify_fails_while_a_room_is_still_live(bed):
    """CloseRoom keeps failing for one room: the sandbox still has it, so the task must fail and name it."""
    _seed(bed)
    keep = sorted(live_in_sandbox(bed.server)["zego rooms"])[0]
    bed.server.backend.set_faults(
        {"rules": [{"action": "CloseRoom", "kind": "internal", "probability": 1.0}]}
    )
    ti = _TI()
    op = EndEventOperator(
        task_id="end", selector={"room_ids": [keep]}, clouds=["zego"], verify_timeout=2, verify_interval=1
    )
    with pytest.raises(AirflowException, match="still live"):
        op.execute({"ti": ti})
    assert keep in live_in_sandbox(bed.server)["zego rooms"]
    survivors = ti.pushed["report"]["survivors"]
    assert {"zego", "rooms", keep} <= {
        survivors[0]["cloud"],
        survivors[0]["kind"],
        survivors[0]["ids"]["room_id"],
    }


@pytest.mark.slow  # EndEventOperator end to end on sandbox + receiver: e2e-like (15-30 s)
def test_verify_sees_a_room_that_comes_back(bed, monkeypatch):
    """A user re-enters a dismissed TRTC room right after the end: verification must not pass."""
    _seed(bed)
    room = min(r["room_id"] for r in bed.server.state()["trtc"]["rooms"] if not r["str_room"])
    original = planner.record_results

    def and_someone_comes_back(results, access):
        original(results, access)
        bed.server.backend.trtc.add_users(1400000001, room, ["late_joiner"], bed.server.backend.now())
        bed.settle()

    monkeypatch.setattr(planner, "record_results", and_someone_comes_back)
    ti = _TI()
    op = EndEventOperator(
        task_id="end", selector={"room_ids": [room]}, clouds=["trtc"], verify_timeout=2, verify_interval=1
    )
    with pytest.raises(AirflowException, match="still live"):
        op.execute({"ti": ti})
    assert str(room) in live_in_sandbox(bed.server)["trtc rooms"]
    assert {s["ids"].get("user_id") for s in ti.pushed["report"]["survivors"]} >= {"late_joiner"}


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"selector": {}}, "selector"),
        ({"selector": {"room_id_prefix": "r"}}, "selector.room_id_prefix"),
        ({"selector": {"room_prefix": "conf"}}, "selector.room_prefix"),
        ({"selector": {"room_ids": ["a"], "room_id_prefix": "zz"}}, "selector.room_id_prefix"),
        (
            {"selector": {"started_after": "2026-11-02", "started_before": "2026-11-01"}},
            "selector.started_after",
        ),
        ({"selector": {"idle_for": -1}}, "selector.idle_for"),
        ({"selector": {"room_ids": ["a"]}, "inventory": {"clouds": {}}}, "inventory"),
        ({"selector": {"room_ids": ["a"]}, "clouds": ["aws"]}, "clouds"),
        ({"selector": {"room_ids": ["a"]}, "dry_run": "maybe"}, "dry_run"),
    ],
)
def test_bad_input_is_refused_before_any_call(kwargs, param):
    with pytest.raises(RtcValidationError) as err:
        EndEventOperator(task_id="end", **kwargs).execute({})
    assert err.value.param == param
