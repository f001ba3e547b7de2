"""Operator extra links: the cloud console page of what a single-target operator touched.

Built from the result the operator pushes as its XCom (``return_value``: ``action`` and the target's
ids, never a secret) and the operator's ``sdk_app_id`` when set. In Airflow 3 the worker resolves the
link when the task ends and stores it; the UI shows it as a button on the task instance.

Console addresses (decided; the consoles document no deep-link format):

* VOD media list ``https://console.cloud.tencent.com/vod/media``: named by TRTC's StartMCUMixTranscode /
  CreateCloudRecording docs as where finished recordings are found (vendor reference
  trtc-api-tables.md, CreateCloudRecording). Used for TRTC recordings.
* COS bucket list ``https://console.cloud.tencent.com/cos/bucket``: the same docs' other place to look
  (a recording stored with ``storage="cos"``).
* TRTC monitoring dashboard ``https://console.cloud.tencent.com/trtc/monitor``: UNCONFIRMED query
  names ``sdkAppId``/``roomId``; the page exists and falls back to its own selectors when a query
  name is not understood, so a wrong guess degrades to the dashboard, never to a broken page.
* Live stream management ``https://console.cloud.tencent.com/live/streammanage``: UNCONFIRMED path.
* ZEGOCLOUD console ``https://console.zegocloud.com/``: no per-room page is public; the console home.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from airflow.providers.common.compat.sdk import BaseOperatorLink, XCom

TENCENT_CONSOLE = "https://console.cloud.tencent.com"
TRTC_MONITOR = f"{TENCENT_CONSOLE}/trtc/monitor"
VOD_MEDIA = f"{TENCENT_CONSOLE}/vod/media"
COS_BUCKETS = f"{TENCENT_CONSOLE}/cos/bucket"
LIVE_STREAMS = f"{TENCENT_CONSOLE}/live/streammanage"
ZEGO_CONSOLE = "https://console.zegocloud.com/"

_TRTC_ROOM_ACTIONS = {"DismissRoom", "DismissRoomByStrRoomId", "RemoveUser", "RemoveUserByStrRoomId"}
_TRTC_APP_ACTIONS = {"StopPublishCdnStream", "DeleteCloudRecording", "StopStreamIngest"}
_LIVE_ACTIONS = {"CancelCommonMixStream", "DropLiveStream"}


def _query(url: str, **params: Any) -> str:
    kept = {name: str(value) for name, value in params.items() if value not in (None, "")}
    return f"{url}?{urlencode(kept)}" if kept else url


def tencent_console_url(result: Mapping[str, Any] | None, sdk_app_id: Any = None) -> str:
    """The console page of a Tencent operator's result; ``""`` when it says nothing (no run yet)."""
    if not isinstance(result, Mapping):
        return ""
    action = result.get("action")
    if action is None and "files" in result:  # a recording's manifest (DeleteCloudRecording waited)
        storage = {"vod": VOD_MEDIA, "cos": COS_BUCKETS}.get(str(result.get("storage")))
        return storage or _query(TRTC_MONITOR, sdkAppId=result.get("app_id"), roomId=result.get("room_id"))
    if action in _TRTC_ROOM_ACTIONS:
        return _query(TRTC_MONITOR, sdkAppId=sdk_app_id, roomId=result.get("room_id"))
    if action in _TRTC_APP_ACTIONS:
        return _query(TRTC_MONITOR, sdkAppId=sdk_app_id)
    if action in _LIVE_ACTIONS:
        return LIVE_STREAMS
    return ""


def zego_console_url(result: Mapping[str, Any] | None) -> str:
    """The ZEGOCLOUD console, once the operator ran (its project pages take a login, no deep link)."""
    return ZEGO_CONSOLE if isinstance(result, Mapping) and result.get("action") else ""


def _result(ti_key: Any) -> Any:
    return XCom.get_value(ti_key=ti_key, key="return_value")


class TencentCloudConsoleLink(BaseOperatorLink):
    """The Tencent Cloud console page (TRTC room or app, VOD media, Live streams) of the target."""

    name = "Tencent Cloud console"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        return tencent_console_url(_result(ti_key), getattr(operator, "sdk_app_id", None))


class ZegoCloudConsoleLink(BaseOperatorLink):
    """The ZEGOCLOUD console."""

    name = "ZEGOCLOUD console"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        return zego_console_url(_result(ti_key))
