"""The ender table and the generic bulk form: every destructive API has a row and a bulk, results
share one shape, batching is the catalog's, and StopAITranscription (the worked example of
docs/cleanup-engine.md) ends through the table against the sandbox."""

from __future__ import annotations

import pytest
import requests
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc import catalog
from airflow_provider_rtc.cleanup import result as shape
from airflow_provider_rtc.cleanup.enders import ENDERS, ROWS, ender, ender_for
from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.identity import ID_INT, ID_STR
from airflow_provider_rtc.operators.bulk import BulkEndOperator, EndOperator
from airflow_provider_rtc.operators.trtc import DismissRoomOperator, StopAITranscriptionOperator
from tests.support.sandbox import seed, totals

#: the destructive APIs that end event resources (VOD DeleteMedia deletes lake files, not a live
#: resource: the storage operators own it)
EVENT_CLOUDS = {"trtc", "live", "rtc", "cloudrecord"}


def test_every_destructive_api_has_exactly_one_ender_row() -> None:
    destructive = {a.action for a in catalog.CATALOG.values() if a.destructive and a.product in EVENT_CLOUDS}
    assert destructive == set(ENDERS)
    assert len(ROWS) == len(ENDERS)  # no action twice
    assert "StopAITranscription" in ENDERS


def test_the_room_id_type_picks_the_trtc_api_in_one_place() -> None:
    assert ender_for("trtc", "rooms", ID_INT).action == "DismissRoom"
    assert ender_for("trtc", "rooms", ID_STR).action == "DismissRoomByStrRoomId"
    assert ender_for("trtc", "users", ID_STR).action == "RemoveUserByStrRoomId"
    assert ender_for("zego", "rooms").action == "CloseRoom"


def test_batching_and_dependencies_come_from_the_table() -> None:
    assert ender("RemoveUser").batch == catalog.REMOVE_USER.batch == 10
    assert ender("KickoutUser").batch == catalog.KICKOUT_USER.batch == 5
    assert ender("DismissRoom").batch is None
    assert set(ender("CloseRoom").after) >= {"users", "streams", "mixes", "recordings"}
    assert ender("DeleteStream").after == ("mixes",)
    assert ender("StopMix").after == ()


def test_an_unknown_action_is_refused_when_the_dag_is_parsed() -> None:
    with pytest.raises(RtcValidationError) as err:
        BulkEndOperator(task_id="b", action="DismisRoom", targets=[1])
    assert err.value.param == "action"


def test_bulk_end_stops_ai_transcriptions_and_reads_gone_as_done(sandbox: SandboxServer) -> None:
    tasks = seed(sandbox, {"trtc": {"ai_tasks": 3}})["trtc"]["ai_tasks"]
    op = BulkEndOperator(task_id="b", action="StopAITranscription", targets=[*tasks, "never-started"])
    summary = op.execute({})
    assert summary["counts"] == {"done": 3, "already_gone": 1}
    gone = summary["results"][-1]
    assert gone["code"] == "FailedOperation.TaskNotExist" and gone["status"] == "already_gone"
    for r in summary["results"]:
        assert set(shape.KEYS) <= set(r)
        assert r["cloud"] == "trtc" and r["action"] == "StopAITranscription" and r["kind"] == "tasks"
        assert "kind_of_error" not in r
    # stopped tasks are gone: a second bulk finds each already gone
    again = BulkEndOperator(task_id="b", action="StopAITranscription", targets=tasks).execute({})
    assert again["counts"] == {"already_gone": 3}


def test_single_and_bulk_results_have_the_same_keys(sandbox: SandboxServer) -> None:
    tasks = seed(sandbox, {"trtc": {"ai_tasks": 2, "rooms": 1}})["trtc"]
    single = StopAITranscriptionOperator(task_id="s", task_id_to_stop=tasks["ai_tasks"][0]).execute({})
    mapped = EndOperator(task_id="m", action="StopAITranscription", target=tasks["ai_tasks"][1]).execute({})
    room = DismissRoomOperator(task_id="d", room_id=tasks["rooms"][0]).execute({})
    bulk = BulkEndOperator(task_id="b", action="DismissRoom", targets=tasks["rooms"]).execute({})
    for r in (single, mapped, room, bulk["results"][0]):
        assert set(shape.KEYS) <= set(r), r
        assert r["cloud"] == "trtc" and r["product"] == "Tencent Cloud TRTC"
        assert r["timings"]["elapsed_s"] >= 0
    assert single["status"] == mapped["status"] == room["status"] == "done"
    assert bulk["results"][0]["status"] == "already_gone"
    assert room["ref"] == {
        "cloud": "trtc",
        "app_id": "1400000001",
        "kind": "rooms",
        "id": str(tasks["rooms"][0]),
        "id_type": "int",
        "room": "",
    }


def test_bulk_end_splits_a_long_user_list_at_the_catalog_batch(sandbox: SandboxServer) -> None:
    trtc = seed(sandbox, {"trtc": {"rooms": 1, "users_per_room": 23}})["trtc"]
    room = trtc["rooms"][0]
    users = trtc["users"][str(room)]
    summary = BulkEndOperator(
        task_id="b", action="RemoveUser", targets=[{"room_id": room, "user_ids": users}]
    ).execute({})
    assert [len(r["ids"]["user_ids"]) for r in summary["results"]] == [10, 10, 3]
    assert summary["counts"] == {"done": 3} and totals(sandbox)["calls"] == 3


def test_every_item_is_checked_before_a_hook_is_built_or_a_call_made(sandbox: SandboxServer) -> None:
    op = BulkEndOperator(
        task_id="b",
        action="DeleteStream",
        targets=[{"room_id": "r", "user_id": "u", "stream_id": "s"}, {"room_id": "r"}],
    )
    with pytest.raises(RtcValidationError) as err:
        op.execute({})
    assert err.value.param == "targets[1]" and "user_id" in str(err.value)
    assert "_end_hook" not in op.__dict__
    assert requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()["totals"]["calls"] == 0


def test_end_operator_refuses_more_users_than_one_call_takes() -> None:
    op = EndOperator(task_id="e", action="KickoutUser", target={"room_id": "r", "user_ids": list("abcdef")})
    with pytest.raises(RtcValidationError, match="at most 5 user_ids per KickoutUser call"):
        op.execute({})


def test_plan_targets_take_api_stage_batch_and_after_from_the_table() -> None:
    from airflow_provider_rtc.cleanup.plan import build_plan

    inventory = {
        "clouds": {
            "trtc": {
                "app_id": "1400000001",
                "rooms": [{"ids": {"room_id": "lobby"}}],
                "users": [{"ids": {"room_id": 7, "user_id": f"u{i:02d}"}} for i in range(12)],
            },
            "zego": {
                "app_id": "99",
                "mixes": [{"ids": {"task_id": "m1"}}],
                "rooms": [{"ids": {"room_id": "r"}}],
            },
        }
    }
    targets = build_plan(inventory)["targets"]
    by_action = {t["action"]: t for t in targets}
    assert [t["action"] for t in targets] == [
        "StopMix",
        "RemoveUser",
        "RemoveUser",
        "DismissRoomByStrRoomId",
        "CloseRoom",
    ]
    assert [len(t["ids"]["user_ids"]) for t in targets if t["action"] == "RemoveUser"] == [10, 2]
    assert (
        by_action["RemoveUser"]["after"] == ["mixes"]
        and by_action["RemoveUser"]["stage"] == "streams and users"
    )
    assert by_action["RemoveUser"]["room"] == {
        "cloud": "trtc",
        "app_id": "1400000001",
        "kind": "rooms",
        "id": "7",
        "id_type": "int",
        "room": "",
    }
    assert "users" in by_action["CloseRoom"]["after"] and by_action["StopMix"]["room"] is None
    assert {t["product"] for t in targets} == {"Tencent Cloud TRTC", "ZEGOCLOUD"}
