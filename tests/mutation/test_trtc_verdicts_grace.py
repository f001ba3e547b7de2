"""The VOD grace hold's own rules, called directly: which verdicts it holds, until when, and what it says.

Written for `make mutate` (issue 24 item 5; recordings/trtc.py: ``has_vod_stop``,
``hold_for_late_commits``, ``held_for_late_commits``). tests/recordings/test_vod_grace.py proves the
window through the waits (``steps.trtc_step``), which read the clock only when a 312 is stored and
the grace is positive; this reaches the branches those drivers never pass: a zero grace, an unknown
clock, a done verdict without a manifest, a held wait told apart from other waits.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from airflow_provider_rtc.recordings import trtc
from airflow_provider_rtc.recordings.manifest import WaitVerdict
from tests.recordings.conftest import trtc_event, vod_311

TASK = "task-g"


def done(storage: str = "vod", files: int = 2) -> WaitVerdict:
    manifest = {"storage": storage, "task_id": TASK, "files": [{"name": str(i)} for i in range(files)]}
    return WaitVerdict("done", "done", manifest=manifest)


def obs(*bodies: dict[str, Any]) -> trtc.TrtcObservation:
    return trtc.TrtcObservation(None, [], [{"event_type": b["EventType"], "body": b} for b in bodies])


def test_has_vod_stop_is_the_312_only() -> None:
    assert trtc.has_vod_stop(obs(vod_311(TASK, "1"), trtc_event(TASK, 312, {"Status": 0})))
    assert not trtc.has_vod_stop(obs(vod_311(TASK, "1"), trtc_event(TASK, 305, {"Status": 0})))
    assert not trtc.has_vod_stop(obs())


@pytest.mark.parametrize("grace", [0, -1.0])
def test_no_grace_releases_at_once_even_without_a_clock(grace: float) -> None:
    verdict = done()
    assert trtc.hold_for_late_commits(verdict, grace=grace, seen_at=None, now=None) is verdict


@pytest.mark.parametrize(
    "verdict",
    [
        WaitVerdict("failed", "a 311 failed"),
        WaitVerdict("waiting", "still", waiting_for=["x"]),
        WaitVerdict("done", "no manifest"),
        done(storage="cos"),
    ],
    ids=["failed", "waiting", "done without manifest", "cos"],
)
def test_only_a_vod_done_is_held(verdict: WaitVerdict) -> None:
    assert trtc.hold_for_late_commits(verdict, grace=60, seen_at=None, now=None) is verdict


def test_the_window_ends_exactly_grace_after_the_first_sight() -> None:
    verdict = done()
    assert trtc.hold_for_late_commits(verdict, grace=60, seen_at=1000.0, now=1060.0) is verdict
    assert trtc.hold_for_late_commits(verdict, grace=60, seen_at=1000.0, now=2000.0) is verdict
    held = trtc.hold_for_late_commits(verdict, grace=60, seen_at=1000.0, now=1059.0)
    assert held.state == "waiting" and "until 1970-01-01T00:17:40Z" in held.waiting_for[0]


def test_a_held_verdict_says_until_when_how_many_files_and_which_task() -> None:
    held = trtc.hold_for_late_commits(done(files=2), grace=60, seen_at=1000.0, now=1010.0)
    awaited = (
        "late 311 VOD_COMMIT retries until 1970-01-01T00:17:40Z (312 VOD_STOP arrived with "
        "2 file(s) committed; TRTC retries an unanswered 311 for about a minute, so one may still "
        "come; vod_commit_grace)"
    )
    assert (held.state, held.waiting_for, held.manifest) == ("waiting", [awaited], None)
    assert held.message == f"TRTC recording {TASK}: waiting for {awaited}"
    assert trtc.held_for_late_commits(held)


def test_an_unmeasured_window_waits_from_now_or_says_from_the_first_sight() -> None:
    # the first sight of the 312 is this poll: the window is measured from now
    held = trtc.hold_for_late_commits(done(), grace=60, seen_at=None, now=1000.0)
    assert "until 1970-01-01T00:17:40Z" in held.waiting_for[0]
    # a seen_at without a now (no clock read yet) still waits: from the first sight
    held = trtc.hold_for_late_commits(done(), grace=60, seen_at=1000.0, now=None)
    assert held.state == "waiting" and "until 1970-01-01T00:17:40Z" in held.waiting_for[0]
    held = trtc.hold_for_late_commits(done(), grace=2.5, seen_at=None, now=None)
    assert held.state == "waiting"
    first = "late 311 VOD_COMMIT retries until 2.5 s after the 312 is first seen ("
    assert held.waiting_for[0].startswith(first)


def test_held_for_late_commits_names_only_the_hold() -> None:
    assert not trtc.held_for_late_commits(WaitVerdict("waiting", "w", waiting_for=["a 305"]))
    assert not trtc.held_for_late_commits(WaitVerdict("waiting", "w"))
    assert not trtc.held_for_late_commits(
        WaitVerdict("done", "d", waiting_for=["late 311 VOD_COMMIT retries until later"])
    )
    assert trtc.held_for_late_commits(
        WaitVerdict("waiting", "w", waiting_for=["late 311 VOD_COMMIT retries until later", "x"])
    )


def test_a_grace_under_a_second_still_holds() -> None:
    held = trtc.hold_for_late_commits(done(), grace=0.5, seen_at=1000.0, now=1000.2)
    assert held.state == "waiting" and trtc.held_for_late_commits(held)


def test_the_windows_end_is_told_in_utc_whatever_the_workers_timezone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "Asia/Shanghai")  # UTC+8, no daylight saving
    time.tzset()
    try:
        held = trtc.hold_for_late_commits(done(), grace=60, seen_at=1000.0, now=1000.0)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert "until 1970-01-01T00:17:40Z" in held.waiting_for[0]
