"""The TRTC decision table (pure): never complete while the task lives, and once it is gone only the
storage mode's completion callbacks complete it. Also the store keys derived from a callback."""

from __future__ import annotations

from dataclasses import replace

import pytest

from airflow_provider_rtc.recordings import trtc
from airflow_provider_rtc.recordings.manifest import FILE_KEYS, MANIFEST_KEYS, UploadPolicy
from airflow_provider_rtc.recordings.playlists import playlists_to_check

from .conftest import mp4_310, trtc_event, vod_311

TASK = "task-abc"
HLS = "1400000001_1001.m3u8"
STORAGE = [{"UserId": "", "FileName": HLS, "TrackType": "audio_video", "BeginTimeStamp": 1_700_000_000_000}]


def ev(body):
    return {"event_type": body["EventType"], "body": body}


def evaluate(events, *, status=None, storage_files=STORAGE, **kw):
    obs = trtc.TrtcObservation(
        status, list(storage_files), [ev(b) for b in events] if status is None else None
    )
    return trtc.evaluate_recording(obs, app_id=1400000001, task_id=TASK, **kw)


@pytest.mark.parametrize("status", ["Idle", "InProgress", "Exited"])
def test_never_complete_while_the_task_lives(status):
    verdict = evaluate([], status=status)
    assert verdict.state == "waiting" and status in verdict.waiting_for[0]


def test_gone_without_callbacks_waits_and_names_both_completion_events():
    verdict = evaluate([])
    assert verdict.state == "waiting"
    assert "305 UPLOAD_STOP" in verdict.waiting_for[0] and "312 VOD_STOP" in verdict.waiting_for[0]


def test_intermediate_callbacks_do_not_complete_cos():
    verdict = evaluate(
        [
            trtc_event(TASK, 301, {"Status": 0}),
            trtc_event(TASK, 302, {"LeaveCode": 0}),
            trtc_event(TASK, 303, {"Status": 0}),
        ]
    )
    assert verdict.state == "waiting"
    assert verdict.waiting_for == ["305 UPLOAD_STOP (all HLS files uploaded to your storage)"]


@pytest.mark.parametrize("field", ["Status", "LeaveCode"])
def test_cos_complete_on_305_status_0_with_the_index_files(field):
    verdict = evaluate([trtc_event(TASK, 305, {field: 0}, room_id=1001)], storage="cos")
    assert verdict.state == "done"
    manifest = verdict.manifest
    assert tuple(manifest) == MANIFEST_KEYS
    assert manifest["cloud"] == "trtc" and manifest["app_id"] == 1400000001 and manifest["task_id"] == TASK
    assert manifest["storage"] == "cos" and manifest["room_id"] == "1001" and manifest["status"] == "uploaded"
    (hls,) = manifest["files"]
    assert tuple(hls) == FILE_KEYS
    assert hls["name"] == HLS and hls["format"] == "m3u8" and hls["status"] == "uploaded"
    assert hls["track_type"] == "audio_video" and hls["user_id"] is None


def test_cos_file_url_template_fills_urls():
    verdict = evaluate(
        [trtc_event(TASK, 305, {"Status": 0})],
        file_url_template="https://b.cos.example.com/rec/{sdk_app_id}/{task_id}/{file_name}",
    )
    assert verdict.manifest["files"][0]["url"] == f"https://b.cos.example.com/rec/1400000001/{TASK}/{HLS}"


def test_cos_stuck_files_wait_for_the_305_status_2_by_default_then_complete():
    stuck = trtc_event(TASK, 305, {"Status": 1}, at_ms=1_000)
    verdict = evaluate([stuck], policy=UploadPolicy(on_backup_file="wait"))
    assert verdict.state == "waiting" and "305 UPLOAD_STOP Status 2" in verdict.waiting_for[0]
    restored = trtc_event(TASK, 305, {"Status": 2}, at_ms=2_000)
    done = evaluate([stuck, restored], policy=UploadPolicy(on_backup_file="wait"))
    assert done.state == "done" and done.manifest["status"] == "uploaded"


def test_cos_stuck_files_warn_or_fail_by_policy():
    stuck = [trtc_event(TASK, 305, {"Status": 1})]
    warned = evaluate(stuck, policy=UploadPolicy(on_backup_file="warn"))
    assert warned.state == "done" and warned.manifest["status"] == "partial"
    assert warned.manifest["files"][0]["status"] == "backup"
    failed = evaluate(stuck, policy=UploadPolicy(on_backup_file="fail"))
    assert failed.state == "failed" and "backup storage" in failed.message


def test_wait_for_mp4_needs_a_310_per_index_file():
    stem = HLS[: -len(".m3u8")]
    only_hls = evaluate([trtc_event(TASK, 305, {"Status": 0})], wait_for_mp4=True)
    assert only_hls.state == "waiting"
    assert any(f"310 MP4_STOP for {stem}_<n>.mp4" in w for w in only_hls.waiting_for)
    done = evaluate([trtc_event(TASK, 305, {"Status": 0}), mp4_310(TASK, f"{stem}_1.mp4")], wait_for_mp4=True)
    assert done.state == "done"
    mp4 = done.manifest["files"][1]
    assert mp4["name"] == f"{stem}_1.mp4" and mp4["duration_ms"] == 65_000 and mp4["format"] == "mp4"


def test_mp4_before_305_is_not_complete():
    assert evaluate([mp4_310(TASK, "x_1.mp4")], storage="cos").state == "waiting"


def test_failed_mp4_fails_by_default_and_warns_on_request():
    events = [trtc_event(TASK, 305, {"Status": 0}), mp4_310(TASK, f"{HLS[:-5]}_1.mp4", status=2)]
    assert evaluate(events).state == "failed"
    warned = evaluate(events, policy=UploadPolicy(on_failed_file="warn", on_backup_file="wait"))
    assert warned.state == "done" and warned.manifest["status"] == "partial"


def test_vod_waits_for_312_after_the_311s():
    commits = [vod_311(TASK, "5285890781", user="alice"), vod_311(TASK, "5285890782", user="bob")]
    verdict = evaluate(commits, storage_files=[])
    assert verdict.state == "waiting" and verdict.waiting_for == [
        "312 VOD_STOP (the VOD upload task finished)"
    ]
    done = evaluate([*commits, trtc_event(TASK, 312, {"Status": 0})], storage_files=[])
    assert done.state == "done"
    manifest = done.manifest
    assert manifest["storage"] == "vod" and manifest["status"] == "uploaded"
    assert [f["file_id"] for f in manifest["files"]] == ["5285890781", "5285890782"]
    assert manifest["files"][0]["url"] == "https://vod.example.com/5285890781/f0.mp4"
    assert manifest["files"][0]["duration_ms"] == 30_000


def test_vod_failures_follow_the_policy():
    failed_file = [vod_311(TASK, "1", status=2), trtc_event(TASK, 312, {"Status": 0})]
    assert evaluate(failed_file, storage_files=[]).state == "failed"
    abnormal = [vod_311(TASK, "1"), trtc_event(TASK, 312, {"Status": 1})]
    verdict = evaluate(abnormal, storage_files=[])
    assert verdict.state == "failed" and "312 VOD_STOP Status 1" in verdict.message
    warned = evaluate(
        abnormal, storage_files=[], policy=UploadPolicy(on_failed_file="warn", on_backup_file="wait")
    )
    assert warned.state == "done" and warned.manifest["status"] == "partial"


def test_vod_stuck_file_waits_until_a_later_311_replaces_it():
    stuck = vod_311(TASK, "1", status=1, at_ms=1_000)
    stop = trtc_event(TASK, 312, {"Status": 0}, at_ms=1_500)
    waiting = evaluate([stuck, stop], storage_files=[], policy=UploadPolicy(on_backup_file="wait"))
    assert waiting.state == "waiting" and "311 VOD_COMMIT Status 0" in waiting.waiting_for[0]
    recovered = vod_311(TASK, "1", status=0, at_ms=2_000)
    done = evaluate([stuck, stop, recovered], storage_files=[], policy=UploadPolicy(on_backup_file="wait"))
    assert done.state == "done" and [f["status"] for f in done.manifest["files"]] == ["uploaded"]


def test_storage_mode_is_taken_from_the_callbacks_in_auto():
    vod = evaluate([vod_311(TASK, "1")], storage_files=[])
    assert "312 VOD_STOP" in vod.waiting_for[0]
    cos = evaluate([trtc_event(TASK, 303, {"Status": 0})])
    assert "305 UPLOAD_STOP" in cos.waiting_for[0]


def test_explicit_storage_ignores_the_other_modes_events():
    verdict = evaluate([trtc_event(TASK, 305, {"Status": 0})], storage="vod", storage_files=[])
    assert verdict.state == "waiting" and "312" in verdict.waiting_for[0]


def test_playlists_ending_in_storage_complete_hls_without_a_305():
    obs = trtc.TrtcObservation(None, list(STORAGE), [], playlists={HLS: True})
    verdict = trtc.evaluate_recording(obs, app_id=1, task_id=TASK)
    assert verdict.state == "done" and "EXT-X-ENDLIST" in verdict.manifest["warnings"][0]
    obs.playlists = {HLS: False}
    assert trtc.evaluate_recording(obs, app_id=1, task_id=TASK).state == "waiting"


def test_playlists_to_check_only_while_they_can_help():
    obs = trtc.TrtcObservation(None, list(STORAGE), [])
    waiting = trtc.evaluate_recording(obs, app_id=1, task_id=TASK)
    urls = playlists_to_check(
        obs,
        waiting,
        app_id=1,
        task_id=TASK,
        storage="auto",
        file_url_template="http://s/{task_id}/{file_name}",
    )
    assert urls == {HLS: f"http://s/{TASK}/{HLS}"}
    assert (
        playlists_to_check(
            obs, waiting, app_id=1, task_id=TASK, storage="vod", file_url_template="http://s/{file_name}"
        )
        == {}
    )
    assert (
        playlists_to_check(obs, waiting, app_id=1, task_id=TASK, storage="auto", file_url_template=None) == {}
    )


def test_index_files_come_from_storage_list_and_307_304_callbacks():
    obs = trtc.TrtcObservation(None, [], [])
    bodies = [
        trtc_event(
            TASK, 307, {"FileName": "a.m3u8", "UserId": "u", "TrackType": "audio", "BeginTimeStamp": 5}
        ),
        trtc_event(TASK, 304, {"FileList": "b.m3u8"}),
        trtc_event(TASK, 304, {"FileList": "a.m3u8"}),
    ]
    assert [f["FileName"] for f in trtc.index_files(obs, bodies)] == ["a.m3u8", "b.m3u8"]


def test_event_keys_for_the_store():
    assert trtc.event_file_key(trtc_event(TASK, 305, {"Status": 1})) == ""
    assert trtc.event_file_key(mp4_310(TASK, "b_1.mp4")) == "b_1.mp4"
    assert trtc.event_file_key(vod_311(TASK, "1", user="alice")) == "alice|audio_video|main|1700000000000"
    assert (
        trtc.event_file_key(vod_311(TASK, "", status=1, user="alice"))
        == "alice|audio_video|main|1700000000000"
    )
    assert trtc.event_status(trtc_event(TASK, 305, {"LeaveCode": 2})) == 2
    assert trtc.event_status(trtc_event(TASK, 302, {"LeaveCode": 2})) is None
    assert trtc.event_time_ms(trtc_event(TASK, 301, at_ms=1234)) == 1234


def test_warnings_carry_upload_errors():
    events = [
        trtc_event(TASK, 308, {"Code": "NoSuchBucket", "Message": "bucket gone"}),
        trtc_event(TASK, 305, {"Status": 0}),
    ]
    verdict = evaluate(events)
    assert verdict.state == "done" and "NoSuchBucket" in verdict.manifest["warnings"][0]


def test_once_any_mp4_callback_arrived_every_index_file_needs_its_own():
    storage = [*STORAGE, {"UserId": "bob", "FileName": "bob.m3u8", "TrackType": "audio", "BeginTimeStamp": 1}]
    stem = HLS[: -len(".m3u8")]
    events = [trtc_event(TASK, 305, {"Status": 0}), mp4_310(TASK, f"{stem}_1.mp4")]
    verdict = evaluate(events, storage_files=storage)  # wait_for_mp4 not set
    assert verdict.state == "waiting" and verdict.waiting_for == ["310 MP4_STOP for bob_<n>.mp4"]
    done = evaluate([*events, mp4_310(TASK, "bob_1.mp4")], storage_files=storage)
    assert done.state == "done" and len(done.manifest["files"]) == 4


# -- VOD: never early while a recorded file has no 311 -----------------------------------------------

VOD_FILES = [
    {"UserId": user, "FileName": f"{TASK}_{user}.mp4", "TrackType": "audio_video", "BeginTimeStamp": 1}
    for user in ("alice", "bob")
]


@pytest.mark.parametrize("storage", ["auto", "vod"])
def test_vod_is_not_complete_while_a_recorded_users_file_has_no_311(storage):
    """Every other VOD test passes ``storage_files=[]``, so dropping the per-file check survived: a
    312 after alice's 311 would report the upload complete with bob's file still missing."""
    alice = vod_311(TASK, "5285890781", user="alice")
    stop = trtc_event(TASK, 312, {"Status": 0})
    early = evaluate([alice, stop], storage_files=VOD_FILES, storage=storage)
    assert early.state == "waiting" and early.manifest is None
    assert early.waiting_for == ["311 VOD_COMMIT for user bob track audio_video"]
    bob = vod_311(TASK, "5285890782", user="bob")
    done = evaluate([alice, stop, bob], storage_files=VOD_FILES, storage=storage)
    assert done.state == "done"
    assert sorted(f["user_id"] for f in done.manifest["files"]) == ["alice", "bob"]


def test_vod_files_seen_while_the_task_lived_still_count_once_it_is_gone():
    """The wait step remembers the StorageFileList from the polls while the task lived: the poll
    after the task is gone has none, and must still wait for every user's 311."""
    from airflow_provider_rtc.waits import steps
    from airflow_provider_rtc.waits.spec import TrtcWaitSpec

    spec = TrtcWaitSpec(storage="vod", vod_commit_grace=0)  # the grace window: test_vod_grace
    alive = trtc.TrtcObservation("InProgress", VOD_FILES, task_id=TASK, app_id=1400000001)
    state, verdict = steps.trtc_step(spec, alive, None)
    assert verdict.state == "waiting"
    events = [ev(vod_311(TASK, "5285890781", user="alice")), ev(trtc_event(TASK, 312, {"Status": 0}))]
    gone = trtc.TrtcObservation(None, [], events, task_id=TASK, app_id=1400000001)
    state, verdict = steps.trtc_step(spec, gone, state)
    assert verdict.state == "waiting", verdict.message
    assert verdict.waiting_for == ["311 VOD_COMMIT for user bob track audio_video"]
    events.append(ev(vod_311(TASK, "5285890782", user="bob")))
    state, verdict = steps.trtc_step(spec, replace(gone, events=list(events)), state)
    assert verdict.state == "done" and len(verdict.manifest["files"]) == 2
