"""The ``tencentcloud`` connection: SecretId/SecretKey, region, SDKAppID, endpoint, STS token.

One connection serves every Tencent Cloud product; ``TrtcHook`` and ``LiveHook`` pick the service.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_rtc import validation as v
from airflow_provider_rtc.exceptions import (
    RtcValidationError,
)
from airflow_provider_rtc.hooks.base import BaseSettings, RtcBaseHook
from airflow_provider_rtc.hooks.settings import (
    as_bool,
    extra_value,
)
from airflow_provider_rtc.protocol import tencent
from airflow_provider_rtc.protocol.http import HttpCall
from airflow_provider_rtc.retry import RetryPolicy
from airflow_provider_rtc.transport import USER_AGENT
from airflow_provider_rtc.validation import positive_int
from airflow_provider_rtc.validation import region as check_region

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True)
class TencentSettings(BaseSettings):
    credentials: tencent.TencentCredentials
    region: str | None
    sdk_app_id: int | None
    endpoint: str | None
    intl: bool
    language: str | None
    timeout: tuple[float, float]
    retry: RetryPolicy
    qps: dict[str, float]
    pacing: bool

    @property
    def account(self) -> str:  # type: ignore[override]
        return f"{self.credentials.secret_id}:{self.sdk_app_id or ''}"


class TencentCloudHook(RtcBaseHook[TencentSettings]):
    """Signs and sends Tencent Cloud API 3.0 calls (TC3-HMAC-SHA256) for any service."""

    conn_name_attr = "tencentcloud_conn_id"
    default_conn_name = "tencentcloud_default"
    conn_type = "tencentcloud"
    hook_name = "Tencent Cloud"
    cloud = "Tencent Cloud"

    #: set by product hooks
    service: ClassVar[str] = ""
    version: ClassVar[str] = ""
    region_required: ClassVar[bool] = False

    def __init__(
        self,
        tencentcloud_conn_id: str = default_conn_name,
        *,
        region: str | None = None,
        sdk_app_id: int | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(tencentcloud_conn_id, **kwargs)
        self.tencentcloud_conn_id = tencentcloud_conn_id
        self.region_override = region
        self.sdk_app_id_override = sdk_app_id

    def _make_settings(self, conn: Any, extra: Mapping[str, Any]) -> TencentSettings:
        ct = self.conn_type
        self._require_credentials(conn, "SecretId", "SecretKey")
        raw_app = self.sdk_app_id_override or extra_value(extra, ct, "sdk_app_id")
        raw_region = self.region_override or extra_value(extra, ct, "region")
        return TencentSettings(
            credentials=tencent.TencentCredentials(
                secret_id=v.header_value(conn.login, "login (SecretId)"),
                secret_key=v.secret_key(conn.password, "password (SecretKey)"),
                token=v.optional_header(extra_value(extra, ct, "token"), "token", secret=True),
            ),
            region=check_region(raw_region, required=False),
            sdk_app_id=None if raw_app in (None, "") else positive_int(raw_app, "sdk_app_id"),
            intl=bool(as_bool(extra_value(extra, ct, "intl"), "intl")),
            language=v.optional_header(extra_value(extra, ct, "language"), "language"),
            **self._transport_settings(extra),
        )

    def _pacing_account(self, settings: TencentSettings, product: str) -> str:
        # TRTC limits are per SDKAppID; Live limits are per account (SecretId).
        return settings.credentials.secret_id if product == "live" else settings.account

    @property
    def sdk_app_id(self) -> int:
        """The SDKAppID calls use: the hook argument, else the connection extra; required for TRTC."""
        from airflow_provider_rtc.validation import sdk_app_id

        return sdk_app_id(self.settings.sdk_app_id)

    def _builder(
        self, action: str, params: dict[str, Any], service: str, version: str, region: str | None
    ) -> Callable[[TencentSettings], HttpCall]:
        def build(settings: TencentSettings) -> HttpCall:
            endpoint = tencent.TencentEndpoint.for_service(
                service, endpoint=settings.endpoint, intl=settings.intl
            )
            return tencent.build_call(
                endpoint,
                settings.credentials,
                action=action,
                version=version,
                params=params,
                region=region or settings.region,
                user_agent=USER_AGENT,
                language=settings.language,
            )

        return build

    def _target(
        self, settings: TencentSettings, service: str | None, version: str | None, region: str | None
    ) -> tuple[str, str, str | None]:
        service = service or self.service
        version = version or self.version
        if not service or not version:
            raise RtcValidationError("service", "TencentCloudHook.call needs service= and version=")
        region = check_region(region, required=False) or settings.region
        if self.region_required or service == "trtc":
            check_region(region, required=True)
        return service, version, region

    def call(
        self,
        action: str,
        params: dict[str, Any],
        *,
        idempotent: bool = True,
        service: str | None = None,
        version: str | None = None,
        region: str | None = None,
    ) -> dict[str, Any]:
        """Call any API 3.0 action; returns the ``Response`` object (with ``RequestId``)."""
        service, version, region = self._target(self.settings, service, version, region)
        return self._run(
            product=service,
            action=action,
            idempotent=idempotent,
            build=self._builder(action, params, service, version, region),
            parse=partial(tencent.parse_reply, action=action),
        )

    async def acall(
        self,
        action: str,
        params: dict[str, Any],
        *,
        idempotent: bool = True,
        service: str | None = None,
        version: str | None = None,
        region: str | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> dict[str, Any]:
        """Async twin of :meth:`call` (httpx, async connection lookup), for triggers."""
        service, version, region = self._target(await self.asettings(), service, version, region)
        return await self._arun(
            product=service,
            action=action,
            idempotent=idempotent,
            build=self._builder(action, params, service, version, region),
            parse=partial(tencent.parse_reply, action=action),
            client=client,
        )

    def test_connection(self) -> tuple[bool, str]:
        """DescribeCloudRecording of a task that does not exist: any business answer means a good key."""

        def probe() -> None:
            settings = self.settings
            self.call(
                "DescribeCloudRecording",
                {"SdkAppId": settings.sdk_app_id or 1400000000, "TaskId": "airflow-connection-test"},
                service="trtc",
                version="2019-07-22",
                region=settings.region or "ap-guangzhou",
            )

        return self._probe_credentials(probe)
