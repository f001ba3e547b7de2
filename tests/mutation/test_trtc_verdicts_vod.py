"""The VOD verdict's file entries, its 312 rules and its warnings, read from what a user gets.

Written for `make mutate` (issue 24 item 5; recordings/trtc.py: ``_evaluate_vod``). The decision
table in tests/recordings/test_trtc_logic.py pins the states; this pins each committed file's
fields, which of two 311s for one stream counts, a 312 that exited abnormally under each policy,
and the words of each wait and warning.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_rtc.recordings import trtc
from airflow_provider_rtc.recordings.manifest import UploadPolicy
from tests.recordings.conftest import trtc_event, vod_311

TASK = "task-d"
APP = 1400000001
WHERE = f"TRTC recording {TASK}"
STOP = trtc_event(TASK, 312, {"Status": 0})
WARN = UploadPolicy(on_failed_file="warn", on_backup_file="warn")


def evaluate(*bodies: dict[str, Any], storage_files: list[dict[str, Any]] | None = None, **kw: Any) -> Any:
    stored = [{"event_type": b["EventType"], "body": b} for b in bodies]
    obs = trtc.TrtcObservation(None, list(storage_files or []), stored, task_id=TASK, app_id=APP)
    return trtc.evaluate_recording(obs, storage="vod", **kw)


def test_a_committed_file_carries_its_vod_fields() -> None:
    verdict = evaluate(vod_311(TASK, "5285", user="alice", track="audio"), STOP)
    assert verdict.done, verdict.message
    assert verdict.manifest["files"] == [
        {
            "name": f"{TASK}_alice.mp4",
            "url": "https://vod.example.com/5285/f0.mp4",
            "file_id": "5285",
            "size": None,
            "duration_ms": 30_000,
            "track_type": "audio",
            "status": "uploaded",
            "user_id": "alice",
            "stream_id": None,
            "format": "mp4",
            "begin_ms": 1_700_000_000_000,
        }
    ]
    assert verdict.manifest["warnings"] == [] and verdict.manifest["status"] == "uploaded"


def test_a_file_without_cache_name_is_named_by_its_file_id_then_its_stream() -> None:
    by_id = trtc_event(
        TASK, 311, {"Status": 0, "TencentVod": {"UserId": "bob", "FileId": "77", "VideoUrl": "u.m3u8"}}
    )
    (entry,) = evaluate(by_id, STOP).manifest["files"]
    assert (entry["name"], entry["file_id"], entry["format"], entry["duration_ms"]) == (
        "77",
        "77",
        "m3u8",
        None,
    )
    by_stream = trtc_event(TASK, 311, {"Status": 1, "TencentVod": {"UserId": "bob", "TrackType": "video"}})
    (entry,) = evaluate(by_stream, STOP, policy=WARN).manifest["files"]
    assert (entry["name"], entry["file_id"], entry["status"], entry["format"]) == (
        "bob|video||",
        None,
        "backup",
        None,
    )


def test_the_latest_311_of_a_stream_counts_whatever_the_stored_order() -> None:
    stuck = vod_311(TASK, "", status=1, user="alice", at_ms=1000)
    committed = vod_311(TASK, "9", user="alice", at_ms=2000)
    for order in ((stuck, committed), (committed, stuck)):
        verdict = evaluate(*order, STOP)
        assert verdict.done and [f["status"] for f in verdict.manifest["files"]] == ["uploaded"], (
            verdict.message
        )


def test_an_unknown_311_status_is_a_failed_file_with_its_error() -> None:
    odd = trtc_event(
        TASK, 311, {"Status": 9, "Errmsg": "odd", "TencentVod": {"UserId": "bob", "CacheFile": "b.mp4"}}
    )
    no_status = trtc_event(TASK, 311, {"TencentVod": {"UserId": "eve", "CacheFile": "e.mp4"}})
    verdict = evaluate(odd, no_status, STOP, policy=WARN)
    assert [f["status"] for f in verdict.manifest["files"]] == ["failed", "failed"]
    assert verdict.manifest["warnings"] == ["b.mp4: odd", "2 file(s) failed to upload to VOD: b.mp4, e.mp4"]
    assert verdict.manifest["status"] == "partial"


def test_a_312_that_exited_abnormally_fails_or_warns_by_policy() -> None:
    bad_stop = trtc_event(TASK, 312, {"Status": 1})
    failed = evaluate(vod_311(TASK, "1"), bad_stop)
    assert failed.state == "failed"
    assert failed.message == (
        f"{WHERE}: the VOD upload task exited abnormally (312 VOD_STOP Status 1). "
        "Set on_failed_file='warn' to continue with the files that were committed."
    )
    warned = evaluate(vod_311(TASK, "1"), bad_stop, policy=WARN)
    assert warned.done and warned.manifest["status"] == "partial"
    assert warned.manifest["warnings"] == ["the VOD upload task exited abnormally (312 VOD_STOP Status 1)"]


def test_a_stuck_file_is_waited_for_by_name() -> None:
    verdict = evaluate(vod_311(TASK, "", status=1, user="alice"), STOP)
    stuck = (
        f"311 VOD_COMMIT Status 0 for the stuck file(s): 1 file(s) are still on Tencent's server or backup "
        f"storage (311 VOD_COMMIT Status 1): {TASK}_alice.mp4"
    )
    assert verdict.waiting_for == [stuck]
    assert verdict.message == f"{WHERE} is gone; waiting for {stuck}"


def test_each_recorded_stream_needs_its_311_and_the_mix_is_the_empty_user() -> None:
    mix = trtc_event(
        TASK, 311, {"Status": 0, "TencentVod": {"UserId": "", "TrackType": "audio_video", "FileId": "3"}}
    )
    listed = [{"UserId": "", "TrackType": "audio_video"}, {"UserId": "bob", "TrackType": "audio"}]
    verdict = evaluate(mix, STOP, storage_files=listed)
    assert verdict.waiting_for == ["311 VOD_COMMIT for user bob track audio"]
    verdict = evaluate(STOP, storage_files=[{"UserId": None, "TrackType": "audio_video"}])
    assert verdict.waiting_for == ["311 VOD_COMMIT for user (mix) track audio_video"]
    assert evaluate(mix, STOP, storage_files=listed[:1]).done


def test_no_312_waits_for_it_and_no_file_warns() -> None:
    assert evaluate(vod_311(TASK, "1")).waiting_for == ["312 VOD_STOP (the VOD upload task finished)"]
    empty = evaluate(STOP)
    assert empty.done and empty.manifest["warnings"] == [
        f"{WHERE} committed no file to VOD: nothing was published while it recorded"
    ]


def test_a_311_whose_vod_part_is_no_object_is_a_failed_file_not_a_crash() -> None:
    odd = trtc_event(TASK, 311, {"Status": 2, "TencentVod": "x"})
    (entry,) = evaluate(odd, STOP, policy=WARN).manifest["files"]
    assert (entry["name"], entry["status"], entry["user_id"]) == ("|||", "failed", None)


def test_a_stuck_file_under_the_fail_policy_fails_naming_it() -> None:
    verdict = evaluate(
        vod_311(TASK, "", status=1, user="alice"), STOP, policy=UploadPolicy(on_backup_file="fail")
    )
    assert verdict.state == "failed"
    assert verdict.message == (
        f"{WHERE}: 1 file(s) are still on Tencent's server or backup storage (311 VOD_COMMIT Status 1): "
        f"{TASK}_alice.mp4; on_backup_file='fail'."
    )


def test_the_format_is_the_cache_files_and_a_missing_end_leaves_no_duration() -> None:
    vod = {"UserId": "bob", "CacheFile": "b.mp4", "VideoUrl": "https://vod.example.com/b/index.m3u8"}
    started = trtc_event(TASK, 311, {"Status": 0, "TencentVod": {**vod, "StartTimeStamp": 5}})
    (entry,) = evaluate(started, STOP).manifest["files"]
    assert (entry["format"], entry["begin_ms"], entry["duration_ms"]) == ("mp4", 5, None)


def test_every_missing_callback_is_named_in_the_vod_message() -> None:
    verdict = evaluate(storage_files=[{"UserId": "bob", "TrackType": "audio"}])
    awaited = ["312 VOD_STOP (the VOD upload task finished)", "311 VOD_COMMIT for user bob track audio"]
    assert verdict.waiting_for == awaited
    assert verdict.message == f"{WHERE} is gone; waiting for " + "; ".join(awaited)
