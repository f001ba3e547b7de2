"""Bulk TRTC and ZEGO cleanups against the sandbox enforcing the documented QPS: every target
ends, none is throttled, already-gone targets are reported as such."""

from __future__ import annotations

import pytest
import requests
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.operators.trtc import BulkDismissRoomsOperator
from airflow_provider_rtc.operators.zego import (
    BulkCloseRoomsOperator,
    BulkDeleteStreamsOperator,
    BulkKickoutUsersOperator,
)
from tests.support.sandbox import seed, totals


def _state(server: SandboxServer) -> dict:
    return requests.get(f"{server.url}/_sandbox/state", timeout=5).json()


def test_dismisses_rooms_at_the_paced_rate_without_throttling(sandbox: SandboxServer) -> None:
    rooms = seed(sandbox, {"trtc": {"rooms": 30, "users_per_room": 1}})["trtc"]["rooms"]
    summary = BulkDismissRoomsOperator(task_id="bulk", room_ids=[*rooms, 999_999]).execute({})
    assert summary["counts"] == {"done": 30, "already_gone": 1}
    assert totals(sandbox)["throttled"] == 0
    assert summary["rate_per_s"] <= 21.0  # paced at the documented 20/s (the first call is free)
    assert _state(sandbox)["trtc"]["rooms"] == []


def test_string_room_ids(sandbox: SandboxServer) -> None:
    rooms = seed(sandbox, {"trtc": {"rooms": 0, "str_rooms": 3, "users_per_room": 1}})["trtc"]["str_rooms"]
    summary = BulkDismissRoomsOperator(task_id="bulk", room_ids=rooms, str_room_id=True).execute({})
    assert summary["counts"] == {"done": 3}


def test_invalid_room_ids_fail_without_a_call(sandbox: SandboxServer) -> None:
    with pytest.raises(RtcValidationError) as err:
        BulkDismissRoomsOperator(task_id="bulk", room_ids=[12345, "abc", 0]).execute({})
    assert err.value.param == "room_ids[1]"
    assert totals(sandbox)["calls"] == 0


def test_deletes_streams_at_ten_per_second(sandbox: SandboxServer) -> None:
    streams = seed(sandbox, {"zego": {"rooms": 2, "users_per_room": 1, "streams_per_room": 6}})["zego"][
        "streams"
    ]
    summary = BulkDeleteStreamsOperator(task_id="bulk", streams=streams).execute({})
    assert summary["counts"] == {"done": 12}
    assert totals(sandbox)["throttled"] == 0
    assert all(not room["streams"] for room in _state(sandbox)["zego"]["rooms"])


def test_stream_items_must_be_objects(sandbox: SandboxServer) -> None:
    with pytest.raises(RtcValidationError) as err:
        BulkDeleteStreamsOperator(task_id="bulk", streams=["room-1/stream-1"]).execute({})
    assert err.value.param == "streams[0]"
    assert totals(sandbox)["calls"] == 0


@pytest.mark.slow  # the real pacing at 1/s, measured on the wall clock
@pytest.mark.timing  # serially, on a core of its own (make test-all)
def test_closes_rooms_at_one_per_second(sandbox: SandboxServer) -> None:
    """Three CloseRoom calls at ZEGO's 1/s: the pacer, not the cloud, sets the pace.

    The sandbox does not throttle CloseRoom here, so nothing but the client's pacer can space the
    calls: the elapsed time (which load can only lengthen) must hold two full intervals, with one
    call per room (no retry). Counting the sandbox's throttles at 1/s instead failed under load:
    the pacer keeps 3% headroom (30 ms at 1/s), and a loaded machine delays the first call, which
    also opens the connection, by more than that, so its successor arrives "early".
    """
    rooms = seed(sandbox, {"zego": {"rooms": 3, "users_per_room": 2, "streams_per_room": 1}})["zego"]["rooms"]
    requests.put(f"{sandbox.url}/_sandbox/limits", json={"qps": {"CloseRoom": 1000}}, timeout=5)
    summary = BulkCloseRoomsOperator(task_id="bulk", room_ids=rooms).execute({})
    assert summary["counts"] == {"done": 3}
    assert summary["elapsed_s"] >= 2 * 0.97  # two full intervals at 1/s (the first call is free)
    assert totals(sandbox)["calls"] == 3 and totals(sandbox)["throttled"] == 0  # one call per room
    assert _state(sandbox)["zego"]["rooms"] == []


def test_kicks_users_out_of_many_rooms_in_one_task(sandbox: SandboxServer) -> None:
    seed(sandbox, {"zego": {"rooms": 4, "users_per_room": 2}})
    rooms = _state(sandbox)["zego"]["rooms"]
    kicks = [{"room_id": r["room_id"], "user_ids": r["users"][:1]} for r in rooms]
    summary = BulkKickoutUsersOperator(task_id="bulk", kicks=[*kicks, kicks[0]]).execute({})
    assert summary["counts"] == {"done": 4} and summary["duplicates_removed"] == [kicks[0]]
    assert totals(sandbox)["throttled"] == 0
    left = {r["room_id"]: set(r["users"]) for r in _state(sandbox)["zego"]["rooms"]}
    assert all(k["user_ids"][0] not in left[k["room_id"]] for k in kicks)  # kicked; the others stay
    assert all(len(users) == 1 for users in left.values())


def test_kick_items_are_validated_before_any_call(sandbox: SandboxServer) -> None:
    bad = [
        {"room_id": "room_1", "user_ids": ["u1"]},
        {"room_id": "room_2", "user_ids": [f"u{i}" for i in range(6)]},
    ]
    with pytest.raises(RtcValidationError) as err:
        BulkKickoutUsersOperator(task_id="bulk", kicks=bad).execute({})
    assert err.value.param == "kicks[1].user_ids"
    assert totals(sandbox)["calls"] == 0
