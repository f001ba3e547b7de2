"""What every RTC hook shares: connection settings read once (sync or async), one keep-alive
session, paced and retried calls. Subclasses say how to sign and parse for their cloud."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from airflow.providers.common.compat.sdk import BaseHook

from airflow_provider_rtc import metrics
from airflow_provider_rtc.catalog import Api
from airflow_provider_rtc.exceptions import (
    RtcApiError,
    RtcAuthError,
    RtcError,
    RtcInvalidInputError,
    RtcNotFoundError,
    RtcValidationError,
)
from airflow_provider_rtc.hooks.settings import (
    as_bool,
    endpoint_url,
    extra_value,
    qps_overrides,
    rate_limit_settings,
    retry_policy,
    timeouts,
)
from airflow_provider_rtc.protocol.http import HttpCall, HttpReply
from airflow_provider_rtc.ratelimit import (
    Limiter,
    RateLimitSettings,
    limiter_for,
    limiter_key,
)
from airflow_provider_rtc.retry import RetryPolicy
from airflow_provider_rtc.transport import (
    arun_with_retry,
    new_async_client,
    new_session,
    run_with_retry,
    send_async,
    send_sync,
)
from airflow_provider_rtc.validation import conn_id as conn_id_rule

if TYPE_CHECKING:
    import httpx
    import requests

S = TypeVar("S", bound="BaseSettings")


@dataclass(frozen=True)
class BaseSettings:
    """Connection-derived settings. The transport fields live here because every hook fills them
    from the same extras (``_transport_settings``); subclasses add credentials (repr-hidden)."""

    timeout: tuple[float, float]
    retry: RetryPolicy
    qps: dict[str, float]
    pacing: bool
    rate_limit: RateLimitSettings

    @property
    def account(self) -> str:
        """Who the pacing and rate-limit budgets belong to."""
        raise NotImplementedError


def _form_widgets(cls: Any) -> dict[str, Any]:
    from airflow_provider_rtc.hooks.forms import form_widgets

    return form_widgets(cls.conn_type)


def _field_behaviour(cls: Any) -> dict[str, Any]:
    from airflow_provider_rtc.hooks.forms import field_behaviour

    return field_behaviour(cls.conn_type)


class RtcBaseHook(BaseHook, Generic[S]):
    """Base of the provider's hooks. Never fetches the connection in ``__init__`` (DAG parse stays free)."""

    cloud: ClassVar[str] = ""
    conn_type: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A hook that declares its own ``conn_type`` gets the two connection-form classmethods in
        its OWN ``__dict__``: Airflow 3.0/3.1's ProvidersManager reads them only there
        (``"get_connection_form_widgets" in hook_class.__dict__``), so inheriting them from this
        base left the forms without their fields (caught by ``make compat``)."""
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("conn_type"):
            cls.get_connection_form_widgets = classmethod(_form_widgets)  # type: ignore[assignment,method-assign]
            cls.get_ui_field_behaviour = classmethod(_field_behaviour)  # type: ignore[assignment,method-assign]

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """The form's extra fields on Airflow 3.0/3.1 (3.2+ read ``conn-fields``): :mod:`.forms`."""
        return _form_widgets(cls)

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Hidden and relabelled standard fields on Airflow 3.0/3.1 (3.2+ read ``ui-field-behaviour``)."""
        return _field_behaviour(cls)

    def __init__(
        self,
        conn_id: str,
        *,
        timeout: float | tuple[float, float] | None = None,
        retry_limit: int | None = None,
        retry_delay: float | None = None,
        retry_max_delay: float | None = None,
        retry_total_timeout: float | None = None,
        throttle_budget: float | None = None,
        qps: Mapping[str, float] | None = None,
        pacing: bool | None = None,
        logger_name: str | None = None,
    ) -> None:
        super().__init__(logger_name=logger_name)
        self.conn_id = conn_id_rule(conn_id, getattr(self, "conn_name_attr", "") or "conn_id")
        self._overrides: dict[str, Any] = {
            "timeout": timeout,
            "retry_limit": retry_limit,
            "retry_delay": retry_delay,
            "retry_max_delay": retry_max_delay,
            "retry_total_timeout": retry_total_timeout,
            "throttle_budget": throttle_budget,
            "qps": qps,
            "pacing": pacing,
        }
        self._async_settings: S | None = None

    # -- settings ---------------------------------------------------------------------------
    def _make_settings(self, conn: Any, extra: Mapping[str, Any]) -> S:
        raise NotImplementedError

    def _probe_credentials(self, probe: Callable[[], Any]) -> tuple[bool, str]:
        """``test_connection``'s verdict on one cheap signed call: an auth error means a bad key; a
        business answer (not found, invalid parameter...) means the signature was checked and
        accepted; a throttle or transient fault proves nothing, and the form waits for an answer: a
        throttle is reported at once rather than retried for the bulk operators' throttle budget."""
        if self._overrides["throttle_budget"] is None:
            self._overrides["throttle_budget"] = 0.0
            self.__dict__.pop("settings", None)
            self._async_settings = None
        try:
            probe()
        except RtcAuthError as err:
            return False, f"Authentication failed: {err}"
        except RtcValidationError as err:
            return False, str(err)
        except (RtcNotFoundError, RtcInvalidInputError, RtcApiError) as err:
            return True, f"Connected to {self.cloud}; credentials accepted (probe answered {err.code})."
        except RtcError as err:
            return False, f"Could not verify the credentials: {err}"
        return True, f"Connected to {self.cloud}; credentials accepted."

    def _require_credentials(self, conn: Any, login: str, password: str) -> None:
        if not conn.login or not conn.password:
            raise RtcValidationError(
                "connection", f"{self.conn_id!r} needs login = {login} and password = {password}"
            )

    def _transport_settings(self, extra: Mapping[str, Any]) -> dict[str, Any]:
        """endpoint, timeout, retry, qps, pacing and the rate limiter's backend: hook arguments win over
        connection extras."""
        ct, overrides = self.conn_type, self._overrides
        pacing = overrides["pacing"]
        if pacing is None:
            pacing = as_bool(extra_value(extra, ct, "pacing"), "pacing") is not False
        else:
            pacing = bool(as_bool(pacing, "pacing"))
        return {
            "endpoint": endpoint_url(extra_value(extra, ct, "endpoint")),
            "timeout": timeouts(extra, ct, overrides["timeout"]),
            "retry": retry_policy(
                extra,
                ct,
                retry_limit=overrides["retry_limit"],
                retry_delay=overrides["retry_delay"],
                retry_max_delay=overrides["retry_max_delay"],
                retry_total_timeout=overrides["retry_total_timeout"],
                throttle_budget=overrides["throttle_budget"],
            ),
            "qps": qps_overrides(extra, ct, overrides["qps"]),
            "pacing": pacing,
            "rate_limit": rate_limit_settings(extra, ct),
        }

    @cached_property
    def settings(self) -> S:
        conn = self.get_connection(self.conn_id)
        return self._make_settings(conn, conn.extra_dejson)

    async def asettings(self) -> S:
        """Settings read with the async connection API, safe inside the triggerer's event loop."""
        if "settings" in self.__dict__:
            return self.__dict__["settings"]
        if self._async_settings is None:
            from airflow.providers.common.compat.connection import (
                get_async_connection,
                get_async_extra_dejson,
            )

            conn = await get_async_connection(self.conn_id, hook=self)
            self._async_settings = self._make_settings(conn, await get_async_extra_dejson(conn))
        return self._async_settings

    # -- transport --------------------------------------------------------------------------
    @cached_property
    def session(self) -> requests.Session:
        return new_session()

    def close(self) -> None:
        if "session" in self.__dict__:
            self.session.close()
            del self.__dict__["session"]

    def _test_environment(self, settings: S) -> bool:
        """Whether calls count against the vendor's test-environment limits (ZEGO ``IsTest``)."""
        return False

    def _pacer(self, settings: S, api: Api, scope: Mapping[str, object]) -> Limiter | None:
        """The limiter every worker sharing ``settings.rate_limit`` uses for ``api``'s quota: the catalog
        says the rate and what it is counted per."""
        if not settings.pacing:
            return None
        rate = settings.qps.get(api.action) or api.rate(test=self._test_environment(settings))
        if not rate:
            return None
        key = limiter_key(api.product, api.rate_key(**scope), api.action)
        own = limiter_for(key, rate, settings.rate_limit)
        if not api.quotas:
            return own
        from airflow_provider_rtc.pacing import AllOf

        further = [
            limiter_for(limiter_key(api.product, account, name), qps, settings.rate_limit)
            for name, qps, account in api.quota_keys(**scope)
        ]
        return AllOf([own, *further])

    def _run(
        self,
        api: Api,
        scope: Mapping[str, object],
        *,
        build: Callable[[S], HttpCall],
        parse: Callable[[HttpReply], dict[str, Any]],
    ) -> dict[str, Any]:
        settings = self.settings

        def attempt() -> dict[str, Any]:
            reply = send_sync(
                self.session, build(settings), timeout=settings.timeout, cloud=self.cloud, action=api.action
            )
            return parse(reply)

        with metrics.tagged(cloud=metrics.cloud_of(api.cloud, api.product), action=api.action):
            return run_with_retry(
                attempt,
                policy=settings.retry,
                idempotent=api.idempotent,
                pacer=self._pacer(settings, api, scope),
                at_departure=True,  # the slot once the connection is open: see airflow_provider_rtc.departure
            )

    async def _arun(
        self,
        api: Api,
        scope: Mapping[str, object],
        *,
        build: Callable[[S], HttpCall],
        parse: Callable[[HttpReply], dict[str, Any]],
        client: httpx.AsyncClient | None = None,
    ) -> dict[str, Any]:
        settings = await self.asettings()
        own_client = client is None
        http = client or new_async_client(settings.timeout)
        try:

            async def attempt() -> dict[str, Any]:
                reply = await send_async(http, build(settings), cloud=self.cloud, action=api.action)
                return parse(reply)

            with metrics.tagged(cloud=metrics.cloud_of(api.cloud, api.product), action=api.action):
                return await arun_with_retry(
                    attempt,
                    policy=settings.retry,
                    idempotent=api.idempotent,
                    pacer=self._pacer(settings, api, scope),
                    at_departure=True,
                )
        finally:
            if own_client:
                await http.aclose()
