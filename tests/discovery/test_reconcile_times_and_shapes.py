"""Reconciliation trusts no time it cannot place, takes no busy room for idle, and reads the vendors'
documented shapes (the sandbox answers in them: TaskidList, CreateTime in ms, code 9, robots)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import httpx
import pytest
from rtc_sandbox.receiver import LIVE_KEY

from airflow_provider_rtc.discovery.discover import build_access, discover
from airflow_provider_rtc.discovery.reconcile import reconcile_zego
from airflow_provider_rtc.discovery.selector import Selector
from airflow_provider_rtc.exceptions import RtcAuthError, RtcError, RtcValidationError
from airflow_provider_rtc.operators.event import DiscoverLiveResourcesOperator, EndEventOperator
from airflow_provider_rtc.signing.callbacks import live_callback_sign

from .conftest import live_in_sandbox

ALL = Selector.parse({}, allow_all=True)


def _access(clouds: tuple[str, ...]) -> Any:
    return build_access(
        clouds, tencentcloud_conn_id="tencentcloud_default", zegocloud_conn_id="zegocloud_default"
    )


# -- Live: a stop-push proves nothing until the state API agrees ---------------------------------------


def test_a_forged_future_dated_stop_push_cannot_hide_a_live_stream(bed):
    bed.server.seed({"live": {"streams": 1}})
    bed.settle()
    (stream,) = bed.server.state()["live"]["streams"]
    bed.server.backend.live.unlisted.add(stream["stream_name"])  # the online list misses it
    t = int(time.time()) + 601  # a new notification's signature: Tencent signs only key + t
    forged = {
        "appid": bed.server.backend.live.app_id,
        "app": stream["domain_name"],
        "appname": stream["app_name"],
        "stream_id": stream["stream_name"],
        "event_type": 0,
        "event_time": int(time.time()) + 10 * 365 * 86400,
        "t": t,
        "sign": live_callback_sign(LIVE_KEY, t),
    }
    assert httpx.post(f"{bed.url}/live/callback", json=forged).status_code == 200
    report = EndEventOperator(task_id="end", selector={"allow_all": True}, clouds=["live"]).execute({})
    assert [r["action"] for r in report["results"]] == ["DropLiveStream"]
    assert not live_in_sandbox(bed.server)["live streams"]  # ended for real, not only on paper


# -- TRTC: busy is never idle --------------------------------------------------------------------------


@pytest.mark.parametrize("bed", [{"faults": {"lifecycle": {"lost": 1.0, "kinds": ["user"]}}}], indirect=True)
def test_idle_for_is_refused_with_trtc_so_a_busy_room_is_never_dismissed(bed):
    (room,) = bed.server.seed({"trtc": {"rooms": 1, "users_per_room": 2}})["trtc"]["rooms"]
    bed.settle()
    with pytest.raises(RtcValidationError, match="no free API listing a room's users"):
        EndEventOperator(task_id="end", selector={"idle_for": 0}, clouds=["trtc", "zego"]).execute({})
    with pytest.raises(RtcValidationError, match="idle_for"):
        DiscoverLiveResourcesOperator(task_id="d", selector={"idle_for": 0}, clouds=["trtc"]).execute({})
    assert live_in_sandbox(bed.server)["trtc rooms"] == {str(room)}
    # ZEGO lists its users: idle_for stays available there
    DiscoverLiveResourcesOperator(task_id="d", selector={"idle_for": 0}, clouds=["zego"]).execute({})


# -- ZEGO shapes ---------------------------------------------------------------------------------------


def test_running_zego_recordings_are_read_from_taskid_list(bed):
    bed.server.seed({"zego": {"rooms": 2, "users_per_room": 1, "streams_per_room": 1, "recordings": 2}})
    bed.settle()
    result = discover(_access(("zego",)), ALL)
    assert len(result["clouds"]["zego"]["recordings"]) == 2
    assert not [c for c in result["corrections"] if "not recording" in c["reason"]]


@pytest.mark.parametrize(
    "bed", [{"faults": {"lifecycle": {"lost": 1.0, "kinds": ["stream"]}}}], indirect=True
)
def test_a_stream_only_the_list_api_knows_gets_its_real_start(bed):
    bed.server.seed({"zego": {"rooms": 1, "users_per_room": 1, "streams_per_room": 1}})
    bed.settle()
    (stream,) = discover(_access(("zego",)), ALL)["clouds"]["zego"]["streams"]
    started = dt.datetime.fromisoformat(stream["started_at"])
    assert abs((dt.datetime.now(dt.UTC) - started).total_seconds()) < 120  # CreateTime is ms
    assert stream["started_source"] == "cloud"


def test_zego_robots_are_not_users_to_count_or_kick(bed):
    sb = bed.server.backend
    (room,) = bed.server.seed({"zego": {"rooms": 1, "users_per_room": 1}})["zego"]["rooms"]
    sb.zego.login(sb.config.zego_app.app_id, room, "recorder_robot", sb.now(), role=4)
    bed.settle()
    users = discover(_access(("zego",)), ALL)["clouds"]["zego"]["users"]
    assert [u["ids"]["user_id"] for u in users] == [f"user_{room.split('_')[1]}_1"]


class _Rtc:
    """A ZEGO rtc hook answering the calls reconcile_zego makes (logic only; the wire is the sandbox's)."""

    def __init__(self, pages: list[dict[str, Any]] | Exception, users: dict[str, int]) -> None:
        self.pages, self.users, self.counted = pages, users, []

    def describe_room_list(self, page_index: int, page_size: int) -> dict[str, Any]:
        if isinstance(self.pages, Exception):
            raise self.pages
        return {"Data": self.pages[page_index - 1]}

    def describe_user_num(self, rooms: list[str]) -> dict[str, Any]:
        self.counted += rooms
        return {"Data": {"UserCountList": [{"RoomId": r, "UserCount": self.users.get(r, 0)} for r in rooms]}}

    def describe_user_list(self, room: str, marker: Any = None) -> dict[str, Any]:
        return {"Data": {"UserList": [], "Marker": ""}}

    def describe_simple_stream_list(self, room: str) -> dict[str, Any]:
        return {"Data": {"StreamList": []}}


class _Record:
    def describe_tasks(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {"Data": {"TotalCount": 0, "TaskidList": []}}


def _known(*rooms: str) -> list[dict[str, Any]]:
    return [{"kind": "rooms", "ids": {"room_id": r}, "live": True} for r in rooms]


def test_a_room_missing_from_a_several_page_room_list_is_ended_only_with_0_users():
    pages = [
        {"TotalCount": 201, "RoomList": [{"RoomId": f"r{i}", "UserCount": 5} for i in range(200)]},
        {"TotalCount": 201, "RoomList": [{"RoomId": "moved", "UserCount": 1}]},
    ]
    rtc = _Rtc(pages, {"busy": 3})  # "busy" moved to an already-read page between the two calls
    fixes = reconcile_zego(rtc, _Record(), _known("busy", "gone"), ALL, [])
    ended = {f["ids"]["room_id"] for f in fixes if f["kind"] == "rooms" and not f["live"]}
    assert ended == {"gone"} and sorted(rtc.counted) == ["busy", "gone"]
    # one page: the list is the whole truth, no extra call
    one = _Rtc([{"TotalCount": 1, "RoomList": [{"RoomId": "a", "UserCount": 1}]}], {})
    fixes = reconcile_zego(one, _Record(), _known("a", "gone"), ALL, [])
    assert [f["ids"]["room_id"] for f in fixes if not f["live"]] == ["gone"] and one.counted == []


@pytest.mark.parametrize("code", [9, 100000017, 100000007])
def test_room_list_not_enabled_falls_back_to_user_counts(code):
    rtc = _Rtc(RtcAuthError("not enabled", code=code), {"a": 1})
    notes: list[str] = []
    fixes = reconcile_zego(rtc, _Record(), _known("a"), ALL, notes)
    assert "not enabled" in notes[0] and [f["reason"] for f in fixes] == ["DescribeUserNum: users present"]


@pytest.mark.parametrize("error", [RtcAuthError("bad signature", code=100000004), RtcError("busy", code=1)])
def test_other_room_list_errors_surface_instead_of_a_silent_fallback(error):
    with pytest.raises(type(error)):
        reconcile_zego(_Rtc(error, {}), _Record(), _known("a"), ALL, [])


@pytest.mark.parametrize(
    "bed", [{"faults": {"lifecycle": {"lost": 1.0, "kinds": ["user", "stream"]}}}], indirect=True
)
def test_trtc_monitoring_opt_in_finds_the_users_callbacks_lost(bed):
    """Only "room created" arrives: the monitoring data shows who is in each room."""
    sb = bed.server.backend
    busy, idle = bed.server.seed({"trtc": {"rooms": 2, "users_per_room": 2}})["trtc"]["rooms"]
    sb.trtc.exit_users(1400000001, idle, [f"user_{idle}_1", f"user_{idle}_2"], sb.now())
    bed.settle()
    report = EndEventOperator(
        task_id="end", selector={"idle_for": 0}, clouds=["trtc"], trtc_monitoring=True
    ).execute({})
    assert live_in_sandbox(bed.server)["trtc rooms"] == {str(busy)}
    assert [r["ids"]["room_id"] for r in report["results"] if r["action"] == "DismissRoom"] == [idle]
    calls = sb.stats.snapshot()["actions"]
    assert calls["DescribeRoomInfo"]["calls"] >= 1 and calls["DescribeUserInfo"]["calls"] >= 1


def test_trtc_monitoring_windows_are_the_documented_ones(bed):
    from airflow_provider_rtc.hooks.trtc import TrtcHook

    hook = TrtcHook()
    now = int(time.time())
    with pytest.raises(RtcValidationError, match="24 h"):
        hook.describe_room_info(now - 25 * 3600, now)
    with pytest.raises(RtcValidationError, match="4 h"):
        hook.describe_user_info("1400000001_1_1", now - 5 * 3600, now)
    with pytest.raises(RtcError) as err:
        hook.describe_room_info(now - 15 * 86400, now - 15 * 86400 + 60)
    assert err.value.code == "InvalidParameter.StartTsOversize"
    (room,) = bed.server.seed({"trtc": {"rooms": 1, "users_per_room": 1}})["trtc"]["rooms"]
    (state,) = hook.describe_room_info(now - 3600, now + 60)["RoomList"]
    assert state["RoomString"] == str(room) and state["IsFinished"] is False
    (user,) = hook.describe_user_info(state["CommId"], now - 3600, now + 60)["UserList"]
    assert user["UserId"] == f"user_{room}_1" and user["Finished"] is False
