"""Tencent Cloud Live / CSS (``live`` 2018-08-01): stream mixing and pushed streams."""

from __future__ import annotations

from typing import Any

from airflow_provider_rtc import catalog
from airflow_provider_rtc import validation as v
from airflow_provider_rtc.hooks.tencentcloud import TencentCloudHook
from airflow_provider_rtc.reports import cloudtime

_AREAS = ("Mainland", "Oversea")
#: DescribeLiveStreamOnlineList PageSize ceilings: mainland, international site
ONLINE_PAGE_MAX = 300_000
ONLINE_PAGE_MAX_INTL = 100


class LiveHook(TencentCloudHook):
    """One method per Live API, named after it. Region is not required by these APIs."""

    service = "live"
    version = "2018-08-01"

    def create_common_mix_stream(
        self,
        mix_stream_session_id: str,
        input_stream_list: list[dict[str, Any]],
        output_params: dict[str, Any],
        *,
        mix_stream_template_id: int | None = None,
        control_params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Start or update a mix (CreateCommonMixStream); the same session id updates it."""
        if not input_stream_list or len(input_stream_list) > 16:
            raise v.RtcValidationError(
                "input_stream_list", "1 to 16 input streams", len(input_stream_list or [])
            )
        params: dict[str, Any] = {
            "MixStreamSessionId": v.mix_stream_session_id(mix_stream_session_id),
            "InputStreamList": input_stream_list,
            "OutputParams": output_params,
        }
        if mix_stream_template_id is not None:
            params["MixStreamTemplateId"] = mix_stream_template_id
        if control_params is not None:
            params["ControlParams"] = control_params
        return self._call(catalog.CREATE_COMMON_MIX_STREAM, params)

    def cancel_common_mix_stream(self, mix_stream_session_id: str) -> dict[str, Any]:
        """Cancel a mix session (CancelCommonMixStream)."""
        params = {"MixStreamSessionId": v.mix_stream_session_id(mix_stream_session_id)}
        return self._call(catalog.CANCEL_COMMON_MIX_STREAM, params)

    def drop_live_stream(self, stream_name: str, domain_name: str, app_name: str = "live") -> dict[str, Any]:
        """Disconnect a pushed stream (DropLiveStream); dropping an inactive stream succeeds."""
        return self._call(catalog.DROP_LIVE_STREAM, self._stream(stream_name, domain_name, app_name))

    def describe_live_stream_state(
        self, stream_name: str, domain_name: str, app_name: str = "live"
    ) -> dict[str, Any]:
        """``StreamState``: active, inactive or forbid (DescribeLiveStreamState)."""
        return self._call(
            catalog.DESCRIBE_LIVE_STREAM_STATE, self._stream(stream_name, domain_name, app_name)
        )

    def describe_live_stream_online_list(
        self,
        domain_name: str | None = None,
        app_name: str | None = None,
        page_num: int = 1,
        page_size: int = 10,
        stream_name: str | None = None,
    ) -> dict[str, Any]:
        """One page of the streams being pushed now (DescribeLiveStreamOnlineList): ``OnlineInfo``,
        ``TotalNum``, ``TotalPage``. Lists at most 20,000 streams and may lag: pair it with callbacks.

        ``page_size``: 10 to 300000 on the mainland site ("每页大小, 最大300000。取值: 10~300000 ...
        尽量传入比当前总流数大的PageSize, 一次性拉走全部在线流", Py SDK live models; Go SDK change
        2025-12-08), 10 to 100 on the international site (intl Go SDK: "Maximum value: 100")."""
        top = ONLINE_PAGE_MAX_INTL if self.settings.intl else ONLINE_PAGE_MAX
        size = v.positive_int(page_size, "page_size", maximum=top)
        if size < 10:
            raise v.RtcValidationError("page_size", f"10 to {top}", page_size)
        params: dict[str, Any] = {"PageNum": v.positive_int(page_num, "page_num"), "PageSize": size}
        for key, value, name, limit in (
            ("DomainName", domain_name, "domain_name", 256),
            ("AppName", app_name, "app_name", 128),
            ("StreamName", stream_name, "stream_name", 256),
        ):
            if value not in (None, ""):
                params[key] = v.token(value, name, max_bytes=limit)
        return self._call(catalog.DESCRIBE_LIVE_STREAM_ONLINE_LIST, params)

    # -- usage (times in Beijing time) -------------------------------------------------------------
    def describe_bill_bandwidth_and_flux_list(
        self,
        start_time: Any,
        end_time: Any,
        *,
        granularity: int = 1440,
        play_domains: list[str] | None = None,
        mainland_or_oversea: str | None = None,
        service_name: str | None = None,
    ) -> dict[str, Any]:
        """Billable bandwidth (Mbps) and traffic (MB) (DescribeBillBandwidthAndFluxList).

        At most 31 days per query (5-minute granularity: 1 day); the last three years. Datetimes are
        sent as Beijing wall-clock time (``YYYY-MM-DD hh:mm:ss``, which the API reads as Beijing time)."""
        cap = catalog.DESCRIBE_BILL_BANDWIDTH_AND_FLUX_LIST.max_range_days or 1
        if granularity not in (5, 60, 1440):
            raise v.RtcValidationError("granularity", "5, 60 or 1440 (minutes)", granularity)
        params: dict[str, Any] = {
            **self._range(start_time, end_time, max_days=1 if granularity == 5 else cap),
            "Granularity": granularity,
        }
        if play_domains:
            params["PlayDomains"] = v.string_list(play_domains, "play_domains", max_items=100, max_bytes=256)
        if mainland_or_oversea is not None:
            params["MainlandOrOversea"] = self._area(mainland_or_oversea)
        if service_name is not None:
            if service_name not in ("LVB", "LEB"):
                raise v.RtcValidationError("service_name", "'LVB' or 'LEB'", service_name)
            params["ServiceName"] = service_name
        return self._call(catalog.DESCRIBE_BILL_BANDWIDTH_AND_FLUX_LIST, params)

    def describe_live_transcode_total_info(
        self,
        start_time: Any,
        end_time: Any,
        *,
        push_domains: list[str] | None = None,
        mainland_or_oversea: str | None = None,
    ) -> dict[str, Any]:
        """Transcoding minutes per codec and resolution: 5-minute points within one day, hourly across
        days or when ``push_domains`` are given (DescribeLiveTranscodeTotalInfo: "如果是查询跨天或指定
        域名, 则返回1小时粒度数据"). At most three months per query, the last three months."""
        cap = catalog.DESCRIBE_LIVE_TRANSCODE_TOTAL_INFO.max_range_days or 1
        params = self._range(start_time, end_time, max_days=cap)
        if push_domains:
            params["PushDomains"] = v.string_list(push_domains, "push_domains", max_items=100, max_bytes=256)
        if mainland_or_oversea is not None:
            params["MainlandOrOversea"] = self._area(mainland_or_oversea)
        return self._call(catalog.DESCRIBE_LIVE_TRANSCODE_TOTAL_INFO, params)

    @staticmethod
    def _range(start_time: Any, end_time: Any, *, max_days: int) -> dict[str, Any]:
        start = cloudtime.beijing_text(start_time, "start_time")
        end = cloudtime.beijing_text(end_time, "end_time")
        if not isinstance(start_time, str) and not isinstance(end_time, str):
            span = cloudtime.to_utc(end_time, "end_time") - cloudtime.to_utc(start_time, "start_time")
            if span.total_seconds() <= 0 or span.days > max_days or (span.days == max_days and span.seconds):
                rule = f"after start_time, at most {max_days} days later"
                raise v.RtcValidationError("end_time", rule, end)
        return {"StartTime": start, "EndTime": end}

    @staticmethod
    def _area(value: str) -> str:
        if value not in _AREAS:
            raise v.RtcValidationError("mainland_or_oversea", "'Mainland' or 'Oversea'", value)
        return value

    @staticmethod
    def _stream(stream_name: str, domain_name: str, app_name: str) -> dict[str, Any]:
        return {
            "StreamName": v.token(stream_name, "stream_name", max_bytes=256),
            "DomainName": v.token(domain_name, "domain_name", max_bytes=256),
            "AppName": v.token(app_name or "live", "app_name", max_bytes=128),
        }
