"""The ``tencentcloud`` connection: SecretId/SecretKey, region, SDKAppID, endpoint, STS token.

One connection serves every Tencent Cloud product; ``TrtcHook`` and ``LiveHook`` pick the service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

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
from airflow_provider_rtc.protocol import tencent
from airflow_provider_rtc.protocol.http import HttpCall
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

    @property
    def account(self) -> str:
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

    @property
    def sdk_app_id(self) -> int:
        """The SDKAppID calls use: the hook argument, else the connection extra; required for TRTC."""
        from airflow_provider_rtc.validation import sdk_app_id

        return sdk_app_id(self.settings.sdk_app_id)

    def _request(
        self, settings: TencentSettings, api: Api, params: dict[str, Any], region: str | None = None
    ) -> dict[str, Any]:
        """Region check, pacing scope, builder and parser of one call: what ``_call``/``_acall`` share."""
        region = check_region(region, required=False) or settings.region
        if self.region_required or api.product == "trtc":
            check_region(region, required=True)

        def build(settings: TencentSettings) -> HttpCall:
            endpoint = tencent.TencentEndpoint.for_service(
                api.product, endpoint=settings.endpoint, intl=settings.intl
            )
            return tencent.build_call(
                endpoint,
                settings.credentials,
                action=api.action,
                version=api.version,
                params=params,
                region=region,
                user_agent=USER_AGENT,
                language=settings.language,
            )

        # Tencent counts a limit per API, per region and per sub-account (SecretId), not per SDKAppID
        scope = {"secret_id": settings.credentials.secret_id, "region": region}
        return {
            "scope": scope,
            "build": build,
            "parse": partial(tencent.parse_reply, action=api.action, api=api),
        }

    def _call(self, api: Api, params: dict[str, Any], *, region: str | None = None) -> dict[str, Any]:
        """Call the catalog's ``api``: service, version, idempotency and pacing all come from the entry."""
        return self._run(api, **self._request(self.settings, api, params, region))

    async def _acall(
        self,
        api: Api,
        params: dict[str, Any],
        *,
        region: str | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> dict[str, Any]:
        """Async twin of :meth:`_call` (httpx, async connection lookup), for triggers."""
        settings = await self.asettings()
        return await self._arun(api, **self._request(settings, api, params, region), client=client)

    def _api(self, action: str, service: str | None, version: str | None, idempotent: bool | None) -> Api:
        service = service or self.service
        if not service:
            raise RtcValidationError("service", "TencentCloudHook.call needs service= and version=")
        api = catalog.adhoc(
            "tencent",
            action,
            service,
            service,
            version=version or self.version or None,
            idempotent=idempotent,
        )
        if not api.version:
            raise RtcValidationError("version", "TencentCloudHook.call needs service= and version=")
        return api

    def call(
        self,
        action: str,
        params: dict[str, Any],
        *,
        idempotent: bool | None = None,
        service: str | None = None,
        version: str | None = None,
        region: str | None = None,
    ) -> dict[str, Any]:
        """Call any API 3.0 action; returns the ``Response`` object (with ``RequestId``).

        An action in the catalog keeps its facts (pacing, idempotency, codes) unless overridden here;
        any other action is sent as given, unpaced unless a ``qps`` is configured for it."""
        return self._call(self._api(action, service, version, idempotent), params, region=region)

    async def acall(
        self,
        action: str,
        params: dict[str, Any],
        *,
        idempotent: bool | None = None,
        service: str | None = None,
        version: str | None = None,
        region: str | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> dict[str, Any]:
        """Async twin of :meth:`call` (httpx, async connection lookup), for triggers."""
        api = self._api(action, service, version, idempotent)
        return await self._acall(api, params, region=region, client=client)

    def test_connection(self) -> tuple[bool, str]:
        """DescribeCloudRecording of a task that does not exist: any business answer means a good key.

        A good key without ``sdk_app_id`` or ``region`` still passes (Live needs neither), but the
        message warns: every TRTC call needs both.
        """

        def probe() -> None:
            settings = self.settings
            self._call(
                catalog.DESCRIBE_CLOUD_RECORDING,
                {"SdkAppId": settings.sdk_app_id or 1400000000, "TaskId": "airflow-connection-test"},
                region=settings.region or "ap-guangzhou",
            )

        ok, message = self._probe_credentials(probe)
        if not ok:
            return ok, message
        settings = self.settings
        missing = [name for name in ("sdk_app_id", "region") if not getattr(settings, name)]
        if missing:
            names = " and ".join(repr(name) for name in missing)
            message += (
                f" Warning: no {names} extra: every TRTC call needs {'them' if len(missing) > 1 else 'it'} "
                "(set the extra or pass it to each operator); Live calls work without."
            )
        return ok, message
