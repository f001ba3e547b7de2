"""What each :class:`~airflow_provider_rtc.waits.steps.Call` does, sync (workers) and async (triggerer).

One object per cloud answers both ways through the same hooks (same signing, retries, pacing and
error classification): :meth:`perform` with blocking calls, :meth:`aperform` with the trigger's
shared ``httpx.AsyncClient``. Secrets stay here: the receiver key is read from the connection (or a
non-deferrable task's argument), masked, and never returned in an answer a check could leak.
"""

from __future__ import annotations

import logging
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow_provider_rtc.waits import steps

if TYPE_CHECKING:
    import httpx

    from airflow_provider_rtc.callbacks.client import ReceiverTarget
    from airflow_provider_rtc.hooks.trtc import TrtcHook
    from airflow_provider_rtc.hooks.zego import ZegoCloudRecordHook, ZegoRtcHook

_log = logging.getLogger(__name__)


class _Calls:
    log: Any = None

    def _note(self, call: steps.Call) -> None:
        (self.log or _log).info("%s", call.args[0])

    @staticmethod
    def _now() -> float:
        """The wait's own clock (the installed client clock's wall time; tests move it)."""
        from airflow_provider_rtc.clock import current_clock

        return current_clock().time()

    def _unknown(self, call: steps.Call) -> Exception:
        return NotImplementedError(f"{type(self).__name__} cannot perform {call.name!r}")


class TrtcCalls(_Calls):
    """TRTC: DescribeCloudRecording through :class:`TrtcHook`, the stored callbacks, the playlists."""

    def __init__(
        self,
        *,
        tencentcloud_conn_id: str,
        region: str | None = None,
        sdk_app_id: int | str | None = None,
        hook_params: dict[str, Any] | None = None,
        callback_receiver_url: str | None = None,
        callback_key: str | None = None,
        log: Any = None,
    ) -> None:
        self.tencentcloud_conn_id = tencentcloud_conn_id
        self.region = region or None
        self.sdk_app_id = sdk_app_id or None
        self.hook_params = dict(hook_params or {})
        self.callback_receiver_url = callback_receiver_url or None
        self._callback_key = callback_key or None
        self.log = log
        self._atarget: ReceiverTarget | None = None

    @cached_property
    def hook(self) -> TrtcHook:
        from airflow_provider_rtc.hooks.trtc import TrtcHook

        return TrtcHook(
            self.tencentcloud_conn_id, region=self.region, sdk_app_id=self.sdk_app_id, **self.hook_params
        )

    @cached_property
    def target(self) -> ReceiverTarget:
        from airflow_provider_rtc.callbacks.client import target_for_connection

        return target_for_connection(
            self.tencentcloud_conn_id, url=self.callback_receiver_url, key=self._callback_key
        )

    def perform(self, call: steps.Call) -> Any:
        from airflow_provider_rtc.callbacks import client as receiver
        from airflow_provider_rtc.waits import storage as playlists

        if call.name == steps.RECEIVER:
            return self.target.url
        if call.name == steps.APP_ID:
            return self.hook.sdk_app_id
        if call.name == steps.DESCRIBE_CLOUD_RECORDING:
            return self.hook.describe_cloud_recording(*call.args)
        if call.name == steps.READ_CALLBACKS:
            return receiver.fetch_events(self.target, *call.args, timeout=self.hook.settings.timeout)
        if call.name == steps.CHECK_PLAYLISTS:
            return playlists.check_playlists_sync(call.args[0], timeout=self.hook.settings.timeout)
        if call.name == steps.NOW:
            return self._now()
        if call.name == steps.NOTE:
            return self._note(call)
        raise self._unknown(call)

    async def atimeouts(self) -> tuple[float, float]:
        return (await self.hook.asettings()).timeout

    async def _target(self) -> ReceiverTarget:
        from airflow_provider_rtc.callbacks.client import atarget_for_connection

        if self._atarget is None:  # the key is always re-read from the connection, never passed in
            self._atarget = await atarget_for_connection(
                self.tencentcloud_conn_id, url=self.callback_receiver_url
            )
        return self._atarget

    async def aperform(self, call: steps.Call, client: httpx.AsyncClient) -> Any:
        from airflow_provider_rtc import validation as v
        from airflow_provider_rtc.callbacks import client as receiver
        from airflow_provider_rtc.waits import storage as playlists

        if call.name == steps.RECEIVER:
            return (await self._target()).url
        if call.name == steps.APP_ID:
            return v.sdk_app_id((await self.hook.asettings()).sdk_app_id)
        if call.name == steps.DESCRIBE_CLOUD_RECORDING:
            return await self.hook.adescribe_cloud_recording(*call.args, client=client)
        if call.name == steps.READ_CALLBACKS:
            return await receiver.afetch_events(await self._target(), *call.args, client=client)
        if call.name == steps.CHECK_PLAYLISTS:
            return await playlists.acheck_playlists(call.args[0], client=client)
        if call.name == steps.NOW:
            return self._now()
        if call.name == steps.NOTE:
            return self._note(call)
        raise self._unknown(call)


class ZegoCalls(_Calls):
    """ZEGO: DescribeRecordStatus (cloud recording) and GetMixTaskInfo (stream mixing)."""

    def __init__(
        self,
        *,
        zegocloud_conn_id: str,
        hook_params: dict[str, Any] | None = None,
        record_hook: ZegoCloudRecordHook | None = None,
        mix: bool = False,
        log: Any = None,
    ) -> None:
        self.zegocloud_conn_id = zegocloud_conn_id
        self.mix = mix
        self.hook_params = dict(hook_params or {})
        self.log = log
        if record_hook is not None:  # one connection lookup and session for a stop and its wait
            self.__dict__["record_hook"] = record_hook

    @cached_property
    def record_hook(self) -> ZegoCloudRecordHook:
        from airflow_provider_rtc.hooks.zego import ZegoCloudRecordHook

        return ZegoCloudRecordHook(self.zegocloud_conn_id, **self.hook_params)

    @cached_property
    def rtc_hook(self) -> ZegoRtcHook:
        from airflow_provider_rtc.hooks.zego import ZegoRtcHook

        return ZegoRtcHook(self.zegocloud_conn_id, **self.hook_params)

    @property
    def _any_hook(self) -> Any:
        """The hook already in use (AppId is the connection's, whichever product asks)."""
        in_use = self.__dict__.get("record_hook") or self.__dict__.get("rtc_hook")
        return in_use or (self.rtc_hook if self.mix else self.record_hook)

    def perform(self, call: steps.Call) -> Any:
        if call.name == steps.APP_ID:
            return self._any_hook.settings.credentials.app_id
        if call.name == steps.DESCRIBE_RECORD_STATUS:
            return self.record_hook.describe_record_status(*call.args)
        if call.name == steps.GET_MIX_TASK_INFO:
            return self.rtc_hook.get_mix_task_info(*call.args)
        if call.name == steps.NOTE:
            return self._note(call)
        raise self._unknown(call)

    async def atimeouts(self) -> tuple[float, float]:
        return (await self._any_hook.asettings()).timeout

    async def aperform(self, call: steps.Call, client: httpx.AsyncClient) -> Any:
        if call.name == steps.APP_ID:
            return (await self._any_hook.asettings()).credentials.app_id
        if call.name == steps.DESCRIBE_RECORD_STATUS:
            return await self.record_hook.adescribe_record_status(*call.args, client=client)
        if call.name == steps.GET_MIX_TASK_INFO:
            return await self.rtc_hook.aget_mix_task_info(*call.args, client=client)
        if call.name == steps.NOTE:
            return self._note(call)
        raise self._unknown(call)
