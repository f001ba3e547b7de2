"""A wait's end as the task's result (waits/outcome.py), with a stand-in task that records its log.

Written for `make mutate` (issue 24 item 5): the sensor and stop-and-wait tests reach these
functions only through whole sandbox runs (left out of the mutation selection as slow), so the
rules that hold the "never done early" promise are pinned here on their own: only a ``done`` verdict
with a manifest is a result, a failed one fails without retries, a timeout raises the caller's class.
"""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, Asset, AssetAlias

from airflow_provider_rtc.recordings.manifest import WaitVerdict
from airflow_provider_rtc.waits.outcome import (
    RecordingUploadFailed,
    RecordingWaitTimeout,
    complete,
    emit_asset_events,
    finish,
    validate_event,
    verdict_from_event,
)

MANIFEST = {"files": [{"name": "a.mp4"}], "warnings": ["one file came late", "a second note"]}


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def info(self, fmt: str, *args: Any) -> None:
        self.lines.append(("info", fmt % args))

    def warning(self, fmt: str, *args: Any) -> None:
        self.lines.append(("warning", fmt % args))


class Task:
    def __init__(self, outlets: list[Any] | None = None) -> None:
        self.outlets = outlets
        self.log = Log()


class Event:
    extra: dict[str, Any] | None = None


class Events(dict):  # type: ignore[type-arg]
    """``context["outlet_events"][asset]``: an accessor per outlet, made on first use."""

    def __missing__(self, key: Any) -> Event:
        self[key] = Event()
        return self[key]


def test_a_done_verdict_returns_its_manifest_and_logs_message_and_warnings() -> None:
    task = Task()
    got = finish(task, {}, WaitVerdict(state="done", message="all 1 file(s) uploaded", manifest=MANIFEST))
    assert got is MANIFEST
    assert task.log.lines == [
        ("info", "all 1 file(s) uploaded"),
        ("warning", "one file came late"),
        ("warning", "a second note"),
    ]


def test_a_done_verdict_without_warnings_logs_only_its_message() -> None:
    task = Task()
    finish(task, None, WaitVerdict(state="done", message="ok", manifest={"files": []}))
    assert task.log.lines == [("info", "ok")]


def test_a_failed_verdict_fails_the_task_without_retries() -> None:
    with pytest.raises(RecordingUploadFailed) as caught:
        finish(Task(), {}, WaitVerdict(state="failed", message="file b.mp4 failed", manifest=MANIFEST))
    assert isinstance(caught.value, AirflowFailException)
    assert str(caught.value) == "file b.mp4 failed"


@pytest.mark.parametrize(
    "verdict",
    [
        WaitVerdict(state="waiting", message="2 file(s) uploading", manifest=MANIFEST),
        WaitVerdict(state="done", message="no manifest", manifest=None),
    ],
    ids=["still-waiting", "done-without-manifest"],
)
def test_nothing_but_a_done_verdict_with_a_manifest_is_a_result(verdict: WaitVerdict) -> None:
    task = Task()
    with pytest.raises(AirflowException) as caught:
        finish(task, {}, verdict)
    assert not isinstance(caught.value, AirflowFailException)  # a retry may still see it finish
    assert str(caught.value) == f"not finished: {verdict.message}"
    assert task.log.lines == []


def test_every_asset_outlet_gets_the_manifest_and_an_alias_only_a_warning() -> None:
    first, second, alias = Asset("s3://lake/a"), Asset("s3://lake/b"), AssetAlias("recordings")
    events = Events()
    task = Task([first, alias, second])
    emit_asset_events(task, {"outlet_events": events}, MANIFEST)
    assert events[first].extra == {"manifest": MANIFEST}
    assert events[second].extra == {"manifest": MANIFEST}
    assert alias not in events
    (_, a), (level, warned), (_, b) = task.log.lines
    assert a == "asset event for 's3://lake/a' carries the recording manifest"
    assert (
        level == "warning" and warned.startswith("outlet AssetAlias(") and "only to Asset outlets" in warned
    )
    assert b == "asset event for 's3://lake/b' carries the recording manifest"


@pytest.mark.parametrize(
    ("outlets", "context"),
    [(None, {"outlet_events": Events()}), ([Asset("s3://x")], None), ([Asset("s3://x")], {"ti": 1})],
    ids=["no-outlets", "no-context", "context-without-outlet-events"],
)
def test_no_asset_event_without_outlets_or_outlet_events(outlets: Any, context: Any) -> None:
    task = Task(outlets)
    emit_asset_events(task, context, MANIFEST)
    assert task.log.lines == []
    if context and "outlet_events" in context:
        assert dict(context["outlet_events"]) == {}


def test_a_done_verdict_attaches_the_manifest_to_the_outlets() -> None:
    asset = Asset("s3://lake/a")
    events = Events()
    finish(
        Task([asset]), {"outlet_events": events}, WaitVerdict(state="done", message="ok", manifest=MANIFEST)
    )
    assert events[asset].extra == {"manifest": MANIFEST}


@pytest.mark.parametrize("event", [None, "done", {"status": "running"}, {"message": "x"}])
def test_an_unexpected_trigger_event_is_refused(event: Any) -> None:
    with pytest.raises(AirflowException, match="unexpected trigger event"):
        validate_event(event)


def test_an_event_becomes_the_verdict_it_was_made_from() -> None:
    event = {"status": "done", "message": "m", "manifest": MANIFEST, "waiting_for": ["b.mp4"]}
    assert verdict_from_event(event) == WaitVerdict(
        state="done", message="m", manifest=MANIFEST, waiting_for=["b.mp4"]
    )
    assert verdict_from_event({"status": "failed", "message": None}) == WaitVerdict(
        state="failed", message="", manifest=None, waiting_for=[]
    )


def test_a_done_event_completes_with_the_manifest() -> None:
    event = {"status": "done", "message": "ok", "manifest": MANIFEST}
    assert complete(Task(), {}, event, on_timeout=RecordingWaitTimeout) == MANIFEST


def test_a_failed_event_fails_the_task() -> None:
    with pytest.raises(RecordingUploadFailed, match=r"^file b failed$"):
        complete(
            Task(), {}, {"status": "failed", "message": "file b failed"}, on_timeout=RecordingWaitTimeout
        )


def test_a_timeout_event_raises_the_callers_class_with_the_message() -> None:
    with pytest.raises(RecordingWaitTimeout) as caught:
        complete(
            Task(), {}, {"status": "timeout", "message": "waiting for 305"}, on_timeout=RecordingWaitTimeout
        )
    assert str(caught.value) == "waiting for 305"
    with pytest.raises(KeyError) as default:
        complete(Task(), {}, {"status": "timeout"}, on_timeout=KeyError)
    assert default.value.args == ("timed out",)


def test_an_error_event_fails_with_its_message_or_a_default() -> None:
    with pytest.raises(AirflowException) as caught:
        complete(Task(), {}, {"status": "error", "message": "boom"}, on_timeout=RecordingWaitTimeout)
    assert type(caught.value) is AirflowException and str(caught.value) == "boom"
    with pytest.raises(AirflowException) as default:
        complete(Task(), {}, {"status": "error"}, on_timeout=RecordingWaitTimeout)
    assert type(default.value) is AirflowException and str(default.value) == "the trigger failed"


def test_a_task_without_an_outlets_attribute_emits_nothing() -> None:
    class Bare:
        log = Log()

    emit_asset_events(Bare(), {"outlet_events": Events()}, MANIFEST)
    assert Bare.log.lines == []


def test_the_log_names_an_outlet_without_a_uri_by_itself() -> None:
    events = Events()
    task = Task(["plain-outlet"])
    emit_asset_events(task, {"outlet_events": events}, MANIFEST)
    assert events["plain-outlet"].extra == {"manifest": MANIFEST}
    assert task.log.lines == [("info", "asset event for 'plain-outlet' carries the recording manifest")]


def test_a_done_event_attaches_the_manifest_to_the_outlets() -> None:
    asset = Asset("s3://lake/done")
    events = Events()
    event = {"status": "done", "message": "ok", "manifest": MANIFEST}
    complete(Task([asset]), {"outlet_events": events}, event, on_timeout=RecordingWaitTimeout)
    assert events[asset].extra == {"manifest": MANIFEST}
