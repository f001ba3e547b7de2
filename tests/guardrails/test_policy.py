"""The caps policy: every bad input is refused naming its key, before any call (no connection is
even looked up), and good input normalises to seconds."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest

from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.guardrails.policy import duration, parse_policy
from airflow_provider_rtc.operators.guardrails import EnforceCapsOperator

OK = {"rooms": {"max_duration": "4h"}}

BAD: list[tuple[Any, Any, str]] = [
    ({"rooms": {"max_duration": -5}}, None, "policy.rooms.max_duration"),
    ({"rooms": {"max_duration": 0}}, None, "policy.rooms.max_duration"),
    ({"rooms": {"max_duration": "0m"}}, None, "policy.rooms.max_duration"),
    ({"rooms": {"max_duration": "-2h"}}, None, "policy.rooms.max_duration"),
    ({"rooms": {"max_duration": "soon"}}, None, "policy.rooms.max_duration"),
    ({"rooms": {"max_duration": "PT"}}, None, "policy.rooms.max_duration"),
    ({"rooms": {"max_duration": True}}, None, "policy.rooms.max_duration"),
    ({"rooms": {"max_duration": "4h"}, "lobbies": {"max_duration": "1h"}}, None, "policy.lobbies"),
    ({"rooms": {"max_duration": "4h", "max_age": "1h"}}, None, "policy.rooms.max_age"),
    ({"recordings": {"max_duration": "2h", "idle_timeout": "5m"}}, None, "policy.recordings.idle_timeout"),
    ({"streams": {"idle_timeout": "5m"}}, None, "policy.streams.idle_timeout"),
    ({"rooms": {"idle_timeout": 0}}, None, "policy.rooms.idle_timeout"),
    ({"rooms": {}}, None, "policy.rooms"),
    ({"rooms": "4h"}, None, "policy.rooms"),
    ({"rooms": {"max_duration": "4h", "prefixes": {"vip-": {"max_duration": 0}}}}, None,
     "policy.rooms.prefixes.vip-.max_duration"),
    ({"rooms": {"max_duration": "4h", "prefixes": {"vip-": {"prefixes": {}}}}}, None,
     "policy.rooms.prefixes.vip-.prefixes"),
    ({"rooms": {"max_duration": "4h", "prefixes": ["vip-"]}}, None, "policy.rooms.prefixes"),
    ({"rooms": {"max_duration": "1h"}, "warn_before": "1h"}, None, "policy.warn_before"),
    ({"rooms": {"max_duration": "1h"}, "warn_before": "-1m"}, None, "policy.warn_before"),
    ({"rooms": {"max_duration": "1h"}}, "2h", "warn_before"),
    ({"rooms": {"max_duration": "4h", "prefixes": {"t-": {"max_duration": "5m"}}}}, "10m", "warn_before"),
    ({}, None, "policy"),
    ("not json", None, "policy"),
    ([OK], None, "policy"),
]  # fmt: skip


@pytest.mark.parametrize(("policy", "warn_before", "param"), BAD, ids=lambda x: str(x)[:40])
def test_bad_policy_is_refused_naming_the_key_before_any_call(policy, warn_before, param):
    from airflow.providers.common.compat.sdk import BaseHook

    with mock.patch.object(BaseHook, "get_connection", side_effect=AssertionError("no lookup")) as conn:
        with pytest.raises(RtcValidationError) as err:
            parse_policy(policy, warn_before=warn_before)
        assert err.value.param == param
        # the operator refuses it when the DAG file is parsed, before any connection or call
        with pytest.raises(RtcValidationError) as op_err:
            EnforceCapsOperator(task_id="caps", policy=policy, warn_before=warn_before)
        assert op_err.value.param == param
    assert conn.call_count == 0


def test_a_templated_policy_is_checked_in_execute_before_any_call():
    from airflow.providers.common.compat.sdk import BaseHook

    op = EnforceCapsOperator(task_id="caps", policy="{{ params.policy }}")
    op.policy = {"rooms": {"max_duration": -1}}  # as rendered
    no_lookup = mock.patch.object(BaseHook, "get_connection", side_effect=AssertionError("no lookup"))
    with no_lookup as conn, pytest.raises(RtcValidationError) as err:
        op.execute({})
    assert err.value.param == "policy.rooms.max_duration" and conn.call_count == 0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(90, 90.0), ("90", 90.0), ("90s", 90.0), ("90m", 5400.0), ("2h", 7200.0), ("1h30m", 5400.0),
     ("1d", 86400.0), ("PT2H", 7200.0), ("PT1H30M", 5400.0), ("P1DT2H", 93600.0), ("pt45s", 45.0)],
)  # fmt: skip
def test_durations(value, seconds):
    assert duration(value, "x") == seconds


def test_prefix_overrides_inherit_the_kind_and_the_longest_prefix_wins():
    policy = parse_policy(
        {
            "rooms": {
                "max_duration": "4h",
                "idle_timeout": "15m",
                "prefixes": {"vip-": {"max_duration": "8h"}, "vip-gold-": {"idle_timeout": "1h"}},
            }
        },
        warn_before="10m",
    )
    rooms = policy.kinds["rooms"]
    assert rooms.for_room("conf-1")[0].max_duration == 14400.0
    assert rooms.for_room("vip-1")[0].max_duration == 28800.0
    assert rooms.for_room("vip-1")[0].idle_timeout == 900.0
    gold, prefix = rooms.for_room("vip-gold-1")
    assert prefix == "vip-gold-" and gold.idle_timeout == 3600.0 and gold.max_duration == 14400.0
    assert policy.to_dict()["warn_before"] == 600.0
    assert policy.to_dict()["rooms"]["prefixes"]["vip-"] == {"max_duration": 28800.0, "idle_timeout": 900.0}


def test_the_operator_argument_wins_over_the_policy_warn_before():
    policy = parse_policy({"rooms": {"max_duration": "1h"}, "warn_before": "5m"}, warn_before="20m")
    assert policy.warn_before == 1200.0
    assert parse_policy({"rooms": {"max_duration": "1h"}, "warn_before": "5m"}).warn_before == 300.0
    assert parse_policy('{"mixes": {"max_duration": 60}}').kinds["mixes"].caps.max_duration == 60.0


def test_other_bad_operator_arguments_are_refused_at_parse_time():
    with pytest.raises(RtcValidationError) as err:
        EnforceCapsOperator(task_id="caps", policy=OK, notifier=print)
    assert err.value.param == "notifier[0]"
    with pytest.raises(RtcValidationError) as err:
        EnforceCapsOperator(task_id="caps", policy=OK, room_id_prefix="v")
    assert err.value.param == "room_id_prefix"
    with pytest.raises(RtcValidationError) as err:
        EnforceCapsOperator(task_id="caps", policy=OK, selector={"allow_all": True})
    assert err.value.param == "selector"


@pytest.mark.parametrize(
    ("plan", "param"),
    [({"dry_run": False, "ended": [], "result": None}, "plan"), ({"dry_run": True}, "plan"),
     ({"dry_run": True, "ended": [], "result": {"plan": {}}}, "plan.result"), ("[1]", "plan")],
)  # fmt: skip
def test_a_plan_that_is_not_a_dry_runs_caps_report_is_refused_before_any_call(plan, param):
    from airflow.providers.common.compat.sdk import BaseHook

    op = EnforceCapsOperator(task_id="caps", policy=OK, plan=plan)
    no_lookup = mock.patch.object(BaseHook, "get_connection", side_effect=AssertionError("no lookup"))
    with no_lookup as conn, pytest.raises(RtcValidationError) as err:
        op.execute({})
    assert err.value.param == param and conn.call_count == 0
