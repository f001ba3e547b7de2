"""A missing callback receiver is reported for the connection and cloud that need it."""

from __future__ import annotations

import pytest

from airflow_provider_rtc.callbacks.client import resolve_target
from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.operators.event import EndEventOperator


def test_zego_only_dry_run_without_a_receiver_names_zego_not_trtc(zego_conn: str) -> None:
    op = EndEventOperator(task_id="end", selector={"allow_all": True}, clouds=("zego",), dry_run=True)
    with pytest.raises(RtcValidationError) as err:
        op.execute({})
    message = str(err.value)
    assert "callback_receiver_url" in message
    assert "zegocloud connection" in message and "ZEGOCLOUD callbacks" in message
    assert "TRTC" not in message


@pytest.mark.parametrize(
    ("conn_type", "says"),
    [("tencentcloud", "TRTC reports upload completion"), ("zegocloud", "ZEGOCLOUD callbacks")],
)
def test_missing_receiver_url_says_why_for_each_connection_type(conn_type: str, says: str) -> None:
    with pytest.raises(RtcValidationError) as err:
        resolve_target({"callback_secret": "k"}, conn_type=conn_type)
    assert err.value.param == "callback_receiver_url"
    assert says in str(err.value) and f"{conn_type} connection extra" in str(err.value)
