"""TRTC recording callbacks: signed like TRTC, per storage mode, with faults and TRTC's retry rhythm."""

from __future__ import annotations

import json
import socket

import pytest
import requests
from werkzeug import Response

from airflow_provider_rtc.signing.callbacks import verify_trtc_callback

from .conftest import code_of

KEY = "123654"
APP = 1400000001
COS = {
    "CloudStorage": {"Vendor": 0, "Region": "ap-guangzhou", "Bucket": "b", "AccessKey": "a", "SecretKey": "s"}
}
VOD = {"CloudVod": {"TencentVod": {"MediaType": 0}}}


@pytest.fixture
def receiver(sb, httpserver):
    httpserver.expect_request("/cb", method="POST").respond_with_data('{"code":0}')
    url = httpserver.url_for("/cb")
    out = requests.put(sb.url + "/_sandbox/callbacks", json={"url": url, "key": KEY}, timeout=5).json()
    assert out["url"] == url
    return httpserver


def _received(httpserver):
    return [(req.headers, req.get_data(), json.loads(req.get_data())) for req, _ in httpserver.log]


def _types(httpserver):
    return [body["EventType"] for _, _, body in _received(httpserver)]


def _create(sb, tencent, room, storage, **record):
    sb.backend.trtc.add_users(APP, room, ["alice", "bob"], sb.backend.now())
    params = {
        "SdkAppId": APP,
        "RoomId": str(room),
        "RoomIdType": 0 if isinstance(room, str) else 1,
        "UserId": f"recorder_{room}",
        "UserSig": "sig",
        "RecordParams": {"RecordMode": 2, **record},
        "StorageParams": storage,
    }
    out = tencent("CreateCloudRecording", params)
    assert code_of(out) is None, out
    return out["TaskId"]


def _log(sb):
    return requests.get(sb.url + "/_sandbox/callbacks", timeout=5).json()["log"]


def _first_when(sb, field):
    """The first log entry once it has ``field`` set (None before)."""
    log = _log(sb)
    return log[0] if log and log[0][field] else None


def _storage(sb, task):
    return requests.get(f"{sb.url}/_sandbox/storage/trtc/{task}", timeout=5).json()


def test_cos_callbacks_signed_and_complete(sb, tencent, receiver, wait):
    task = _create(sb, tencent, 3001, COS, OutputFormat=1)
    wait(lambda: _types(receiver) == [301])
    listing = _storage(sb, task)
    assert listing["prefix"] == f"{task}/" and listing["upload"] == "recording"
    assert [(f["name"], f["uploaded"]) for f in listing["files"]] == [
        (f"{APP}_3001.m3u8", False),
        (f"{APP}_3001_1.mp4", False),
    ]
    # frozen from the stop: the upload (0.3 s later) cannot finish before the playlist is read, however
    # long a loaded machine takes to deliver the 302 (on the wall clock it did: ENDLIST already there)
    sb.freeze()
    tencent("DeleteCloudRecording", {"SdkAppId": APP, "TaskId": task})
    wait(lambda: _types(receiver) == [301, 302])
    playlist = requests.get(f"{sb.url}/_sandbox/storage/trtc/{task}/{APP}_3001.m3u8", timeout=5).text
    assert playlist.startswith("#EXTM3U") and "#EXT-X-ENDLIST" not in playlist
    assert (
        requests.get(f"{sb.url}/_sandbox/storage/trtc/{task}/{APP}_3001_1.mp4", timeout=5).status_code == 404
    )
    assert _types(receiver) == [301, 302]  # nothing more while the clock stands
    sb.advance(0.3)  # the upload delay: uploaded, 305 and 310 sent
    wait(lambda: len(_types(receiver)) == 4)
    assert sorted(_types(receiver)) == [301, 302, 305, 310]
    for headers, raw, body in _received(receiver):
        assert headers["Content-Type"] == "application/json"
        assert headers["SdkAppId"] == str(APP)
        assert verify_trtc_callback(raw, headers["Sign"], KEY)
        assert not verify_trtc_callback(raw + b" ", headers["Sign"], KEY)
        assert body["EventGroupId"] == 3 and isinstance(body["CallbackTs"], int)
        info = body["EventInfo"]
        assert info["RoomId"] == 3001 and info["UserId"] == "recorder_3001" and info["TaskId"] == task
        assert info["EventMsTs"] // 1000 == info["EventTs"]
    payloads = {body["EventType"]: body["EventInfo"]["Payload"] for _, _, body in _received(receiver)}
    assert payloads[301] == {"Status": 0}
    assert payloads[302] == {"LeaveCode": 0}
    assert payloads[305] == {"Status": 0, "LeaveCode": 0}
    assert payloads[310]["Status"] == 0 and payloads[310]["FileList"] == [f"{APP}_3001_1.mp4"]
    message = payloads[310]["FileMessage"][0]
    assert message["MediaId"] == "mix" and message["EndTimeStamp"] >= message["StartTimeStamp"]
    assert all(f["uploaded"] for f in _storage(sb, task)["files"])
    playlist = requests.get(f"{sb.url}/_sandbox/storage/trtc/{task}/{APP}_3001.m3u8", timeout=5).text
    assert playlist.rstrip().endswith("#EXT-X-ENDLIST")
    log = requests.get(sb.url + "/_sandbox/callbacks", timeout=5).json()["log"]
    assert [e["event_type"] for e in log] == [301, 302, 310, 305]
    assert all(e["delivered"] and len(e["attempts"]) == 1 for e in log)


def test_vod_callbacks_one_311_per_file_then_312(sb, tencent, receiver, wait):
    task = _create(sb, tencent, "vod_room", VOD, RecordMode=1, AvMerge=1)
    tencent("DeleteCloudRecording", {"SdkAppId": APP, "TaskId": task})
    wait(lambda: len(_types(receiver)) == 5)
    assert sorted(_types(receiver)) == [301, 302, 311, 311, 312]
    commits = [b["EventInfo"]["Payload"] for _, _, b in _received(receiver) if b["EventType"] == 311]
    assert {c["TencentVod"]["UserId"] for c in commits} == {"alice", "bob"}
    vod = commits[0]["TencentVod"]
    assert set(vod) == {
        "UserId",
        "TrackType",
        "MediaId",
        "FileId",
        "VideoUrl",
        "CacheFile",
        "StartTimeStamp",
        "EndTimeStamp",
    }
    assert commits[0]["Status"] == 0 and vod["FileId"].isdigit()
    rooms = {b["EventInfo"]["RoomId"] for _, _, b in _received(receiver)}
    assert rooms == {"vod_room"}  # string rooms keep their type


def test_late_callbacks(sb, tencent, receiver, wait):
    """On the manual clock: the late 305 is not sent at the upload's end (0.3 s), only 0.6 s later."""
    sb.freeze()
    task = _create(sb, tencent, 3002, COS)
    requests.put(f"{sb.url}/_sandbox/recordings/trtc/{task}", json={"callback_fault": "late"}, timeout=5)
    tencent("DeleteCloudRecording", {"SdkAppId": APP, "TaskId": task})
    sb.advance(0.3)  # the upload delay: the upload is done, its callback held back
    assert _storage(sb, task)["upload"] == "done"
    wait(lambda: sorted(_types(receiver)) == [301, 302])
    assert sorted(e["event_type"] for e in _log(sb)) == [301, 302]  # 305 not even emitted yet
    sb.advance(0.59)
    assert 305 not in [e["event_type"] for e in _log(sb)]
    sb.advance(0.01)  # upload delay + late delay
    wait(lambda: 305 in _types(receiver))


def test_never_sends_no_completion_but_files_upload(sb, tencent, receiver, wait):
    sb.freeze()
    requests.put(sb.url + "/_sandbox/faults", json={"recordings": {"trtc_callback": "never"}}, timeout=5)
    task = _create(sb, tencent, 3003, COS, OutputFormat=1)
    tencent("DeleteCloudRecording", {"SdkAppId": APP, "TaskId": task})
    sb.advance(3600)  # far past every delay: whatever was to be sent has been
    assert _storage(sb, task)["upload"] == "done"
    wait(lambda: sorted(_types(receiver)) == [301, 302])  # deliveries run in parallel: any order
    assert sorted(e["event_type"] for e in _log(sb)) == [301, 302]  # and nothing else was emitted
    playlist = requests.get(f"{sb.url}/_sandbox/storage/trtc/{task}/{APP}_3003.m3u8", timeout=5).text
    assert "#EXT-X-ENDLIST" in playlist


def test_failed_reports_failure_and_files_stay(sb, tencent, receiver, wait):
    cos = _create(sb, tencent, 3004, COS, OutputFormat=1)
    vod = _create(sb, tencent, 3005, VOD)
    for task in (cos, vod):
        requests.put(
            f"{sb.url}/_sandbox/recordings/trtc/{task}", json={"callback_fault": "failed"}, timeout=5
        )
        tencent("DeleteCloudRecording", {"SdkAppId": APP, "TaskId": task})
    wait(lambda: len(_types(receiver)) == 8)
    payloads = {b["EventType"]: b["EventInfo"]["Payload"] for _, _, b in _received(receiver)}
    assert payloads[305]["Status"] == 1 and payloads[310]["Status"] == 2
    assert payloads[311]["Status"] == 2 and "Errmsg" in payloads[311] and payloads[312]["Status"] == 1
    assert _storage(sb, cos)["upload"] == "failed"
    assert not any(f["uploaded"] for f in _storage(sb, cos)["files"])
    playlist = requests.get(f"{sb.url}/_sandbox/storage/trtc/{cos}/{APP}_3004.m3u8", timeout=5).text
    assert "#EXT-X-ENDLIST" not in playlist


def test_retry_immediately_then_succeed(sb, tencent, httpserver, wait):
    """The first retry is immediate: on a stopped clock it still happens (a retry_interval-spaced
    one would wait for the clock forever)."""
    calls = []

    def flaky(request):
        calls.append(request)
        return Response("busy", status=500) if len(calls) == 1 else Response('{"code":0}')

    sb.freeze()
    httpserver.expect_request("/flaky", method="POST").respond_with_handler(flaky)
    settings = {"url": httpserver.url_for("/flaky"), "retry_interval": 0.5}
    requests.put(sb.url + "/_sandbox/callbacks", json=settings, timeout=5)
    _create(sb, tencent, 3006, COS)
    entry = wait(lambda: _first_when(sb, "delivered"))
    attempts = entry["attempts"]
    assert [a.get("status") for a in attempts] == [500, 200]
    assert attempts[1]["at"] == attempts[0]["at"]  # no time passed between them
    assert "Sign" not in entry["headers"]  # no key configured: unsigned, like an empty console key


def test_unreachable_receiver_gives_up_after_max_age(sb, tencent, wait):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sb.freeze()
    settings = {"url": f"http://127.0.0.1:{port}/cb", "retry_interval": 0.5, "max_age": 1.6}
    requests.put(sb.url + "/_sandbox/callbacks", json=settings, timeout=5)
    _create(sb, tencent, 3007, COS)

    def attempts():
        log = _log(sb)
        return log[0]["attempts"] if log else []

    wait(lambda: len(attempts()) == 2)  # at once, and the immediate retry
    for expected in (3, 4, 5):
        sb.advance(0.5)
        wait(lambda n=expected: len(attempts()) == n)
    sb.advance(0.5)  # the next retry would be 2.0 s after creation: past max_age
    entry = wait(lambda: _first_when(sb, "gave_up"))
    # 0 s, immediate retry, then every 0.5 s until the message is 1.6 s old
    times = [a["at"] for a in entry["attempts"]]
    assert [round(t - times[0], 6) for t in times] == [0.0, 0.0, 0.5, 1.0, 1.5]
    assert all("error" in a for a in entry["attempts"]) and not entry["delivered"]


def test_without_url_callbacks_are_logged_only(sb, tencent, wait):
    _create(sb, tencent, 3008, COS)
    log = wait(lambda: _log(sb))
    assert log[0]["url"] is None and log[0]["attempts"] == [] and log[0]["body"]["EventType"] == 301


def test_storage_admin_errors(sb):
    assert requests.get(sb.url + "/_sandbox/storage/trtc/nope", timeout=5).status_code == 404
    assert requests.get(sb.url + "/_sandbox/storage/trtc/nope/x.m3u8", timeout=5).status_code == 404
    assert requests.put(sb.url + "/_sandbox/recordings/trtc/nope", json={}, timeout=5).status_code == 404
