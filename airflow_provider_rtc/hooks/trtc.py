"""Tencent Cloud TRTC (``trtc`` 2019-07-22): rooms, users, cloud recording, relay and ingest tasks."""

from __future__ import annotations

from typing import Any

from airflow_provider_rtc import catalog
from airflow_provider_rtc import validation as v
from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.hooks.tencentcloud import TencentCloudHook
from airflow_provider_rtc.reports import cloudtime


class TrtcHook(TencentCloudHook):
    """One method per TRTC API, named after it; each returns the API's ``Response`` object.

    Every TRTC API needs a region (``X-TC-Region``) and the SDKAppID, from the connection
    or the hook arguments. Each call's facts (limit, idempotency, codes) are its ``catalog`` entry.
    """

    service = "trtc"
    version = "2019-07-22"
    region_required = True
    #: discovery's reconciliation may call DescribeRoomInfo/DescribeUserInfo (paid monitoring data)
    #: to find users; set by the event operators' ``trtc_monitoring=True`` opt-in only
    monitoring_reconcile = False

    # -- rooms ------------------------------------------------------------------------------
    def dismiss_room(self, room_id: int | str) -> dict[str, Any]:
        """Remove every user and dismiss a numeric room (DismissRoom)."""
        room = v.trtc_room_id(room_id, str_room_id=False)
        return self._call(catalog.DISMISS_ROOM, {"SdkAppId": self.sdk_app_id, "RoomId": room})

    def dismiss_room_by_str_room_id(self, room_id: str) -> dict[str, Any]:
        """Remove every user and dismiss a string room (DismissRoomByStrRoomId)."""
        room = v.trtc_room_id(room_id, str_room_id=True)
        return self._call(catalog.DISMISS_ROOM_BY_STR_ROOM_ID, {"SdkAppId": self.sdk_app_id, "RoomId": room})

    def remove_user(self, room_id: int | str, user_ids: list[str]) -> dict[str, Any]:
        """Kick users out of a numeric room (RemoveUser; at most the catalog's ``batch`` per call)."""
        room = v.trtc_room_id(room_id, str_room_id=False)
        users = v.trtc_user_ids(user_ids, max_items=catalog.REMOVE_USER.batch or 1)
        return self._call(
            catalog.REMOVE_USER, {"SdkAppId": self.sdk_app_id, "RoomId": room, "UserIds": users}
        )

    def remove_user_by_str_room_id(self, room_id: str, user_ids: list[str]) -> dict[str, Any]:
        """Kick users out of a string room (RemoveUserByStrRoomId; at most ``batch`` per call)."""
        room = v.trtc_room_id(room_id, str_room_id=True)
        users = v.trtc_user_ids(user_ids, max_items=catalog.REMOVE_USER_BY_STR_ROOM_ID.batch or 1)
        return self._call(
            catalog.REMOVE_USER_BY_STR_ROOM_ID,
            {"SdkAppId": self.sdk_app_id, "RoomId": room, "UserIds": users},
        )

    # -- cloud recording ----------------------------------------------------------------------
    def create_cloud_recording(
        self,
        room_id: int | str,
        user_id: str,
        user_sig: str,
        record_params: dict[str, Any],
        storage_params: dict[str, Any],
        *,
        room_id_type: int = 1,
        mix_transcode_params: dict[str, Any] | None = None,
        mix_layout_params: dict[str, Any] | None = None,
        resource_expired_hour: int | None = None,
        private_map_key: str | None = None,
    ) -> dict[str, Any]:
        """Start a recording (CreateCloudRecording). Not idempotent: an ambiguous failure is not
        retried, because a second task with the same robot UserId would interrupt the first."""
        if room_id_type not in (0, 1):
            raise RtcValidationError("room_id_type", "0 = string room id, 1 = integer room id", room_id_type)
        room = v.trtc_room_id(room_id, str_room_id=room_id_type == 0)
        params: dict[str, Any] = {
            "SdkAppId": self.sdk_app_id,
            "RoomId": str(room),
            "RoomIdType": room_id_type,
            "UserId": v.trtc_user_id(user_id),
            "UserSig": v.secret_text(user_sig, "user_sig", max_bytes=4096),
            "RecordParams": record_params,
            "StorageParams": storage_params,
        }
        optional = {
            "MixTranscodeParams": mix_transcode_params,
            "MixLayoutParams": mix_layout_params,
            "ResourceExpiredHour": resource_expired_hour,
            "PrivateMapKey": private_map_key,
        }
        params.update({k: val for k, val in optional.items() if val is not None})
        return self._call(catalog.CREATE_CLOUD_RECORDING, params)

    # -- monitoring data (opt-in reconciliation only) -----------------------------------------
    def describe_room_info(
        self,
        start_time: int,
        end_time: int,
        *,
        room_id: str | None = None,
        page_number: int = 0,
        page_size: int = 100,
    ) -> dict[str, Any]:
        """Rooms created in ``[start_time, end_time]`` (unix s, <= 24 h apart, within 14 days), each
        with ``CommId``, ``CreateTime`` and ``IsFinished`` (DescribeRoomInfo). Paid monitoring data,
        documented for history and reconciliation, not for crucial business logic."""
        start, end = self._monitor_window(start_time, end_time, catalog.ROOM_INFO_MAX_S)
        params: dict[str, Any] = {
            "SdkAppId": self.sdk_app_id,
            "StartTime": start,
            "EndTime": end,
            "PageNumber": v.integer(page_number, "page_number", minimum=0),
            "PageSize": v.integer(page_size, "page_size", minimum=1, maximum=100),
        }
        if room_id is not None:
            params["RoomId"] = v.token(str(room_id), "room_id", max_bytes=64)
        return self._call(catalog.DESCRIBE_ROOM_INFO, params)

    def describe_user_info(
        self, comm_id: str, start_time: int, end_time: int, *, page_number: int = 0, page_size: int = 100
    ) -> dict[str, Any]:
        """Users of one call (``comm_id`` from :meth:`describe_room_info`) in ``[start_time,
        end_time]`` (unix s, <= 4 h apart), each with ``JoinTs``, ``LeaveTs`` and ``Finished``
        (DescribeUserInfo). Paid monitoring data, like :meth:`describe_room_info`."""
        start, end = self._monitor_window(start_time, end_time, catalog.USER_INFO_MAX_S)
        return self._call(
            catalog.DESCRIBE_USER_INFO,
            {
                "SdkAppId": self.sdk_app_id,
                "CommId": v.token(comm_id, "comm_id", max_bytes=256),
                "StartTime": start,
                "EndTime": end,
                "PageNumber": v.integer(page_number, "page_number", minimum=0),
                "PageSize": v.integer(page_size, "page_size", minimum=1, maximum=100),
            },
        )

    @staticmethod
    def _monitor_window(start_time: Any, end_time: Any, max_seconds: int) -> tuple[int, int]:
        start = v.integer(start_time, "start_time", minimum=0)
        end = v.integer(end_time, "end_time", minimum=0)
        assert start is not None and end is not None
        if not 0 < end - start <= max_seconds:
            raise RtcValidationError(
                "end_time", f"after start_time and at most {max_seconds // 3600} h after it", end
            )
        return start, end

    def describe_cloud_recording(self, task_id: str) -> dict[str, Any]:
        """Status (Idle / InProgress / Exited) and index files of a live recording task."""
        return self._call(catalog.DESCRIBE_CLOUD_RECORDING, self._task(task_id))

    async def adescribe_cloud_recording(self, task_id: str, *, client: Any = None) -> dict[str, Any]:
        settings = await self.asettings()
        params = {"SdkAppId": v.sdk_app_id(settings.sdk_app_id), "TaskId": v.token(task_id, "task_id")}
        return await self._acall(catalog.DESCRIBE_CLOUD_RECORDING, params, client=client)

    def delete_cloud_recording(self, task_id: str) -> dict[str, Any]:
        """Stop a recording (DeleteCloudRecording); files keep uploading after it returns."""
        return self._call(catalog.DELETE_CLOUD_RECORDING, self._task(task_id))

    # -- relay and ingest ----------------------------------------------------------------------
    def stop_publish_cdn_stream(self, task_id: str) -> dict[str, Any]:
        """Stop a mix/relay-to-CDN task (StopPublishCdnStream)."""
        return self._call(catalog.STOP_PUBLISH_CDN_STREAM, self._task(task_id))

    def stop_stream_ingest(self, task_id: str) -> dict[str, Any]:
        """Stop pushing an online media stream into a room (StopStreamIngest)."""
        return self._call(catalog.STOP_STREAM_INGEST, self._task(task_id))

    # -- AI ------------------------------------------------------------------------------------
    def stop_ai_transcription(self, task_id: str) -> dict[str, Any]:
        """Stop an AI transcription task (StopAITranscription); its request is the TaskId alone."""
        return self._call(catalog.STOP_AI_TRANSCRIPTION, {"TaskId": v.token(task_id, "task_id")})

    def _task(self, task_id: str) -> dict[str, Any]:
        return {"SdkAppId": self.sdk_app_id, "TaskId": v.token(task_id, "task_id")}

    # -- usage (Beijing dates; 5 calls/s; at most 31 dates per query) -----------------------------
    def describe_trtc_usage(
        self, start_date: Any, end_date: Any, *, sdk_app_id: int | None = None, region: str | None = None
    ) -> dict[str, Any]:
        """Audio/video minutes per UsageKey (Audio, SD, HD, FullHD, 2K, 4K): daily points for a range
        longer than one day, 5-minute points otherwise (DescribeTrtcUsage)."""
        params = self._usage_params(catalog.DESCRIBE_TRTC_USAGE, start_date, end_date, {}, sdk_app_id)
        return self._call(catalog.DESCRIBE_TRTC_USAGE, params, region=self._usage_region(region))

    def describe_recording_usage(
        self,
        start_date: Any,
        end_date: Any,
        mix_type: str,
        *,
        sdk_app_id: int | None = None,
        region: str | None = None,
    ) -> dict[str, Any]:
        """Minutes of ``single`` (per stream) or ``multi`` (mixed) recording (DescribeRecordingUsage)."""
        if mix_type not in ("single", "multi"):
            raise RtcValidationError("mix_type", "'single' or 'multi'", mix_type)
        extra = {"MixType": mix_type}
        params = self._usage_params(catalog.DESCRIBE_RECORDING_USAGE, start_date, end_date, extra, sdk_app_id)
        return self._call(catalog.DESCRIBE_RECORDING_USAGE, params, region=self._usage_region(region))

    def describe_mix_transcoding_usage(
        self, start_date: Any, end_date: Any, *, sdk_app_id: int | None = None, region: str | None = None
    ) -> dict[str, Any]:
        """MCU mix/transcoding minutes per codec and resolution (DescribeMixTranscodingUsage)."""
        params = self._usage_params(
            catalog.DESCRIBE_MIX_TRANSCODING_USAGE, start_date, end_date, {}, sdk_app_id
        )
        return self._call(catalog.DESCRIBE_MIX_TRANSCODING_USAGE, params, region=self._usage_region(region))

    def describe_relay_usage(
        self, start_date: Any, end_date: Any, *, sdk_app_id: int | None = None, region: str | None = None
    ) -> dict[str, Any]:
        """Relay-to-CDN minutes (DescribeRelayUsage)."""
        params = self._usage_params(catalog.DESCRIBE_RELAY_USAGE, start_date, end_date, {}, sdk_app_id)
        return self._call(catalog.DESCRIBE_RELAY_USAGE, params, region=self._usage_region(region))

    def describe_trtc_room_usage(
        self, start_time: Any, end_time: Any, *, sdk_app_id: int | None = None, region: str | None = None
    ) -> dict[str, Any]:
        """Seconds per room and resolution as CSV text in ``Data`` (DescribeTrtcRoomUsage).

        At most 24 hours per query, one call per 15 s; times are minutes in Beijing time (datetimes are
        converted, text is sent as given: ``YYYY-MM-DD HH:MM``). The CSV header's usage keys are
        returned in DescribeTrtcUsage's spelling (``Audio, SD, HD, FullHD, 2K, 4K``): the API page's
        example header is ``RoomId,Audio,SD,hd,FullHD,2K,4K`` (647/89181), and one dimension must
        not be two in a report."""
        start = cloudtime.beijing_text(start_time, "start_time", "%Y-%m-%d %H:%M")
        end = cloudtime.beijing_text(end_time, "end_time", "%Y-%m-%d %H:%M")
        if not isinstance(start_time, str) and not isinstance(end_time, str):
            span = cloudtime.to_utc(end_time, "end_time") - cloudtime.to_utc(start_time, "start_time")
            if span.total_seconds() <= 0 or span.total_seconds() > 24 * 3600:
                raise RtcValidationError("end_time", "after start_time, at most 24 hours later", end)
        app = v.sdk_app_id(sdk_app_id if sdk_app_id is not None else self.settings.sdk_app_id)
        params = {"SdkAppid": app, "StartTime": start, "EndTime": end}
        answer = self._call(catalog.DESCRIBE_TRTC_ROOM_USAGE, params, region=self._usage_region(region))
        if isinstance(answer.get("Data"), str):
            answer["Data"] = room_usage_csv(answer["Data"])
        return answer

    def _usage_params(
        self, api: catalog.Api, start_date: Any, end_date: Any, extra: dict[str, Any], sdk_app_id: int | None
    ) -> dict[str, Any]:
        """StartTime/EndTime as Beijing dates within the API's window cap, and the SdkAppId if any."""
        start = cloudtime.beijing_date(start_date, "start_date")
        end = cloudtime.beijing_date(end_date, "end_date")
        if end < start:
            raise RtcValidationError("end_date", "on or after start_date", end.isoformat())
        most = api.max_range_days or 1
        if (end - start).days + 1 > most:
            rule = f"at most {most} dates from start_date (inclusive)"
            raise RtcValidationError("end_date", rule, end.isoformat())
        params: dict[str, Any] = {"StartTime": start.isoformat(), "EndTime": end.isoformat(), **extra}
        app = sdk_app_id if sdk_app_id is not None else self.settings.sdk_app_id
        if app is not None:  # omitted = the sum of every app of the account
            params["SdkAppId"] = v.sdk_app_id(app)
        return params

    def _usage_region(self, region: str | None) -> str:
        """Usage is account-wide data served from few regions: a connection region elsewhere (e.g.
        ap-beijing for rooms) falls back to ap-guangzhou instead of failing with UnsupportedRegion."""
        if region is not None:
            return v.region(region, required=True) or "ap-guangzhou"
        configured = self.settings.region
        return configured if configured in catalog.USAGE_REGIONS else "ap-guangzhou"


#: DescribeTrtcUsage's UsageKey spelling, by lower case: what DescribeTrtcRoomUsage's CSV keys become
USAGE_KEYS = {key.lower(): key for key in ("Audio", "SD", "HD", "FullHD", "2K", "4K")}


def room_usage_csv(data: str) -> str:
    """``data`` with its header's usage keys in DescribeTrtcUsage's case (``hd`` -> ``HD``); the
    ``RoomId`` column and unknown keys are kept as sent."""
    head, sep, rest = data.partition("\n")
    names = head.split(",")
    fixed = names[:1] + [USAGE_KEYS.get(n.strip().lower(), n) for n in names[1:]]
    return ",".join(fixed) + sep + rest
