"""The examples each Tencent API page prints (as tccli ships them), served by a fake Tencent endpoint
(pytest-httpserver on 127.0.0.1): the provider's hooks and parsers must read them right.

The sandbox's answers are compared with the same examples in ``test_tencent_models.py``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pendulum
import pytest
from werkzeug import Response

from airflow_provider_rtc import catalog
from airflow_provider_rtc.discovery.reconcile import reconcile_live, trtc_monitor_users
from airflow_provider_rtc.discovery.selector import Selector
from airflow_provider_rtc.hooks.live import LiveHook
from airflow_provider_rtc.hooks.trtc import TrtcHook
from airflow_provider_rtc.hooks.vod import VodHook
from airflow_provider_rtc.lake import retention
from airflow_provider_rtc.recordings.trtc import merge_storage_files
from airflow_provider_rtc.reports.specs import REPORTS

from .conftest import tccli_examples

TENCENT = sorted((a for a in catalog.CATALOG.values() if a.cloud == "tencent"), key=lambda a: a.action)
EXAMPLES = [
    (api.action, i, ex) for api in TENCENT for i, ex in enumerate(tccli_examples(api.product, api.action))
]


def serve(httpserver: Any, action: str, response: dict[str, Any]) -> None:
    httpserver.expect_request("/", method="POST", headers={"X-TC-Action": action}).respond_with_json(
        {"Response": response}
    )


def _request_id_only(call: Callable[[], dict[str, Any]]) -> Callable[[dict[str, Any]], None]:
    def check(ex: dict[str, Any]) -> None:
        answer = call()
        assert answer["RequestId"] == ex["response"]["RequestId"]

    return check


def _task_id(call: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[dict[str, Any]], None]:
    def check(ex: dict[str, Any]) -> None:
        answer = call(ex["request"])
        assert answer["TaskId"] == ex["response"]["TaskId"]
        assert answer["RequestId"] == ex["response"]["RequestId"]

    return check


def _describe_cloud_recording(ex: dict[str, Any]) -> None:
    answer = TrtcHook().describe_cloud_recording(ex["request"]["TaskId"])
    assert answer["Status"] == "InProgress"
    assert merge_storage_files([], answer.get("StorageFileList")) == []


def _usage(report: str, first: dt.date, expect: dict[tuple[str, str, str, str], float]) -> Any:
    def check(ex: dict[str, Any]) -> None:
        hook = TrtcHook() if report.startswith("trtc") else LiveHook()
        cells = REPORTS[report].fetch(hook, first, first, None)
        assert {k: cells[first].get(k) for k in expect} == expect, cells

    return check


def _online_list(ex: dict[str, Any]) -> None:
    fixes = reconcile_live(LiveHook(), [], Selector.parse({}, allow_all=True), [])
    (fix,) = fixes
    assert fix["ids"] == {
        "stream_name": "5000_abcdefg",
        "domain_name": "5000.livepush.myqcloud.com",
        "app_name": "live",
    }
    assert fix["live"] is True
    assert fix["started_ms"] == int(dt.datetime(2017, 10, 24, 12, tzinfo=dt.UTC).timestamp() * 1000)


def _stream_state(ex: dict[str, Any]) -> None:
    answer = LiveHook().describe_live_stream_state("stream1", "5000.livepush.myqcloud.com")
    assert answer["StreamState"] == "active"


def _media_infos(ex: dict[str, Any]) -> None:
    expected = ex["response"]["MediaInfoSet"]
    answer = VodHook().describe_media_infos([m["FileId"] for m in expected] or ["5285485487985271487"])
    infos = {str(i.get("FileId")): i for i in answer["MediaInfoSet"]}
    for item in expected:
        got = infos[item["FileId"]]
        assert got["BasicInfo"]["MediaUrl"] == item["BasicInfo"]["MediaUrl"]
        assert (got.get("MetaData") or {}).get("Size") == (item.get("MetaData") or {}).get("Size")


def _search_media(ex: dict[str, Any]) -> None:
    found = retention.vod_candidates(VodHook(), pendulum.datetime(2030, 1, 1), source_types=None)
    items = ex["response"]["MediaInfoSet"]
    assert [c.ref for c in found] == [m["FileId"] for m in items]
    for cand, item in zip(found, items, strict=True):
        assert cand.name == item["BasicInfo"]["Name"]
        assert cand.created == pendulum.parse(item["BasicInfo"]["CreateTime"])
        assert cand.size == (item.get("MetaData") or {}).get("Size")
    records = retention.vod_candidates(VodHook(), pendulum.datetime(2030, 1, 1), source_types=["Record"])
    assert [c.ref for c in records] == [
        m["FileId"] for m in items if m["BasicInfo"]["SourceInfo"]["SourceType"] == "Record"
    ]


def _live_room(room_id: str) -> list[dict[str, Any]]:
    return [{"kind": "rooms", "ids": {"room_id": room_id}, "live": True}]


def _room_info(ex: dict[str, Any]) -> None:
    """The example lists room "3501" twice unfinished (two calls, CreateTime in s): both CommIds are
    asked for users; the other rooms are not in the inventory and are not asked for."""
    asked: list[str] = []

    class Hook(TrtcHook):
        def describe_user_info(self, comm_id: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
            asked.append(comm_id)
            return {"Total": 0, "UserList": []}

    fixes = trtc_monitor_users(Hook(), _live_room("3501"), Selector.parse({}, allow_all=True))
    assert sorted(asked) == ["1400188366_3501_1586952865", "1400188366_3501_1586952940"]
    assert sorted(f["started_ms"] for f in fixes) == [1586952865000, 1586952940000]
    assert {(f["kind"], f["ids"]["room_id"], f["live"]) for f in fixes} == {("rooms", "3501", True)}


def _user_info(ex: dict[str, Any]) -> None:
    """Both users of the example have ``Finished: true``: neither is reported in the room."""
    comm_id = ex["request"]["CommId"]

    class Hook(TrtcHook):
        def describe_room_info(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            room = {"CommId": comm_id, "RoomString": "218695", "CreateTime": 1590065777, "IsFinished": False}
            return {"Total": 1, "RoomList": [room]}

    answer = TrtcHook().describe_user_info(comm_id, 1590065777, 1590065877)
    assert [u["UserId"] for u in answer["UserList"]] == ex["request"]["UserIds"]
    fixes = trtc_monitor_users(Hook(), _live_room("218695"), Selector.parse({}, allow_all=True))
    assert [f["kind"] for f in fixes] == ["rooms"]


D2022 = dt.date(2022, 1, 1)
CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "DismissRoom": _request_id_only(lambda: TrtcHook().dismiss_room(3560)),
    "DismissRoomByStrRoomId": _request_id_only(lambda: TrtcHook().dismiss_room_by_str_room_id("room-1")),
    "RemoveUser": _request_id_only(lambda: TrtcHook().remove_user(3560, ["user1", "user2"])),
    "RemoveUserByStrRoomId": _request_id_only(
        lambda: TrtcHook().remove_user_by_str_room_id("room-1", ["user1", "user2"])
    ),
    "CreateCloudRecording": _task_id(
        lambda r: TrtcHook().create_cloud_recording(
            r["RoomId"], r["UserId"], r["UserSig"], r["RecordParams"], r["StorageParams"]
        )
    ),
    "DescribeCloudRecording": _describe_cloud_recording,
    "DescribeRoomInfo": _room_info,
    "DescribeUserInfo": _user_info,
    "DeleteCloudRecording": _task_id(lambda r: TrtcHook().delete_cloud_recording(r["TaskId"])),
    "StopPublishCdnStream": _task_id(lambda r: TrtcHook().stop_publish_cdn_stream(r["TaskId"])),
    "StopStreamIngest": _request_id_only(
        lambda: TrtcHook(region="ap-singapore").stop_stream_ingest("HMLm5HWNuUAXSb0gTEOx0z1x")
    ),
    "StopAITranscription": _request_id_only(
        lambda: TrtcHook().stop_ai_transcription(
            "v2_20250424_n6cHsk5kBFa09E5SEp7I_fKIxuKqZjiUsmteLPc3uXoTxpgc6F4TsigwJ1dH9SakK14SdUhLW86jhofgDHERZUHhCa0FJvu3Qgod"
        )
    ),
    "DescribeTrtcUsage": _usage("trtc_usage", D2022, {("duration", "minute", "", "Audio"): 10.0}),
    "DescribeRecordingUsage": _usage(
        "trtc_recording",
        D2022,
        {("duration", "minute", "single", "4K"): 60.0, ("duration", "minute", "multi", "SD"): 20.0},
    ),
    "DescribeMixTranscodingUsage": _usage(
        "trtc_mix_transcoding", D2022, {("duration", "minute", "", "4KH265"): 110.0}
    ),
    "DescribeRelayUsage": _usage("trtc_relay", D2022, {("duration", "minute", "", "Bandwidth"): 10.11}),
    "DescribeTrtcRoomUsage": _usage(
        "trtc_room",
        dt.date(2023, 1, 6),
        {("duration", "second", "test_room", "Audio"): 1.0, ("duration", "second", "test_room", "4K"): 6.0},
    ),
    "CreateCommonMixStream": _request_id_only(
        lambda: LiveHook().create_common_mix_stream(
            "test_room",
            [{"InputStreamName": "test_stream1"}, {"InputStreamName": "test_stream2"}],
            {"OutputStreamName": "test_stream1"},
            mix_stream_template_id=40,
        )
    ),
    "CancelCommonMixStream": _request_id_only(lambda: LiveHook().cancel_common_mix_stream("test_room")),
    "DropLiveStream": _request_id_only(
        lambda: LiveHook().drop_live_stream("stream1", "5000.livepush.myqcloud.com")
    ),
    "DescribeLiveStreamState": _stream_state,
    "DescribeLiveStreamOnlineList": _online_list,
    "DescribeBillBandwidthAndFluxList": _usage(
        "live_bandwidth",
        dt.date(2019, 2, 1),
        {
            ("flux", "MB", "all", ""): 4389093.551 + 4138687.32 + 3726786.679,
            ("peak_bandwidth", "Mbps", "all", ""): 117042.495,
        },
    ),
    "DescribeLiveTranscodeTotalInfo": _usage(
        "live_transcode", dt.date(2019, 3, 1), {("duration", "minute", "", "540*480"): 100.0}
    ),
    "DescribeMediaInfos": _media_infos,
    "SearchMedia": _search_media,
    "DeleteMedia": _request_id_only(lambda: VodHook().delete_media("5285485487985271487")),
}


def test_every_tencent_catalog_action_has_an_example_and_a_check() -> None:
    assert {a for a, _, _ in EXAMPLES} == {a.action for a in TENCENT}
    assert set(CHECKS) == {a.action for a in TENCENT}


@pytest.mark.parametrize(("action", "index", "example"), EXAMPLES, ids=[f"{a}-{i}" for a, i, _ in EXAMPLES])
def test_hook_reads_the_vendor_example(
    httpserver: Any, tencent_conn: str, action: str, index: int, example: dict[str, Any]
) -> None:
    if action == "SearchMedia":  # the example is page one; iter_media asks on below TotalCount
        empty = {"TotalCount": example["response"]["TotalCount"], "MediaInfoSet": [], "RequestId": "end"}

        def page(request: Any) -> Any:
            first = json.loads(request.data)["Offset"] == 0
            return Response(json.dumps({"Response": example["response"] if first else empty}))

        httpserver.expect_request("/", method="POST").respond_with_handler(page)
    else:
        serve(httpserver, action, example["response"])
    CHECKS[action](example)
    assert httpserver.log, "the hook called nothing"
    for request, _ in httpserver.log:
        assert request.headers["X-TC-Action"] == action
