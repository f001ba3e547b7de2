"""Caps need the cloud's start times: resources the sandbox seeds with a past ``started_ago`` reach
discovery with that start and ``started_source: "cloud"`` (TRTC rooms, users and recordings, ZEGO
rooms and recordings, Live streams). ZEGO mixes are the exception, documented in
docs/how-to/guardrails.md: their only time is the mix-start callback's timestamp, sent at seeding."""

from __future__ import annotations

import datetime as dt

import pytest

from airflow_provider_rtc.discovery.selector import parse_time
from airflow_provider_rtc.operators.event import DiscoverLiveResourcesOperator

pytestmark = pytest.mark.slow  # discovery on sandbox + receiver (~10 s)


def test_seeded_past_starts_reach_discovery_as_cloud_times(bed):
    bed.server.backend.zego.room_list_enabled = True
    bed.server.seed(
        {
            "trtc": {"rooms": [{"room_id": 5001, "users": 1, "started_ago": "2h", "recording": True}]},
            "zego": {
                "rooms": [
                    {"room_id": "caps-z", "users": 1, "streams": 1, "started_ago": "3h", "recording": True}
                ]
            },
            "live": {"streams": [{"stream_name": "caps_s", "started_ago": "1h"}]},
        }
    )
    bed.settle()
    inv = DiscoverLiveResourcesOperator(task_id="d", selector={"allow_all": True}).execute({})
    now = parse_time(inv["discovered_at"], "discovered_at")
    expected = {("trtc", "rooms"): 2, ("trtc", "users"): 2, ("trtc", "recordings"): 2}
    expected.update(
        {("zego", "rooms"): 3, ("zego", "streams"): 3, ("zego", "recordings"): 3, ("live", "streams"): 1}
    )
    for (cloud, kind), hours in expected.items():
        items = inv["clouds"][cloud][kind]
        assert items, (cloud, kind, inv["counts"], inv["notes"], inv["corrections"])
        for item in items:
            age = now - parse_time(item["started_at"], "started_at")
            assert item["started_source"] == "cloud", (cloud, kind, item)
            assert abs(age - dt.timedelta(hours=hours)) < dt.timedelta(minutes=1), (cloud, kind, age)
