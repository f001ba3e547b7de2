"""The decision of every wait, without I/O: a pure step per cloud and the check that feeds it.

``*_step(spec, observation, state) -> (state, verdict)`` is the whole decision: what was seen
(an observation of one task, which names its task and application) and what earlier checks
remembered (``state``, JSON primitives) give the new state and a
:class:`~airflow_provider_rtc.recordings.manifest.WaitVerdict`. ``decide_*(spec, observation)`` is the
same decision for one observation alone, for a watcher that sees many tasks at once.

``*_check(spec, task_id, state)`` is a generator that says which calls a check needs: it yields
:class:`Call` requests, receives each answer (or has the call's exception thrown in) and returns
``(state, verdict)``. The sync and async drivers in :mod:`~airflow_provider_rtc.waits.loop` perform
the calls, so poke, reschedule, the blocking operator wait and the trigger run the same code.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, replace
from typing import Any

from airflow_provider_rtc.errors import RtcNotFoundError
from airflow_provider_rtc.recordings import trtc, zego
from airflow_provider_rtc.recordings.manifest import WaitVerdict
from airflow_provider_rtc.recordings.playlists import playlists_to_check
from airflow_provider_rtc.waits.spec import TrtcWaitSpec, ZegoWaitSpec

# -- the calls a check can ask for ---------------------------------------------------------------
APP_ID = "app_id"  # the application id of the connection (TRTC SDKAppID, ZEGO AppId)
RECEIVER = "receiver"  # resolve the callback receiver's URL and key (fails early when missing)
NOTE = "note"  # log a line at INFO: something changed that the verdict does not say
NOW = "now"  # the wait's own clock, epoch seconds (asked only when a VOD grace window is measured)
DESCRIBE_CLOUD_RECORDING = "describe_cloud_recording"
READ_CALLBACKS = "read_callbacks"
CHECK_PLAYLISTS = "check_playlists"
DESCRIBE_RECORD_STATUS = "describe_record_status"
GET_MIX_TASK_INFO = "get_mix_task_info"


@dataclass(frozen=True)
class Call:
    """One I/O request of a check; the driver performs it and sends back the answer."""

    name: str
    args: tuple[Any, ...] = ()


Check = Generator[Call, Any, tuple[dict[str, Any], WaitVerdict]]


# -- TRTC ------------------------------------------------------------------------------------------


VOD_STOP_SEEN_AT = "vod_stop_seen_at"


def trtc_state(state: dict[str, Any] | None) -> dict[str, Any]:
    """What a TRTC wait remembers: the index files seen while the task lived, whether it is gone,
    and (once seen) when the wait first saw the 312 VOD_STOP on its own clock: a restored trigger or
    a rescheduled sensor resumes the same grace window instead of starting a new one."""
    state = state or {}
    remembered: dict[str, Any] = {
        "storage_files": trtc.merge_storage_files([], state.get("storage_files")),
        "task_gone": bool(state.get("task_gone")),
    }
    seen_at = state.get(VOD_STOP_SEEN_AT)
    if isinstance(seen_at, int | float) and not isinstance(seen_at, bool):
        remembered[VOD_STOP_SEEN_AT] = float(seen_at)
    return remembered


def needs_clock(spec: TrtcWaitSpec, obs: trtc.TrtcObservation) -> bool:
    """Whether deciding ``obs`` reads the wait's clock: a 312 is stored and the grace is on."""
    return spec.vod_commit_grace > 0 and obs.task_status is None and trtc.has_vod_stop(obs)


def decide_trtc(
    spec: TrtcWaitSpec,
    obs: trtc.TrtcObservation,
    *,
    vod_stop_seen_at: float | None = None,
    now: float | None = None,
) -> WaitVerdict:
    """Is this TRTC recording uploaded (and its manifest), from one observation of it.

    A VOD completion is held for ``spec.vod_commit_grace`` seconds after ``vod_stop_seen_at`` (when
    the wait first saw the 312, on the clock ``now`` is read from): a late-retried 311 may still
    come (:func:`~airflow_provider_rtc.recordings.trtc.hold_for_late_commits`). Without those times
    a VOD completion waits: the window has not been measured.
    """
    verdict = trtc.evaluate_recording(
        obs,  # it says which task and app it is
        storage=spec.storage,
        wait_for_mp4=spec.wait_for_mp4,
        policy=spec.policy,
        file_url_template=spec.file_url_template,
    )
    return trtc.hold_for_late_commits(verdict, grace=spec.vod_commit_grace, seen_at=vod_stop_seen_at, now=now)


def trtc_step(
    spec: TrtcWaitSpec,
    obs: trtc.TrtcObservation,
    state: dict[str, Any] | None,
    now: float | None = None,
) -> tuple[dict[str, Any], WaitVerdict]:
    """``now`` is the wait's clock (epoch seconds), needed once a 312 is stored (:func:`needs_clock`)."""
    before = trtc_state(state)
    files = trtc.merge_storage_files(before["storage_files"], obs.storage_files)
    after = {"storage_files": files, "task_gone": before["task_gone"] or obs.task_status is None}
    seen_at = before.get(VOD_STOP_SEEN_AT)
    if seen_at is None and now is not None and needs_clock(spec, obs):
        seen_at = now  # the window starts when this wait first sees the 312
    if seen_at is not None:
        after[VOD_STOP_SEEN_AT] = seen_at
    obs = replace(obs, storage_files=files)
    return after, decide_trtc(spec, obs, vod_stop_seen_at=seen_at, now=now)


def trtc_check(spec: TrtcWaitSpec, task_id: str, state: dict[str, Any] | None) -> Check:
    """DescribeCloudRecording while the task lives, then its stored callbacks (and playlists)."""
    yield Call(RECEIVER)  # a missing receiver setting fails at the first check, not hours later
    app_id = yield Call(APP_ID)
    state = trtc_state(state)
    if not state["task_gone"]:
        try:
            response = yield Call(DESCRIBE_CLOUD_RECORDING, (task_id,))
        except RtcNotFoundError as err:
            yield Call(NOTE, (f"TRTC recording {task_id} is gone ({err.code}); reading its callbacks",))
            state = {**state, "task_gone": True}
        else:
            alive = trtc.TrtcObservation(
                str(response.get("Status") or "Idle"),
                trtc.merge_storage_files([], response.get("StorageFileList")),
                task_id=task_id,
                app_id=app_id,
            )
            return trtc_step(spec, alive, state)
    events = yield Call(READ_CALLBACKS, ("trtc", app_id, task_id))
    obs = trtc.TrtcObservation(None, state["storage_files"], events, task_id=task_id, app_id=app_id)
    now = (yield Call(NOW)) if needs_clock(spec, obs) else None
    state, verdict = trtc_step(spec, obs, state, now)
    if spec.check_playlists:
        urls = playlists_to_check(
            obs,
            verdict,
            app_id=app_id,
            task_id=task_id,
            storage=spec.storage,
            file_url_template=spec.file_url_template,
        )
        if urls:
            obs = replace(obs, playlists=(yield Call(CHECK_PLAYLISTS, (urls,))))
            state, verdict = trtc_step(spec, obs, state, now)
    return state, verdict


def trtc_observations(
    events: list[dict[str, Any]],
    *,
    app_id: int | None,
    storage_files: dict[str, list[dict[str, Any]]] | None = None,
) -> list[trtc.TrtcObservation]:
    """Stored callbacks of many tasks (one receiver read) as one observation per gone task."""
    by_task: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        task_id = str(event.get("task_id") or trtc.event_info(event.get("body") or {}).get("TaskId") or "")
        if task_id:
            by_task.setdefault(task_id, []).append(event)
    known = storage_files or {}
    return [
        trtc.TrtcObservation(None, known.get(task_id, []), task_events, task_id=task_id, app_id=app_id)
        for task_id, task_events in sorted(by_task.items())
    ]


# -- ZEGO recordings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZegoObservation:
    """One DescribeRecordStatus answer for one task; ``envelope=None`` means 300001000 (not found)."""

    task_id: str
    app_id: int | None
    envelope: dict[str, Any] | None


def zego_observation_from_callback(event: dict[str, Any], *, app_id: int | None) -> ZegoObservation | None:
    """A stored ZEGO upload callback (the receiver's event dict) as an observation of its task."""
    stored = event.get("body")
    body: dict[str, Any] = stored if isinstance(stored, dict) else event
    envelope = zego.record_status_from_callback(body)
    task_id = str(event.get("task_id") or body.get("task_id") or "")
    return ZegoObservation(task_id, app_id, envelope) if envelope is not None and task_id else None


def decide_zego(
    spec: ZegoWaitSpec, obs: ZegoObservation, last_seen: dict[str, Any] | None = None
) -> WaitVerdict:
    if obs.envelope is None:
        return zego.not_queryable(obs.task_id, last_seen)
    return zego.evaluate_record_status(
        obs.envelope, app_id=obs.app_id, task_id=obs.task_id, policy=spec.policy
    )


def zego_step(
    spec: ZegoWaitSpec, obs: ZegoObservation, state: dict[str, Any] | None
) -> tuple[dict[str, Any], WaitVerdict]:
    last_seen = (state or {}).get("last_seen") or None
    verdict = decide_zego(spec, obs, last_seen)
    seen = zego.seen_summary(obs.envelope) if obs.envelope is not None else last_seen
    return {"last_seen": seen}, verdict


def zego_check(spec: ZegoWaitSpec, task_id: str, state: dict[str, Any] | None) -> Check:
    app_id = yield Call(APP_ID)
    try:
        envelope = yield Call(DESCRIBE_RECORD_STATUS, (task_id,))
    except RtcNotFoundError:
        envelope = None
    return zego_step(spec, ZegoObservation(task_id, app_id, envelope), state)


# -- ZEGO stream-mixing tasks -----------------------------------------------------------------------


def decide_mix(envelope: dict[str, Any] | None, *, app_id: int | None, task_id: str) -> WaitVerdict:
    """``None`` means GetMixTaskInfo answered 110209001 (gone); an envelope means it still runs."""
    where = f"ZEGO mix task {task_id}"
    if envelope is None:
        result = {"cloud": zego.CLOUD, "app_id": app_id, "mix_task_id": task_id, "status": "gone"}
        return WaitVerdict("done", f"{where} is gone (GetMixTaskInfo answered 110209001)", manifest=result)
    info = zego.record_data(envelope).get("TaskInfo") or {}
    duration = info.get("MixDuration") if isinstance(info, dict) else None
    running = f"still running ({duration} s mixed so far)" if duration is not None else "still running"
    return WaitVerdict("waiting", f"{where} is {running}", waiting_for=[f"mix task {task_id} to stop"])


def mix_check(task_id: str, state: dict[str, Any] | None) -> Check:
    try:
        envelope = yield Call(GET_MIX_TASK_INFO, (task_id,))
    except RtcNotFoundError:
        envelope = None
    app_id = yield Call(APP_ID)
    return {}, decide_mix(envelope, app_id=app_id, task_id=task_id)
