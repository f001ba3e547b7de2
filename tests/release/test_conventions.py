"""Provider conventions: templated hook_params, JSON renderers, console links on single-target operators."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import BaseOperatorLink

from airflow_provider_rtc import links
from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.get_provider_info import get_provider_info
from airflow_provider_rtc.hooks.trtc import TrtcHook
from airflow_provider_rtc.operators.live import CancelCommonMixStreamOperator
from airflow_provider_rtc.operators.trtc import DeleteCloudRecordingOperator, DismissRoomOperator
from airflow_provider_rtc.operators.zego import CloseRoomOperator

MODULES = [
    "airflow_provider_rtc.operators.trtc",
    "airflow_provider_rtc.operators.live",
    "airflow_provider_rtc.operators.zego",
    "airflow_provider_rtc.operators.usage",
    "airflow_provider_rtc.sensors.trtc",
    "airflow_provider_rtc.sensors.zego",
]
LIST_FIELDS = {"user_ids", "room_ids", "streams", "kicks", "mix_stream_session_ids", "manifest"}


def _task_classes() -> list[type]:
    found = []
    for name in MODULES:
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            public = not cls.__name__.startswith("_")
            if cls.__module__ == name and hasattr(cls, "template_fields") and public:
                found.append(cls)
    return found


@pytest.mark.parametrize("cls", _task_classes(), ids=lambda cls: cls.__name__)
def test_hook_params_is_templated_and_json_ish_fields_render_as_json(cls: type) -> None:
    assert "hook_params" in cls.template_fields
    renderers = getattr(cls, "template_fields_renderers", {})
    for field in {"hook_params", *LIST_FIELDS} & set(cls.template_fields):
        assert renderers.get(field) == "json", field


SINGLE_TARGET = [
    cls
    for cls in _task_classes()
    if cls.__name__.endswith("Operator") and "Bulk" not in cls.__name__ and "Usage" not in cls.__name__
]


@pytest.mark.parametrize("cls", SINGLE_TARGET, ids=lambda cls: cls.__name__)
def test_every_single_target_operator_links_to_its_console(cls: type) -> None:
    (link,) = cls.operator_extra_links
    assert isinstance(link, BaseOperatorLink)
    registered = get_provider_info()["extra-links"]
    assert f"{type(link).__module__}.{type(link).__name__}" in registered


def test_registered_links_import() -> None:
    for path in get_provider_info()["extra-links"]:
        module, _, name = path.rpartition(".")
        assert issubclass(getattr(importlib.import_module(module), name), BaseOperatorLink)


def _link_for(link: BaseOperatorLink, operator: Any, xcom: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    seen: dict[str, Any] = {}

    def get_value(*, ti_key: Any, key: str) -> Any:
        seen.update(ti_key=ti_key, key=key)
        return xcom

    monkeypatch.setattr(links.XCom, "get_value", staticmethod(get_value))
    url = link.get_link(operator, ti_key="the-ti-key")
    assert seen == {"ti_key": "the-ti-key", "key": "return_value"}
    return url


def test_trtc_room_link_from_the_pushed_result(monkeypatch: pytest.MonkeyPatch) -> None:
    op = DismissRoomOperator(task_id="dismiss", room_id=1234, sdk_app_id=1400000001)
    result = {"cloud": "Tencent Cloud TRTC", "action": "DismissRoom", "room_id": 1234, "status": "done"}
    (link,) = op.operator_extra_links
    url = _link_for(link, op, result, monkeypatch)
    assert url == "https://console.cloud.tencent.com/trtc/monitor?sdkAppId=1400000001&roomId=1234"


@pytest.mark.parametrize(
    ("xcom", "url"),
    [
        ({"cloud": "trtc", "app_id": "1400000001", "task_id": "t", "storage": "vod", "files": []},
         "https://console.cloud.tencent.com/vod/media"),
        ({"cloud": "trtc", "app_id": "1400000001", "task_id": "t", "storage": "cos", "files": []},
         "https://console.cloud.tencent.com/cos/bucket"),
        ({"cloud": "Tencent Cloud TRTC", "action": "DeleteCloudRecording", "recording_task_id": "t"},
         "https://console.cloud.tencent.com/trtc/monitor"),
        (None, ""),
    ],
)  # fmt: skip
def test_recording_link_follows_where_the_files_went(xcom: Any, url: str, monkeypatch: Any) -> None:
    op = DeleteCloudRecordingOperator(task_id="stop", recording_task_id="t")
    (link,) = op.operator_extra_links
    assert _link_for(link, op, xcom, monkeypatch) == url


def test_live_and_zego_links(monkeypatch: pytest.MonkeyPatch) -> None:
    live = CancelCommonMixStreamOperator(task_id="mix", mix_stream_session_id="s1")
    result = {"action": "CancelCommonMixStream", "mix_stream_session_id": "s1"}
    assert _link_for(live.operator_extra_links[0], live, result, monkeypatch).endswith("/live/streammanage")
    zego = CloseRoomOperator(task_id="close", room_id="r1")
    url = _link_for(zego.operator_extra_links[0], zego, {"action": "CloseRoom", "room_id": "r1"}, monkeypatch)
    assert url == "https://console.zegocloud.com/"
    assert _link_for(zego.operator_extra_links[0], zego, None, monkeypatch) == ""


def test_templated_hook_params_are_checked_once_rendered_before_the_first_call(
    tencent_conn: str, httpserver: Any
) -> None:
    op = DismissRoomOperator(task_id="dismiss", room_id=1, hook_params={"timeout": "{{ params.t }}"})
    op.render_template_fields({"params": {"t": 7}})
    assert op.hook_params == {"timeout": "7"}
    assert TrtcHook(tencent_conn, **op.hook_params).settings.timeout == (7.0, 7.0)

    bad = DismissRoomOperator(task_id="bad", room_id=1, hook_params={"timeout": "{{ params.t }}"})
    bad.render_template_fields({"params": {"t": -1}})
    with pytest.raises(RtcValidationError, match="timeout"):
        bad.execute({})
    assert httpserver.log == []  # refused before any call


def test_hook_params_keys_and_literal_values_are_still_checked_at_parse() -> None:
    with pytest.raises(RtcValidationError, match="unknown hook argument"):
        DismissRoomOperator(task_id="x", room_id=1, hook_params={"timeout_s": "{{ params.t }}"})
    with pytest.raises(RtcValidationError, match="retry_limit"):
        DismissRoomOperator(task_id="x", room_id=1, hook_params={"timeout": "{{ t }}", "retry_limit": -1})
    with pytest.raises(RtcValidationError, match="template its values"):
        DismissRoomOperator(task_id="x", room_id=1, hook_params="{{ params.hook }}")
