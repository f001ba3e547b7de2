"""The end-of-event conf check: every item validated in one pass, the first bad one named."""

from __future__ import annotations

import copy

import pytest

from airflow_provider_rtc.event import event_targets
from airflow_provider_rtc.exceptions import RtcValidationError


def test_shapes_every_kind_and_splits_kicks_into_calls_of_five() -> None:
    targets = event_targets(
        {
            "trtc_rooms": ["1001", 1002],
            "live_streams": [{"stream_name": "s", "domain_name": "d.example.com"}],
            "zego_kicks": [{"room_id": "r", "user_ids": [f"u{i}" for i in range(7)]}],
            "zego_streams": [
                '{"room_id": "r", "user_id": "u", "stream_id": "s1"}'
            ],  # a line of the list form
        }
    )
    assert targets["trtc_rooms"] == [1001, 1002]
    assert targets["live_streams"] == [
        {"stream_name": "s", "domain_name": "d.example.com", "app_name": "live"}
    ]
    assert [len(k["user_ids"]) for k in targets["zego_kicks"]] == [5, 2]
    assert targets["zego_streams"] == [{"room_id": "r", "user_id": "u", "stream_id": "s1"}]
    assert targets["zego_rooms"] == []


@pytest.mark.parametrize(
    ("conf", "named"),
    [
        (
            {"zego_streams": [{"room_id": "r", "user_id": "u", "stream_id": "s"}, {"room_id": "r"}]},
            "zego_streams[1]",
        ),
        ({"trtc_rooms": [1, "abc"]}, "trtc_rooms[1]"),
        ({"zego_kicks": [{"room_id": "r", "user_ids": "u1"}]}, "zego_kicks[0].user_ids"),
        ({"live_streams": ["not an object"]}, "live_streams[0]"),
        ({"zego_mixes": [{"user_id": "u"}]}, "zego_mixes[0]"),
        ({"zego_rooms": "room_1"}, "zego_rooms"),
    ],
)
def test_the_error_names_the_bad_item(conf: dict, named: str) -> None:
    with pytest.raises(RtcValidationError) as err:
        event_targets(conf)
    assert str(err.value).startswith(f"invalid {named}:"), str(err.value)


def test_cleanup_dag_declares_object_items_so_the_trigger_form_shows_json_editors() -> None:
    """The form renders an array without object items as a list of strings (one per line)."""
    from tests.conftest import load_example_dag

    dag = load_example_dag("end_of_event_cleanup", "end_of_event_cleanup.py")
    for name in ("live_streams", "zego_mixes", "zego_streams", "zego_kicks"):
        assert dag.params.get_param(name).schema["items"]["type"] == "object", name
    # the JSON conf callers pass keeps working: object items validate against the schemas
    conf = {"zego_streams": [{"room_id": "r", "user_id": "u", "stream_id": "s"}], "trtc_rooms": [1001]}
    params = copy.deepcopy(dag.params)
    for name, value in conf.items():
        params[name] = value  # ParamsDict validates against the Param's schema on assignment
    assert params.validate()["zego_streams"] == conf["zego_streams"]
