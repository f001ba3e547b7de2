"""Operators for Tencent Cloud Live cleanups: cancel stream mixes, drop pushed streams."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_rtc import validation as v
from airflow_provider_rtc.cleanup.enders import ender
from airflow_provider_rtc.cleanup.engine import BulkPlan, BulkRun, BulkTarget
from airflow_provider_rtc.cleanup.targets import checked
from airflow_provider_rtc.hooks.live import LiveHook
from airflow_provider_rtc.links import TencentCloudConsoleLink
from airflow_provider_rtc.operators.cleanup import TENCENT_FIELDS, TencentCleanupOperator


class CancelCommonMixStreamOperator(TencentCleanupOperator):
    """Cancel a Live stream-mix session (CancelCommonMixStream); an unknown session counts as cancelled."""

    hook_class = LiveHook
    hook: LiveHook
    template_fields: Sequence[str] = ("mix_stream_session_id", "hook_params", *TENCENT_FIELDS)
    template_fields_renderers = {"hook_params": "json"}
    operator_extra_links = (TencentCloudConsoleLink(),)

    def __init__(self, *, mix_stream_session_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mix_stream_session_id = mix_stream_session_id

    def run_cleanup(self) -> dict[str, Any]:
        session = v.mix_stream_session_id(self.mix_stream_session_id)
        return self.cleanup(
            f"Live mix session {session}",
            "CancelCommonMixStream",
            lambda: self.hook.cancel_common_mix_stream(session),
            mix_stream_session_id=session,
        )


class DropLiveStreamOperator(TencentCleanupOperator):
    """Disconnect a pushed Live stream (DropLiveStream). Dropping an inactive stream succeeds."""

    hook_class = LiveHook
    hook: LiveHook
    template_fields: Sequence[str] = (
        "stream_name",
        "domain_name",
        "app_name",
        "hook_params",
        *TENCENT_FIELDS,
    )
    template_fields_renderers = {"hook_params": "json"}
    operator_extra_links = (TencentCloudConsoleLink(),)

    def __init__(self, *, stream_name: str, domain_name: str, app_name: str = "live", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stream_name = stream_name
        self.domain_name = domain_name
        self.app_name = app_name

    def run_cleanup(self) -> dict[str, Any]:
        stream = v.token(self.stream_name, "stream_name", max_bytes=256)
        domain = v.token(self.domain_name, "domain_name", max_bytes=256)
        app = v.token(self.app_name or "live", "app_name")
        return self.cleanup(
            f"Live stream {domain}/{app}/{stream}",
            "DropLiveStream",
            lambda: self.hook.drop_live_stream(stream, domain, app),
            stream_name=stream,
            domain_name=domain,
            app_name=app,
        )


class BulkCancelCommonMixStreamsOperator(TencentCleanupOperator):
    """Cancel many Live mix sessions in one task, paced at the documented 100 calls/s.

    :param mix_stream_session_ids: a list, a JSON-array template, or an upstream XCom list.
    """

    hook_class = LiveHook
    hook: LiveHook
    template_fields: Sequence[str] = ("mix_stream_session_ids", "hook_params", *TENCENT_FIELDS)
    template_fields_renderers = {"hook_params": "json", "mix_stream_session_ids": "json"}

    def __init__(
        self,
        *,
        mix_stream_session_ids: list[str] | str,
        max_concurrency: int = 16,
        progress_interval: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.mix_stream_session_ids = mix_stream_session_ids
        self.bulk = BulkRun(max_concurrency, progress_interval)

    def plan(self) -> BulkPlan:
        return self.bulk_plan("mix_stream_session_ids", ender("CancelCommonMixStream"), self._target)

    def _target(self, raw: Any, param: str) -> BulkTarget:
        session = v.mix_stream_session_id(raw, param)
        return checked({"session_id": session}, extra={"mix_stream_session_id": session}, target=session)
