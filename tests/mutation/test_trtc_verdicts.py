"""The TRTC upload verdicts' own wording and branches: never done early, and each verdict says why.

Written for `make mutate` (issue 24 item 5; recordings/trtc.py: ``evaluate_recording``,
``pick_mode`` and the verdict helpers ``_failed_files``, ``_backup_files``, ``_complete``). The
decision table in tests/recordings/test_trtc_logic.py pins the states; this pins what a user reads
in the task log and in ``waiting_for``, and the branches that table reaches only one way.
"""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_rtc.recordings import trtc
from airflow_provider_rtc.recordings.manifest import UploadPolicy
from tests.recordings.conftest import mp4_310, trtc_event, vod_311

TASK = "task-v"
WHERE = f"TRTC recording {TASK}"
HLS = "1400000001_1001.m3u8"
STORAGE = [{"UserId": "", "FileName": HLS, "TrackType": "audio_video", "BeginTimeStamp": 1_700_000_000_000}]


def evaluate(
    events: list[dict[str, Any]] | None,
    *,
    status: str | None = None,
    storage_files: list[dict[str, Any]] | None = None,
    playlists: dict[str, bool] | None = None,
    **kw: Any,
) -> Any:
    stored = None if events is None else [{"event_type": b["EventType"], "body": b} for b in events]
    obs = trtc.TrtcObservation(status, list(storage_files or []), stored, playlists)
    return trtc.evaluate_recording(obs, app_id=1400000001, task_id=TASK, **kw)


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        ("Idle", "the recorder has not started or no anchor is in the room"),
        ("InProgress", "it is still recording"),
        ("Exited", "the recorder is leaving the room"),
        ("Paused", "DescribeCloudRecording still answers"),
    ],
)
def test_a_living_task_waits_and_says_what_its_status_means(status: str, hint: str) -> None:
    # even with a 305 stored: nothing is final while DescribeCloudRecording answers
    verdict = evaluate([trtc_event(TASK, 305, {"Status": 0})], status=status, storage="cos")
    expected = f"the task to end (DescribeCloudRecording says {status}: {hint})"
    assert (verdict.state, verdict.waiting_for, verdict.manifest) == ("waiting", [expected], None)
    assert verdict.message == f"{WHERE}: waiting for {expected}"


def test_a_gone_task_without_callbacks_says_none_has_arrived() -> None:
    verdict = evaluate([])
    expected = (
        "a completion callback: 305 UPLOAD_STOP (COS/third-party storage) or 312 VOD_STOP (VOD); "
        "no recording callback for this task has reached the receiver yet"
    )
    assert (verdict.state, verdict.waiting_for) == ("waiting", [expected])
    assert verdict.message == f"{WHERE} is gone; waiting for {expected}"


def test_a_gone_task_with_only_undecided_callbacks_names_them() -> None:
    verdict = evaluate(
        [
            trtc_event(TASK, 302, {"LeaveCode": 0}),
            trtc_event(TASK, 301, {"Status": 0}),
            trtc_event(TASK, 301, {"Status": 0}),
            trtc_event(TASK, 399, {}),
        ]
    )
    assert verdict.state == "waiting"
    assert verdict.waiting_for[0].endswith(
        "; 4 callback(s) for this task are stored (301 RECORDER_START, 302 RECORDER_STOP, 399 event), "
        "none of which tells the storage mode or the end of the upload yet"
    )


def test_callbacks_of_unknown_type_are_counted_but_not_named() -> None:
    body = trtc_event(TASK, 301, {})
    body["EventType"] = "not a number"
    verdict = evaluate([body])
    assert "1 callback(s) for this task are stored (unknown types)" in verdict.waiting_for[0]


@pytest.mark.parametrize(
    ("storage", "types", "mode"),
    [
        ("cos", [311], "cos"),
        ("vod", [305], "vod"),
        ("auto", [301, 311], "vod"),
        ("auto", [312], "vod"),
        ("auto", [303], "cos"),
        ("auto", [304, 307, 310], "cos"),
        ("auto", [305, 311], "vod"),
        ("auto", [301, 302, 306], None),
        ("auto", [], None),
    ],
)
def test_the_storage_mode_comes_from_the_setting_or_the_callbacks(
    storage: str, types: list[int], mode: str | None
) -> None:
    bodies = [trtc_event(TASK, t, {}) for t in types]
    assert trtc.pick_mode(storage, bodies) == mode


def test_playlists_that_all_ended_make_an_undecided_task_cos_and_done() -> None:
    verdict = evaluate([], storage_files=STORAGE, playlists={HLS: True})
    assert verdict.state == "done"
    assert verdict.manifest["storage"] == "cos"
    assert verdict.message == f"{WHERE}: upload complete (1 file(s), manifest status uploaded)"


@pytest.mark.parametrize("playlists", [{HLS: False}, {HLS: True, "b.m3u8": False}, {}, None])
def test_playlists_that_did_not_all_end_decide_nothing(playlists: dict[str, bool] | None) -> None:
    verdict = evaluate([], storage_files=STORAGE, playlists=playlists)
    assert verdict.state == "waiting"
    assert verdict.waiting_for[0].startswith("a completion callback: 305 UPLOAD_STOP")


def test_the_default_policy_waits_for_backup_files_to_be_restored() -> None:
    verdict = evaluate([trtc_event(TASK, 305, {"Status": 1})], storage_files=STORAGE)
    assert verdict.state == "waiting"
    assert verdict.waiting_for == [
        "305 UPLOAD_STOP Status 2 (recovery): HLS files (305 UPLOAD_STOP Status 1) are still on "
        "Tencent's server or backup storage"
    ]
    assert verdict.message == f"{WHERE} is gone; waiting for {verdict.waiting_for[0]}"


def test_backup_files_under_fail_and_warn_say_so() -> None:
    events = [trtc_event(TASK, 305, {"Status": 1}), mp4_310(TASK, "1400000001_1001_1.mp4", status=1)]
    failed = evaluate(events, storage_files=STORAGE, policy=UploadPolicy(on_backup_file="fail"))
    stuck = (
        "HLS files (305 UPLOAD_STOP Status 1) and MP4 file(s) 1400000001_1001_1.mp4 (310 MP4_STOP "
        "Status 1) are still on Tencent's server or backup storage"
    )
    assert (failed.state, failed.message) == ("failed", f"{WHERE}: {stuck}; on_backup_file='fail'.")
    warned = evaluate(events, storage_files=STORAGE, policy=UploadPolicy(on_backup_file="warn"))
    assert warned.state == "done"
    assert warned.manifest["warnings"] == [stuck + "; accepted as 'backup' (on_backup_file='warn')"]


def test_failed_mp4s_fail_with_a_message_that_names_them_and_the_way_out() -> None:
    events = [
        trtc_event(TASK, 305, {"Status": 0}),
        mp4_310(TASK, "1400000001_1001_1.mp4", status=2),
        mp4_310(TASK, "1400000001_1001_2.mp4", status=2),
    ]
    verdict = evaluate(events, storage_files=STORAGE)
    assert verdict.state == "failed"
    assert verdict.message == (
        f"{WHERE}: 2 MP4 file(s) failed (310 MP4_STOP Status 2, abnormal exit): "
        "1400000001_1001_1.mp4, 1400000001_1001_2.mp4. Set on_failed_file='warn' to continue with the "
        "other files."
    )


def test_no_failed_file_under_the_fail_policy_is_no_failure() -> None:
    events = [trtc_event(TASK, 305, {"Status": 0}), mp4_310(TASK, "1400000001_1001_1.mp4")]
    verdict = evaluate(events, storage_files=STORAGE, policy=UploadPolicy(on_failed_file="fail"))
    assert verdict.state == "done"
    assert verdict.message == f"{WHERE}: upload complete (2 file(s), manifest status uploaded)"


def test_failed_vod_files_fail_with_their_count_and_names() -> None:
    events = [vod_311(TASK, "f1", status=2, user="alice"), trtc_event(TASK, 312, {"Status": 0})]
    verdict = evaluate(events)
    assert verdict.state == "failed"
    assert verdict.message == (
        f"{WHERE}: 1 file(s) failed to upload to VOD (311 VOD_COMMIT Status 2): {TASK}_alice.mp4. "
        "Set on_failed_file='warn' to continue with the other files."
    )


def test_a_done_vod_upload_reports_its_file_count_and_status() -> None:
    events = [
        vod_311(TASK, "f1", user="alice"),
        vod_311(TASK, "f2", user="bob"),
        trtc_event(TASK, 312, {"Status": 0}),
    ]
    verdict = evaluate(events, storage="vod")
    assert (verdict.state, verdict.manifest["storage"]) == ("done", "vod")
    assert (verdict.manifest["task_id"], verdict.manifest["app_id"]) == (TASK, 1400000001)
    assert verdict.message == f"{WHERE}: upload complete (2 file(s), manifest status uploaded)"


def test_the_manifest_names_the_room_of_the_first_callback_that_has_one() -> None:
    events = [
        trtc_event(TASK, 303, {}, room_id=""),
        trtc_event(TASK, 305, {"Status": 0}, room_id="room-7"),
        mp4_310(TASK, "1400000001_1001_1.mp4", room_id="room-8"),
    ]
    verdict = evaluate(events, storage_files=STORAGE)
    assert verdict.manifest["room_id"] == "room-7"
    assert verdict.manifest["task_id"] == TASK and verdict.manifest["app_id"] == 1400000001
