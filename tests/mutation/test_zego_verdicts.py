"""The ZEGO upload verdicts (``recordings/zego.py``) beyond the decision table of
``tests/recordings/test_zego_logic.py``: written for the mutants its tests let live.

What a user reads when a wait fails or stalls is part of the verdict (which file, which status, when
the backup copy expires), and the ZEGO "files uploaded" callback must decide exactly as a
DescribeRecordStatus answer does: both are pinned here, the callback with ZEGO's own published
example (``tests/conformance/data/zego/cb_recording_status.json``, from ZEGOCLOUD/docs_all).
"""

from __future__ import annotations

import copy
from typing import Any

import pendulum
import pytest

from airflow_provider_rtc.recordings import zego
from airflow_provider_rtc.recordings.manifest import UploadPolicy
from tests.conformance.conftest import zego_example
from tests.recordings.conftest import zego_file, zego_record

TASK = "X3CgNeE4I1qAAABN"
WARN = UploadPolicy(on_failed_file="warn", on_backup_file="warn")


def evaluate(envelope: dict[str, Any], policy: UploadPolicy | None = None) -> Any:
    policy = policy or UploadPolicy()
    return zego.evaluate_record_status(envelope, app_id=1234567890, task_id=TASK, policy=policy)


def data_of(status: Any, files: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    envelope = zego_record(3, files or [])
    envelope["Data"]["Status"] = status
    return envelope


# -- the task's status as the message tells it --------------------------------------------------


@pytest.mark.parametrize(
    ("status", "told"),
    [
        (None, "unknown status None"),
        ("x", "unknown status 'x'"),
        (7, "unknown status 7"),
        (1, "initializing"),
    ],
)
def test_a_task_status_zego_never_documented_is_named_as_sent(status: Any, told: str) -> None:
    verdict = evaluate(data_of(status))
    assert verdict.state == "waiting"
    assert verdict.message == f"ZEGO recording {TASK}: waiting for the task to end (now {told})"


def test_only_a_paused_task_gets_the_resume_hint() -> None:
    assert evaluate(data_of(5)).waiting_for == ["the task to end (now paused (paused: resume or stop it))"]
    assert evaluate(data_of(2)).waiting_for == ["the task to end (now recording)"]


# -- files still uploading -------------------------------------------------------------------------


def test_a_file_is_named_by_its_file_id_else_its_stream_else_as_unnamed() -> None:
    files = [
        zego_file("a.mp4", 2),
        zego_file("", 2, StreamId="stream_bob"),
        zego_file("", 1, StreamId=""),
    ]
    verdict = evaluate(zego_record(3, files))
    assert verdict.waiting_for == [
        "3 file(s) still recording or uploading: a.mp4 (uploading), stream_bob (uploading), "
        "unnamed file (recording)"
    ]


@pytest.mark.parametrize(("status", "label"), [(9, "status 9"), (None, "status None"), ("2x", "status '2x'")])
def test_a_file_status_zego_never_documented_is_waited_for_and_named_as_sent(status: Any, label: str) -> None:
    verdict = evaluate(zego_record(3, [zego_file("a.mp4", status)]))
    assert verdict.state == "waiting" and verdict.manifest is None
    assert verdict.waiting_for == [f"1 file(s) still recording or uploading: a.mp4 ({label})"]


def test_at_most_five_pending_files_are_named_and_every_wait_is_joined() -> None:
    files = [zego_file(f"f{i}.mp4", 2) for i in range(6)]
    verdict = evaluate(data_of(2, files))
    named = ", ".join(f"f{i}.mp4 (uploading)" for i in range(5))
    assert verdict.waiting_for == [
        "the task to end (now recording)",
        f"6 file(s) still recording or uploading: {named}",
    ]
    assert verdict.message == f"ZEGO recording {TASK}: waiting for " + "; ".join(verdict.waiting_for)


def test_a_failed_file_after_one_still_uploading_fails_at_once() -> None:
    """A Status 5 file can never succeed, wherever it stands in the list: the verdict fails at
    once, not after the earlier file has uploaded (the loop must go on past a pending file)."""
    verdict = evaluate(zego_record(3, [zego_file("a.mp4", 2), zego_file("b.mp4", 5)]))
    assert verdict.state == "failed"
    assert verdict.message.startswith(f"ZEGO recording {TASK}: 1 file(s) failed to upload")
    assert verdict.message.endswith("Set on_failed_file='warn' to continue with the files that did upload.")


def test_a_backup_file_after_one_still_uploading_fails_at_once_under_fail() -> None:
    policy = UploadPolicy(on_failed_file="fail", on_backup_file="fail")
    verdict = evaluate(zego_record(3, [zego_file("a.mp4", 1), zego_file("b.mp4", 4)]), policy)
    assert verdict.state == "failed" and "b.mp4" in verdict.message


# -- the manifest's entries -------------------------------------------------------------------------


def test_a_file_without_a_track_type_has_none_not_a_guessed_one() -> None:
    raw = zego_file("a.mp4", 3)
    del raw["MediaTrackType"]
    (entry,) = evaluate(zego_record(3, [raw])).manifest["files"]
    assert entry["track_type"] is None


def test_the_done_message_counts_the_final_files_and_names_the_manifest_status() -> None:
    verdict = evaluate(zego_record(3, [zego_file("a.mp4", 3), zego_file("b.mp4", 5)]), WARN)
    assert verdict.state == "done"
    assert verdict.message == f"ZEGO recording {TASK}: 2 file(s) final, manifest status partial"


# -- the backup copy's expiry, in UTC whatever the worker's zone ----------------------------------------


def test_the_backup_expiry_is_three_days_after_the_end_to_the_minute_in_utc() -> None:
    envelope = zego_record(3, [zego_file("a.mp4", 4)])
    # 3 days after this end is 23:59:59.998 UTC: one millisecond more per day would be the next day
    end_ms = pendulum.datetime(2026, 3, 1, 23, 59, 59).int_timestamp * 1000 + 998 - 3 * 86_400_000
    envelope["Data"]["RecordEndTimestamp"] = end_ms
    with pendulum.test_local_timezone(pendulum.timezone("Asia/Shanghai")):
        verdict = evaluate(envelope)
    (warning,) = verdict.manifest["warnings"]
    assert "expire after 3 days (about 2026-03-01 23:59 UTC)" in warning


def test_without_an_end_time_the_expiry_is_told_in_days() -> None:
    envelope = zego_record(3, [zego_file("a.mp4", 4)])
    del envelope["Data"]["RecordEndTimestamp"]
    (warning,) = evaluate(envelope).manifest["warnings"]
    assert "expire after 3 days (about 3 days)" in warning


# -- the envelope ---------------------------------------------------------------------------------------


def test_the_data_object_itself_is_read_like_its_envelope() -> None:
    envelope = zego_record(3, [zego_file("a.mp4", 3)])
    assert zego.record_data(envelope["Data"]) == envelope["Data"]
    assert evaluate(envelope["Data"]).state == "done"


@pytest.mark.parametrize("broken", [{"Data": None}, {"Data": ["not", "an", "object"]}, {"Data": "text"}])
def test_an_envelope_whose_data_is_not_an_object_is_waited_on_not_a_crash(broken: dict[str, Any]) -> None:
    assert zego.record_data(broken) == {}
    told = "waiting for the task to end (now unknown status None)"
    assert evaluate(broken).message == f"ZEGO recording {TASK}: {told}"


def test_a_non_object_answer_reads_as_empty() -> None:
    assert zego.record_data(["Data"]) == {}  # type: ignore[arg-type]


def test_what_is_remembered_between_polls_names_the_room() -> None:
    envelope = zego_record(2, [], room_id="room_9")
    assert zego.seen_summary(envelope) == {"status": 2, "begin_ms": 1_601_221_452_099, "room_id": "room_9"}


# -- beyond the query window ------------------------------------------------------------------------------


def test_not_queryable_without_history_says_wrong_id_or_too_old_and_where_to_look() -> None:
    verdict = zego.not_queryable(TASK)
    assert verdict.state == "failed"
    assert verdict.message == (
        f"ZEGO recording {TASK} can no longer be queried: DescribeRecordStatus answered 300001000 (task "
        "does not exist); either the TaskId is wrong or the task started more than 3 days ago, beyond "
        "ZEGO's query window. Its upload state is unknown, so this is not reported as uploaded. Check "
        "your storage (or ZEGO's upload callback, event_type 1) for its files."
    )


@pytest.mark.parametrize(
    ("status", "told"), [(2, "recording"), (9, "status unknown"), ("x", "status unknown")]
)
def test_not_queryable_after_history_names_the_last_status_seen(status: Any, told: str) -> None:
    seen = {"status": status, "begin_ms": 1_601_221_452_099}
    message = zego.not_queryable(TASK, seen).message
    assert f"it answered earlier (task {told}, started 2020-09-27 15:44 UTC)" in message


def test_the_unknown_time_is_said_in_words() -> None:
    assert zego._utc(None) == "an unknown time"
    assert "started an unknown time" in zego.not_queryable(TASK, {"status": 3}).message


def test_a_time_is_told_in_utc_with_minutes_not_months() -> None:
    with pendulum.test_local_timezone(pendulum.timezone("Asia/Shanghai")):
        assert zego._utc(1_601_221_452_099) == "2020-09-27 15:44 UTC"


# -- the "files uploaded" callback decides as DescribeRecordStatus does ---------------------------------


def published_callback() -> dict[str, Any]:
    return copy.deepcopy(zego_example("cb_recording_status")["payload"])


def test_zegos_published_upload_callback_reads_as_its_describe_answer() -> None:
    envelope = zego.record_status_from_callback(published_callback())
    assert envelope is not None
    data = envelope["Data"]
    assert data["RoomId"] == "6677" and data["Status"] == 3
    (file,) = data["RecordFiles"]
    assert file["FileId"] == "YZ4joOE4IwmFAAAT_6677_800221_800221_VA_20211124113602084.mp4"
    assert (file["Status"], file["MediaTrackType"], file["FileSize"]) == (3, 3, 25349026)
    assert (file["OutputFileFormat"], file["BeginTimestamp"]) == ("mp4", 1637753762084)
    assert file["StreamId"] == "800221"
    verdict = evaluate(envelope)
    assert verdict.state == "done" and verdict.manifest["room_id"] == "6677"
    (entry,) = verdict.manifest["files"]
    assert (entry["track_type"], entry["format"], entry["user_id"]) == ("audio_video", "mp4", "800221")


def test_a_callback_file_still_uploading_is_waited_for() -> None:
    body = published_callback()
    body["detail"]["file_info"][0]["status"] = 2
    assert evaluate(zego.record_status_from_callback(body)).state == "waiting"


@pytest.mark.parametrize("event_type", [2, "2", None, 0])
def test_other_callbacks_are_not_upload_answers(event_type: Any) -> None:
    body = published_callback()
    body["event_type"] = event_type
    assert zego.record_status_from_callback(body) is None


def test_the_event_type_may_come_as_text() -> None:
    body = published_callback()
    body["event_type"] = "1"
    assert zego.record_status_from_callback(body) is not None


@pytest.mark.parametrize("body", [None, [], "event_type=1"])
def test_a_callback_that_is_not_an_object_is_not_an_answer(body: Any) -> None:
    assert zego.record_status_from_callback(body) is None


@pytest.mark.parametrize(
    "detail",
    [None, "text", {}, {"file_info": None}, {"file_info": {"file_id": "a"}}, {"file_info": ["a", 3]}],
)
def test_a_callback_without_a_file_list_is_an_ended_task_with_no_file(detail: Any) -> None:
    body = published_callback()
    body["detail"] = detail
    envelope = zego.record_status_from_callback(body)
    assert envelope == {"Data": {"RoomId": "6677", "Status": 3, "RecordFiles": []}}


def test_snake_case_keys_become_the_describe_answers_camel_case() -> None:
    assert zego._camel("media_track_type") == "MediaTrackType"
    assert zego._camel("status") == "Status"
    assert zego._camel("a__b") == "AB"
    assert zego._camel("") == ""
