"""The sandbox's Tencent answers and the hooks' requests, judged by the official SDK's models.

For every Tencent action in the catalog the hook calls the sandbox (seeded so lists are not empty),
the request the hook sent is read into ``<Action>Request`` and the answer into ``<Action>Response``
(``tencentcloud.<product>.<version>.models``): a member the SDK does not declare fails, recursively.
The members the provider's code reads (``data/tencent_reads.json``) must exist in the SDK model too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from rtc_sandbox import SandboxServer

from airflow_provider_rtc import catalog
from airflow_provider_rtc.hooks.live import LiveHook
from airflow_provider_rtc.hooks.trtc import TrtcHook
from airflow_provider_rtc.hooks.vod import VodHook
from airflow_provider_rtc.protocol import tencent as tencent_protocol

from .conftest import deserialize, load, provider_literals, read_names, shape, shape_diff, tccli_examples

READS = load("tencent_reads.json")["reads"]
TENCENT = sorted(a.action for a in catalog.CATALOG.values() if a.cloud == "tencent")

CONFIG: dict[str, Any] = {
    "random_seed": 11,
    "limits": {"enabled": False},
    "timing": {"upload_delay": 0.2, "recording_exit_seconds": 0.2, "tick_seconds": 0.02},
}
SEED: dict[str, Any] = {
    "trtc": {
        "rooms": 4,
        "users_per_room": 3,
        "str_rooms": 2,
        "recordings": 3,
        "cdn_tasks": 1,
        "ingest_tasks": 1,
        "ai_tasks": 1,
    },
    "live": {"mix_sessions": 2, "streams": 3},
}


@pytest.fixture(scope="module")
def world() -> Iterator[dict[str, Any]]:
    """One seeded sandbox for the module, connections pointing at it, and the seeded ids."""
    with SandboxServer(CONFIG) as server, pytest.MonkeyPatch.context() as mp:
        for conn_id, conn in server.connections.items():
            extra = {**conn["extra"], "pacing": False, "retry_delay": 0.01, "retry_max_delay": 0.05}
            mp.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({**conn, "extra": extra}))
        ids = server.seed(SEED)
        media = []
        for i in range(2):
            body = {"name": f"recording-{i}.mp4", "size": 1000 + i, "source_context": "conformance"}
            resp = httpx.post(f"{server.url}/_sandbox/vod/media", json=body, timeout=5)
            assert resp.status_code == 200, resp.text
            media.append(resp.json()["file_id"])
        ids["vod"] = {"media": media}
        ids["monitor"] = _monitor_window()
        rooms = TrtcHook().describe_room_info(*ids["monitor"])["RoomList"]
        comm = {r["RoomString"]: r["CommId"] for r in rooms}
        ids["monitor_comm_id"] = comm[str(ids["trtc"]["rooms"][3])]  # a room no call dismisses
        yield {"server": server, "ids": ids}


def _monitor_window() -> tuple[int, int]:
    """The last hour, unix s: the seeded rooms were created in it (DescribeRoomInfo lists a room
    created in the window)."""
    now = int(time.time()) + 1
    return now - 3600, now


def _stream(ids: dict[str, Any], i: int) -> dict[str, str]:
    return ids["live"]["streams"][i]


_RECORD_PARAMS = {"RecordMode": 2, "MaxIdleTime": 30, "StreamType": 0}
_STORAGE = {
    "CloudStorage": {
        "Vendor": 0,
        "Region": "ap-guangzhou",
        "Bucket": "conformance-1250000000",
        "AccessKey": "ak",
        "SecretKey": "sk",
        "FileNamePrefix": ["conformance"],
    }
}

_DAYS = ("2026-11-01", "2026-11-02")
_MINUTES = ("2026-11-01 00:00", "2026-11-01 23:59")
_REC = "recordings"

#: one hook call per action: (ids) -> the hook's answer
CALLS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "DismissRoom": lambda ids: TrtcHook().dismiss_room(ids["trtc"]["rooms"][0]),
    "RemoveUser": lambda ids: TrtcHook().remove_user(
        ids["trtc"]["rooms"][1], ids["trtc"]["users"][str(ids["trtc"]["rooms"][1])][:1]
    ),
    "DismissRoomByStrRoomId": lambda ids: TrtcHook().dismiss_room_by_str_room_id(ids["trtc"]["str_rooms"][0]),
    "RemoveUserByStrRoomId": lambda ids: TrtcHook().remove_user_by_str_room_id(
        ids["trtc"]["str_rooms"][1], ids["trtc"]["users"][str(ids["trtc"]["str_rooms"][1])][:1]
    ),
    "CreateCloudRecording": lambda ids: TrtcHook().create_cloud_recording(
        ids["trtc"]["rooms"][2], "recorder_conformance", "sig", _RECORD_PARAMS, _STORAGE
    ),
    "DescribeCloudRecording": lambda ids: TrtcHook().describe_cloud_recording(
        ids["trtc"]["recordings"][0]["task_id"]
    ),
    "DeleteCloudRecording": lambda ids: TrtcHook().delete_cloud_recording(ids["trtc"][_REC][1]["task_id"]),
    "StopPublishCdnStream": lambda ids: TrtcHook().stop_publish_cdn_stream(ids["trtc"]["cdn_tasks"][0]),
    "StopStreamIngest": lambda ids: TrtcHook(region="ap-singapore").stop_stream_ingest(
        ids["trtc"]["ingest_tasks"][0]
    ),
    "StopAITranscription": lambda ids: TrtcHook().stop_ai_transcription(ids["trtc"]["ai_tasks"][0]),
    "DescribeTrtcUsage": lambda ids: TrtcHook().describe_trtc_usage(*_DAYS),
    "DescribeRecordingUsage": lambda ids: TrtcHook().describe_recording_usage(*_DAYS, "multi"),
    "DescribeMixTranscodingUsage": lambda ids: TrtcHook().describe_mix_transcoding_usage(*_DAYS),
    "DescribeRelayUsage": lambda ids: TrtcHook().describe_relay_usage(*_DAYS),
    "DescribeTrtcRoomUsage": lambda ids: TrtcHook().describe_trtc_room_usage(*_MINUTES),
    "DescribeRoomInfo": lambda ids: TrtcHook().describe_room_info(*ids["monitor"]),
    "DescribeUserInfo": lambda ids: TrtcHook().describe_user_info(ids["monitor_comm_id"], *ids["monitor"]),
    "CreateCommonMixStream": lambda ids: LiveHook().create_common_mix_stream(
        "conformance_mix",
        [
            {"InputStreamName": _stream(ids, 0)["stream_name"], "LayoutParams": {"ImageLayer": 1}},
            {"InputStreamName": _stream(ids, 1)["stream_name"], "LayoutParams": {"ImageLayer": 2}},
        ],
        {"OutputStreamName": _stream(ids, 0)["stream_name"]},
        mix_stream_template_id=40,
    ),
    "CancelCommonMixStream": lambda ids: LiveHook().cancel_common_mix_stream(ids["live"]["mix_sessions"][0]),
    "DropLiveStream": lambda ids: LiveHook().drop_live_stream(
        _stream(ids, 2)["stream_name"], _stream(ids, 2)["domain_name"], _stream(ids, 2)["app_name"]
    ),
    "DescribeLiveStreamState": lambda ids: LiveHook().describe_live_stream_state(
        _stream(ids, 0)["stream_name"], _stream(ids, 0)["domain_name"], _stream(ids, 0)["app_name"]
    ),
    "DescribeLiveStreamOnlineList": lambda ids: LiveHook().describe_live_stream_online_list(),
    "DescribeBillBandwidthAndFluxList": lambda ids: LiveHook().describe_bill_bandwidth_and_flux_list(
        "2026-11-01 00:00:00", "2026-11-02 00:00:00", granularity=60, mainland_or_oversea="Mainland"
    ),
    "DescribeLiveTranscodeTotalInfo": lambda ids: LiveHook().describe_live_transcode_total_info(
        "2026-11-01 00:00:00", "2026-11-02 00:00:00"
    ),
    "DescribeMediaInfos": lambda ids: VodHook().describe_media_infos([*ids["vod"]["media"], "0" * 19]),
    "SearchMedia": lambda ids: VodHook().search_media(
        create_after="2000-01-01T00:00:00Z", create_before="2100-01-01T00:00:00Z", limit=10
    ),
    "DeleteMedia": lambda ids: VodHook().delete_media(ids["vod"]["media"][1]),
}

#: what a non-empty answer must hold, so an empty list cannot pass the model check vacuously
NON_EMPTY = {
    "DescribeCloudRecording": "StorageFileList",
    "DescribeLiveStreamOnlineList": "OnlineInfo",
    "DescribeMediaInfos": "MediaInfoSet",
    "SearchMedia": "MediaInfoSet",
    "DescribeTrtcUsage": "UsageList",
    "DescribeRecordingUsage": "UsageList",
    "DescribeMixTranscodingUsage": "UsageList",
    "DescribeRelayUsage": "UsageList",
    "DescribeBillBandwidthAndFluxList": "DataInfoList",
    "DescribeLiveTranscodeTotalInfo": "DataInfoList",
    "DescribeTrtcRoomUsage": "Data",
    "DescribeRoomInfo": "RoomList",
    "DescribeUserInfo": "UserList",
}


def test_every_tencent_catalog_action_is_driven() -> None:
    assert sorted(CALLS) == TENCENT


@pytest.fixture(scope="module")
def exchanges(world: dict[str, Any]) -> dict[str, tuple[dict[str, Any], Any]]:
    """Each action called once through its hook: (the params it sent, its answer or exception)."""
    out: dict[str, tuple[dict[str, Any], Any]] = {}
    real = tencent_protocol.build_call
    for action in TENCENT:
        sent: list[tuple[str, dict[str, Any]]] = []

        def spy(*args: Any, _sent: list[Any] = sent, **kw: Any) -> Any:
            _sent.append((kw["action"], json.loads(json.dumps(kw["params"]))))
            return real(*args, **kw)

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(tencent_protocol, "build_call", spy)
            try:
                answer: Any = CALLS[action](world["ids"])
            except Exception as err:  # reported by the test of that action
                answer = err
        assert [a for a, _ in sent] == [action], sent
        out[action] = (sent[0][1], answer)
    return out


def answer_of(exchanges: dict[str, tuple[dict[str, Any], Any]], action: str) -> dict[str, Any]:
    answer = exchanges[action][1]
    if isinstance(answer, Exception):
        raise answer
    return answer


@pytest.mark.parametrize("action", TENCENT)
def test_sandbox_answer_fits_the_sdk_response_model(exchanges: Any, action: str) -> None:
    product = catalog.by_action("tencent", action).product  # type: ignore[union-attr]
    answer = answer_of(exchanges, action)
    if action in NON_EMPTY:
        assert answer.get(NON_EMPTY[action]), f"{action}: seed so {NON_EMPTY[action]} is not empty"
    model, unknown = deserialize(product, f"{action}Response", answer)
    assert unknown == [], f"{action}Response has no member(s) {unknown}"
    assert model.RequestId == answer["RequestId"]


@pytest.mark.parametrize("action", TENCENT)
def test_hook_request_fits_the_sdk_request_model(exchanges: Any, action: str) -> None:
    product = catalog.by_action("tencent", action).product  # type: ignore[union-attr]
    params = exchanges[action][0]
    _, unknown = deserialize(product, f"{action}Request", params)
    assert unknown == [], f"{action}Request has no member(s) {unknown}"


def _fill(path: str, value: Any) -> dict[str, Any]:
    """``"A[].B.C"`` -> ``{"A": [{"B": {"C": value}}]}``."""
    head, _, rest = path.partition(".")
    name = head.removesuffix("[]")
    inner = _fill(rest, value) if rest else value
    return {name: [inner] if head.endswith("[]") else inner}


def _follow(model: Any, path: str) -> Any:
    for part in path.split("."):
        model = getattr(model, part.removesuffix("[]"))
        if part.endswith("[]"):
            model = model[0]
    return model


READ_CASES = [(action, path) for action, entry in sorted(READS.items()) for path in entry["paths"]]


@pytest.mark.parametrize(("action", "path"), READ_CASES, ids=[f"{a}-{p}" for a, p in READ_CASES])
def test_members_the_code_reads_exist_in_the_sdk_model(action: str, path: str) -> None:
    product = catalog.by_action("tencent", action).product  # type: ignore[union-attr]
    sentinel = "sentinel-value"
    model, unknown = deserialize(product, f"{action}Response", _fill(path, sentinel))
    assert unknown == [], f"the code reads {path} of {action}, which the SDK model does not declare"
    assert _follow(model, path) == sentinel


def test_reads_data_names_only_catalog_actions() -> None:
    assert set(READS) <= set(TENCENT)


def test_the_model_walk_catches_unknown_members_at_every_depth() -> None:
    """The judge itself: unknown members top-level and nested are reported, known ones are not."""
    answer = {
        "Status": "InProgress",
        "Bogus": 1,
        "StorageFileList": [{"FileName": "a.m3u8", "Extra": 2}],
        "RequestId": "r",
    }
    _, unknown = deserialize("trtc", "DescribeCloudRecordingResponse", answer)
    assert unknown == ["Bogus", "StorageFileList[0].Extra"]
    _, unknown = deserialize("vod", "SearchMediaRequest", {"Sort": {"Field": "CreateTime", "Way": "Asc"}})
    assert unknown == ["Sort.Way"]


#: members the sandbox answers that an API page's example lacks, allowed because the SDK model declares
#: them (test above) and why the example lacks them
EXTRA_OK = {
    "UsageList[].TimeStampKey": "TrtcUsage declares it and the current API pages list it (Unix seconds of "
    "TimeKey); the 2022 examples predate it",
}
SHAPE_CASES = [
    (api.action, i)
    for api in sorted(catalog.CATALOG.values(), key=lambda a: a.action)
    if api.cloud == "tencent"
    for i, _ in enumerate(tccli_examples(api.product, api.action))
]


@pytest.mark.parametrize(("action", "index"), SHAPE_CASES, ids=[f"{a}-{i}" for a, i in SHAPE_CASES])
def test_sandbox_answer_has_the_shape_of_the_vendor_example(exchanges: Any, action: str, index: int) -> None:
    """Same members, recursively, as the example the API page prints (null members say nothing)."""
    product = catalog.by_action("tencent", action).product  # type: ignore[union-attr]
    example = tccli_examples(product, action)[index]["response"]
    diff = shape_diff(shape(answer_of(exchanges, action)), shape(example))
    missing = [d for d in diff if not d.startswith("+")]
    extra = [d for d in diff if d.startswith("+") and d[1:] not in EXTRA_OK]
    assert missing == [], f"the sandbox's {action} lacks what the vendor example has: {missing}"
    assert extra == [], f"the sandbox's {action} has what the vendor example lacks: {extra}"


@pytest.mark.parametrize("action", ["DescribeMediaInfos", "SearchMedia"])
def test_sandbox_vod_media_says_which_trtc_task_recorded_it(exchanges: Any, action: str) -> None:
    """The examples' SourceInfo carries TrtcRecordInfo (SdkAppId, RoomId, TaskId, UserIds)."""
    (item, *_) = answer_of(exchanges, action)["MediaInfoSet"]
    assert "TrtcRecordInfo" in item["BasicInfo"]["SourceInfo"]


def test_declared_reads_are_still_read_by_the_code() -> None:
    """data/tencent_reads.json stays honest: each member it lists is a literal in the provider's code."""
    literals = provider_literals()
    for action, entry in READS.items():
        for path in entry["paths"]:
            missing = [n for n in read_names(path) if n not in literals]
            assert not missing, f"{action}: the code no longer reads {missing} ({entry['where']})"


# -- limits the API pages document (tccli api.json, the text each page prints) --------------------


def _api_doc(product: str, obj: str, member: str) -> str:
    """A member's documentation as tccli ships it (``services/<product>/<version>/api.json``)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("tccli")
    assert spec is not None and spec.submodule_search_locations
    version = {"live": "v20180801", "vod": "v20180717"}[product]
    path = Path(next(iter(spec.submodule_search_locations))) / "services" / product / version / "api.json"
    members = json.loads(path.read_text(encoding="utf-8"))["objects"][obj]["members"]
    return next(m["document"] for m in members if m["name"] == member)


def test_sandbox_search_media_total_count_is_capped_at_5000() -> None:
    assert "5000" in _api_doc("vod", "SearchMediaResponse", "TotalCount")  # "max 5000 ... answers 5000"
    with SandboxServer(CONFIG) as server, pytest.MonkeyPatch.context() as mp:
        conn = server.connections["tencentcloud_default"]
        mp.setenv(
            "AIRFLOW_CONN_TENCENTCLOUD_DEFAULT",
            json.dumps({**conn, "extra": {**conn["extra"], "pacing": False}}),
        )
        for i in range(5001):
            server.backend.vod.add(f"m{i}.mp4", 1, 1_700_000_000 + i)
        assert VodHook().search_media(limit=10)["TotalCount"] == 5000


def test_live_online_list_page_size_follows_the_api_page(world: dict[str, Any]) -> None:
    assert "10~300000" in _api_doc("live", "DescribeLiveStreamOnlineListRequest", "PageSize")
    answer = LiveHook().describe_live_stream_online_list(page_size=1000)
    assert answer["PageSize"] == 1000


def test_sandbox_search_media_honours_filters(world: dict[str, Any]) -> None:
    """Filters names the infos to return ("if not filled, all"): basicInfo alone leaves MetaData null."""
    assert "basicInfo" in _api_doc("vod", "SearchMediaRequest", "Filters")
    items = VodHook().search_media(limit=10, filters=["basicInfo"])["MediaInfoSet"]
    assert items and all(i.get("MetaData") is None and i["BasicInfo"] for i in items)
