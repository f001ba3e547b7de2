"""The COS verdict's file entries and its completion rules, read from the manifest a user gets.

Written for `make mutate` (issue 24 item 5; recordings/trtc.py: ``_evaluate_cos``, ``_mp4_names``,
``index_files``, ``file_url``). The decision table in tests/recordings/test_trtc_logic.py pins the
states with callbacks that always carry both ``FileMessage`` and ``FileList``; this pins each MP4
and index entry's fields, the 305 Status 2 recovery, and a playlist without ``#EXT-X-ENDLIST``.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_rtc.recordings import trtc
from airflow_provider_rtc.recordings.manifest import UploadPolicy
from tests.recordings.conftest import mp4_310, trtc_event

TASK = "task-c"
APP = 1400000001
STOP = trtc_event(TASK, 305, {"Status": 0})
TEMPLATE = "https://cos.example.com/{sdk_app_id}/{task_id}/{file_name}"


def evaluate(*bodies: dict[str, Any], playlists: dict[str, bool] | None = None, **kw: Any) -> Any:
    stored = [{"event_type": b["EventType"], "body": b} for b in bodies]
    obs = trtc.TrtcObservation(None, [], stored, playlists, task_id=TASK, app_id=APP)
    return trtc.evaluate_recording(obs, storage="cos", **kw)


def mp4(verdict: Any) -> list[dict[str, Any]]:
    return [f for f in verdict.manifest["files"] if f["format"] == "mp4"]


def test_an_mp4_entry_carries_its_user_track_times_and_url() -> None:
    verdict = evaluate(
        mp4_310(TASK, "r_1.mp4", user="alice", track="audio"), STOP, file_url_template=TEMPLATE
    )
    assert verdict.done, verdict.message
    assert mp4(verdict) == [
        {
            "name": "r_1.mp4",
            "url": f"https://cos.example.com/{APP}/{TASK}/r_1.mp4",
            "file_id": None,
            "size": None,
            "duration_ms": 65_000,
            "track_type": "audio",
            "status": "uploaded",
            "user_id": "alice",
            "stream_id": None,
            "format": "mp4",
            "begin_ms": 1_700_000_000_000,
        }
    ]


def test_an_mp4_named_only_in_file_list_has_no_metadata() -> None:
    only_list = trtc_event(TASK, 310, {"Status": 0, "FileList": ["r_1.mp4", ""]})
    (entry,) = mp4(evaluate(only_list, STOP))
    assert (entry["name"], entry["status"], entry["user_id"], entry["duration_ms"]) == (
        "r_1.mp4",
        "uploaded",
        None,
        None,
    )


def test_file_message_names_win_over_file_list_and_skip_entries_without_a_name() -> None:
    body = trtc_event(
        TASK,
        310,
        {
            "Status": 0,
            "FileList": ["listed.mp4"],
            "FileMessage": ["junk", {"UserId": "x"}, {"FileName": "r_1.mp4", "StartTimeStamp": 5}],
        },
    )
    (entry,) = mp4(evaluate(body, STOP))
    assert (entry["name"], entry["begin_ms"], entry["duration_ms"]) == ("r_1.mp4", 5, None)
    assert trtc.event_file_key(body) == "r_1.mp4"


def test_a_305_status_2_recovers_backup_mp4s_but_not_failed_ones() -> None:
    recovered = trtc_event(TASK, 305, {"Status": 2})
    verdict = evaluate(mp4_310(TASK, "r_1.mp4", status=1), recovered)
    assert verdict.done and [f["status"] for f in mp4(verdict)] == ["uploaded"], verdict.message
    # without the recovery the same MP4 is on backup storage: the default policy waits for it
    waiting = evaluate(mp4_310(TASK, "r_1.mp4", status=1), STOP)
    assert waiting.state == "waiting" and "310 MP4_STOP Status 1" in waiting.message
    failed = evaluate(mp4_310(TASK, "r_1.mp4", status=2), recovered)
    assert failed.state == "failed", failed.message
    warned = evaluate(
        mp4_310(TASK, "r_1.mp4", status=2), recovered, policy=UploadPolicy(on_failed_file="warn")
    )
    assert [f["status"] for f in mp4(warned)] == ["failed"]


def test_a_playlist_without_its_endlist_is_not_hls_done() -> None:
    listed = trtc_event(TASK, 304, {"FileList": ["a.m3u8", "b.m3u8"]})
    for playlists in ({"a.m3u8": False}, {"a.m3u8": True, "b.m3u8": False}):
        verdict = evaluate(listed, playlists=playlists)
        assert verdict.state == "waiting", verdict.message
        assert verdict.waiting_for == ["305 UPLOAD_STOP (all HLS files uploaded to your storage)"]
    done = evaluate(listed, playlists={"a.m3u8": True, "b.m3u8": True})
    assert done.done, done.message


def test_index_entries_carry_the_307s_user_track_and_begin() -> None:
    slice_ = trtc_event(
        TASK, 307, {"FileName": "a.m3u8", "UserId": "alice", "TrackType": "audio", "BeginTimeStamp": 7}
    )
    (entry,) = evaluate(slice_, STOP).manifest["files"]
    assert (entry["name"], entry["user_id"], entry["track_type"], entry["begin_ms"]) == (
        "a.m3u8",
        "alice",
        "audio",
        7,
    )


def test_only_307s_and_304s_name_index_files() -> None:
    obs = trtc.TrtcObservation(None, [], [])
    bodies = [
        trtc_event(TASK, 308, {"FileName": "stray.m3u8", "Code": "x"}),
        trtc_event(TASK, 307, {"UserId": "no file name"}),
        trtc_event(TASK, 304, {"FileList": ["a.m3u8", "a_1.mp4", "", "b.m3u8"]}),
    ]
    assert [f["FileName"] for f in trtc.index_files(obs, bodies)] == ["a.m3u8", "b.m3u8"]


def test_a_url_without_an_app_id_leaves_its_place_empty() -> None:
    assert (
        trtc.file_url(TEMPLATE, task_id=TASK, app_id=None, name="a.m3u8")
        == f"https://cos.example.com//{TASK}/a.m3u8"
    )
    assert trtc.file_url(None, task_id=TASK, app_id=APP, name="a.m3u8") is None


def test_a_305_status_1_is_hls_done_when_every_playlist_ends() -> None:
    stuck = trtc_event(TASK, 305, {"Status": 1})
    listed = trtc_event(TASK, 304, {"FileList": ["a.m3u8"]})
    verdict = evaluate(listed, stuck, playlists={"a.m3u8": True})
    assert verdict.done and verdict.manifest["files"][0]["status"] == "uploaded", verdict.message


def test_an_unknown_305_status_waits_and_says_which() -> None:
    verdict = evaluate(trtc_event(TASK, 305, {"Status": 7}))
    assert verdict.waiting_for == ["305 UPLOAD_STOP with a known Status (got 7)"]


def test_each_missing_callback_is_named_in_the_message() -> None:
    listed = trtc_event(TASK, 304, {"FileList": ["a.m3u8"]})
    verdict = evaluate(listed, STOP, wait_for_mp4=True)
    awaited = [
        "310 MP4_STOP (no MP4 callback has arrived yet; wait_for_mp4=True)",
        "310 MP4_STOP for a_<n>.mp4",
    ]
    assert verdict.waiting_for == awaited
    assert verdict.message == f"TRTC recording {TASK} is gone; waiting for " + "; ".join(awaited)


def test_a_listed_file_that_is_no_playlist_awaits_no_mp4() -> None:
    stored = [{"event_type": b["EventType"], "body": b} for b in (mp4_310(TASK, "r_1.mp4"), STOP)]
    obs = trtc.TrtcObservation(None, [{"FileName": "r_1.mp4"}], stored, task_id=TASK, app_id=APP)
    verdict = trtc.evaluate_recording(obs, storage="cos", wait_for_mp4=True)
    assert verdict.done, verdict.message


def test_a_done_cos_verdict_warns_of_each_gap_and_of_nothing_else() -> None:
    listed = trtc_event(TASK, 304, {"FileList": ["a.m3u8"]})
    assert evaluate(listed, STOP).manifest["warnings"] == []
    assert evaluate(mp4_310(TASK, "r_1.mp4"), STOP).manifest["warnings"] == []
    by_storage = evaluate(listed, playlists={"a.m3u8": True}).manifest["warnings"]
    assert by_storage == [
        "no 305 UPLOAD_STOP arrived; HLS completion was read from storage "
        "(every playlist ends with #EXT-X-ENDLIST)"
    ]
    unknown = evaluate(STOP).manifest
    assert unknown["status"] == "uploaded" and unknown["warnings"] == [
        "the uploaded file names are unknown: the task was gone before the first poll "
        "and no 304/307 callback named them"
    ]
    warned = evaluate(mp4_310(TASK, "r_1.mp4", status=2), STOP, policy=UploadPolicy(on_failed_file="warn"))
    assert warned.manifest["warnings"] == ["1 MP4 file(s) failed (310 Status 2): r_1.mp4"]
    assert warned.manifest["status"] == "partial"  # a failed MP4 is never reported as uploaded


def test_a_done_manifest_carries_each_trouble_callback_word_for_word() -> None:
    notes = [
        trtc_event(TASK, 301, {"Status": 1}),
        trtc_event(TASK, 308, {"Code": "NoSuchBucket", "Message": "bucket gone"}),
        trtc_event(TASK, 309, {"Url": "https://img.example.com/a.png"}),
        # after the others, so a note from either would show in the wrong place
        trtc_event(TASK, 302, {"Status": 1}),
        trtc_event(TASK, 301, {"Status": 0}),
    ]
    warnings = evaluate(*notes, STOP).manifest["warnings"]
    assert warnings == [
        "the recorder failed to start (301 Status 1)",
        "the storage reported an upload error (308 UPLOAD_ERROR NoSuchBucket: bucket gone)",
        "an image could not be downloaded (309 DOWNLOAD_IMAGE_ERROR https://img.example.com/a.png)",
        "the uploaded file names are unknown: the task was gone before the first poll "
        "and no 304/307 callback named them",
    ]
