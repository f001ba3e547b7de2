"""The ``zegocloud`` connection (AppId / ServerSecret) and the ZEGO RTC and cloud-recording hooks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_rtc import catalog
from airflow_provider_rtc import validation as v
from airflow_provider_rtc.catalog import Api
from airflow_provider_rtc.exceptions import (
    RtcValidationError,
)
from airflow_provider_rtc.hooks.base import BaseSettings, RtcBaseHook
from airflow_provider_rtc.hooks.settings import (
    as_bool,
    extra_value,
)
from airflow_provider_rtc.protocol import zego
from airflow_provider_rtc.protocol.http import HttpCall
from airflow_provider_rtc.transport import USER_AGENT

if TYPE_CHECKING:
    import httpx

Product = Literal["rtc", "cloudrecord"]
Method = Literal["GET", "POST"]


@dataclass(frozen=True)
class ZegoSettings(BaseSettings):
    credentials: zego.ZegoCredentials
    endpoint: str | None

    @property
    def account(self) -> str:
        return str(self.credentials.app_id)

    def base_url(self, product: Product) -> str:
        if self.endpoint:
            return self.endpoint
        return zego.CLOUDRECORD_URL if product == "cloudrecord" else zego.RTC_URL


class ZegoCloudHook(RtcBaseHook[ZegoSettings]):
    """Signs (signature 2.0) and sends ZEGOCLOUD server API calls, GET or POST, for either product."""

    conn_name_attr = "zegocloud_conn_id"
    default_conn_name = "zegocloud_default"
    conn_type = "zegocloud"
    hook_name = "ZEGOCLOUD"
    cloud = "ZEGOCLOUD"

    def __init__(self, zegocloud_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(zegocloud_conn_id, **kwargs)
        self.zegocloud_conn_id = zegocloud_conn_id

    def _make_settings(self, conn: Any, extra: Mapping[str, Any]) -> ZegoSettings:
        ct = self.conn_type
        self._require_credentials(conn, "AppId", "ServerSecret")
        app_id = v.positive_int(str(conn.login).strip(), "login (AppId)", maximum=v.UINT32_MAX)
        secret = v.secret_key(conn.password, "password (ServerSecret)")
        return ZegoSettings(
            credentials=zego.ZegoCredentials(
                app_id=app_id,
                server_secret=secret,
                is_test=as_bool(extra_value(extra, ct, "is_test"), "is_test"),
            ),
            **self._transport_settings(extra),
        )

    def _test_environment(self, settings: ZegoSettings) -> bool:
        return bool(settings.credentials.is_test)

    @staticmethod
    def _request(settings: ZegoSettings, api: Api, params: Mapping[str, Any]) -> dict[str, Any]:
        """Pacing scope, builder and parser of one call: what ``_call``/``_acall`` share."""

        def build(settings: ZegoSettings) -> HttpCall:
            return zego.build_call(
                settings.base_url(api.product),  # type: ignore[arg-type]
                settings.credentials,
                action=api.action,
                params=params,
                method=api.method,
                user_agent=USER_AGENT,
            )

        room = params.get("RoomId")
        # ZEGO counts per AppId and API; per-room APIs (``per`` has "room") also per RoomId
        scope = {"app_id": settings.credentials.app_id, "room": room if isinstance(room, str) else None}
        return {
            "scope": scope,
            "build": build,
            "parse": partial(zego.parse_reply, action=api.action, api=api),
        }

    def _call(self, api: Api, params: Mapping[str, Any]) -> dict[str, Any]:
        """Call the catalog's ``api``: product, method, idempotency and pacing come from the entry."""
        return self._run(api, **self._request(self.settings, api, params))

    async def _acall(
        self, api: Api, params: Mapping[str, Any], *, client: httpx.AsyncClient | None = None
    ) -> dict[str, Any]:
        """Async twin of :meth:`_call` (httpx, async connection lookup), for triggers."""
        settings = await self.asettings()
        return await self._arun(api, **self._request(settings, api, params), client=client)

    def call(
        self,
        action: str,
        params: Mapping[str, Any],
        *,
        method: Method | None = None,
        product: Product | None = None,
        idempotent: bool | None = None,
    ) -> dict[str, Any]:
        """Call any action; returns the whole envelope (``Code``, ``Message``, ``RequestId``, ``Data``).

        An action in the catalog keeps its facts unless overridden here; any other is sent as given
        (GET on rtc-api by default), unpaced unless a ``qps`` is configured for it."""
        return self._call(self._api(action, method, product, idempotent), params)

    async def acall(
        self,
        action: str,
        params: Mapping[str, Any],
        *,
        method: Method | None = None,
        product: Product | None = None,
        idempotent: bool | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> dict[str, Any]:
        """Async twin of :meth:`call` (httpx, async connection lookup), for triggers."""
        return await self._acall(self._api(action, method, product, idempotent), params, client=client)

    @staticmethod
    def _api(action: str, method: Method | None, product: Product | None, idempotent: bool | None) -> Api:
        return catalog.adhoc("zego", action, product, "rtc", method=method, idempotent=idempotent)

    def test_connection(self) -> tuple[bool, str]:
        """DescribeUserNum of a room nobody is in: a cheap read that any valid signature may make."""
        return self._probe_credentials(
            lambda: self._call(catalog.DESCRIBE_USER_NUM, {"RoomId": ["airflow-connection-test"]})
        )


class ZegoRtcHook(ZegoCloudHook):
    """rtc-api.zego.im: room signaling (GET) and stream mixing (POST), one method per API."""

    # -- rooms and streams (GET) --------------------------------------------------------------
    def delete_stream(
        self, room_id: str, user_id: str, stream_id: str, user_name: str | None = None
    ) -> dict[str, Any]:
        """Remove a stream from a room's stream list (DeleteStream); the publisher stays in the room."""
        params = {
            "RoomId": v.zego_id(room_id, "room_id"),
            "UserId": v.zego_user_id(user_id),
            "UserName": v.optional_text(user_name, "user_name", max_bytes=256),
            "StreamId": v.zego_stream_id(stream_id),
        }
        return self._call(catalog.DELETE_STREAM, params)

    def close_room(
        self, room_id: str, custom_reason: str | None = None, room_close_callback: bool | None = None
    ) -> dict[str, Any]:
        """Remove every user and close the room (CloseRoom). ZEGO allows 1 call/s per AppId."""
        params = {
            "RoomId": v.zego_id(room_id, "room_id"),
            "CustomReason": v.zego_reason(custom_reason),
            "RoomCloseCallback": room_close_callback,
        }
        return self._call(catalog.CLOSE_ROOM, params)

    def kickout_user(
        self, room_id: str, user_ids: list[str], custom_reason: str | None = None
    ) -> dict[str, Any]:
        """Kick users out of a room (KickoutUser; at most the catalog's ``batch``, 5, per call)."""
        params = {
            "RoomId": v.zego_id(room_id, "room_id"),
            "UserId": v.string_list(
                user_ids, "user_ids", max_items=catalog.KICKOUT_USER.batch or 1, item=v.zego_user_id
            ),
            "CustomReason": v.zego_reason(custom_reason),
        }
        return self._call(catalog.KICKOUT_USER, params)

    def describe_user_num(self, room_ids: list[str]) -> dict[str, Any]:
        """User counts of up to 10 rooms (DescribeUserNum); a missing room counts 0."""
        return self._call(
            catalog.DESCRIBE_USER_NUM,
            {"RoomId": v.string_list(room_ids, "room_ids", max_items=10, item=v.zego_id)},
        )

    def describe_simple_stream_list(self, room_id: str) -> dict[str, Any]:
        """Streams in a room (DescribeSimpleStreamList); 1 call per 10 s per room."""
        return self._call(catalog.DESCRIBE_SIMPLE_STREAM_LIST, {"RoomId": v.zego_id(room_id, "room_id")})

    def describe_room_list(
        self, page_index: int | None = None, page_size: int | None = None
    ) -> dict[str, Any]:
        """Rooms of the AppId with their user counts, most users first (DescribeRoomList); ZEGO must
        enable it per AppId; 20 calls/s. ``page_size`` 1-200 (default 100)."""
        if page_size is not None and not 1 <= int(page_size) <= 200:
            raise RtcValidationError("page_size", "1 to 200", page_size)
        params = {
            "PageIndex": v.positive_int(page_index, "page_index") if page_index is not None else None,
            "PageSize": page_size,
        }
        return self._call(catalog.DESCRIBE_ROOM_LIST, params)

    def describe_user_list(
        self,
        room_id: str,
        *,
        mode: int | None = None,
        limit: int | None = None,
        marker: str | None = None,
    ) -> dict[str, Any]:
        """Users in a room, by login time (DescribeUserList); an empty ``Marker`` ends the list.
        1 call/s per room."""
        if mode not in (None, 0, 1):
            raise RtcValidationError("mode", "0 (ascending login time) or 1 (descending)", mode)
        if limit is not None and not 0 <= int(limit) <= 200:
            raise RtcValidationError("limit", "0 to 200", limit)
        params = {
            "RoomId": v.zego_id(room_id, "room_id"),
            "Mode": mode,
            "Limit": limit,
            "Marker": marker or None,
        }
        return self._call(catalog.DESCRIBE_USER_LIST, params)

    # -- stream mixing (POST) -----------------------------------------------------------------
    def start_mix(
        self,
        task_id: str,
        user_id: str,
        mix_input: list[dict[str, Any]],
        mix_output: list[dict[str, Any]],
        *,
        sequence: int | None = None,
        room_id: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Start or update a mix task (StartMix); repeating it with the same TaskId updates it."""
        body: dict[str, Any] = {
            "TaskId": v.token(task_id, "task_id"),
            "UserId": v.zego_user_id(user_id),
            "MixInput": mix_input,
            "MixOutput": mix_output,
            "Sequence": v.non_negative_int(sequence, "sequence"),
            "RoomId": room_id,
            **(extra or {}),
        }
        return self._call(catalog.START_MIX, body)

    def stop_mix(
        self, task_id: str, user_id: str | None = None, sequence: int | None = None
    ) -> dict[str, Any]:
        """Stop a mix task (StopMix). With task ownership on, ``user_id`` must be the starter's."""
        body = {
            "TaskId": v.token(task_id, "mix_task_id"),
            "UserId": v.optional_zego_user_id(user_id),
            "Sequence": v.non_negative_int(sequence, "sequence"),
        }
        return self._call(catalog.STOP_MIX, body)

    def get_mix_task_info(self, task_id: str) -> dict[str, Any]:
        """``Data.TaskInfo`` of a running mix task (GetMixTaskInfo); 110209001 once it is gone."""
        return self._call(catalog.GET_MIX_TASK_INFO, {"TaskId": v.token(task_id, "mix_task_id")})

    async def aget_mix_task_info(
        self, task_id: str, *, client: httpx.AsyncClient | None = None
    ) -> dict[str, Any]:
        return await self._acall(
            catalog.GET_MIX_TASK_INFO, {"TaskId": v.token(task_id, "mix_task_id")}, client=client
        )


class ZegoCloudRecordHook(ZegoCloudHook):
    """cloudrecord-api.zego.im: all POST with a JSON body, one method per API."""

    def start_record(
        self,
        room_id: str,
        record_input_params: dict[str, Any],
        storage_params: dict[str, Any] | None = None,
        record_output_params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Start a recording (StartRecord); not idempotent, so an ambiguous failure is not retried."""
        body: dict[str, Any] = {
            "RoomId": v.zego_id(room_id, "room_id"),
            "RecordInputParams": record_input_params,
            "StorageParams": storage_params,
            "RecordOutputParams": record_output_params,
        }
        return self._call(catalog.START_RECORD, body)

    def stop_record(self, task_id: str) -> dict[str, Any]:
        """Stop a recording (StopRecord); files upload afterwards."""
        return self._call(catalog.STOP_RECORD, {"TaskId": v.token(task_id, "recording_task_id")})

    def describe_record_status(self, task_id: str) -> dict[str, Any]:
        """Task and file status (DescribeRecordStatus); answers for 3 days after the task started."""
        return self._call(catalog.DESCRIBE_RECORD_STATUS, {"TaskId": v.token(task_id, "recording_task_id")})

    async def adescribe_record_status(
        self, task_id: str, *, client: httpx.AsyncClient | None = None
    ) -> dict[str, Any]:
        body = {"TaskId": v.token(task_id, "recording_task_id")}
        return await self._acall(catalog.DESCRIBE_RECORD_STATUS, body, client=client)

    def describe_tasks(
        self,
        status: int,
        start_time: int,
        end_time: int,
        *,
        room_id: str | None = None,
        page_offset: int | None = None,
        page_size: int | None = None,
    ) -> dict[str, Any]:
        """Recording tasks by status (2 recording, 3 ended) in a window of at most 3 days (ms)."""
        body = self._tasks_body(status, start_time, end_time, room_id, page_offset, page_size)
        return self._call(catalog.DESCRIBE_TASKS, body)

    async def adescribe_tasks(
        self,
        status: int,
        start_time: int,
        end_time: int,
        *,
        room_id: str | None = None,
        page_offset: int | None = None,
        page_size: int | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> dict[str, Any]:
        body = self._tasks_body(status, start_time, end_time, room_id, page_offset, page_size)
        return await self._acall(catalog.DESCRIBE_TASKS, body, client=client)

    @staticmethod
    def _tasks_body(
        status: int,
        start_time: int,
        end_time: int,
        room_id: str | None,
        page_offset: int | None,
        page_size: int | None,
    ) -> dict[str, Any]:
        if status not in (2, 3):
            raise RtcValidationError("status", "2 (recording) or 3 (ended)", status)
        return {
            "Status": status,
            "StartTime": v.positive_int(start_time, "start_time"),
            "EndTime": v.positive_int(end_time, "end_time"),
            "RoomId": room_id,
            "PageOffset": page_offset,
            "PageSize": page_size,
        }
