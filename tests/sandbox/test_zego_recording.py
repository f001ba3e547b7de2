"""ZEGO cloud recording: task and file status progression, end codes, query window, faults."""

from __future__ import annotations

import time

STORAGE = {"Vendor": 3, "Region": "ap-guangzhou", "Bucket": "b", "AccessKeyId": "a", "AccessKeySecret": "s"}


def _start(zego, room, **input_params):
    body = {
        "RoomId": room,
        "RecordInputParams": {"RecordMode": 1, **input_params},
        "RecordOutputParams": {"OutputFileFormat": "mp4"},
        "StorageParams": STORAGE,
    }
    out = zego("StartRecord", body)
    assert out["Code"] == 0, out
    assert out["Message"] == "succeed"
    return out["Data"]["TaskId"]


def _status(zego, task_id):
    out = zego("DescribeRecordStatus", {"TaskId": task_id})
    assert out["Code"] == 0, out
    return out["Data"]


def test_status_progression(sb, zego, wait):
    event = sb.seed({"zego": {"rooms": 1, "users_per_room": 2, "streams_per_room": 2}})["zego"]
    task = _start(zego, event["rooms"][0])
    assert len(task) == 16
    first = _status(zego, task)
    assert first["Status"] == 1 and first["RecordEndTimestamp"] == 0
    assert {f["StreamId"] for f in first["RecordFiles"]} == {s["stream_id"] for s in event["streams"]}
    assert {f["Status"] for f in first["RecordFiles"]} == {1}
    wait(lambda: _status(zego, task)["Status"] == 2)
    time.sleep(0.05)
    assert zego("StopRecord", {"TaskId": task})["Code"] == 0
    stopped = _status(zego, task)
    assert stopped["Status"] == 3 and stopped["RecordEndTimestamp"] >= stopped["RecordBeginTimestamp"]
    assert {f["Status"] for f in stopped["RecordFiles"]} == {2}
    done = wait(lambda: (d := _status(zego, task)) and d["RecordFiles"][0]["Status"] == 3 and d)
    f = done["RecordFiles"][0]
    expected = {
        "UserId",
        "UserName",
        "StreamId",
        "FileId",
        "VideoId",
        "FileUrl",
        "OutputFileFormat",
        "FileSize",
        "Duration",
        "ResolutionWidth",
        "ResolutionHeight",
        "MediaTrackType",
        "BeginTimestamp",
        "Status",
    }
    assert set(f) == expected
    assert f["FileId"].startswith(f"{task}_{event['rooms'][0]}_") and f["FileId"].endswith(".mp4")
    assert f["FileSize"] > 0 and f["Duration"] > 0 and f["MediaTrackType"] == 3
    assert set(done) == {
        "RoomId",
        "RecordMode",
        "StreamType",
        "RecordBeginTimestamp",
        "RecordEndTimestamp",
        "Status",
        "RecordFiles",
    }
    assert zego("StopRecord", {"TaskId": task})["Code"] == 300001001
    assert zego("StopRecord", {"TaskId": "AAAAAAAAAAAAAAAA"})["Code"] == 300001000


def test_faults_end_files_in_backup_or_failed_and_task_abnormally(sb, zego, wait):
    rooms = sb.seed({"zego": {"rooms": 2, "users_per_room": 1, "streams_per_room": 1}})["zego"]["rooms"]
    backup, failed = _start(zego, rooms[0]), _start(zego, rooms[1])
    admin = sb.url + "/_sandbox/recordings/zego/"
    import requests

    assert requests.put(admin + backup, json={"file_status": 4}, timeout=5).status_code == 200
    assert (
        requests.put(admin + failed, json={"file_status": 5, "task_status": 4}, timeout=5).status_code == 200
    )
    assert requests.put(admin + "nope", json={"file_status": 5}, timeout=5).status_code == 404
    assert requests.put(admin + backup, json={"file_status": 3}, timeout=5).status_code == 400
    for task in (backup, failed):
        zego("StopRecord", {"TaskId": task})
    wait(lambda: _status(zego, backup)["RecordFiles"][0]["Status"] == 4)
    assert _status(zego, backup)["Status"] == 3
    wait(lambda: _status(zego, failed)["RecordFiles"][0]["Status"] == 5)
    assert _status(zego, failed)["Status"] == 4


def test_global_recording_faults(sb, zego, wait):
    sb.backend.set_faults({"recordings": {"zego_file_status": 5, "zego_task_status": 4}})
    room = sb.seed({"zego": {"rooms": 1, "users_per_room": 1, "streams_per_room": 1}})["zego"]["rooms"][0]
    task = _start(zego, room)
    zego("StopRecord", {"TaskId": task})
    assert _status(zego, task)["Status"] == 4
    wait(lambda: _status(zego, task)["RecordFiles"][0]["Status"] == 5)


def test_no_streams_means_no_record_files_and_idle_stop(sb, zego):
    task = _start(zego, "empty_room", MaxIdleTime=5)
    assert "RecordFiles" not in _status(zego, task)
    # MaxIdleTime counts from the start when the room has no stream
    sb.backend.clock.set_offset(6)
    assert _status(zego, task)["Status"] == 3


def test_three_day_query_window(sb, zego):
    old = sb.seed(
        {
            "zego": {
                "rooms": 1,
                "users_per_room": 1,
                "streams_per_room": 1,
                "recordings": 1,
                "started_ago_seconds": 3 * 86400 + 10,
            }
        }
    )["zego"]["recordings"][0]["task_id"]
    assert zego("DescribeRecordStatus", {"TaskId": old})["Code"] == 300001000
    assert zego("StopRecord", {"TaskId": old})["Code"] == 300001000
    recent = sb.seed(
        {
            "zego": {
                "rooms": 1,
                "streams_per_room": 1,
                "recordings": 1,
                "started_ago_seconds": 3 * 86400 - 60,
            }
        }
    )["zego"]["recordings"][0]["task_id"]
    assert zego("DescribeRecordStatus", {"TaskId": recent})["Code"] == 0


def test_describe_tasks(sb, zego):
    ids = sb.seed({"zego": {"rooms": 3, "users_per_room": 1, "streams_per_room": 1, "recordings": 3}})["zego"]
    tasks = [r["task_id"] for r in ids["recordings"]]
    zego("StopRecord", {"TaskId": tasks[0]})
    now_ms = int(sb.backend.now() * 1000)
    window = {"StartTime": now_ms - 3_600_000, "EndTime": now_ms + 60_000}
    running = zego("DescribeTasks", {"Status": 2, **window})["Data"]
    assert running["TotalCount"] == 2 and {t["TaskId"] for t in running["TaskidList"]} == set(tasks[1:])
    ended = zego("DescribeTasks", {"Status": 3, **window})["Data"]
    assert [t["TaskId"] for t in ended["TaskidList"]] == [tasks[0]]
    paged = zego("DescribeTasks", {"Status": 2, "PageSize": 1, "PageOffset": 2, **window})["Data"]
    assert paged["TotalCount"] == 2 and len(paged["TaskidList"]) == 1
    by_room = zego("DescribeTasks", {"Status": 2, "RoomId": ids["rooms"][2], **window})["Data"]
    assert [t["TaskId"] for t in by_room["TaskidList"]] == [tasks[2]]
    assert zego("DescribeTasks", {"Status": 1, **window})["Code"] == 300000004
    assert zego("DescribeTasks", {"Status": 2})["Code"] == 300000004
    too_old = {"StartTime": now_ms - 4 * 86_400_000, "EndTime": now_ms}
    assert zego("DescribeTasks", {"Status": 2, **too_old})["Code"] == 300000004


def test_start_record_validation(zego):
    base = {"RoomId": "r", "RecordInputParams": {"RecordMode": 1}, "StorageParams": STORAGE}
    assert zego("StartRecord", {**base, "RecordInputParams": {}})["Code"] == 300000004
    assert zego("StartRecord", {k: v for k, v in base.items() if k != "StorageParams"})["Code"] == 300000004
    assert zego("StartRecord", {**base, "StorageParams": {"Vendor": 3, "Bucket": "b"}})["Code"] == 300000004
    assert zego("StartRecord", {**base, "RecordInputParams": {"RecordMode": 2}})["Code"] == 300000004
    mixed = {"RecordMode": 2, "MixConfig": {"MixOutputStreamId": "rec_mix"}}
    assert zego("StartRecord", {**base, "RecordInputParams": mixed})["Code"] == 0
    vod = {"Vendor": 6, "TencentCloudVodParams": {"SubAppId": 1}}
    assert zego("StartRecord", {**base, "StorageParams": vod})["Code"] == 0
