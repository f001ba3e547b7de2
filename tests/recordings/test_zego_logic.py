"""The ZEGO decision table (pure): when a recording counts as uploaded, what the policy does, and how
a task beyond the query window is explained. Sensors and triggers both call these functions."""

from __future__ import annotations

import pytest

from airflow_provider_rtc.recordings import zego
from airflow_provider_rtc.recordings.manifest import FILE_KEYS, MANIFEST_KEYS, UploadPolicy
from airflow_provider_rtc.waits.steps import decide_mix

from .conftest import zego_file, zego_record

TASK = "X3CgNeE4I1qAAABN"


def evaluate(envelope, policy=None):
    return zego.evaluate_record_status(
        envelope, app_id=1234567890, task_id=TASK, policy=policy or UploadPolicy()
    )


@pytest.mark.parametrize("status", [1, 2, 5])
def test_not_done_while_the_task_runs_even_if_files_look_final(status):
    verdict = evaluate(zego_record(status, [zego_file("a.mp4", 3)]))
    assert verdict.state == "waiting"
    assert "the task to end" in verdict.waiting_for[0]
    if status == 5:
        assert "paused" in verdict.message


@pytest.mark.parametrize("file_status", [1, 2])
def test_not_done_before_the_last_file_is_uploaded(file_status):
    verdict = evaluate(zego_record(3, [zego_file("a.mp4", 3), zego_file("b.mp4", file_status)]))
    assert verdict.state == "waiting"
    assert verdict.manifest is None
    assert "b.mp4" in verdict.waiting_for[0]
    assert ("uploading" if file_status == 2 else "recording") in verdict.waiting_for[0]


def test_done_with_a_full_manifest_when_every_file_is_uploaded():
    verdict = evaluate(zego_record(3, [zego_file("a.mp4", 3), zego_file("b.mp4", 3, MediaTrackType=1)]))
    assert verdict.state == "done"
    manifest = verdict.manifest
    assert tuple(manifest) == MANIFEST_KEYS
    assert manifest["cloud"] == "zego" and manifest["app_id"] == 1234567890 and manifest["task_id"] == TASK
    assert manifest["room_id"] == "room_1" and manifest["status"] == "uploaded" and manifest["warnings"] == []
    first = manifest["files"][0]
    assert tuple(first) == FILE_KEYS
    assert first == {
        "name": "a.mp4",
        "url": "https://bucket.example.com/record/a.mp4",
        "file_id": None,
        "size": 432_643,
        "duration_ms": 33_874,
        "track_type": "audio_video",
        "status": "uploaded",
        "user_id": "alice",
        "stream_id": "stream_alice",
        "format": "mp4",
        "begin_ms": 1_601_221_459_830,
    }
    assert manifest["files"][1]["track_type"] == "audio"


def test_no_record_files_means_done_with_an_empty_manifest():
    verdict = evaluate(zego_record(3, None))
    assert verdict.state == "done"
    assert verdict.manifest["status"] == "empty" and verdict.manifest["files"] == []
    assert "nothing was published" in verdict.message
    assert "nothing was published" in verdict.manifest["warnings"][0]


def test_failed_file_fails_by_default_even_while_others_upload():
    verdict = evaluate(zego_record(3, [zego_file("a.mp4", 5), zego_file("b.mp4", 2)]))
    assert verdict.state == "failed"
    assert "a.mp4" in verdict.message and "Status 5" in verdict.message


def test_failed_file_with_warn_policy_is_kept_and_marks_the_manifest_partial():
    verdict = evaluate(
        zego_record(3, [zego_file("a.mp4", 5), zego_file("b.mp4", 3)]), UploadPolicy(on_failed_file="warn")
    )
    assert verdict.state == "done"
    assert verdict.manifest["status"] == "partial"
    assert [f["status"] for f in verdict.manifest["files"]] == ["failed", "uploaded"]
    assert any("failed to upload" in w for w in verdict.manifest["warnings"])


def test_backup_file_warns_by_default_with_the_expiry():
    verdict = evaluate(zego_record(3, [zego_file("a.mp4", 4)]))
    assert verdict.state == "done"
    assert verdict.manifest["files"][0]["status"] == "backup"
    assert verdict.manifest["status"] == "partial"
    warning = verdict.manifest["warnings"][0]
    assert "backup storage" in warning and "3 days" in warning and "2020-09-30" in warning


def test_backup_file_can_fail_the_task():
    verdict = evaluate(zego_record(3, [zego_file("a.mp4", 4)]), UploadPolicy(on_backup_file="fail"))
    assert verdict.state == "failed" and "backup storage" in verdict.message


def test_task_ended_abnormally_is_done_and_says_so():
    verdict = evaluate(zego_record(4, [zego_file("a.mp4", 3)]))
    assert verdict.state == "done" and "abnormally" in verdict.manifest["warnings"][0]


def test_not_queryable_explains_the_three_day_window_and_is_never_success():
    verdict = zego.not_queryable(TASK)
    assert verdict.state == "failed"
    assert "300001000" in verdict.message and "3 days" in verdict.message
    assert "not reported as uploaded" in verdict.message


def test_not_queryable_after_having_seen_the_task_says_it_aged_out():
    seen = zego.seen_summary(zego_record(2, []))
    verdict = zego.not_queryable(TASK, seen)
    assert "answered earlier" in verdict.message and "past ZEGO's 3-day query window" in verdict.message
    assert "2020-09-27" in verdict.message


def test_mix_task_is_done_only_once_gone():
    running = decide_mix(
        {"Code": 0, "Data": {"TaskInfo": {"TaskId": "m", "MixDuration": 42}}}, app_id=1, task_id="m"
    )
    assert running.state == "waiting" and "42 s" in running.message
    gone = decide_mix(None, app_id=1, task_id="m")
    assert gone.state == "done"
    assert gone.manifest == {"cloud": "zego", "app_id": 1, "mix_task_id": "m", "status": "gone"}


def test_policy_values_are_validated():
    with pytest.raises(ValueError, match="on_failed_file"):
        UploadPolicy(on_failed_file="ignore")
    with pytest.raises(ValueError, match="on_backup_file"):
        UploadPolicy(on_backup_file="maybe")
