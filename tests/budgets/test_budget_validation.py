"""Bad budgets are refused naming the key, before any call (issue 23 "Bad input")."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.operators.budgets import UsageBudgetOperator

GOOD = {"cloud": "trtc", "metric": "Audio", "budget": 1000, "unit": "minutes"}


def _bad(**change: Any) -> dict[str, Any]:
    out = {**GOOD, **change}
    return {k: v for k, v in out.items() if v is not ...}


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"budgets": []}, "budgets"),
        ({"budgets": "nope"}, "budgets"),
        ({"budgets": [42]}, "budgets[0]"),
        ({"budgets": [_bad(metric=...)]}, "budgets[0].metric"),
        ({"budgets": [_bad(metric="VideoHD")]}, "budgets[0].metric"),
        ({"budgets": [_bad(metric="flux")]}, "budgets[0].metric"),  # a Live metric under trtc
        ({"budgets": [_bad(unit="MB")]}, "budgets[0].unit"),
        ({"budgets": [_bad(unit=...)]}, "budgets[0].unit"),
        ({"budgets": [_bad(cloud="live", metric="flux", unit="minutes")]}, "budgets[0].unit"),
        ({"budgets": [_bad(budget=0)]}, "budgets[0].budget"),
        ({"budgets": [_bad(budget=-5)]}, "budgets[0].budget"),
        ({"budgets": [_bad(budget=float("nan"))]}, "budgets[0].budget"),
        ({"budgets": [_bad(budget=True)]}, "budgets[0].budget"),
        ({"budgets": [_bad(budget="100")]}, "budgets[0].budget"),
        ({"budgets": [_bad(cloud="zego")]}, "budgets[0].cloud"),
        ({"budgets": [_bad(cloud="aws")]}, "budgets[0].cloud"),
        ({"budgets": [_bad(colour="red")]}, "budgets[0].colour"),
        ({"budgets": [GOOD, GOOD]}, "budgets[1].metric"),
        ({"budgets": [GOOD], "thresholds": []}, "thresholds"),
        ({"budgets": [GOOD], "thresholds": [0]}, "thresholds"),
        ({"budgets": [GOOD], "thresholds": [0.8, "high"]}, "thresholds"),
        ({"budgets": [GOOD], "notifier": print}, "notifier[0]"),
        ({"budgets": [GOOD], "end_idle_rooms_at_full": "maybe"}, "end_idle_rooms_at_full"),
    ],
)
def test_bad_input_names_the_key_when_built(kwargs: dict[str, Any], param: str) -> None:
    with pytest.raises(RtcValidationError) as err:
        UsageBudgetOperator(task_id="budget", **kwargs)
    assert err.value.param == param


class _NoCalls(UsageBudgetOperator):
    @property
    def trtc_hook(self) -> Any:  # type: ignore[override]
        raise AssertionError("a call was attempted")


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"budgets": "{{ params.b }}"}, "budgets"),  # rendered, still bad
        ({"budgets": [_bad(unit="hours")]}, "budgets[0].unit"),
        ({"end_idle_rooms_at_full": True, "idle_for": -1}, "idle_for"),
    ],
)
def test_rendered_bad_input_is_refused_at_run_before_any_call(
    kwargs: dict[str, Any], param: str, tmp_path: Any
) -> None:
    op = _NoCalls(task_id="budget", budgets=[GOOD], state_path=str(tmp_path))
    for name, value in kwargs.items():
        setattr(op, name, value)  # what rendering the templates gave
    with pytest.raises(RtcValidationError) as err:
        op.execute({})
    assert err.value.param == param
