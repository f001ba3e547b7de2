"""TRTC rooms, users and cloud recordings: state and rules only, no HTTP.

Decisions where the reference is silent or marks a fact UNCONFIRMED:

* An ended, expired or unknown recording task answers ``ResourceNotFound`` on both
  DescribeCloudRecording and DeleteCloudRecording: the official Go SDK lists it for
  DeleteCloudRecording (added next to the note that calls only work while the task runs), and no
  recording API lists ``FailedOperation.TaskNotExist``. What real TRTC answers is UNCONFIRMED; the
  provider treats ResourceNotFound, TaskNotExist and TaskFinished alike as "gone".
* After ``ResourceExpiredHour`` (default 72 h) the task answers not-found although the recording
  keeps running until it stops on its own (MaxIdleTime), as the vendor documents.
* The task lifecycle is ``Idle`` until ``recording_start_seconds`` (0 by default, so ``InProgress``
  at once, event 301), ``Exited`` from the stop until ``recording_exit_seconds`` later (event 302),
  then gone. DeleteCloudRecording while ``Exited`` succeeds again (nothing left to stop).
* Numeric and string room ids are separate namespaces: a room created as ``"123"`` is only found by
  the ``*ByStrRoomId`` APIs, as in TRTC where the two id kinds never meet.
* Rooms vanish only on DismissRoom (real rooms also end when the last user leaves; keeping them
  makes cleanup tests deterministic). RemoveUser of users not in the room is a success: the API's
  error list has no "user does not exist" code.
* The recording robot is a user of the room: DismissRoom stops its task (LeaveCode 2), RemoveUser
  of the robot stops it (1), an anchor-less room stops it after ``MaxIdleTime`` (99), and a new task
  with the same robot UserId in the same room interrupts the old one (101), as the docs warn.
  CreateCloudRecording on an empty or absent room is accepted (the robot enters and waits).
* An SdkAppId the sandbox does not own: ``UnauthorizedOperation.SdkAppId`` on room APIs,
  ``InvalidParameter.SdkAppId`` on recording APIs (each API's own error list).
* Upload completes ``upload_delay`` after the stop. Callback faults: ``late`` delays the completion
  callbacks by ``callback_late_seconds``; ``never`` omits them (files still upload); ``failed``
  reports failure (305 Status 1 / 310 Status 2 / 311 Status 2 / 312 Status 1) and leaves the files
  un-uploaded (no ``#EXT-X-ENDLIST``); ``late_commit`` (VOD) sends the 312 on time and every 311
  ``callback_late_seconds`` later, as a retried 311 arrives after its 312.
* Relay-to-CDN (StartPublishCdnStream) and stream-ingest (StartStreamIngest) tasks are seeded, not
  started over the wire (the provider only stops them). Stopping an unknown or already stopped task
  answers what each API's error list offers for it: ``ResourceNotFound`` for StopPublishCdnStream,
  ``FailedOperation.TaskFinished`` for StopStreamIngest.
* COS recordings always produce HLS (``StorageFileList`` lists the ``.m3u8`` index files, 305 means
  HLS uploaded); mp4/aac files are added when ``OutputFormat`` asks for them, and each mp4 gets a 310.
  The playlists list ``<index base>_<ms>.ts`` segments (10 s each), served once uploaded with the
  media bytes of ``sandbox.media`` (ranges, download faults) at their track type's bitrate.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

from ..errors import SandboxError
from ..ids import IdFactory, trtc_b64
from ..lifecycle import LifecycleOutbox
from .vod import VodBackend

UINT32_MAX = 2**32 - 1
MAX_REMOVE_USERS = 10
CALLBACK_FAULTS = ("late", "never", "failed", "late_commit")

#: bytes per second of recording, for plausible file sizes
_BYTES_PER_SECOND = {"audio": 8_000, "video": 60_000, "audio_video": 68_000}


@dataclass
class TrtcRoom:
    sdk_app_id: int
    room_id: int | str
    users: dict[str, float] = field(default_factory=dict)
    created_at: float = 0.0
    #: users pushing video (media event 201 until 202 or their exit)
    publishing: set[str] = field(default_factory=set)

    @property
    def is_str(self) -> bool:
        return isinstance(self.room_id, str)


@dataclass
class RecordingFile:
    name: str
    user_id: str
    track_type: str
    media_id: str
    kind: str
    begin_ms: int
    end_ms: int | None = None
    vod_file_id: str | None = None
    size: int = 0


@dataclass
class CallbackEvent:
    """One TRTC recording callback (EventGroupId 3) ready to be signed and delivered."""

    sdk_app_id: int
    event_type: int
    room_id: int | str
    user_id: str
    task_id: str
    event_ts: float
    payload: dict[str, Any]

    def body(self, callback_ts_ms: int) -> dict[str, Any]:
        return {
            "EventGroupId": 3,
            "EventType": self.event_type,
            "CallbackTs": callback_ts_ms,
            "EventInfo": {
                "RoomId": self.room_id,
                "EventTs": int(self.event_ts),
                "EventMsTs": int(self.event_ts * 1000),
                "UserId": self.user_id,
                "TaskId": self.task_id,
                "Payload": self.payload,
            },
        }


@dataclass
class Recording:
    task_id: str
    sdk_app_id: int
    room_id: int | str
    robot_user_id: str
    record_mode: int
    stream_type: int
    output_format: int
    av_merge: int
    max_idle_time: int
    storage: str
    prefix: list[str]
    vod_media_type: int
    created_at: float
    start_at: float
    expires_at: float
    files: list[RecordingFile] = field(default_factory=list)
    #: TencentVod.SubAppId: the VOD application the files land in (None: the primary one)
    vod_sub_app_id: int | None = None
    started: bool = False
    stopped_at: float | None = None
    leave_code: int | None = None
    gone_at: float | None = None
    upload_due: float | None = None
    completed: bool = False
    upload_failed: bool = False
    callback_fault: str | None = None
    idle_since: float | None = None

    @property
    def room_is_str(self) -> bool:
        return isinstance(self.room_id, str)

    def status(self, now: float) -> str:
        if self.stopped_at is not None:
            return "Exited"
        return "InProgress" if now >= self.start_at else "Idle"

    def is_gone(self, now: float) -> bool:
        return self.gone_at is not None and now >= self.gone_at

    def uploaded(self) -> bool:
        return self.completed and not self.upload_failed

    def upload_state(self) -> str:
        if self.stopped_at is None:
            return "recording"
        if not self.completed:
            return "pending"
        return "failed" if self.upload_failed else "done"


@dataclass
class RelayTask:
    """A relay-to-CDN (``cdn``) or stream-ingest (``ingest``) task: running until stopped."""

    task_id: str
    kind: str
    sdk_app_id: int
    room_id: int | str
    started_at: float


#: per kind: the code an unknown or ended task answers, and the bad-SdkAppId code
_RELAY_CODES = {
    "cdn": ("ResourceNotFound", "InvalidParameter"),
    "ingest": ("FailedOperation.TaskFinished", "InvalidParameter.SdkAppId"),
    # StopAITranscription names no SdkAppId; its Go SDK list offers only TaskNotExist for a gone task
    "ai": ("FailedOperation.TaskNotExist", "InvalidParameter"),
}


class TrtcBackend:
    """All TRTC state of the sandbox; every public method is atomic under one lock."""

    def __init__(
        self,
        sdk_app_ids: list[int],
        ids: IdFactory,
        *,
        max_recordings: int = 100,
        upload_delay: float = 2.0,
        start_seconds: float = 0.0,
        exit_seconds: float = 1.0,
        late_seconds: float = 10.0,
    ) -> None:
        self._lock = threading.RLock()
        self.sdk_app_ids = list(sdk_app_ids)
        self.ids = ids
        self.max_recordings = max_recordings
        self.upload_delay = upload_delay
        self.start_seconds = start_seconds
        self.exit_seconds = exit_seconds
        self.late_seconds = late_seconds
        self.default_callback_fault: str | None = None
        self._rooms: dict[tuple[int, bool, int | str], TrtcRoom] = {}
        self._recordings: dict[str, Recording] = {}
        self._relays: dict[str, RelayTask] = {}
        self._outbox: list[CallbackEvent] = []
        self._delayed: list[tuple[float, int, CallbackEvent]] = []
        self._seq = itertools.count()
        #: ended user sessions (SdkAppId, entered, left): the live minutes usage APIs count
        self.sessions: list[tuple[int, float, float]] = []
        #: where VOD recordings land (set by the sandbox); without it VideoUrl is a placeholder
        self.vod: VodBackend | None = None
        self.lifecycle = LifecycleOutbox()

    # -- housekeeping --------------------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self._rooms.clear()
            self._recordings.clear()
            self._relays.clear()
            self._outbox.clear()
            self._delayed.clear()
            self.sessions.clear()
            self.default_callback_fault = None
            self.lifecycle.clear()

    def _check_app(self, sdk_app_id: int, code: str) -> None:
        if sdk_app_id not in self.sdk_app_ids:
            raise SandboxError(code, f"SdkAppId {sdk_app_id} does not belong to this account.")

    @staticmethod
    def _key(sdk_app_id: int, room_id: int | str) -> tuple[int, bool, int | str]:
        return (sdk_app_id, isinstance(room_id, str), room_id)

    # -- rooms ---------------------------------------------------------------------------------

    def add_users(
        self,
        sdk_app_id: int,
        room_id: int | str,
        user_ids: list[str],
        now: float,
        *,
        publish: bool = False,
    ) -> TrtcRoom:
        """Users enter a room (creating it), pushing video with ``publish``: how seeds and tests
        populate TRTC. Emits 101 for a new room, 103 per new user and 201 per new publisher."""
        with self._lock:
            key = self._key(sdk_app_id, room_id)
            room = self._rooms.get(key)
            if room is None:
                room = self._rooms[key] = TrtcRoom(sdk_app_id, room_id, created_at=now)
                self._emit(room, 101, now, UserId=user_ids[0] if user_ids else "")
            for uid in user_ids:
                if uid not in room.users:
                    room.users[uid] = now
                    self._emit(room, 103, now, UserId=uid, Role=20, TerminalType=3, UserType=3, Reason=1)
                if publish and uid not in room.publishing:
                    room.publishing.add(uid)
                    self._emit(room, 201, now, UserId=uid)
            self._room_changed(room, now)
            return room

    def exit_users(self, sdk_app_id: int, room_id: int | str, user_ids: list[str], now: float) -> None:
        """Users leave on their own (104 Reason 1); the room stays until dismissed (see module doc)."""
        with self._lock:
            room = self._rooms.get(self._key(sdk_app_id, room_id))
            if room is None:
                return
            self._leave(room, [u for u in dict.fromkeys(user_ids) if u in room.users], now, reason=1)
            self._room_changed(room, now)

    def _leave(self, room: TrtcRoom, user_ids: list[str], now: float, *, reason: int) -> None:
        # "exiting the room only calls back 104, not 202/204: 104 includes them" (trtc.io/39558)
        for uid in user_ids:
            entered = room.users.pop(uid, None)
            if entered is not None:
                self.sessions.append((room.sdk_app_id, entered, now))
            room.publishing.discard(uid)
            self._emit(room, 104, now, UserId=uid, Role=20, Reason=reason)

    def _emit(self, room: TrtcRoom, event_type: int, now: float, **fields: Any) -> None:
        kind = {101: "room", 102: "room", 103: "user", 104: "user"}.get(event_type, "stream")
        self.lifecycle.add("trtc", room.sdk_app_id, kind, event_type, now, room_id=room.room_id, **fields)

    def stop_video(self, sdk_app_id: int, room_id: int | str, user_id: str, now: float) -> None:
        """A user stops pushing video but stays (202)."""
        with self._lock:
            room = self._rooms.get(self._key(sdk_app_id, room_id))
            if room is not None and user_id in room.publishing:
                room.publishing.discard(user_id)
                self._emit(room, 202, now, UserId=user_id)

    def dismiss_room(self, sdk_app_id: int, room_id: int | str, now: float) -> None:
        with self._lock:
            self._check_app(sdk_app_id, "UnauthorizedOperation.SdkAppId")
            room = self._rooms.pop(self._key(sdk_app_id, room_id), None)
            if room is None:
                raise SandboxError("FailedOperation.RoomNotExist", "The room does not exist.")
            for rec in self._active_in_room(sdk_app_id, room_id):
                self._stop(rec, now, leave_code=2)
            self._leave(room, list(room.users), now, reason=4)
            self._emit(room, 102, now)

    def remove_users(self, sdk_app_id: int, room_id: int | str, user_ids: list[str], now: float) -> None:
        with self._lock:
            self._check_app(sdk_app_id, "UnauthorizedOperation.SdkAppId")
            if not user_ids or len(user_ids) > MAX_REMOVE_USERS:
                raise SandboxError(
                    "InvalidParameter.UserIds", f"UserIds must hold 1 to {MAX_REMOVE_USERS} users."
                )
            room = self._rooms.get(self._key(sdk_app_id, room_id))
            if room is None:
                raise SandboxError("FailedOperation.RoomNotExist", "The room does not exist.")
            targets = set(user_ids)
            self._leave(room, [u for u in dict.fromkeys(user_ids) if u in room.users], now, reason=3)
            for rec in self._active_in_room(sdk_app_id, room_id):
                if rec.robot_user_id in targets:
                    self._stop(rec, now, leave_code=1)
            self._room_changed(room, now)

    def user_spans(self, sdk_app_ids: list[int], now: float) -> list[tuple[float, float]]:
        """(entered, left or ``now``) of every user of these apps, ended or still in a room: the
        live minutes the usage APIs count (usage grows as the clock moves)."""
        with self._lock:
            spans = [(s, e) for app, s, e in self.sessions if app in sdk_app_ids]
            for room in self._rooms.values():
                if room.sdk_app_id in sdk_app_ids:
                    spans += [(s, now) for s in room.users.values()]
        return spans

    def room_users(self, sdk_app_id: int, room_id: int | str) -> list[str] | None:
        with self._lock:
            room = self._rooms.get(self._key(sdk_app_id, room_id))
            return None if room is None else list(room.users)

    # -- recordings ----------------------------------------------------------------------------

    def create_recording(
        self,
        sdk_app_id: int,
        room_id: str,
        room_id_type: int,
        user_id: str,
        now: float,
        *,
        record_mode: int,
        storage: str,
        stream_type: int = 0,
        output_format: int = 0,
        av_merge: int = 0,
        max_idle_time: int = 30,
        media_id: int = 0,
        prefix: list[str] | None = None,
        vod_media_type: int = 0,
        vod_sub_app_id: int | None = None,
        resource_expired_hour: int = 72,
    ) -> str:
        with self._lock:
            self._check_app(sdk_app_id, "InvalidParameter.SdkAppId")
            _in_range("RecordMode", record_mode, 1, 2)
            _in_range("StreamType", stream_type, 0, 2)
            _in_range("OutputFormat", output_format, 0, 4)
            _in_range("AvMerge", av_merge, 0, 1)
            _in_range("MaxIdleTime", max_idle_time, 5, 86400)
            _in_range("MediaId", media_id, 0, 2)
            _in_range("MediaType", vod_media_type, 0, 4)
            _in_range("ResourceExpiredHour", resource_expired_hour, 6, 720)
            _in_range("RoomIdType", room_id_type, 0, 1)
            if storage not in ("cos", "vod"):
                raise SandboxError("InvalidParameter.OutOfRange", f"unknown storage {storage!r}")
            rid: int | str
            if room_id_type == 1:
                if not room_id.isdigit() or int(room_id) > UINT32_MAX or int(room_id) == 0:
                    raise SandboxError(
                        "InvalidParameter.OutOfRange", "RoomId must be a 32-bit integer when RoomIdType is 1."
                    )
                rid = int(room_id)
            else:
                if not room_id or len(room_id.encode()) > 64:
                    raise SandboxError("InvalidParameter.OutOfRange", "RoomId must be 1 to 64 bytes.")
                rid = room_id
            active = [
                r for r in self._recordings.values() if r.sdk_app_id == sdk_app_id and r.stopped_at is None
            ]
            if len(active) >= self.max_recordings:
                raise SandboxError(
                    "FailedOperation.RestrictedConcurrency",
                    f"Maximum number of concurrent on-cloud recording tasks ({self.max_recordings}) reached.",
                )
            for rec in self._active_in_room(sdk_app_id, rid):
                if rec.robot_user_id == user_id:
                    self._stop(rec, now, leave_code=101)
            room = self._rooms.get(self._key(sdk_app_id, rid))
            if room is None:
                room = self._rooms[self._key(sdk_app_id, rid)] = TrtcRoom(sdk_app_id, rid, created_at=now)
            task_id = self.ids.trtc_task_id()
            while task_id in self._recordings:
                task_id = self.ids.trtc_task_id()
            rec = Recording(
                task_id=task_id,
                sdk_app_id=sdk_app_id,
                room_id=rid,
                robot_user_id=user_id,
                record_mode=record_mode,
                stream_type=stream_type,
                output_format=output_format,
                av_merge=av_merge,
                max_idle_time=max_idle_time,
                storage=storage,
                prefix=list(prefix or []),
                vod_media_type=vod_media_type,
                vod_sub_app_id=vod_sub_app_id,
                created_at=now,
                start_at=now + self.start_seconds,
                expires_at=now + resource_expired_hour * 3600,
            )
            rec.files = self._plan_files(rec, [u for u in room.users if u != user_id])
            if not room.users:
                rec.idle_since = now
            self._recordings[task_id] = rec
            self._advance_recording(rec, now)
            return task_id

    def describe_recording(self, sdk_app_id: int, task_id: str, now: float) -> dict[str, Any]:
        with self._lock:
            self._check_app(sdk_app_id, "InvalidParameter.SdkAppId")
            rec = self._live_task(sdk_app_id, task_id, now)
            self._advance_recording(rec, now)
            rec = self._live_task(sdk_app_id, task_id, now)
            files = []
            if rec.storage == "cos":
                files = [
                    {
                        "UserId": f.user_id,
                        "FileName": f.name,
                        "TrackType": f.track_type,
                        "BeginTimeStamp": f.begin_ms,
                    }
                    for f in rec.files
                    if f.kind == "m3u8"
                ]
            return {"TaskId": rec.task_id, "Status": rec.status(now), "StorageFileList": files}

    def delete_recording(self, sdk_app_id: int, task_id: str, now: float) -> str:
        with self._lock:
            self._check_app(sdk_app_id, "InvalidParameter.SdkAppId")
            rec = self._live_task(sdk_app_id, task_id, now)
            if rec.stopped_at is None:
                self._stop(rec, now, leave_code=0)
            return rec.task_id

    # -- relay and ingest tasks ------------------------------------------------------------------

    def start_relay(self, sdk_app_id: int, kind: str, room_id: int | str, now: float) -> str:
        """A running ``cdn`` or ``ingest`` task in ``room_id`` (seeded: the provider never starts one)."""
        with self._lock:
            self._check_app(sdk_app_id, _RELAY_CODES[kind][1])
            task_id = self.ids.trtc_task_id()
            self._relays[task_id] = RelayTask(task_id, kind, sdk_app_id, room_id, now)
            return task_id

    def stop_relay(self, sdk_app_id: int | None, kind: str, task_id: str) -> None:
        """Stop a seeded task; ``sdk_app_id`` None: the API names none (StopAITranscription)."""
        gone_code, app_code = _RELAY_CODES[kind]
        with self._lock:
            if sdk_app_id is not None:
                self._check_app(sdk_app_id, app_code)
            task = self._relays.get(task_id)
            if task is None or task.kind != kind or sdk_app_id not in (None, task.sdk_app_id):
                raise SandboxError(gone_code, "The task does not exist or has ended.")
            del self._relays[task_id]

    def set_callback_fault(self, task_id: str, fault: str | None) -> None:
        if fault is not None and fault not in CALLBACK_FAULTS:
            raise ValueError(f"callback fault must be one of {CALLBACK_FAULTS} or null")
        with self._lock:
            rec = self._recordings.get(task_id)
            if rec is None:
                raise KeyError(task_id)
            rec.callback_fault = fault

    def _live_task(self, sdk_app_id: int, task_id: str, now: float) -> Recording:
        rec = self._recordings.get(task_id)
        if rec is None or rec.sdk_app_id != sdk_app_id or rec.is_gone(now) or now >= rec.expires_at:
            raise SandboxError("ResourceNotFound", "The task does not exist or has ended.")
        return rec

    def _active_in_room(self, sdk_app_id: int, room_id: int | str) -> list[Recording]:
        return [
            r
            for r in self._recordings.values()
            if r.sdk_app_id == sdk_app_id
            and r.stopped_at is None
            and r.room_id == room_id
            and r.room_is_str == isinstance(room_id, str)
        ]

    def _room_changed(self, room: TrtcRoom, now: float) -> None:
        for rec in self._active_in_room(room.sdk_app_id, room.room_id):
            if room.users:
                rec.idle_since = None
            elif rec.idle_since is None:
                rec.idle_since = now

    def _plan_files(self, rec: Recording, users: list[str]) -> list[RecordingFile]:
        room_part = trtc_b64(rec.room_id) if isinstance(rec.room_id, str) else str(rec.room_id)
        begin_ms = int(rec.start_at * 1000)
        tracks: list[tuple[str, str, str, str]] = []  # (base name, user, track type, media id)
        if rec.record_mode == 2:
            tracks.append((f"{rec.sdk_app_id}_{room_part}", "", "audio_video", "mix"))
        else:
            kinds = {1: ["audio"], 2: ["video"]}.get(
                rec.stream_type, ["audio_video"] if rec.av_merge else ["audio", "video"]
            )
            for uid in users:
                for track in kinds:
                    base = f"{rec.sdk_app_id}_{room_part}__UserId_s_{trtc_b64(uid)}__UserId_e_main_{track}"
                    tracks.append((base, uid, track, "main"))
        if rec.storage == "cos":
            extra = {1: ["mp4"], 2: ["aac"], 3: ["mp4"], 4: ["aac"]}.get(rec.output_format, [])
            formats = ["m3u8", *extra]
        else:
            formats = {0: ["mp4"], 1: ["m3u8"], 2: ["aac"], 3: ["m3u8", "mp4"], 4: ["m3u8", "aac"]}[
                rec.vod_media_type
            ]
        files = []
        for base, uid, track, media in tracks:
            for fmt in formats:
                name = f"{base}.m3u8" if fmt == "m3u8" else f"{base}_1.{fmt}"
                f = RecordingFile(name, uid, track, media, fmt, begin_ms)
                if rec.storage == "vod":
                    f.vod_file_id = self.ids.digits(19)
                files.append(f)
        return files

    # -- time ----------------------------------------------------------------------------------

    def _event(self, rec: Recording, event_type: int, at: float, payload: dict[str, Any]) -> CallbackEvent:
        return CallbackEvent(
            rec.sdk_app_id, event_type, rec.room_id, rec.robot_user_id, rec.task_id, at, payload
        )

    def _stop(self, rec: Recording, at: float, *, leave_code: int) -> None:
        rec.stopped_at = at
        rec.leave_code = leave_code
        rec.gone_at = at + self.exit_seconds
        rec.upload_due = at + self.upload_delay
        end_ms = int(at * 1000)
        for f in rec.files:
            f.end_ms = max(end_ms, f.begin_ms)
            seconds = max(1.0, (f.end_ms - f.begin_ms) / 1000)
            f.size = 200 if f.kind == "m3u8" else int(seconds * _BYTES_PER_SECOND[f.track_type])
        self._outbox.append(self._event(rec, 302, at, {"LeaveCode": leave_code}))

    def _complete(self, rec: Recording, now: float) -> None:
        rec.completed = True
        fault = rec.callback_fault or self.default_callback_fault
        if fault == "failed":
            rec.upload_failed = True
        elif rec.storage == "vod" and self.vod is not None:
            for f in rec.files:
                assert f.vod_file_id is not None
                # VOD labels TRTC recordings "TrtcRecord" with TrtcRecordInfo (vod models, MediaSourceData)
                self.vod.add(
                    f.name,
                    f.size,
                    now,
                    file_id=f.vod_file_id,
                    source_context=rec.task_id,
                    source_type="TrtcRecord",
                    trtc={
                        "SdkAppId": rec.sdk_app_id,
                        "RoomId": str(rec.room_id),
                        "TaskId": rec.task_id,
                        "UserIds": [f.user_id] if f.user_id else [],
                    },
                    sub_app_id=rec.vod_sub_app_id,
                )
        if fault == "never":
            return
        events = self._completion_events(rec, now, failed=fault == "failed")
        if fault in ("late", "late_commit"):
            # late_commit: a VOD 311's first delivery failed and its retry lands after the 312 (TRTC
            # retries each callback on its own for about a minute, trtc.io 54914); its EventTime
            # stays the commit's, as a retried callback's does
            for ev in events:
                if fault == "late_commit" and ev.event_type != 311:
                    self._outbox.append(ev)
                    continue
                if fault == "late":
                    ev.event_ts = now + self.late_seconds
                heapq.heappush(self._delayed, (now + self.late_seconds, next(self._seq), ev))
        else:
            self._outbox.extend(events)

    def _completion_events(self, rec: Recording, now: float, *, failed: bool) -> list[CallbackEvent]:
        events = []
        if rec.storage == "cos":
            for f in rec.files:
                if f.kind != "mp4":
                    continue
                events.append(
                    self._event(
                        rec,
                        310,
                        now,
                        {
                            "Status": 2 if failed else 0,
                            "FileList": [f.name],
                            "FileMessage": [
                                {
                                    "FileName": f.name,
                                    "UserId": f.user_id,
                                    "TrackType": f.track_type,
                                    "MediaId": f.media_id,
                                    "StartTimeStamp": f.begin_ms,
                                    "EndTimeStamp": f.end_ms,
                                }
                            ],
                        },
                    )
                )
            status = 1 if failed else 0
            events.append(self._event(rec, 305, now, {"Status": status, "LeaveCode": status}))
        else:
            for f in rec.files:
                payload: dict[str, Any] = {
                    "Status": 2 if failed else 0,
                    "TencentVod": {
                        "UserId": f.user_id,
                        "TrackType": f.track_type,
                        "MediaId": f.media_id,
                        "FileId": f.vod_file_id,
                        "VideoUrl": self._vod_url(str(f.vod_file_id), f.name),
                        "CacheFile": f.name,
                        "StartTimeStamp": f.begin_ms,
                        "EndTimeStamp": f.end_ms,
                    },
                }
                if failed:
                    payload["Errmsg"] = "sandbox fault: upload to VOD failed"
                events.append(self._event(rec, 311, now, payload))
            events.append(self._event(rec, 312, now, {"Status": 1 if failed else 0}))
        return events

    def _vod_url(self, file_id: str, name: str) -> str:
        if self.vod is not None:
            return self.vod.url(file_id, name)
        return f"https://sandbox.vod2.myqcloud.com/{file_id}/{name}"

    def _advance_recording(self, rec: Recording, now: float) -> None:
        if not rec.started and rec.stopped_at is None and now >= rec.start_at:
            rec.started = True
            self._outbox.append(self._event(rec, 301, rec.start_at, {"Status": 0}))
        if (
            rec.stopped_at is None
            and rec.idle_since is not None
            and now >= max(rec.idle_since, rec.start_at) + rec.max_idle_time
        ):
            self._stop(rec, max(rec.idle_since, rec.start_at) + rec.max_idle_time, leave_code=99)
        if rec.upload_due is not None and not rec.completed and now >= rec.upload_due:
            self._complete(rec, now)

    def advance(self, now: float) -> list[CallbackEvent]:
        """Apply every timer due by ``now``; return the callbacks to send, oldest first."""
        with self._lock:
            for rec in list(self._recordings.values()):
                self._advance_recording(rec, now)
            while self._delayed and self._delayed[0][0] <= now:
                self._outbox.append(heapq.heappop(self._delayed)[2])
            out, self._outbox = self._outbox, []
            return out

    # -- storage emulation ---------------------------------------------------------------------

    def storage(self, task_id: str) -> dict[str, Any]:
        with self._lock:
            rec = self._recordings.get(task_id)
            if rec is None:
                raise KeyError(task_id)
            return {
                "task_id": rec.task_id,
                "sdk_app_id": rec.sdk_app_id,
                "room_id": rec.room_id,
                "storage": rec.storage,
                "prefix": "/".join([*rec.prefix, rec.task_id]) + "/",
                "upload": rec.upload_state(),
                "files": [
                    {
                        "name": f.name,
                        "kind": f.kind,
                        "user_id": f.user_id,
                        "track_type": f.track_type,
                        "size": f.size,
                        "uploaded": rec.uploaded(),
                        **({"vod_file_id": f.vod_file_id} if f.vod_file_id else {}),
                    }
                    for f in rec.files
                ],
            }

    def storage_object(self, task_id: str, name: str, now: float) -> tuple[str, bytes | int] | None:
        """(content type, bytes) of a playlist (it ends only once uploaded), or (content type, size)
        of an uploaded media file or HLS segment, whose bytes ``sandbox.media`` streams."""
        with self._lock:
            rec = self._recordings.get(task_id)
            if rec is None:
                return None
            f = next((f for f in rec.files if f.name == name), None)
            if f is None:
                return _segment_object(rec, name, now)
            if f.kind == "m3u8":
                return "application/vnd.apple.mpegurl", _playlist(f, rec, now).encode()
            if not rec.uploaded():
                return None
            return ("video/mp4" if f.kind == "mp4" else "audio/aac"), f.size

    # -- monitoring data (DescribeRoomInfo / DescribeUserInfo) ---------------------------------

    def monitored_rooms(self, sdk_app_id: int) -> list[tuple[int | str, float, dict[str, float]]]:
        """(room id, created at, {user: joined at}) of every live room: what TRTC's monitoring data
        lists as unfinished calls. Dismissed rooms are forgotten here, so they are never listed."""
        with self._lock:
            self._check_app(sdk_app_id, "InvalidParameter.SdkAppId")
            return [
                (r.room_id, r.created_at, dict(r.users))
                for r in self._rooms.values()
                if r.sdk_app_id == sdk_app_id
            ]

    # -- introspection -------------------------------------------------------------------------

    def snapshot(self, now: float) -> dict[str, Any]:
        with self._lock:
            rooms = [
                {
                    "sdk_app_id": r.sdk_app_id,
                    "room_id": r.room_id,
                    "str_room": r.is_str,
                    "users": list(r.users),
                    "publishing": sorted(r.publishing),
                    "created_at": r.created_at,
                    "recordings": [x.task_id for x in self._active_in_room(r.sdk_app_id, r.room_id)],
                }
                for r in self._rooms.values()
            ]
            alive = [r for r in self._recordings.values() if not r.is_gone(now)]
            pending = [r for r in self._recordings.values() if r.upload_state() == "pending"]
            return {
                "sdk_app_ids": list(self.sdk_app_ids),
                "rooms": rooms,
                "recordings": [
                    {
                        "task_id": r.task_id,
                        "sdk_app_id": r.sdk_app_id,
                        "room_id": r.room_id,
                        "user_id": r.robot_user_id,
                        "status": r.status(now),
                        "storage": r.storage,
                        "leave_code": r.leave_code,
                        "upload": r.upload_state(),
                    }
                    for r in alive
                ],
                "relays": [
                    {"task_id": t.task_id, "kind": t.kind, "sdk_app_id": t.sdk_app_id, "room_id": t.room_id}
                    for t in self._relays.values()
                ],
                "uploads_pending": [
                    {
                        "task_id": r.task_id,
                        "room_id": r.room_id,
                        "storage": r.storage,
                        "due_in": round(max(0.0, (r.upload_due or now) - now), 3),
                    }
                    for r in pending
                ],
                "counts": {
                    "rooms": sum(1 for r in self._rooms.values() if not r.is_str),
                    "str_rooms": sum(1 for r in self._rooms.values() if r.is_str),
                    "users": sum(len(r.users) for r in self._rooms.values()),
                    "recordings": len(alive),
                    "uploads_pending": len(pending),
                },
            }


def _in_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise SandboxError("InvalidParameter.OutOfRange", f"{name} must be within [{low}, {high}].")


def _segments(f: RecordingFile, rec: Recording, now: float) -> list[tuple[str, int]]:
    """(name, seconds) of the HLS segments of the index ``f``: 10 s each, named like TRTC's."""
    end_ms = f.end_ms if f.end_ms is not None else max(int(now * 1000), f.begin_ms)
    seconds = min(max(1, (end_ms - f.begin_ms) // 1000), 3600)  # keep long playlists bounded
    base = f.name[: -len(".m3u8")]
    found, t = [], 0
    while t < seconds:
        step = min(10, seconds - t)
        found.append((f"{base}_{f.begin_ms + t * 1000}.ts", step))
        t += step
    return found


def _segment_object(rec: Recording, name: str, now: float) -> tuple[str, int] | None:
    """(content type, size) of an uploaded HLS segment (its bytes are streamed by ``sandbox.media``)."""
    if not name.endswith(".ts") or not rec.uploaded():
        return None
    for f in rec.files:
        if f.kind != "m3u8":
            continue
        for seg, seconds in _segments(f, rec, now):
            if seg == name:
                return "video/mp2t", seconds * _BYTES_PER_SECOND[f.track_type]
    return None


def _playlist(f: RecordingFile, rec: Recording, now: float) -> str:
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TRTC-START-REC-TIME:{f.begin_ms}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-TARGETDURATION:10",
    ]
    for seg, seconds in _segments(f, rec, now):
        lines.append(f"#EXTINF:{seconds:.3f},")
        lines.append(seg)
    if rec.uploaded():
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"
