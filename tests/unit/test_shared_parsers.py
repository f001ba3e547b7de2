"""The parsers several layers share: one strict safety switch, one receiver answer mapping."""

from __future__ import annotations

import pytest

from airflow_provider_rtc.callbacks.client import receiver_answer
from airflow_provider_rtc.exceptions import RtcApiError, RtcAuthError, RtcTransientError, RtcValidationError
from airflow_provider_rtc.validation import boolean, switch


@pytest.mark.parametrize(
    ("value", "expected"), [(True, True), (False, False), (" TRUE ", True), ("false", False)]
)
def test_a_switch_takes_booleans_and_their_text(value: object, expected: bool) -> None:
    assert switch(value, "dry_run") is expected


@pytest.mark.parametrize("value", ["", None, 0, 1, "1", "yes", "off", "ture"])
def test_a_switch_refuses_anything_else_never_reading_it_as_false(value: object) -> None:
    with pytest.raises(RtcValidationError, match="invalid dry_run"):
        switch(value, "dry_run")


def test_the_lenient_parser_still_takes_the_usual_spellings() -> None:
    assert boolean("yes", "pacing") is True and boolean("0", "pacing") is False and boolean(None, "x") is None


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, RtcAuthError), (403, RtcAuthError), (429, RtcTransientError), (503, RtcTransientError)],
)
def test_a_receiver_status_maps_to_one_error_class(status: int, error: type) -> None:
    with pytest.raises(error, match=r"the receiver at r\.example") as caught:
        receiver_answer(status, b'{"message": "stale signature"}', "r.example", action="ReadInventory")
    assert caught.value.action == "ReadInventory" and caught.value.http_status == status


def test_an_unexpected_receiver_answer_names_the_status_reason_and_hint() -> None:
    with pytest.raises(RtcApiError, match=r"HTTP 404: no route.*check the prefix"):
        receiver_answer(404, b'{"message": "no route"}', "r.example", hint="; check the prefix")
    assert receiver_answer(200, b'{"items": []}', "r.example") == {"items": []}
