"""Tencent TRTC: when is a cloud recording really uploaded.

TRTC has no API that says "the files are uploaded". DescribeCloudRecording answers only while the
task lives (``Idle``, ``InProgress``, ``Exited``) and errors once it is gone; upload completion is
reported only by the recording callbacks (EventGroupId 3), which the provider's callback receiver
(:mod:`airflow_provider_rtc.callbacks`) stores. So a recording is **complete** only when:

1. DescribeCloudRecording no longer finds the task (while it answers ``Idle``, ``InProgress`` or
   ``Exited`` the recorder may still be writing: never complete), and
2. the callbacks of the storage mode say every file is uploaded:

   * **COS / third-party storage** (``storage="cos"``): a ``305`` UPLOAD_STOP with Status 0 ("all
     files uploaded to the specified storage") or Status 2 ("files left on the server or backup
     storage have now been restored and uploaded"). 305 covers the HLS files (the ``.m3u8`` index
     files DescribeCloudRecording listed in ``StorageFileList`` and their segments). MP4 files each
     get a ``310`` MP4_STOP: with ``wait_for_mp4=True`` (set it when ``OutputFormat`` includes mp4)
     at least one 310 must have arrived and every index file ``<stem>.m3u8`` must have a 310 for an
     ``<stem>_<n>.mp4``; the same per-index-file rule applies without the flag as soon as any 310
     has arrived (the recording evidently makes MP4s). A 305/310 with Status 1 means a file is
     stuck on Tencent's server or backup storage: under ``on_backup_file="wait"`` (the TRTC
     default) the sensor waits for the 305 Status 2 that reports the recovery. Status 2 on a 310
     is a failed file.
   * **VOD** (``storage="vod"``): a ``312`` VOD_STOP with Status 0 (the VOD upload task exited
     normally), after one ``311`` VOD_COMMIT per file with Status 0. 311 Status 1 means the file
     is still on Tencent's server or backup storage (waited for under ``"wait"``: a later 311
     Status 0 for the same file replaces it in the store), Status 2 a failed file; 312 Status 1
     means the VOD upload task exited abnormally (a failure). Tencent notes that a file may take
     another 30 s to 3 min to be fully processed by VOD after its 311.
   * ``storage="auto"`` (default) picks the mode from the callbacks that arrived (311/312 mean
     VOD; 303/304/305/307/310 mean COS) and waits for either completion event until one arrives.

**Late 311s after the 312.** TRTC retries a callback the receiver did not answer: "No response
within 5 s counts as a failure. The first failure is retried immediately. Later retries come every
10 s until the message is 1 minute old, then stop" (trtc.io/document/54914, TRTC recording callbacks,
"Retries"). Each callback is retried on its own, so a 311 whose first delivery failed (the receiver
restarting, the network) can reach the receiver *after* the 312 that followed it; and
DescribeCloudRecording lists no ``StorageFileList`` for VOD (Go SDK comment on StorageFileList), so
nothing else tells that a user's file is missing. The waits therefore hold a VOD completion for a
grace window (:func:`hold_for_late_commits`, ``vod_commit_grace``, default
:data:`VOD_COMMIT_GRACE_SECONDS`) measured on the wait's own clock from when it first saw the 312.
UNCONFIRMED: Tencent does not say that a file's 311 is first sent before the task's 312 (312 means
"the VOD upload task exited", which follows the commits); we assume it is. Then the 311's last retry
starts at most a minute after its first try, which came before the 312's first try, which came
before the wait first saw the 312: a window of 60 s from that sighting covers it, and the poll that
ends the window adds a margin. Never from the callback's ``EventTime``: another machine's clock must
not shorten a wait. ``vod_commit_grace=0`` completes at the 312 (the old behaviour, accepting the
risk).

A callback that arrives late is simply waited for. A callback that never arrives (the receiver was
down for more than TRTC's one-minute retry window) makes the sensor time out with a message naming
the missing events. Optionally (``check_playlists`` with ``file_url_template``) the wait checks COS
storage itself: HLS is also complete when every known ``.m3u8`` is reachable there and ends with
``#EXT-X-ENDLIST`` (:mod:`~airflow_provider_rtc.recordings.playlists`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from airflow_provider_rtc.recordings.manifest import (
    UploadPolicy,
    WaitVerdict,
    build_manifest,
    describe_files,
    file_entry,
    file_extension,
)
from airflow_provider_rtc.validation import lenient_int

CLOUD = "trtc"
ALIVE_STATUSES = ("Idle", "InProgress", "Exited")

EVENT_NAMES = {
    301: "RECORDER_START",
    302: "RECORDER_STOP",
    303: "UPLOAD_START",
    304: "FILE_INFO",
    305: "UPLOAD_STOP",
    306: "FAILOVER",
    307: "FILE_SLICE",
    308: "UPLOAD_ERROR",
    309: "DOWNLOAD_IMAGE_ERROR",
    310: "MP4_STOP",
    311: "VOD_COMMIT",
    312: "VOD_STOP",
}
#: How long a VOD completion is held after the wait first saw the 312: TRTC's callback retry window
#: ("retries every 10 s until the message is 1 minute old", trtc.io/document/54914).
VOD_COMMIT_GRACE_SECONDS = 60.0
#: how a verdict held by :func:`hold_for_late_commits` names what it waits for
LATE_COMMITS = "late 311 VOD_COMMIT retries"
COS_EVENTS = frozenset({303, 304, 305, 307, 310})
VOD_EVENTS = frozenset({311, 312})


# -- reading one callback body (shared with the receiver's store) -------------------------------


_int = lenient_int  # the package's one integer parser, lenient for cloud data


def event_info(body: dict[str, Any]) -> dict[str, Any]:
    info = body.get("EventInfo") if isinstance(body, dict) else None
    return info if isinstance(info, dict) else {}


def event_payload(body: dict[str, Any]) -> dict[str, Any]:
    payload = event_info(body).get("Payload")
    return payload if isinstance(payload, dict) else {}


def event_type(body: dict[str, Any]) -> int | None:
    return _int(body.get("EventType")) if isinstance(body, dict) else None


def event_status(body: dict[str, Any]) -> int | None:
    """``Payload.Status``; 305 is documented with ``LeaveCode`` on one page and ``Status`` on another."""
    payload = event_payload(body)
    status = _int(payload.get("Status"))
    if status is None and event_type(body) == 305:
        status = _int(payload.get("LeaveCode"))
    return status


def event_time_ms(body: dict[str, Any]) -> int:
    """When the event happened (``EventMsTs``, else ``EventTs``, else ``CallbackTs``), epoch ms."""
    info = event_info(body)
    ms = _int(info.get("EventMsTs"))
    if ms is None:
        seconds = _int(info.get("EventTs"))
        ms = seconds * 1000 if seconds is not None else None
    if ms is None:
        ms = _int(body.get("CallbackTs") if isinstance(body, dict) else None)
    return ms or 0


def _vod_key(vod: dict[str, Any]) -> str:
    return "|".join(str(vod.get(k) or "") for k in ("UserId", "TrackType", "MediaId", "StartTimeStamp"))


def _mp4_names(payload: dict[str, Any]) -> list[str]:
    names = [
        str(m.get("FileName"))
        for m in payload.get("FileMessage") or []
        if isinstance(m, dict) and m.get("FileName")
    ]
    if not names:
        names = [str(n) for n in payload.get("FileList") or [] if n]
    return names


def event_file_key(body: dict[str, Any]) -> str:
    """Which file an event is about: the idempotency key is (TaskId, EventType, this).

    310 names its MP4 file(s); 311 identifies the recorded stream (UserId, TrackType, MediaId,
    StartTimeStamp) so a later 311 for a file that was stuck replaces the earlier one; 307/304 name
    the index file. Task-level events (301-303, 305, 306, 308, 309, 312) use ``""``: a later 305
    Status 2 replaces the 305 Status 1 it recovers.
    """
    etype = event_type(body)
    payload = event_payload(body)
    if etype == 310:
        return ",".join(sorted(_mp4_names(payload)))
    if etype == 311:
        vod = payload.get("TencentVod")
        return _vod_key(vod) if isinstance(vod, dict) else ""
    if etype == 307:
        return str(payload.get("FileName") or "")
    if etype == 304:
        value = payload.get("FileList")
        return ",".join(map(str, value)) if isinstance(value, list) else str(value or "")
    return ""


# -- the observation and its evaluation ---------------------------------------------------------


@dataclass
class TrtcObservation:
    """What a poll saw of one task: its status (``None`` once it is gone), index files, callbacks.

    ``events`` are the receiver's stored events (``{"event_type", "body", ...}``), ``None`` when they
    were not read (the task still lives). ``playlists`` maps an index file name to whether its
    playlist in storage ends with ``#EXT-X-ENDLIST`` (only with ``check_playlists``). ``task_id`` and
    ``app_id`` say which task it is, so one watcher can decide for many tasks.
    """

    task_status: str | None
    storage_files: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] | None = None
    playlists: dict[str, bool] | None = None
    task_id: str = ""
    app_id: int | None = None


def merge_storage_files(known: list[dict[str, Any]], new: Any) -> list[dict[str, Any]]:
    """Add ``StorageFileList`` entries not seen yet (by FileName), keeping JSON primitives only."""
    merged = list(known)
    names = {f.get("FileName") for f in merged}
    for entry in new or []:
        if not isinstance(entry, dict) or not entry.get("FileName") or entry["FileName"] in names:
            continue
        names.add(entry["FileName"])
        merged.append(
            {
                "FileName": str(entry["FileName"]),
                "UserId": None if entry.get("UserId") is None else str(entry["UserId"]),
                "TrackType": None if entry.get("TrackType") is None else str(entry["TrackType"]),
                "BeginTimeStamp": _int(entry.get("BeginTimeStamp")),
            }
        )
    return merged


def file_url(template: str | None, *, task_id: str, app_id: int | None, name: str) -> str | None:
    if not template:
        return None
    return template.format(task_id=task_id, sdk_app_id=app_id or "", file_name=name)


def index_files(obs: TrtcObservation, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The HLS index files: StorageFileList, plus 307 FILE_SLICE and 304 FILE_INFO callbacks."""
    files = merge_storage_files([], obs.storage_files)
    extra: list[dict[str, Any]] = []
    for body in bodies:
        etype, payload = event_type(body), event_payload(body)
        if etype == 307 and payload.get("FileName"):
            extra.append(
                {
                    "FileName": payload["FileName"],
                    "UserId": payload.get("UserId"),
                    "TrackType": payload.get("TrackType"),
                    "BeginTimeStamp": payload.get("BeginTimeStamp"),
                }
            )
        elif etype == 304:
            value = payload.get("FileList")
            for name in value if isinstance(value, list) else [value]:
                if name and str(name).endswith(".m3u8"):
                    extra.append({"FileName": str(name)})
    return merge_storage_files(files, extra)


def bodies_of(obs: TrtcObservation) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    for event in obs.events or []:
        body = event.get("body") if isinstance(event, dict) else None
        if isinstance(body, dict):
            bodies.append(body)
    return bodies


def _vod_of(body: dict[str, Any]) -> dict[str, Any]:
    vod = event_payload(body).get("TencentVod")
    return vod if isinstance(vod, dict) else {}


def latest(bodies: list[dict[str, Any]], etype: int) -> dict[str, Any] | None:
    matching = [b for b in bodies if event_type(b) == etype]
    return max(matching, key=event_time_ms) if matching else None


def _room_id(bodies: list[dict[str, Any]]) -> Any:
    for body in bodies:
        room = event_info(body).get("RoomId")
        if room not in (None, ""):
            return room
    return None


def pick_mode(storage: str, bodies: list[dict[str, Any]]) -> str | None:
    if storage in ("cos", "vod"):
        return storage
    types = {event_type(b) for b in bodies}
    if types & VOD_EVENTS:
        return "vod"
    if types & COS_EVENTS:
        return "cos"
    return None


def evaluate_recording(
    obs: TrtcObservation,
    *,
    app_id: int | None = None,
    task_id: str | None = None,
    storage: str = "auto",
    wait_for_mp4: bool = False,
    policy: UploadPolicy | None = None,
    file_url_template: str | None = None,
) -> WaitVerdict:
    """Decide from one observation: waiting (and for which events), done (with manifest) or failed.

    ``app_id`` and ``task_id`` default to the observation's own (which task it is)."""
    app_id = obs.app_id if app_id is None else app_id
    task_id = obs.task_id if task_id is None else task_id
    policy = policy or UploadPolicy(on_backup_file="wait")
    where = f"TRTC recording {task_id}"
    if obs.task_status is not None:
        status = obs.task_status
        hint = {
            "Idle": "the recorder has not started or no anchor is in the room",
            "InProgress": "it is still recording",
            "Exited": "the recorder is leaving the room",
        }.get(status, "DescribeCloudRecording still answers")
        waiting = [f"the task to end (DescribeCloudRecording says {status}: {hint})"]
        return WaitVerdict("waiting", f"{where}: waiting for " + waiting[0], waiting_for=waiting)

    bodies = bodies_of(obs)
    mode = pick_mode(storage, bodies)
    if mode is None and obs.playlists and all(obs.playlists.values()):
        mode = "cos"  # only COS storage has playlists to read
    warnings = _notes(bodies)
    if mode is None:
        waiting = [
            "a completion callback: 305 UPLOAD_STOP (COS/third-party storage) or 312 VOD_STOP (VOD); "
            + _received_so_far(bodies)
        ]
        return WaitVerdict("waiting", f"{where} is gone; waiting for " + waiting[0], waiting_for=waiting)
    if mode == "cos":
        return _evaluate_cos(
            obs, bodies, where, app_id, task_id, wait_for_mp4, policy, file_url_template, warnings
        )
    return _evaluate_vod(obs, bodies, where, app_id, task_id, policy, warnings)


def has_vod_stop(obs: TrtcObservation) -> bool:
    """A 312 VOD_STOP is among the task's stored callbacks (the grace window starts when a wait
    first sees one)."""
    return any(event_type(body) == 312 for body in bodies_of(obs))


def hold_for_late_commits(
    verdict: WaitVerdict, *, grace: float, seen_at: float | None, now: float | None
) -> WaitVerdict:
    """Keep a VOD "done" waiting until ``grace`` seconds after the wait first saw the 312.

    ``seen_at`` and ``now`` are the wait's own clock (epoch seconds), never a callback's time; when
    either is unknown the window has not been measured yet, so the verdict waits. Only a VOD "done"
    is held: a failure or a wait stands, and COS completion is unchanged (see the module docstring).
    """
    manifest = verdict.manifest
    if grace <= 0 or not verdict.done or not manifest or manifest.get("storage") != "vod":
        return verdict
    if seen_at is not None and now is not None and now - seen_at >= grace:
        return verdict
    start = seen_at if seen_at is not None else now
    when = (
        datetime.fromtimestamp(start + grace, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if start is not None
        else f"{grace:g} s after the 312 is first seen"
    )
    awaited = (
        f"{LATE_COMMITS} until {when} (312 VOD_STOP arrived with "
        f"{len(manifest['files'])} file(s) committed; TRTC retries an unanswered 311 for about a "
        "minute, so one may still come; vod_commit_grace)"
    )
    where = f"TRTC recording {manifest.get('task_id')}"
    return WaitVerdict("waiting", f"{where}: waiting for {awaited}", waiting_for=[awaited])


def held_for_late_commits(verdict: WaitVerdict) -> bool:
    """The verdict is a VOD completion held by :func:`hold_for_late_commits` (nothing else missing)."""
    first = verdict.waiting_for[0] if verdict.waiting_for else ""
    return verdict.state == "waiting" and first.startswith(LATE_COMMITS)


def _received_so_far(bodies: list[dict[str, Any]]) -> str:
    """What the receiver holds for the task, truthfully: none yet, or which events (none final)."""
    if not bodies:
        return "no recording callback for this task has reached the receiver yet"
    names = sorted({f"{t} {EVENT_NAMES.get(t, 'event')}" for t in map(event_type, bodies) if t is not None})
    return (
        f"{len(bodies)} callback(s) for this task are stored ({', '.join(names) or 'unknown types'}), "
        "none of which tells the storage mode or the end of the upload yet"
    )


def _notes(bodies: list[dict[str, Any]]) -> list[str]:
    notes = []
    for body in bodies:
        etype, payload = event_type(body), event_payload(body)
        if etype == 301 and event_status(body) == 1:
            notes.append("the recorder failed to start (301 Status 1)")
        elif etype == 308:
            notes.append(
                f"the storage reported an upload error (308 UPLOAD_ERROR {payload.get('Code')}: "
                f"{payload.get('Message')})"
            )
        elif etype == 309:
            notes.append(f"an image could not be downloaded (309 DOWNLOAD_IMAGE_ERROR {payload.get('Url')})")
    return notes


def _evaluate_cos(
    obs: TrtcObservation,
    bodies: list[dict[str, Any]],
    where: str,
    app_id: int | None,
    task_id: str,
    wait_for_mp4: bool,
    policy: UploadPolicy,
    url_template: str | None,
    warnings: list[str],
) -> WaitVerdict:
    upload_stop = latest(bodies, 305)
    hls_status = event_status(upload_stop) if upload_stop else None
    restored = hls_status == 2
    hls_done_by_storage = bool(obs.playlists) and all((obs.playlists or {}).values())

    mp4_files: list[dict[str, Any]] = []
    for body in bodies:
        if event_type(body) != 310:
            continue
        status = event_status(body)
        payload = event_payload(body)
        messages = {
            str(m.get("FileName")): m for m in payload.get("FileMessage") or [] if isinstance(m, dict)
        }
        for name in _mp4_names(payload):
            meta = messages.get(name, {})
            if status == 0 or (status == 1 and restored):
                fstatus = "uploaded"
            elif status == 1:
                fstatus = "backup"
            else:
                fstatus = "failed"
            start, end = _int(meta.get("StartTimeStamp")), _int(meta.get("EndTimeStamp"))
            mp4_files.append(
                file_entry(
                    name=name,
                    status=fstatus,  # type: ignore[arg-type]
                    url=file_url(url_template, task_id=task_id, app_id=app_id, name=name),
                    duration_ms=end - start if start is not None and end is not None else None,
                    track_type=meta.get("TrackType"),
                    user_id=meta.get("UserId"),
                    format=file_extension(name),
                    begin_ms=start,
                )
            )

    failed = [f for f in mp4_files if f["status"] == "failed"]
    refused = _failed_files(
        where, failed, policy, "MP4 file(s) failed (310 MP4_STOP Status 2, abnormal exit)"
    )
    if refused is not None:
        return refused

    waiting: list[str] = []
    hls_stuck = False
    if upload_stop is None and not hls_done_by_storage:
        waiting.append("305 UPLOAD_STOP (all HLS files uploaded to your storage)")
    elif hls_status == 1 and not hls_done_by_storage:
        hls_stuck = True
    elif upload_stop is not None and hls_status not in (0, 1, 2):
        waiting.append(f"305 UPLOAD_STOP with a known Status (got {hls_status!r})")

    stuck_mp4 = [f for f in mp4_files if f["status"] == "backup"]
    if hls_stuck or stuck_mp4:
        what = []
        if hls_stuck:
            what.append("HLS files (305 UPLOAD_STOP Status 1)")
        if stuck_mp4:
            what.append(f"MP4 file(s) {describe_files(stuck_mp4)} (310 MP4_STOP Status 1)")
        stuck_text = " and ".join(what) + " are still on Tencent's server or backup storage"
        refused = _backup_files(
            where, stuck_text, policy, "305 UPLOAD_STOP Status 2 (recovery)", waiting, warnings
        )
        if refused is not None:
            return refused

    index = index_files(obs, bodies)
    # MP4s are expected when asked for, and as soon as one 310 shows the recording makes them
    if wait_for_mp4 or mp4_files:
        mp4_names = [f["name"] for f in mp4_files]
        if not mp4_files:
            waiting.append("310 MP4_STOP (no MP4 callback has arrived yet; wait_for_mp4=True)")
        for entry in index:
            name = str(entry["FileName"])
            stem = name[: -len(".m3u8")] if name.endswith(".m3u8") else None
            if stem and not any(n.startswith(stem + "_") for n in mp4_names):
                waiting.append(f"310 MP4_STOP for {stem}_<n>.mp4")

    if waiting:
        return WaitVerdict(
            "waiting", f"{where} is gone; waiting for " + "; ".join(waiting), waiting_for=waiting
        )

    hls_file_status = "backup" if hls_stuck else "uploaded"
    files = [
        file_entry(
            name=str(entry["FileName"]),
            status=hls_file_status,  # type: ignore[arg-type]
            url=file_url(url_template, task_id=task_id, app_id=app_id, name=str(entry["FileName"])),
            track_type=entry.get("TrackType"),
            user_id=entry.get("UserId"),
            format=file_extension(str(entry["FileName"])),
            begin_ms=entry.get("BeginTimeStamp"),
        )
        for entry in index
    ]
    files.extend(mp4_files)
    if failed:
        warnings.append(f"{len(failed)} MP4 file(s) failed (310 Status 2): {describe_files(failed)}")
    if upload_stop is None:
        warnings.append(
            "no 305 UPLOAD_STOP arrived; HLS completion was read from storage (every playlist ends "
            "with #EXT-X-ENDLIST)"
        )
    if not index and not mp4_files:
        warnings.append(
            "the uploaded file names are unknown: the task was gone before the first poll and no "
            "304/307 callback named them"
        )
    manifest = _manifest(app_id, task_id, bodies, "cos", files, warnings)
    if not index and not mp4_files:
        manifest["status"] = "uploaded"
    return _complete(where, manifest)


def _evaluate_vod(
    obs: TrtcObservation,
    bodies: list[dict[str, Any]],
    where: str,
    app_id: int | None,
    task_id: str,
    policy: UploadPolicy,
    warnings: list[str],
) -> WaitVerdict:
    files: list[dict[str, Any]] = []
    latest_by_stream: dict[str, dict[str, Any]] = {}
    for body in bodies:
        if event_type(body) != 311:
            continue
        key = _vod_key(_vod_of(body))
        if key not in latest_by_stream or event_time_ms(body) > event_time_ms(latest_by_stream[key]):
            latest_by_stream[key] = body
    for body in latest_by_stream.values():
        payload = event_payload(body)
        vod = _vod_of(body)
        status = event_status(body)
        fstatus = {0: "uploaded", 1: "backup"}.get(status if status is not None else -1, "failed")
        start, end = _int(vod.get("StartTimeStamp")), _int(vod.get("EndTimeStamp"))
        name = str(vod.get("CacheFile") or vod.get("FileId") or _vod_key(vod))
        files.append(
            file_entry(
                name=name,
                status=fstatus,  # type: ignore[arg-type]
                url=vod.get("VideoUrl"),
                file_id=None if vod.get("FileId") in (None, "") else str(vod.get("FileId")),
                duration_ms=end - start if start is not None and end is not None else None,
                track_type=vod.get("TrackType"),
                user_id=vod.get("UserId"),
                format=file_extension(str(vod.get("CacheFile") or vod.get("VideoUrl") or "")),
                begin_ms=start,
            )
        )
        if fstatus == "failed" and payload.get("Errmsg"):
            warnings.append(f"{name}: {payload.get('Errmsg')}")

    failed = [f for f in files if f["status"] == "failed"]
    refused = _failed_files(
        where, failed, policy, "file(s) failed to upload to VOD (311 VOD_COMMIT Status 2)"
    )
    if refused is not None:
        return refused
    vod_stop = latest(bodies, 312)
    stop_status = event_status(vod_stop) if vod_stop else None
    if vod_stop is not None and stop_status != 0 and policy.on_failed_file == "fail":
        return WaitVerdict(
            "failed",
            f"{where}: the VOD upload task exited abnormally (312 VOD_STOP Status {stop_status}). "
            "Set on_failed_file='warn' to continue with the files that were committed.",
        )

    waiting: list[str] = []
    if vod_stop is None:
        waiting.append("312 VOD_STOP (the VOD upload task finished)")
    stuck = [f for f in files if f["status"] == "backup"]
    if stuck:
        stuck_text = (
            f"{len(stuck)} file(s) are still on Tencent's server or backup storage (311 VOD_COMMIT "
            f"Status 1): {describe_files(stuck)}"
        )
        refused = _backup_files(
            where, stuck_text, policy, "311 VOD_COMMIT Status 0 for the stuck file(s)", waiting, warnings
        )
        if refused is not None:
            return refused
    for entry in obs.storage_files:
        user, track = entry.get("UserId"), entry.get("TrackType")
        if not any(f["user_id"] == (user or None) and f["track_type"] == track for f in files):
            waiting.append(f"311 VOD_COMMIT for user {user or '(mix)'} track {track}")
    if waiting:
        return WaitVerdict(
            "waiting", f"{where} is gone; waiting for " + "; ".join(waiting), waiting_for=waiting
        )

    if stop_status != 0:
        warnings.append(f"the VOD upload task exited abnormally (312 VOD_STOP Status {stop_status})")
    if failed:
        warnings.append(f"{len(failed)} file(s) failed to upload to VOD: {describe_files(failed)}")
    if not files:
        warnings.append(f"{where} committed no file to VOD: nothing was published while it recorded")
    manifest = _manifest(app_id, task_id, bodies, "vod", files, warnings)
    if stop_status != 0 and manifest["status"] == "uploaded":
        manifest["status"] = "partial"
    return _complete(where, manifest)


def _manifest(
    app_id: int | None,
    task_id: str,
    bodies: list[dict[str, Any]],
    storage: str,
    files: list[dict[str, Any]],
    warnings: list[str],
) -> dict[str, Any]:
    """The manifest of a TRTC recording in ``storage`` (COS or VOD), room from its callbacks."""
    room = _room_id(bodies)
    return build_manifest(
        cloud=CLOUD,
        app_id=app_id,
        task_id=task_id,
        room_id=room,
        storage=storage,
        files=files,
        warnings=warnings,
    )


def _complete(where: str, manifest: dict[str, Any]) -> WaitVerdict:
    """The final verdict of an upload that finished, in COS or VOD."""
    files = manifest["files"]
    return WaitVerdict(
        "done",
        f"{where}: upload complete ({len(files)} file(s), manifest status {manifest['status']})",
        manifest=manifest,
    )


def _failed_files(where: str, failed: list[Any], policy: UploadPolicy, what: str) -> WaitVerdict | None:
    """The "failed" verdict for ``failed`` files when ``on_failed_file="fail"``, else None."""
    if not failed or policy.on_failed_file != "fail":
        return None
    return WaitVerdict(
        "failed",
        f"{where}: {len(failed)} {what}: {describe_files(failed)}. "
        "Set on_failed_file='warn' to continue with the other files.",
    )


def _backup_files(
    where: str, stuck_text: str, policy: UploadPolicy, awaited: str, waiting: list[str], warnings: list[str]
) -> WaitVerdict | None:
    """``on_backup_file`` for files still on Tencent's server or backup storage: "fail" returns the
    verdict; "wait" adds ``awaited`` (the callback that would end the wait) to ``waiting``; "warn"
    accepts them with a warning."""
    if policy.on_backup_file == "fail":
        return WaitVerdict("failed", f"{where}: {stuck_text}; on_backup_file='fail'.")
    if policy.on_backup_file == "wait":
        waiting.append(f"{awaited}: {stuck_text}")
    else:
        warnings.append(stuck_text + "; accepted as 'backup' (on_backup_file='warn')")
    return None
