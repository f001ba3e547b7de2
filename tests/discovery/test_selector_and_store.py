"""Selector rules and the inventory's ordering rules, without any server."""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest

from airflow_provider_rtc.discovery.selector import Selector
from airflow_provider_rtc.exceptions import RtcValidationError

NOW = dt.datetime(2026, 11, 29, 18, 0, tzinfo=dt.UTC)
MS = int(NOW.timestamp() * 1000)


def test_selector_accepts_pendulum_times_and_matches_on_all_conditions():
    sel = Selector.parse(
        {"room_id_prefix": "conf-", "started_after": "2026-11-29 16:00", "older_than": 1800, "idle_for": 60}
    )
    started = MS - 3600_000
    # the cloud's own start time: started_after can be proven (see test_scope.py, time semantics)
    matches = partial(sel.matches, started_source="cloud")
    assert matches("conf-1", started, MS - 120_000, idle=True, now=NOW)
    assert not matches("conf-1", started, MS - 120_000, idle=False, now=NOW)  # someone is in it
    assert not matches("conf-1", started, MS - 30_000, idle=True, now=NOW)  # quiet for 30 s only
    assert not matches("other-1", started, MS - 120_000, idle=True, now=NOW)
    assert not matches("conf-1", MS - 600_000, MS - 120_000, idle=True, now=NOW)  # too young
    assert not matches("conf-1", None, MS, idle=True, now=NOW)  # start unknown: not older than


def test_allow_all_is_required_to_select_everything():
    with pytest.raises(RtcValidationError) as err:
        Selector.parse({})
    assert err.value.param == "selector"
    with pytest.raises(RtcValidationError) as err:
        Selector.parse({"room_id_prefix": "c"})
    assert err.value.param == "selector.room_id_prefix"
    assert Selector.parse({}, allow_all=True).matches_everything
    assert Selector.parse({"allow_all": True, "room_id_prefix": "c"}).room_name_matches("conf")
    assert Selector.parse({"room_ids": [1001]}).by_room is not False


def test_impossible_combinations_name_their_key():
    cases = {
        "selector.room_id_prefix": {"room_ids": ["a1"], "room_id_prefix": "bb"},
        "selector.started_after": {
            "started_after": "2026-11-29T10:00Z",
            "started_before": "2026-11-29T09:00Z",
        },
        "selector.older_than": {"older_than": 7200, "started_after": dt.datetime.now(dt.UTC).isoformat()},
        "selector.started_before": {"started_before": "not a time"},
        "selector.room_ids": {"room_ids": []},
        "selector.colour": {"colour": "red"},
    }
    for param, raw in cases.items():
        with pytest.raises(RtcValidationError) as err:
            Selector.parse(raw)
        assert err.value.param == param, raw
