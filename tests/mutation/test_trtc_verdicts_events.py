"""Reading one TRTC recording callback: its type, status, time, file key, and the stored list.

Written for `make mutate` (issue 24 item 5; recordings/trtc.py's readers: ``event_file_key`` is the
receiver store's idempotency key (TaskId, EventType, key), so a key that changes lets a retried
callback be stored twice, and one that collides lets a later 311 overwrite another file's; the
time decides which of two 305s or 311s is the latest).
"""

from __future__ import annotations

from typing import Any

from airflow_provider_rtc.recordings import trtc
from tests.recordings.conftest import mp4_310, trtc_event, vod_311

TASK = "task-e"


def test_file_keys_name_the_file_of_each_event_type() -> None:
    assert trtc.event_file_key(trtc_event(TASK, 307, {"FileName": "a.m3u8"})) == "a.m3u8"
    assert trtc.event_file_key(trtc_event(TASK, 307, {})) == ""
    assert trtc.event_file_key(trtc_event(TASK, 304, {"FileList": ["b.m3u8", "a.m3u8"]})) == "b.m3u8,a.m3u8"
    assert trtc.event_file_key(trtc_event(TASK, 304, {"FileList": "a.m3u8"})) == "a.m3u8"
    assert trtc.event_file_key(trtc_event(TASK, 304, {})) == ""
    two = trtc_event(TASK, 310, {"Status": 0, "FileList": ["r_2.mp4", "r_1.mp4"]})
    assert trtc.event_file_key(two) == "r_1.mp4,r_2.mp4"
    assert trtc.event_file_key(trtc_event(TASK, 311, {"Status": 0})) == ""
    assert trtc.event_file_key(trtc_event(TASK, 311, {"TencentVod": "x"})) == ""
    assert trtc.event_file_key(trtc_event(TASK, 308, {"FileName": "a.m3u8"})) == ""
    assert trtc.event_file_key(mp4_310(TASK, "r_1.mp4")) == "r_1.mp4"


def test_a_vod_key_is_its_stream_and_start() -> None:
    key = trtc.event_file_key(vod_311(TASK, "1", user="bob", track="audio"))
    assert key == "bob|audio|main|1700000000000"
    bare = trtc_event(TASK, 311, {"TencentVod": {"UserId": "bob"}})
    assert trtc.event_file_key(bare) == "bob|||"


def test_event_time_falls_back_from_ms_to_seconds_to_the_callback_time() -> None:
    def body(info: dict[str, Any], **top: Any) -> dict[str, Any]:
        return {"EventType": 305, "EventInfo": info, **top}

    assert trtc.event_time_ms(body({"EventMsTs": 1234, "EventTs": 9}, CallbackTs=5)) == 1234
    assert trtc.event_time_ms(body({"EventTs": 9}, CallbackTs=5)) == 9000
    assert trtc.event_time_ms(body({"EventTs": "9"}, CallbackTs=5)) == 9000
    assert trtc.event_time_ms(body({}, CallbackTs=5)) == 5
    assert trtc.event_time_ms(body({})) == 0
    assert trtc.event_time_ms("not a body") == 0  # type: ignore[arg-type]


def test_status_type_and_payload_of_odd_bodies() -> None:
    assert trtc.event_status(trtc_event(TASK, 305, {"Status": 1, "LeaveCode": 2})) == 1
    assert trtc.event_status(trtc_event(TASK, 305, {"LeaveCode": "2"})) == 2
    assert trtc.event_status(trtc_event(TASK, 310, {"LeaveCode": 2})) is None
    assert trtc.event_type({"EventType": "311"}) == 311
    assert trtc.event_type("x") is None  # type: ignore[arg-type]
    assert trtc.event_payload({"EventInfo": {"Payload": ["x"]}}) == {}
    assert trtc.event_payload({"EventInfo": "x"}) == {}
    assert trtc.event_info({"EventInfo": {"RoomId": 1}}) == {"RoomId": 1}


def test_the_latest_event_of_a_type_is_by_event_time() -> None:
    first = trtc_event(TASK, 305, {"Status": 1}, at_ms=2000)
    later = trtc_event(TASK, 305, {"Status": 2}, at_ms=3000)
    other = trtc_event(TASK, 310, {"Status": 0}, at_ms=4000)
    assert trtc.latest([later, first, other], 305) is later
    assert trtc.latest([first, later], 305) is later
    assert trtc.latest([first], 312) is None


def test_bodies_of_keeps_only_stored_dict_bodies() -> None:
    body = trtc_event(TASK, 305, {"Status": 0})
    obs = trtc.TrtcObservation(None, [], [{"body": body}, {"body": "x"}, "junk", {"no": "body"}])  # type: ignore[list-item]
    assert trtc.bodies_of(obs) == [body]
    assert trtc.bodies_of(trtc.TrtcObservation(None)) == []


def test_storage_files_are_merged_by_name_as_json_primitives() -> None:
    known = [{"FileName": "a.m3u8", "UserId": None, "TrackType": None, "BeginTimeStamp": None}]
    new = [
        {"FileName": "a.m3u8", "UserId": "dup"},
        "junk",
        {"UserId": "no name"},
        {"FileName": "b.m3u8", "UserId": 7, "TrackType": 1, "BeginTimeStamp": "12"},
        {"FileName": "b.m3u8", "UserId": "dup"},
        {"FileName": "c.m3u8"},
    ]
    merged = trtc.merge_storage_files(known, new)
    assert merged == [
        known[0],
        {"FileName": "b.m3u8", "UserId": "7", "TrackType": "1", "BeginTimeStamp": 12},
        {"FileName": "c.m3u8", "UserId": None, "TrackType": None, "BeginTimeStamp": None},
    ]
    assert known == [{"FileName": "a.m3u8", "UserId": None, "TrackType": None, "BeginTimeStamp": None}]
    assert trtc.merge_storage_files(known, None) == known
