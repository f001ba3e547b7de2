"""Event-driven "recording uploaded": one asset event per recording whose files reached storage.

``RecordingUploadedEventTrigger`` is a ``BaseEventTrigger`` for ``AssetWatcher``: it watches every
recording of one connection and yields ``{"status": "done", "key", "manifest", ...}`` once per
recording, deciding "uploaded" with the sensors' own decision and wait spec
(:func:`waits.steps.decide_trtc`, :func:`waits.steps.decide_zego` over a ``TrtcWaitSpec`` /
``ZegoWaitSpec`` built from the same options).

Where it looks:

* **TRTC** - the callback receiver's store. Each poll asks the receiver which tasks got callbacks
  since the last poll (``GET /trtc/<app>/tasks?since=``, signed with the callback key read from the
  connection) and evaluates those tasks from their stored callbacks. A waiting task is looked at
  again when its next callback arrives (completion is always a callback). The changes since the
  watermark (less a minute's overlap) are read page after page by the ``(changed_at, task_id)``
  cursor (``&after=<task id>``), so a burst of any size within one window is read to its end.
* **ZEGO** - DescribeTasks (ended tasks of the look-back window, at most ZEGO's 3-day query window)
  and DescribeRecordStatus for each ended task not emitted yet; both are paced at their documented
  10 calls/s by the hook. Or, with ``zego_source="callbacks"``, the receiver's stored ZEGO upload
  callbacks (event_type 1), read like TRTC's: no Describe call at all.

Resuming after a triggerer restart: the cursor (the receiver watermark and the recordings already
emitted) lives in the watched asset's state store (Airflow 3.3+), under a key derived from the
cloud, connection and application. A recording enters the cursor only ``commit_delay`` seconds
after its event was handed to the triggerer (which stores events in about a second), and the
watermark never moves past a recording not yet in the cursor. So a restart re-evaluates what was
not committed: no recording is lost; one is emitted twice only if the triggerer dies within
``commit_delay`` of storing its event (the consumers, e.g. ``CopyRecordingsOperator``, are
idempotent). Without a state store (older Airflow, or one trigger watching several assets) the
cursor is kept in memory and a warning says so.

Kwargs hold no secret: the callback key and cloud credentials are read from the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.triggers import BaseEventTrigger
from airflow.triggers.base import TriggerEvent

from airflow_provider_rtc.clock import current_clock
from airflow_provider_rtc.exceptions import (
    RtcAuthError,
    RtcError,
    RtcNotFoundError,
    RtcValidationError,
)
from airflow_provider_rtc.recordings.manifest import WaitVerdict
from airflow_provider_rtc.recordings.trtc import VOD_COMMIT_GRACE_SECONDS
from airflow_provider_rtc.triggers.base import serializable_hook_params
from airflow_provider_rtc.waits.spec import TrtcWaitSpec, WaitSpec, ZegoWaitSpec, grace_seconds

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

CLOUDS = ("trtc", "zego")
STATE_KEY_PREFIX = "rtc_recordings_uploaded"
#: re-read receiver changes this far before the watermark (clock steps, concurrent writers)
WATERMARK_OVERLAP = 60.0
#: changed tasks per receiver read; a poll reads page after page by the (changed_at, task_id)
#: cursor, so more changes than this within WATERMARK_OVERLAP never stall the watcher
RECEIVER_PAGE_SIZE = 500
#: stored-event reads in flight at once while a page of changed tasks is evaluated
EVENT_READS_AT_ONCE = 8
ZEGO_QUERY_WINDOW_HOURS = 72.0
ZEGO_PAGE_SIZE = 50
ZEGO_SOURCES = ("describe", "callbacks")


async def _store_get(store: Any, key: str) -> Any:
    """The asset state store's ``aget``, else its blocking ``get`` in a thread: the accessor of
    older task SDKs (1.3.x, shipped with Airflow 3.3.2) has only ``get``/``set``."""
    if hasattr(store, "aget"):
        return await store.aget(key, default=None)
    return await asyncio.to_thread(store.get, key, None)


async def _store_set(store: Any, key: str, value: Any) -> None:
    if hasattr(store, "aset"):
        await store.aset(key, value)
    else:
        await asyncio.to_thread(store.set, key, value)


def zego_task_list(data: dict[str, Any]) -> list[Any]:
    """DescribeTasks' task list. ZEGO's schema and examples name it ``TaskidList`` (docs_all
    extended_services/cloud_recording/{zh,en}/server/describe-tasks.yaml, ``RecordTaskListData``);
    an older field table said ``TaskList``, so that name is still read when ``TaskidList`` is absent."""
    listed = data.get("TaskidList")
    if listed is None:
        listed = data.get("TaskList")
    return listed if isinstance(listed, list) else []


def recording_key(cloud: str, app_id: Any, task_id: str) -> str:
    return f"{cloud}/{app_id}/{task_id}"


class RecordingUploadedEventTrigger(BaseEventTrigger):
    """Watch one connection's recordings; emit one event per recording whose files are uploaded.

    :param cloud: ``trtc`` or ``zego``.
    :param conn_id: the ``tencentcloud`` (TRTC) or ``zegocloud`` (ZEGO) connection; defaults to
        ``tencentcloud_default`` / ``zegocloud_default``.
    :param app_id: TRTC SDKAppID (default: the connection's ``sdk_app_id`` extra); ZEGO's AppId is
        the connection's.
    :param callback_receiver_url: TRTC only; default: the connection extra ``callback_receiver_url``.
    :param poll_interval: seconds between polls.
    :param lookback_hours: how far back the first poll looks (ZEGO: at most 72, its query window).
    :param storage: TRTC storage mode as for the sensor (``auto``, ``cos``, ``vod``).
    :param on_failed_file: / :param on_backup_file: the sensors' upload policy. A recording whose
        verdict is "failed" emits no event (it is logged); waiting ones are evaluated again.
    :param zego_source: ZEGO only: ``describe`` (DescribeTasks + DescribeRecordStatus) or
        ``callbacks`` (the receiver's stored upload callbacks, event_type 1; no Describe calls; needs
        the ``zegocloud`` connection extras ``callback_receiver_url`` and ``callback_secret``).
    :param commit_delay: seconds between handing an event to the triggerer and recording it in the
        cursor (see the module docstring).
    :param vod_commit_grace: TRTC VOD: seconds a recording whose 312 VOD_STOP arrived is held for a
        late-retried 311 VOD_COMMIT, as the sensor's (default 60; ``0`` emits at the 312). A held
        recording is looked at again when its window ends, without a new callback; it keeps the
        cursor's watermark behind it, so a restart re-reads it (and starts its window again).
    """

    def __init__(
        self,
        *,
        cloud: str,
        conn_id: str | None = None,
        app_id: int | None = None,
        callback_receiver_url: str | None = None,
        poll_interval: float = 30.0,
        lookback_hours: float = 24.0,
        storage: str = "auto",
        on_failed_file: str = "fail",
        on_backup_file: str | None = None,
        commit_delay: float = 10.0,
        zego_source: str = "describe",
        vod_commit_grace: float = VOD_COMMIT_GRACE_SECONDS,
        hook_params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        from airflow_provider_rtc import validation as v
        from airflow_provider_rtc.hooks.settings import check_hook_params
        from airflow_provider_rtc.waits.spec import TRTC_STORAGE_CHOICES

        if cloud not in CLOUDS:
            raise RtcValidationError("cloud", f"one of {CLOUDS}", cloud)
        # the kwargs are checked when the DAG is parsed: a typo never reaches the triggerer
        poll = v.number(poll_interval, "poll_interval", minimum=0, exclusive_minimum=True, maximum=86400)
        most = ZEGO_QUERY_WINDOW_HOURS if cloud == "zego" else 24 * 366
        lookback = v.number(lookback_hours, "lookback_hours", minimum=0, exclusive_minimum=True, maximum=most)
        commit = v.number(commit_delay, "commit_delay", minimum=0, maximum=3600)
        if conn_id not in (None, ""):
            v.conn_id(conn_id, "conn_id")
        if cloud == "trtc" and storage not in TRTC_STORAGE_CHOICES:
            raise RtcValidationError("storage", f"one of {TRTC_STORAGE_CHOICES}", storage)
        if callback_receiver_url not in (None, ""):
            v.receiver_url(callback_receiver_url)
        self.cloud = cloud
        self.conn_id = conn_id or ("tencentcloud_default" if cloud == "trtc" else "zegocloud_default")
        self.app_id = v.integer(app_id, "app_id", minimum=1, maximum=v.UINT32_MAX, optional=True)
        self.callback_receiver_url = callback_receiver_url
        self.poll_interval = float(poll or 0)
        self.lookback_hours = float(lookback or 0)
        self.storage = storage
        options: dict[str, Any] = {"on_failed_file": on_failed_file, "on_backup_file": on_backup_file}
        try:
            self.spec: WaitSpec = (
                TrtcWaitSpec.from_params(
                    storage=storage,
                    callback_receiver_url=callback_receiver_url,
                    vod_commit_grace=vod_commit_grace,
                    **options,
                )
                if cloud == "trtc"
                else ZegoWaitSpec.from_params(**options)
            )
        except RtcValidationError:
            raise  # already names its parameter
        except ValueError as err:
            raise RtcValidationError("on_backup_file", str(err)) from None
        if zego_source not in ZEGO_SOURCES:
            raise RtcValidationError("zego_source", f"one of {ZEGO_SOURCES}", zego_source)
        self.zego_source = zego_source
        self.vod_commit_grace = float(getattr(self.spec, "vod_commit_grace", grace_seconds(vod_commit_grace)))
        self.commit_delay = float(commit or 0)
        self.hook_params = serializable_hook_params(check_hook_params(hook_params))
        # the cursor: committed keys (and when), uncommitted (key -> (handed over at, changed at))
        self._emitted: dict[str, float] = {}
        self._uncommitted: dict[str, tuple[float, float]] = {}
        self._watermark = 0.0
        self._store_warned = False
        self._paging_warned = False
        #: ZEGO tasks whose verdict is final "failed": not asked about again by this process
        self._failed: set[str] = set()
        #: TRTC VOD recordings in their grace window: key -> (task id, first seen at, changed at)
        self._held: dict[str, tuple[str, float, float]] = {}

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "cloud": self.cloud,
                "conn_id": self.conn_id,
                "app_id": self.app_id,
                "callback_receiver_url": self.callback_receiver_url,
                "poll_interval": self.poll_interval,
                "lookback_hours": self.lookback_hours,
                "storage": self.storage,
                "on_failed_file": self.spec.policy.on_failed_file,
                "on_backup_file": self.spec.policy.on_backup_file,
                "commit_delay": self.commit_delay,
                "zego_source": self.zego_source,
                "vod_commit_grace": self.vod_commit_grace,
                "hook_params": dict(self.hook_params),
            },
        )

    # -- the cursor ------------------------------------------------------------------------------

    @property
    def state_key(self) -> str:
        identity = json.dumps([self.cloud, self.conn_id, self.app_id], separators=(",", ":"))
        return f"{STATE_KEY_PREFIX}:{hashlib.sha256(identity.encode()).hexdigest()[:24]}"

    def _store(self) -> Any:
        store = getattr(self, "asset_state_store", None)
        if store is None and not self._store_warned:
            self._store_warned = True
            log.warning(
                "no asset state store (Airflow < 3.3, or not run by an AssetWatcher): the cursor of "
                "emitted recordings is kept in memory and a triggerer restart re-emits recent ones"
            )
        return store

    async def load_cursor(self) -> None:
        store = self._store()
        if store is None:
            return
        try:
            value = await _store_get(store, self.state_key)
        except ValueError:  # several watched assets: no single accessor
            log.warning("the trigger watches several assets: the cursor is kept in memory")
            return
        if isinstance(value, dict):
            self._watermark = float(value.get("watermark") or 0.0)
            emitted = value.get("emitted") or {}
            self._emitted = {str(k): float(v) for k, v in emitted.items()}
            log.info(
                "resumed: %d recording(s) already emitted, watermark %s", len(self._emitted), self._watermark
            )

    async def save_cursor(self, now: float) -> None:
        """Commit what was handed over ``commit_delay`` ago; keep the watermark behind the rest."""
        for key, (handed_at, _) in list(self._uncommitted.items()):
            if now - handed_at >= self.commit_delay:
                self._emitted[key] = handed_at
                del self._uncommitted[key]
        horizon = now - 3600 * (self.lookback_hours + 24)
        self._emitted = {k: t for k, t in self._emitted.items() if t >= horizon}
        watermark = self._watermark
        behind = [changed for _, changed in self._uncommitted.values()]
        behind += [changed for _, _, changed in self._held.values()]  # re-read after a restart
        if behind:
            watermark = min(watermark, min(behind) - 1e-3)
        store = self._store()
        if store is None:
            return
        with contextlib.suppress(ValueError):
            await _store_set(
                store, self.state_key, {"version": 1, "watermark": watermark, "emitted": self._emitted}
            )

    def seen(self, key: str) -> bool:
        return key in self._emitted or key in self._uncommitted

    # -- run -------------------------------------------------------------------------------------

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow_provider_rtc.transport import shared_async_client

        await self.load_cursor()
        hook = self._hook()
        settings = await hook.asettings()
        async with shared_async_client(settings.timeout) as client:
            errors = 0
            while True:
                try:
                    async for payload in self.poll_once(client):
                        yield TriggerEvent(payload)
                    errors = 0
                except (RtcAuthError, RtcValidationError):
                    raise  # configuration: polling on cannot help
                except RtcError as err:  # throttles, transient faults, odd answers: a watcher lives on
                    errors += 1
                    log.warning("%s: %s (poll %d in a row with errors); polling on", self.what, err, errors)
                await self.save_cursor(time.time())
                await asyncio.sleep(self.poll_interval * min(2**errors, 8))

    @property
    def what(self) -> str:
        return f"{self.cloud.upper()} recordings of {self.conn_id}"

    def _hook(self) -> Any:
        if self.cloud == "trtc":
            from airflow_provider_rtc.hooks.trtc import TrtcHook

            return TrtcHook(self.conn_id, **self.hook_params)
        from airflow_provider_rtc.hooks.zego import ZegoCloudRecordHook

        return ZegoCloudRecordHook(self.conn_id, **self.hook_params)

    async def poll_once(self, client: httpx.AsyncClient) -> AsyncIterator[dict[str, Any]]:
        """One look at the cloud: the payload of every newly uploaded recording, each once."""
        use_receiver = self.cloud == "trtc" or self.zego_source == "callbacks"
        source = self._receiver_done if use_receiver else self._zego_done
        async for key, changed_at, verdict in source(client):
            assert verdict.manifest is not None
            self._uncommitted[key] = (time.time(), changed_at)
            manifest = verdict.manifest
            log.info("%s: %s", key, verdict.message)
            yield {
                "status": "done",
                "key": key,
                "cloud": self.cloud,
                "app_id": manifest.get("app_id"),
                "task_id": manifest.get("task_id"),
                "message": verdict.message,
                "manifest": manifest,
            }

    async def _receiver_done(
        self, client: httpx.AsyncClient
    ) -> AsyncIterator[tuple[str, float, WaitVerdict]]:
        """Tasks with new callbacks in the receiver, decided from their stored callbacks."""
        from airflow_provider_rtc.callbacks.client import atarget_for_connection

        hook = self._hook()
        settings = await hook.asettings()
        if self.cloud == "trtc":
            app_id = self.app_id or settings.sdk_app_id
            if not app_id:
                raise RtcValidationError("app_id", "give app_id= or set the connection extra sdk_app_id")
        else:
            app_id = settings.credentials.app_id
        conn_type = "tencentcloud" if self.cloud == "trtc" else "zegocloud"
        target = await atarget_for_connection(
            self.conn_id, url=self.callback_receiver_url, conn_type=conn_type
        )
        since = (
            self._watermark - WATERMARK_OVERLAP
            if self._watermark
            else time.time() - 3600 * self.lookback_hours
        )
        decided: set[str] = set()
        async for page in self._changed_pages(target, app_id, since, client):
            fresh = [
                (str(item["task_id"]), float(item.get("changed_at") or 0.0))
                for item in page
                if not self.seen(recording_key(self.cloud, app_id, str(item["task_id"])))
            ]
            read = await self._read_events(target, app_id, [task_id for task_id, _ in fresh], client)
            for (task_id, changed_at), events in zip(fresh, read, strict=True):
                key = recording_key(self.cloud, app_id, task_id)
                decided.add(key)
                verdict = self._decide_from_callbacks(events, app_id, task_id, changed_at)
                if verdict is not None and verdict.done:
                    yield key, changed_at, verdict
                elif verdict is not None and verdict.state == "failed":
                    log.warning("%s: not uploaded: %s", key, verdict.message)
            for item in page:
                self._watermark = max(self._watermark, float(item.get("changed_at") or 0.0))
        async for key, changed_at, verdict in self._held_done(target, app_id, decided, client):
            yield key, changed_at, verdict

    async def _held_done(
        self, target: Any, app_id: Any, decided: set[str], client: httpx.AsyncClient
    ) -> AsyncIterator[tuple[str, float, WaitVerdict]]:
        """TRTC VOD recordings whose grace window ended since: no callback may come to wake them."""
        now = current_clock().time()
        due = [
            (key, task_id, changed_at)
            for key, (task_id, seen_at, changed_at) in self._held.items()
            if key not in decided and now - seen_at >= self.vod_commit_grace
        ]
        read = await self._read_events(target, app_id, [task_id for _, task_id, _ in due], client)
        for (key, task_id, changed_at), events in zip(due, read, strict=True):
            verdict = self._decide_from_callbacks(events, app_id, task_id, changed_at)
            if verdict is not None and verdict.done:
                yield key, changed_at, verdict
            elif verdict is not None and verdict.state == "failed":
                log.warning("%s: not uploaded: %s", key, verdict.message)

    async def _changed_pages(
        self, target: Any, app_id: Any, since: float, client: httpx.AsyncClient
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Every page of tasks changed after ``since``, by the ``(changed_at, task_id)`` cursor.

        A receiver of an older provider version ignores ``after`` (it does not echo it): then the
        pages go on by ``changed_at`` alone, each starting just before the last page's latest change
        (so a task sharing that instant is not skipped), and stop if one instant fills a page.
        """
        from airflow_provider_rtc.callbacks.client import afetch_changed_page

        after: str | None = None
        legacy_last: float | None = None
        while True:
            page = await afetch_changed_page(
                target, self.cloud, app_id, since, client=client, limit=RECEIVER_PAGE_SIZE, after=after
            )
            if after is not None and not page.keyset:  # an older receiver: re-read from before `since`
                self._warn_legacy_receiver()
                legacy_last, after = since, None
                since = math.nextafter(since, -math.inf)
                continue
            yield page.tasks
            if len(page.tasks) < RECEIVER_PAGE_SIZE:
                return
            last = page.tasks[-1]
            changed = float(last.get("changed_at") or 0.0)
            if legacy_last is None:
                since, after = changed, str(last["task_id"])
            elif changed > legacy_last:
                legacy_last, since = changed, math.nextafter(changed, -math.inf)
            else:
                log.warning(
                    "%s: more than %d tasks changed at one instant and the receiver cannot page "
                    "through them; upgrade the receiver",
                    self.what,
                    RECEIVER_PAGE_SIZE,
                )
                return

    def _warn_legacy_receiver(self) -> None:
        if not self._paging_warned:
            self._paging_warned = True
            log.warning(
                "%s: the receiver ignores the 'after' cursor (an older provider version); paging by "
                "change time only. Upgrade the receiver",
                self.what,
            )

    async def _read_events(
        self, target: Any, app_id: Any, task_ids: list[str], client: httpx.AsyncClient
    ) -> list[list[dict[str, Any]]]:
        """The stored events of each task, :data:`EVENT_READS_AT_ONCE` reads in flight at most."""
        from airflow_provider_rtc.callbacks.client import afetch_events

        read: list[list[dict[str, Any]]] = []
        for start in range(0, len(task_ids), EVENT_READS_AT_ONCE):
            chunk = task_ids[start : start + EVENT_READS_AT_ONCE]
            read += await asyncio.gather(
                *(afetch_events(target, self.cloud, app_id, task_id, client=client) for task_id in chunk)
            )
        return read

    def _decide_from_callbacks(
        self, events: list[dict[str, Any]], app_id: Any, task_id: str, changed_at: float = 0.0
    ) -> WaitVerdict | None:
        """The sensors' decision over one task's stored callbacks (``None``: no ZEGO upload callback
        yet). A TRTC VOD completion is held as the sensors hold it, its window on this watcher's
        clock from the poll that first saw the 312 (:attr:`_held`)."""
        from airflow_provider_rtc.waits import steps

        if self.cloud == "trtc":
            from airflow_provider_rtc.recordings import trtc
            from airflow_provider_rtc.recordings.trtc import TrtcObservation

            spec: TrtcWaitSpec = self.spec  # type: ignore[assignment]
            obs = TrtcObservation(None, [], events, task_id=task_id, app_id=app_id)
            key = recording_key(self.cloud, app_id, task_id)
            if not steps.needs_clock(spec, obs):
                self._held.pop(key, None)
                return steps.decide_trtc(spec, obs)
            now = current_clock().time()
            _, seen_at, held_changed = self._held.get(key, (task_id, now, changed_at))
            verdict = steps.decide_trtc(spec, obs, vod_stop_seen_at=seen_at, now=now)
            if trtc.held_for_late_commits(verdict):  # woken by its window's end, not a callback
                self._held[key] = (task_id, seen_at, min(held_changed, changed_at or held_changed))
            else:  # final, or waiting for a callback that will wake it
                self._held.pop(key, None)
            return verdict
        for event in reversed(events):  # the latest "files uploaded" callback (event_type 1)
            zego_obs = steps.zego_observation_from_callback(event, app_id=app_id)
            if zego_obs is not None:
                return steps.decide_zego(self.spec, zego_obs)  # type: ignore[arg-type]
        return None

    async def _zego_done(self, client: httpx.AsyncClient) -> AsyncIterator[tuple[str, float, WaitVerdict]]:
        from airflow_provider_rtc.waits.steps import ZegoObservation, decide_zego

        hook = self._hook()
        app_id = (await hook.asettings()).credentials.app_id
        now_ms = int(time.time() * 1000)
        hours = min(self.lookback_hours, ZEGO_QUERY_WINDOW_HOURS)
        start_ms = now_ms - int(hours * 3600 * 1000) + 60_000  # a minute inside ZEGO's window
        page = 1
        while True:
            reply = await hook.adescribe_tasks(
                3, start_ms, now_ms, page_offset=page, page_size=ZEGO_PAGE_SIZE, client=client
            )
            data = reply.get("Data") or {}
            listed = [t for t in zego_task_list(data) if isinstance(t, dict) and t.get("TaskId")]
            for item in listed:
                task_id = str(item["TaskId"])
                key = recording_key("zego", app_id, task_id)
                if self.seen(key) or key in self._failed:
                    continue
                try:
                    envelope = await hook.adescribe_record_status(task_id, client=client)
                except RtcNotFoundError:
                    envelope = None  # 300001000: out of the query window (decided as not uploaded)
                obs = ZegoObservation(task_id, app_id, envelope)
                verdict = decide_zego(self.spec, obs)  # type: ignore[arg-type]
                if verdict.done:
                    yield key, time.time(), verdict
                elif verdict.state == "failed":
                    self._failed.add(key)
                    log.warning("%s: not uploaded: %s", key, verdict.message)
            total = int(data.get("TotalCount") or 0)
            if not listed or page * ZEGO_PAGE_SIZE >= total:
                return
            page += 1


__all__ = ["RecordingUploadedEventTrigger", "recording_key"]
