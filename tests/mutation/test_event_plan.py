"""The EndEvent plan of one inventory with every kind in it, pinned whole: its targets and their order,
what dismissing a room covers, the time at the documented limits, and the table the task logs.

Written for `make mutate` (issue 24 item 5; cleanup/plan.py ``build_plan`` and ``render_table``).
The expected plan (data/event_plan.json, with the inventory) and table (data/event_plan_table.txt)
were produced by this code and read line by line before they were kept: numeric room 1234 and string
room "abc" are two targets; 12 users of TRTC room 77 take two RemoveUser calls (10 a call); the user
of the string room "77" is not in numeric room 77; a user with no room gets no call; users and streams
inside an ended room are covered, not called; the ZEGO mix without a user gets ``zego_mix_user_id``.
A change to the plan shows here as a diff to read, not as a silent change of what EndEvent ends.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_provider_rtc.cleanup.plan import TABLE_TARGETS, build_plan, estimate, render_table

DATA = Path(__file__).parent / "data"
GOLDEN = json.loads((DATA / "event_plan.json").read_text())


def golden_plan() -> dict:
    # built per test: from a module fixture build_plan ran in the first test only, so mutmut (which
    # maps a function to the tests that run it) judged its mutants by that test alone
    return build_plan(GOLDEN["inventory"], zego_mix_user_id="mixer")


def test_every_target_in_order_with_its_ids_refs_and_dependencies() -> None:
    assert json.loads(json.dumps(golden_plan()["targets"])) == GOLDEN["plan"]["targets"]


def test_the_golden_plans_stages_calls_covered_items_and_time() -> None:
    plan = golden_plan()
    got = json.loads(json.dumps({k: v for k, v in plan.items() if k != "targets"}))
    assert got == {k: v for k, v in GOLDEN["plan"].items() if k != "targets"}
    assert plan["total_calls"] == len(plan["targets"]) == 16
    assert plan["estimated_seconds"] == round(estimate(plan["targets"]), 2)


def test_the_table_the_task_logs_for_the_golden_plan() -> None:
    assert render_table(golden_plan()) + "\n" == (DATA / "event_plan_table.txt").read_text()


def test_the_mix_user_is_the_mixs_own_else_the_given_one_else_none() -> None:
    mixes = {
        "clouds": {
            "zego": {
                "app_id": "9",
                "mixes": [{"ids": {"task_id": "a", "user_id": "own"}}, {"ids": {"task_id": "b"}}],
            }
        }
    }
    assert [t["user_id"] for t in build_plan(mixes, zego_mix_user_id="given")["targets"]] == ["own", "given"]
    assert [t["user_id"] for t in build_plan(mixes)["targets"]] == ["own", None]


def test_an_empty_inventory_plans_nothing_and_says_so() -> None:
    plan = build_plan({})
    assert plan == {
        "stages": [
            {"stage": stage, "calls": [], "covered": [], "seconds": 0.0}
            for stage in ("mixes", "recordings", "streams and users", "rooms")
        ],
        "targets": [],
        "total_calls": 0,
        "estimated_seconds": 0.0,
        "slowest_api": None,
        "stage_by_stage_seconds": 0.0,
    }
    assert render_table(plan).splitlines()[1:] == [
        "1  mixes              -     (nothing)                         0             0.0s",
        "2  recordings         -     (nothing)                         0             0.0s",
        "3  streams and users  -     (nothing)                         0             0.0s",
        "4  rooms              -     (nothing)                         0             0.0s",
        "total: 0 destructive call(s), about 0.0s at the documented rate limits (APIs side by side, each "
        "target once what it depends on ended)",
        "nothing in scope is live: no destructive call will be made",
    ]


@pytest.mark.parametrize(("rooms", "more"), [(TABLE_TARGETS, None), (TABLE_TARGETS + 3, 3)])
def test_the_table_lists_the_first_targets_and_counts_the_rest(rooms: int, more: int | None) -> None:
    inventory = {
        "clouds": {
            "zego": {"app_id": "9", "rooms": [{"ids": {"room_id": f"r{i:02d}"}} for i in range(rooms)]}
        }
    }
    lines = render_table(build_plan(inventory)).splitlines()
    listed = [line for line in lines if line.startswith("   rooms ")]
    assert len(listed) == TABLE_TARGETS
    assert listed[-1].endswith(f"zego:9 room r{TABLE_TARGETS - 1:02d}")
    if more:
        assert lines[-1] == f"   ... and {more} more (all in the returned plan)"
    else:
        assert "more (all in the returned plan)" not in lines[-1]
    assert f"slowest API: zego CloseRoom, {rooms} call(s) at 1/s = {rooms:.1f}s" in lines


def test_an_inventory_without_app_ids_plans_under_a_dash() -> None:
    plan = build_plan({"clouds": {"zego": {"rooms": [{"ids": {"room_id": "r"}}]}}})
    assert plan["targets"][0]["label"] == "zego:- room r"


def test_users_outside_the_planned_rooms_are_removed_room_by_room_in_order() -> None:
    """The receiver lists users in its own order; their calls come in the order of their rooms."""
    users = [{"ids": {"room_id": room, "user_id": user}} for room, user in ((9, "a"), (8, "b"), (9, "c"))]
    plan = build_plan({"clouds": {"trtc": {"app_id": "1", "users": users}}})
    assert [t["ids"] for t in plan["targets"]] == [
        {"room_id": 8, "user_ids": ["b"]},
        {"room_id": 9, "user_ids": ["a", "c"]},
    ]
