"""EnforceCapsOperator against the sandbox and the receiver: rooms and recordings seeded with past
starts (the cloud's times reach discovery), and a controlled caps clock (``caps.utcnow``) to let
rooms age between runs without sleeping."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, ClassVar

import pytest
from airflow.providers.common.compat.sdk import BaseNotifier

from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.guardrails import caps
from airflow_provider_rtc.operators.guardrails import EnforceCapsOperator

from .conftest import destructive_calls, live_in_sandbox

pytestmark = pytest.mark.slow  # the operator end to end on sandbox + receiver (10-30 s each)


class RecordingNotifier(BaseNotifier):
    """Keeps each rendered message and the items it was called with (class-level: the operator
    calls a copy, as rendering changes a notifier in place)."""

    template_fields: Sequence[str] = ("message",)
    calls: ClassVar[list[tuple[str, list[dict[str, Any]]]]] = []

    def __init__(self) -> None:
        super().__init__()
        self.message = "{{ caps_warnings | length }} near cap: {{ caps_warnings[0].label }}"

    def notify(self, context: Any) -> None:
        RecordingNotifier.calls.append((self.message, context["caps_warnings"]))


@pytest.fixture
def notifier() -> RecordingNotifier:
    RecordingNotifier.calls = []
    return RecordingNotifier()


def _seed(bed: Any, spec: dict[str, Any]) -> None:
    bed.server.backend.zego.room_list_enabled = True
    bed.server.seed(spec)
    bed.settle()


def _labels(items: list[dict[str, Any]]) -> list[str]:
    return sorted(i["label"] for i in items)


def test_a_room_is_warned_then_ended_and_a_room_just_under_its_cap_is_untouched(bed, notifier, monkeypatch):
    _seed(
        bed,
        {
            "trtc": {
                "rooms": [
                    {"room_id": "caps-old", "users": 2, "started_ago": "55m"},
                    {"room_id": "caps-under", "users": 1, "started_ago": "45m"},
                ]
            }
        },
    )
    policy = {"rooms": {"max_duration": "1h"}}
    op = EnforceCapsOperator(
        task_id="caps",
        policy=policy,
        warn_before="10m",
        clouds=["trtc"],
        notifier=notifier,
        verify_interval=0.5,
    )
    first = op.execute({})
    assert _labels(first["warned"]) == [f'trtc:{first["warned"][0]["ref"]["app_id"]} room "caps-old" (str)']
    assert first["ended"] == [] and first["result"] is None and first["within"] == 1
    assert first["warned"][0]["started_source"] == "cloud" and 3290 < first["warned"][0]["age_s"] < 3400
    assert destructive_calls(bed.server) == 0
    assert len(RecordingNotifier.calls) == 1
    message, items = RecordingNotifier.calls[0]
    assert message.startswith("1 near cap: trtc:") and [i["label"] for i in items] == _labels(first["warned"])

    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    monkeypatch.setattr(caps, "utcnow", lambda: later)
    second = op.execute({})
    assert [i["ref"]["id"] for i in second["ended"]] == ["caps-old"]
    assert [i["ref"]["id"] for i in second["warned"]] == ["caps-under"]  # 55 min: warned, not ended
    assert second["result"]["survivors"] == [] and second["dry_run"] is False
    actions = {r["action"]: r["status"] for r in second["result"]["results"]}
    assert actions == {"DismissRoomByStrRoomId": "done"}
    live = live_in_sandbox(bed.server)
    assert live["trtc rooms"] == {"caps-under"}
    assert len(RecordingNotifier.calls) == 2  # once per run that warned


def test_dry_run_ends_nothing_and_the_plan_ends_exactly_the_approved_set(bed, notifier):
    _seed(
        bed,
        {
            "trtc": {"rooms": [{"room_id": 6001, "users": 1, "started_ago": "2h", "recording": True}]},
            "zego": {
                "rooms": [
                    {"room_id": "caps-z1", "users": 2, "streams": 1, "started_ago": "3h"},
                    {"room_id": "caps-z2", "users": 1, "started_ago": "10m"},
                ]
            },
        },
    )
    policy = {"rooms": {"max_duration": "150m"}, "recordings": {"max_duration": "1h"}}
    common = {"policy": policy, "clouds": ["trtc", "zego"], "verify_interval": 0.5, "verify_timeout": 60}
    dry = EnforceCapsOperator(task_id="plan_caps", dry_run=True, **common).execute({})
    assert destructive_calls(bed.server) == 0
    assert sorted((i["kind"], i["ref"]["id"]) for i in dry["ended"]) == [
        (
            "recordings",
            dry["ended"][0]["ref"]["id"]
            if dry["ended"][0]["kind"] == "recordings"
            else dry["ended"][1]["ref"]["id"],
        ),
        ("rooms", "caps-z1"),
    ]
    planned = sorted(t["action"] for t in dry["result"]["plan"]["targets"])
    assert planned == ["CloseRoom", "DeleteCloudRecording"]  # the room's users/streams: covered by CloseRoom
    # a room that passes its cap after the approval is not added to the approved plan
    _seed(bed, {"zego": {"rooms": [{"room_id": "caps-z3", "users": 1, "started_ago": "4h"}]}})
    real = EnforceCapsOperator(task_id="enforce_caps", plan=dry, **common).execute({})
    assert real["ended"] == dry["ended"]
    assert sorted(r["action"] for r in real["result"]["results"]) == planned
    assert all(r["status"] == "done" for r in real["result"]["results"])
    assert real["result"]["survivors"] == []  # the recording's room is live by design, no survivor
    live = live_in_sandbox(bed.server)
    assert live["zego rooms"] == {"caps-z2", "caps-z3"}
    assert live["trtc rooms"] == {"6001"} and live["trtc recordings"] == set()
    assert RecordingNotifier.calls == []  # nothing was near a cap


def test_nothing_past_cap_says_so_and_returns_empty_lists(bed, capsys):
    _seed(bed, {"zego": {"rooms": [{"room_id": "caps-young", "users": 1, "started_ago": "5m"}]}})
    report = EnforceCapsOperator(
        task_id="caps", policy={"rooms": {"max_duration": "1h"}}, clouds="zego"
    ).execute({})
    assert (report["warned"], report["ended"], report["unproven"], report["result"]) == ([], [], [], None)
    assert report["within"] == 1 and report["policy"]["rooms"] == {"max_duration": 3600.0}
    logged = capsys.readouterr().out  # the task logger (structlog) writes to stdout here
    assert "nothing past its cap (1 within" in logged and "no destructive call was made" in logged


@pytest.mark.parametrize("bed", [{"faults": {"lifecycle": {"lost": 1.0}}}], indirect=True)
def test_a_room_known_only_by_first_sight_is_never_ended_for_max_duration(bed, notifier, monkeypatch):
    # every lifecycle callback lost: the room is found by ZEGO's room list, which has no start time,
    # so the receiver can only say when it first saw it (an upper bound of the true start)
    _seed(bed, {"zego": {"rooms": [{"room_id": "caps-lost", "users": 1, "started_ago": "3h"}]}})
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)  # first seen 3 h before "now"
    monkeypatch.setattr(caps, "utcnow", lambda: later)
    op = EnforceCapsOperator(
        task_id="caps", policy={"rooms": {"max_duration": "2h"}}, clouds=["zego"], notifier=notifier
    )
    report = op.execute({})
    assert report["ended"] == [] and report["result"] is None
    assert [(i["ref"]["id"], i["started_source"], i["rule"]) for i in report["unproven"]] == [
        ("caps-lost", "first_seen", "max_duration")
    ]
    assert report["unproven"][0]["age_s"] > 2 * 3600  # past the cap on its first-seen time: still not ended
    assert destructive_calls(bed.server) == 0 and live_in_sandbox(bed.server)["zego rooms"] == {"caps-lost"}
    assert [len(items) for _, items in RecordingNotifier.calls] == [1]  # warned about, once


def test_an_approved_plan_of_another_app_or_too_old_is_refused_before_any_call(bed):
    _seed(bed, {"zego": {"rooms": [{"room_id": "caps-z9", "users": 1, "started_ago": "3h"}]}})
    common = {"policy": {"rooms": {"max_duration": "1h"}}, "clouds": ["zego"]}
    dry = EnforceCapsOperator(task_id="plan_caps", dry_run=True, **common).execute({})
    assert [i["ref"]["id"] for i in dry["ended"]] == ["caps-z9"]
    inventory = dry["result"]["inventory"]
    other = {**inventory, "clouds": {"zego": {**inventory["clouds"]["zego"], "app_id": "999"}}}
    foreign = {**dry, "result": {**dry["result"], "inventory": other}}
    old = {
        **dry,
        "result": {**dry["result"], "inventory": {**inventory, "discovered_at": "2026-01-01T00:00:00Z"}},
    }
    for plan, expected in ((foreign, "app 999"), (old, "max_inventory_age")):
        with pytest.raises(RtcValidationError) as err:
            EnforceCapsOperator(task_id="enforce_caps", plan=plan, **common).execute({})
        assert expected in str(err.value)
    assert destructive_calls(bed.server) == 0 and live_in_sandbox(bed.server)["zego rooms"] == {"caps-z9"}
