"""ZEGOCLOUD rooms, streams, mix tasks and cloud recordings: state and rules only, no HTTP.

Decisions where the reference is silent or UNCONFIRMED:

* Unknown room: DeleteStream and KickoutUser answer 104, CloseRoom 5024. The docs give 104/5024/50001
  as one "room does not exist" logic; 5024 is the code the CloseRoom page itself lists, 104 is the
  generic room-signalling one. CloseRoom of a room that existed and was destroyed (closed, or its
  last user left) answers 5018, which the current CloseRoom page defines as "room already destroyed
  or does not exist" (an older page said "state mismatch, retry").
* DeleteStream of a stream that is not in an existing room answers 138 ("stream info does not
  exist"), the only documented code with that meaning. The operator UserId is not checked against
  the publisher: the docs recommend a dedicated server UserId for this call.
* KickoutUser of users that are not in the room succeeds (idempotent); 105 is not used. Kicked users'
  streams end with them, and a room whose last user leaves is destroyed (documented).
* DescribeUsers and DescribeSimpleStreamList on an absent room answer Code 0 with every user
  "not in room" / an empty list, like DescribeUserNum's documented "a missing room counts 0".
* Mix ownership is on by default (``zego.mix_ownership``): StopMix and StartMix updates need the
  starting UserId, otherwise 110200160 (documented for StopMix; applied to updates because the docs
  say the UserId "must be the same across calls for one task"). ``Sequence`` is stored, not enforced
  (enforcement is a support-enabled option).
* StartMix refuses an input ``StreamId`` that is not published in any room of the app (110200150):
  the FAQ says a start with a missing input fails. ``StreamUrl`` inputs are taken on trust. A mix whose
  stream inputs have all been gone for ``zego_mix_auto_stop_seconds`` (90 s, documented) ends itself.
* Recording: Status 1 (initialising) for ``zego_record_init_seconds``, then 2; StopRecord ends it
  with 3 (or 4 by fault) and each file goes 1 -> 2 (uploading) -> 3 (or 4/5 by fault) after
  ``upload_delay``. MaxIdleTime (no stream in the room) and MaxRecordTime end a task on their own.
  Tasks that began more than 3 days ago answer 300001000 (the documented query window; the code is
  inferred). DescribeTasks' Status 2 also matches initialising tasks and 3 also matches abnormal ends.
"""

from __future__ import annotations

import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

from ..errors import SandboxError
from ..ids import IdFactory
from ..lifecycle import LifecycleOutbox

MAX_KICKOUT = 5
MAX_USERNUM_ROOMS = 10
MAX_DESCRIBE_USERS = 10
MAX_MIX_INPUTS = 9
MAX_MIX_OUTPUTS = 4
QUERY_WINDOW_SECONDS = 3 * 86400
FILE_FAULTS = (4, 5)
TASK_FAULTS = (4,)
_TRACKS = {1: [("A", 1)], 2: [("V", 2)], 3: [("VA", 3)], 4: [("A", 1), ("V", 2)]}


@dataclass
class ZegoUser:
    user_id: str
    user_name: str
    #: 1 host, 2 audience, 4 admin (cloud-recording / moderation robots)
    role: int
    login_ms: int
    session_id: str = ""

    def __post_init__(self) -> None:
        self.session_id = self.session_id or f"{self.login_ms}{zlib.crc32(self.user_id.encode()):010d}"


@dataclass
class ZegoStream:
    stream_id: str
    user_id: str
    user_name: str
    #: ms: DescribeSimpleStreamList ``CreateTime`` example 1642045110123 (docs_all core_products/
    #: real-time-voice-video/zh/server/api-reference/room/describe-simple-streamlist.yaml)
    create_time_ms: int
    number_id: int


@dataclass
class ZegoRoom:
    room_id: str
    created_at: float
    users: dict[str, ZegoUser] = field(default_factory=dict)
    streams: dict[str, ZegoStream] = field(default_factory=dict)


@dataclass
class MixTask:
    task_id: str
    user_id: str
    inputs: list[dict[str, Any]]
    outputs: list[dict[str, Any]]
    room_id: str
    sequence: int
    started_at: float
    updated_at: float


@dataclass
class RecordFile:
    user_id: str
    user_name: str
    stream_id: str
    file_id: str
    video_id: str
    file_url: str | None
    fmt: str
    track_type: int
    begin_ms: int
    width: int
    height: int
    size: int = 0
    duration_ms: int = 0


@dataclass
class RecordTask:
    task_id: str
    room_id: str
    record_mode: int
    stream_type: int
    fmt: str
    vendor: int
    begin_at: float
    init_until: float
    max_idle: int
    max_record: int
    files: list[RecordFile] = field(default_factory=list)
    stopped_at: float | None = None
    upload_due: float | None = None
    idle_since: float | None = None
    file_fault: int | None = None
    task_fault: int | None = None
    ended_status: int | None = None
    app_id: int = 0

    def status(self, now: float) -> int:
        if self.ended_status is not None:
            return self.ended_status
        return 1 if now < self.init_until else 2

    def file_status(self, now: float) -> int:
        if self.stopped_at is None:
            return 1
        if self.upload_due is None or now < self.upload_due:
            return 2
        return self.file_fault or 3


@dataclass
class _AppState:
    rooms: dict[str, ZegoRoom] = field(default_factory=dict)
    mixes: dict[str, MixTask] = field(default_factory=dict)
    records: dict[str, RecordTask] = field(default_factory=dict)
    gone_streams: dict[str, float] = field(default_factory=dict)
    destroyed_rooms: set[str] = field(default_factory=set)
    stream_numbers: int = 0


class ZegoBackend:
    """All ZEGO state of the sandbox, per AppId; every public method is atomic under one lock."""

    def __init__(
        self,
        ids: IdFactory,
        *,
        mix_ownership: bool = True,
        upload_delay: float = 2.0,
        init_seconds: float = 0.5,
        mix_auto_stop_seconds: float = 90.0,
    ) -> None:
        self._lock = threading.RLock()
        self.ids = ids
        self.mix_ownership = mix_ownership
        self.upload_delay = upload_delay
        self.init_seconds = init_seconds
        self.mix_auto_stop_seconds = mix_auto_stop_seconds
        self.default_file_fault: int | None = None
        self.default_task_fault: int | None = None
        self._apps: dict[int, _AppState] = {}
        #: the sandbox's own URL, once known: FileUrl then points at files it serves
        self.media_base: str | None = None
        self.lifecycle = LifecycleOutbox()
        self.room_list_enabled = False

    def reset(self) -> None:
        with self._lock:
            self._apps.clear()
            self.lifecycle.clear()
            self.default_file_fault = None
            self.default_task_fault = None

    def _app(self, app_id: int) -> _AppState:
        state = self._apps.get(app_id)
        if state is None:
            state = self._apps[app_id] = _AppState()
        return state

    # -- room population (seed and tests) ------------------------------------------------------

    def login(
        self, app_id: int, room_id: str, user_id: str, now: float, *, user_name: str = "", role: int = 1
    ) -> None:
        with self._lock:
            app = self._app(app_id)
            room = app.rooms.get(room_id)
            if room is None:
                room = app.rooms[room_id] = ZegoRoom(room_id, now)
                app.destroyed_rooms.discard(room_id)
                self._emit(
                    app_id, "room", "room_create", now, room_id=room_id, room_create_time=int(now * 1000)
                )
            if user_id not in room.users:
                room.users[user_id] = ZegoUser(user_id, user_name or user_id, role, int(now * 1000))
                self._emit(
                    app_id,
                    "user",
                    "room_login",
                    now,
                    room_id=room_id,
                    room_seq=self._room_seq(room),
                    user_account=user_id,
                    user_nickname=user_name or user_id,
                    session_id=room.users[user_id].session_id,
                    user_role=role,
                    login_time=int(now * 1000),
                )

    def publish(self, app_id: int, room_id: str, user_id: str, stream_id: str, now: float) -> None:
        """``user_id`` (logged in if needed) publishes ``stream_id`` in ``room_id``."""
        with self._lock:
            self.login(app_id, room_id, user_id, now)
            app = self._app(app_id)
            room = app.rooms[room_id]
            app.stream_numbers += 1
            user = room.users[user_id]
            room.streams[stream_id] = ZegoStream(
                stream_id, user_id, user.user_name, int(now * 1000), app.stream_numbers
            )
            self._emit(
                app_id,
                "stream",
                "stream_create",
                now,
                room_id=room_id,
                user_id=user_id,
                user_name=user.user_name,
                stream_id=stream_id,
                stream_sid=f"s-{app.stream_numbers}",
                create_time=int(now),
                create_time_ms=int(now * 1000),
                recreate=0,
            )
            app.gone_streams.pop(stream_id, None)
            self._streams_changed(app, room_id, now)

    # -- room signalling -----------------------------------------------------------------------

    def delete_stream(self, app_id: int, room_id: str, user_id: str, stream_id: str, now: float) -> None:
        with self._lock:
            app = self._app(app_id)
            room = app.rooms.get(room_id)
            if room is None:
                raise SandboxError(104, "room does not exist")
            if stream_id not in room.streams:
                raise SandboxError(138, "stream info does not exist")
            self._close_stream(app_id, room, stream_id, now, reason=100)
            app.gone_streams[stream_id] = now
            self._streams_changed(app, room_id, now)

    def close_room(self, app_id: int, room_id: str, now: float, *, room_close_callback: bool = False) -> None:
        """Everyone leaves: stream_close (type 5) and room_logout per user; room_close only on request."""
        with self._lock:
            app = self._app(app_id)
            room = app.rooms.pop(room_id, None)
            if room is None:
                if room_id in app.destroyed_rooms:
                    raise SandboxError(5018, "room already destroyed or does not exist")
                raise SandboxError(5024, "room does not exist")
            app.destroyed_rooms.add(room_id)
            for sid in list(room.streams):
                self._close_stream(app_id, room, sid, now, reason=5)
                app.gone_streams[sid] = now
            for uid in list(room.users):
                self._logout(app_id, room, uid, now, reason=1)
            if room_close_callback:
                self._room_closed(app_id, room_id, now, reason=2)
            self._streams_changed(app, room_id, now)

    def kickout(self, app_id: int, room_id: str, user_ids: list[str], now: float) -> None:
        with self._lock:
            if not user_ids or len(user_ids) > MAX_KICKOUT:
                raise SandboxError(2, f"UserId[] must hold 1 to {MAX_KICKOUT} users")
            app = self._app(app_id)
            room = app.rooms.get(room_id)
            if room is None:
                raise SandboxError(104, "room does not exist")
            self._users_leave(app_id, app, room, user_ids, now, stream_type=3, logout_reason=2)

    def logout(self, app_id: int, room_id: str, user_ids: list[str], now: float) -> None:
        """Users leave on their own (stream_close type 0, room_logout); an emptied room closes."""
        with self._lock:
            app = self._app(app_id)
            room = app.rooms.get(room_id)
            if room is not None:
                self._users_leave(app_id, app, room, user_ids, now, stream_type=0, logout_reason=0)

    def _users_leave(
        self,
        app_id: int,
        app: _AppState,
        room: ZegoRoom,
        user_ids: list[str],
        now: float,
        *,
        stream_type: int,
        logout_reason: int,
    ) -> None:
        """Users leave with their streams; a room whose last user left is destroyed (documented)."""
        for uid in dict.fromkeys(user_ids):
            for sid in [s.stream_id for s in room.streams.values() if s.user_id == uid]:
                self._close_stream(app_id, room, sid, now, reason=stream_type)
                app.gone_streams[sid] = now
            if uid in room.users:
                self._logout(app_id, room, uid, now, reason=logout_reason)
        if not room.users:
            del app.rooms[room.room_id]
            app.destroyed_rooms.add(room.room_id)
            self._room_closed(app_id, room.room_id, now, reason=1)
        self._streams_changed(app, room.room_id, now)

    def room_list(self, app_id: int, page_index: int, page_size: int) -> dict[str, Any]:
        """DescribeRoomList: rooms by user count, most first (the documented order), paged."""
        with self._lock:
            if not self.room_list_enabled:
                # room-family 9 "未开通当前接口的使用权限" (docs_all core_products/real-time-voice-video/
                # zh/server/return-codes.mdx); the API itself has no page, so this code is a decision
                raise SandboxError(9, "DescribeRoomList is not enabled for this AppId")
            if page_index < 1 or not 1 <= page_size <= 200:
                raise SandboxError(2, "PageIndex starts at 1; PageSize must be within [1, 200]")
            rooms = sorted(
                self._app(app_id).rooms.values(), key=lambda r: (-len(r.users), r.created_at, r.room_id)
            )
            page = rooms[(page_index - 1) * page_size : page_index * page_size]
            return {
                "TotalCount": len(rooms),
                "RoomList": [{"RoomId": r.room_id, "UserCount": len(r.users)} for r in page],
            }

    def user_list(self, app_id: int, room_id: str, mode: int, limit: int, marker: str) -> dict[str, Any]:
        """DescribeUserList: users by login time (Mode 0 ascending, 1 descending), ``Marker`` paging."""
        with self._lock:
            if mode not in (0, 1) or not 0 <= limit <= 200:
                raise SandboxError(2, "Mode must be 0 or 1; Limit within [0, 200]")
            limit = limit or 200
            room = self._app(app_id).rooms.get(room_id)
            users = sorted(room.users.values(), key=lambda u: (u.login_ms, u.user_id)) if room else []
            if mode == 1:
                users.reverse()
            start = int(marker) if marker.isdigit() else 0
            page = users[start : start + limit]
            more = start + limit < len(users)
            return {
                "Marker": str(start + limit) if more else "",
                "UserList": [
                    {"UserId": u.user_id, "UserName": u.user_name, "UserRole": u.role} for u in page
                ],
            }

    def _emit(self, app_id: int, kind: str, event: int | str, now: float, **fields: Any) -> None:
        self.lifecycle.add("zego", app_id, kind, event, now, **fields)

    def _close_stream(self, app_id: int, room: ZegoRoom, stream_id: str, now: float, *, reason: int) -> None:
        stream = room.streams.pop(stream_id)
        # the documented field set (docs_all core_products/real-time-voice-video/zh/server/callback/
        # stream/destroyed.mdx): create_time_ms is the stream's creation, destroy_timemillis the close
        self._emit(
            app_id,
            "stream",
            "stream_close",
            now,
            room_id=room.room_id,
            room_session_id=self._room_seq(room),
            user_id=stream.user_id,
            user_name=stream.user_name,
            channel_id=room.room_id,
            stream_id=stream_id,
            stream_sid=f"s-{stream.number_id}",
            stream_alias=stream_id,
            stream_seq=stream.number_id,
            third_define_data="",
            type=reason,
            create_time_ms=stream.create_time_ms,
            destroy_timemillis=int(now * 1000),
        )

    def _logout(self, app_id: int, room: ZegoRoom, user_id: str, now: float, *, reason: int) -> None:
        user = room.users.pop(user_id, None)
        # the documented field set (docs_all core_products/real-time-voice-video/zh/server/callback/
        # room/logged-out.mdx): login_time is the login, logout_time the logout, both ms strings
        self._emit(
            app_id,
            "user",
            "room_logout",
            now,
            room_id=room.room_id,
            room_seq=self._room_seq(room),
            user_account=user_id,
            user_nickname=user.user_name if user else user_id,
            session_id=user.session_id if user else "",
            login_time=user.login_ms if user else int(now * 1000),
            logout_time=int(now * 1000),
            reason=reason,
            user_role=user.role if user else 1,
            user_update_seq=len(room.users),
        )

    @staticmethod
    def _room_seq(room: ZegoRoom) -> str:
        """``room_seq``/``room_session_id``: one value per room lifetime (a re-created room gets anew)."""
        return str(int(room.created_at * 1000))

    def _room_closed(self, app_id: int, room_id: str, now: float, *, reason: int) -> None:
        self._emit(
            app_id,
            "room",
            "room_close",
            now,
            room_id=room_id,
            close_reason=reason,
            room_close_time=int(now * 1000),
        )

    def user_num(self, app_id: int, room_ids: list[str]) -> list[dict[str, Any]]:
        with self._lock:
            if not room_ids or len(room_ids) > MAX_USERNUM_ROOMS:
                raise SandboxError(2, f"RoomId[] must hold 1 to {MAX_USERNUM_ROOMS} rooms")
            app = self._app(app_id)
            out = []
            for rid in room_ids:
                room = app.rooms.get(rid)
                users = list(room.users.values()) if room else []
                out.append(
                    {
                        "RoomId": rid,
                        "UserCount": len(users),
                        "AdminUserCount": sum(1 for u in users if u.role == 4),
                    }
                )
            return out

    def describe_users(self, app_id: int, room_id: str, user_ids: list[str]) -> list[dict[str, Any]]:
        with self._lock:
            if not user_ids or len(user_ids) > MAX_DESCRIBE_USERS:
                raise SandboxError(2, f"UserId[] must hold 1 to {MAX_DESCRIBE_USERS} users")
            room = self._app(app_id).rooms.get(room_id)
            out = []
            for uid in user_ids:
                user = room.users.get(uid) if room else None
                if user is None:
                    out.append({"UserId": uid, "Status": 0, "LoginTime": 0, "UserRole": 0})
                else:
                    out.append(
                        {"UserId": uid, "Status": 1, "LoginTime": user.login_ms, "UserRole": user.role}
                    )
            return out

    def stream_list(self, app_id: int, room_id: str) -> list[dict[str, Any]]:
        with self._lock:
            room = self._app(app_id).rooms.get(room_id)
            if room is None:
                return []
            return [
                {
                    "StreamId": s.stream_id,
                    "UserId": s.user_id,
                    "UserName": s.user_name,
                    "CreateTime": s.create_time_ms,
                    "StreamNumberId": s.number_id,
                }
                for s in room.streams.values()
            ]

    def _stream_exists(self, app: _AppState, stream_id: str) -> bool:
        return any(stream_id in room.streams for room in app.rooms.values())

    def _streams_changed(self, app: _AppState, room_id: str, now: float) -> None:
        room = app.rooms.get(room_id)
        has_streams = bool(room and room.streams)
        for task in app.records.values():
            if task.room_id != room_id or task.ended_status is not None:
                continue
            if has_streams:
                task.idle_since = None
            elif task.idle_since is None:
                task.idle_since = now

    # -- stream mixing -------------------------------------------------------------------------

    def start_mix(
        self,
        app_id: int,
        task_id: str,
        user_id: str,
        inputs: list[dict[str, Any]],
        outputs: list[dict[str, Any]],
        now: float,
        *,
        room_id: str = "",
        sequence: int = 0,
    ) -> dict[str, Any]:
        with self._lock:
            app = self._app(app_id)
            self._refresh_mixes(app, now)
            if not inputs or not outputs:
                raise SandboxError(110200002, "MixInput and MixOutput must not be empty")
            if len(inputs) > MAX_MIX_INPUTS:
                raise SandboxError(110200158, f"too many inputs (max {MAX_MIX_INPUTS})")
            if len(outputs) > MAX_MIX_OUTPUTS:
                raise SandboxError(110200178, f"too many outputs (max {MAX_MIX_OUTPUTS})")
            in_ids = [_stream_ref(i, 110200153) for i in inputs]
            out_ids = [_stream_ref(o, 110200154) for o in outputs]
            if len(set(in_ids)) != len(in_ids):
                raise SandboxError(110200175, "duplicate input")
            if len(set(out_ids)) != len(out_ids):
                raise SandboxError(110200176, "duplicate output")
            if set(in_ids) & set(out_ids):
                raise SandboxError(110200140, "MixInput and MixOutput share a stream id")
            for item in inputs:
                sid = item.get("StreamId")
                if not item.get("StreamUrl") and not self._stream_exists(app, str(sid)):
                    raise SandboxError(110200150, f"input stream {sid} does not exist")
            task = app.mixes.get(task_id)
            if task is not None:
                if self.mix_ownership and task.user_id != user_id:
                    raise SandboxError(110200160, "only the UserId that started the mix may change it")
                task.inputs, task.outputs, task.updated_at = inputs, outputs, now
                task.sequence = sequence or task.sequence
                task.room_id = room_id or task.room_id
            else:
                task = MixTask(task_id, user_id, inputs, outputs, room_id, sequence, now, now)
                app.mixes[task_id] = task
                self._emit_mix(app_id, "mix_start", task, now, seq=sequence)
            play = [
                {
                    "StreamId": o["StreamId"],
                    "RTMP": f"rtmp://play.sandbox.example/zegomix/{o['StreamId']}",
                    "HLS": f"https://play.sandbox.example/zegomix/{o['StreamId']}/playlist.m3u8",
                    "FLV": f"https://play.sandbox.example/zegomix/{o['StreamId']}.flv",
                    # start-mix.yaml's PlayInfo also has Status ("stream status", example 0) and
                    # UserName (example "")
                    "Status": 0,
                    "UserName": "",
                }
                for o in outputs
                if o.get("StreamId")
            ]
            return {
                "UserId": task.user_id,
                "Sequence": task.sequence,
                "RoomId": task.room_id,
                "PlayInfo": play,
            }

    def stop_mix(self, app_id: int, task_id: str, user_id: str | None, now: float) -> None:
        with self._lock:
            app, task = self._running_mix(app_id, task_id, now)
            if (self.mix_ownership and user_id != task.user_id) or (user_id and user_id != task.user_id):
                raise SandboxError(110200160, "only the UserId that started the mix may stop it")
            del app.mixes[task_id]
            self._emit_mix(app_id, "mix_stop", task, now, seq=0)

    def _emit_mix(self, app_id: int, event: str, task: MixTask, now: float, *, seq: int) -> None:
        """``channel_id`` "频道 ID, 对应客户端的 RoomID" and ``publish_id`` "发布者 ID, 对应客户端的 UserID"
        (docs_all core_products/real-time-voice-video/zh/server/callback/stream-mixing/started.mdx,
        stopped.mdx); the task id is "appid:taskid" (``"111111:1111"`` in the examples)."""
        self._emit(
            app_id,
            "mix",
            event,
            now,
            task_id=f"{app_id}:{task.task_id}",
            seq=seq,
            channel_id=task.room_id,
            publish_id=task.user_id,
        )

    def mix_info(self, app_id: int, task_id: str, now: float) -> dict[str, Any]:
        with self._lock:
            _, task = self._running_mix(app_id, task_id, now)
            return {"TaskInfo": {"TaskId": task.task_id, "MixDuration": int(now - task.started_at)}}

    def _running_mix(self, app_id: int, task_id: str, now: float) -> tuple[_AppState, MixTask]:
        """The app and its mix ``task_id`` as of ``now`` (auto-stopped mixes gone), or ZEGO's
        110209001 "mix task does not exist"."""
        app = self._app(app_id)
        self._refresh_mixes(app, now)
        task = app.mixes.get(task_id)
        if task is None:
            raise SandboxError(110209001, "mix task does not exist")
        return app, task

    def _refresh_mixes(self, app: _AppState, now: float) -> None:
        for task in list(app.mixes.values()):
            ids = [str(i.get("StreamId")) for i in task.inputs if not i.get("StreamUrl")]
            if not ids or len(ids) != len(task.inputs):
                continue
            if any(self._stream_exists(app, sid) for sid in ids):
                continue
            gone = [app.gone_streams.get(sid) for sid in ids]
            last = max((g for g in gone if g is not None), default=task.updated_at)
            if now - max(last, task.updated_at) >= self.mix_auto_stop_seconds:
                del app.mixes[task.task_id]

    # -- cloud recording -----------------------------------------------------------------------

    def start_record(
        self,
        app_id: int,
        room_id: str,
        input_params: dict[str, Any],
        output_params: dict[str, Any],
        storage: dict[str, Any],
        now: float,
        *,
        started_ago_seconds: float = 0.0,
    ) -> str:
        with self._lock:
            mode = _int_field(input_params, "RecordMode", required=True, allowed=(1, 2))
            stream_type = _int_field(input_params, "StreamType", default=3, allowed=(1, 2, 3, 4))
            max_idle = _int_field(input_params, "MaxIdleTime", default=30, low=5, high=86400)
            max_record = _int_field(input_params, "MaxRecordTime", default=86400, low=300, high=86400)
            fmt = str(output_params.get("OutputFileFormat") or "mp4")
            if fmt not in ("mp4", "flv", "hls", "jpg", "mp3"):
                raise SandboxError(300000004, f"OutputFileFormat {fmt!r} is not supported")
            vendor = _validate_storage(storage)
            mix_config = input_params.get("MixConfig")
            if mode == 2 and (not isinstance(mix_config, dict) or not mix_config.get("MixOutputStreamId")):
                raise SandboxError(300000004, "MixConfig.MixOutputStreamId is required when RecordMode is 2")
            app = self._app(app_id)
            task_id = self.ids.zego_task_id()
            while task_id in app.records:
                task_id = self.ids.zego_task_id()
            begin = now - started_ago_seconds
            task = RecordTask(
                task_id=task_id,
                room_id=room_id,
                record_mode=mode,
                stream_type=stream_type,
                fmt=fmt,
                vendor=vendor,
                begin_at=begin,
                init_until=begin + self.init_seconds,
                max_idle=max_idle,
                max_record=max_record,
                app_id=app_id,
            )
            room = app.rooms.get(room_id)
            streams = list(room.streams.values()) if room else []
            if mode == 1:
                wanted = [
                    s.get("StreamId")
                    for s in input_params.get("RecordStreamList") or []
                    if isinstance(s, dict)
                ]
                if wanted:
                    streams = [s for s in streams if s.stream_id in wanted]
                sources = [(s.user_id, s.user_name, s.stream_id, 640, 360) for s in streams]
            else:
                assert isinstance(mix_config, dict)
                out_id = str(mix_config["MixOutputStreamId"])
                video = mix_config.get("MixOutputVideoConfig") or {}
                sources = [
                    (out_id, out_id, out_id, int(video.get("Width", 640)), int(video.get("Height", 360)))
                ]
                if not streams:
                    sources = []
            stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(begin)) + f"{int(begin * 1000) % 1000:03d}"
            bucket = storage.get("Bucket") or "sandbox-bucket"
            folder = str(output_params.get("OutputFolder") or "record").strip("/")
            for user_id, user_name, stream_id, width, height in sources:
                for letter, track in _TRACKS[stream_type]:
                    parts = [task_id, room_id] + ([user_id] if mode == 1 else []) + [stream_id, letter, stamp]
                    file_id = "_".join(parts) + f".{'m3u8' if fmt == 'hls' else fmt}"
                    video_id = self.ids.hex(32) if vendor in (5, 6) else ""
                    # no FileUrl for Qiniu (4) or Aliyun VOD (5), as documented
                    url = {
                        4: None,
                        5: None,
                        6: f"https://sandbox.vod2.myqcloud.com/{video_id}/{file_id}",
                    }.get(vendor, f"https://{bucket}.storage.sandbox.example/{folder}/{file_id}")

                    task.files.append(
                        RecordFile(
                            user_id=user_id,
                            user_name=user_name,
                            stream_id=stream_id,
                            file_id=file_id,
                            video_id=video_id,
                            file_url=url,
                            fmt="aac" if fmt == "mp3" else fmt,
                            track_type=track,
                            begin_ms=int(begin * 1000),
                            width=0 if track == 1 else width,
                            height=0 if track == 1 else height,
                        )
                    )
            if not streams:
                task.idle_since = begin
            app.records[task_id] = task
            self._refresh_record(task, now)
            return task_id

    def stop_record(self, app_id: int, task_id: str, now: float) -> None:
        with self._lock:
            task = self._task(app_id, task_id, now)
            if task.ended_status is not None:
                raise SandboxError(300001001, "recording task already ended")
            self._end(task, now, quit_reason=None)

    def record_status(self, app_id: int, task_id: str, now: float) -> dict[str, Any]:
        with self._lock:
            task = self._task(app_id, task_id, now)
            data: dict[str, Any] = {
                "RoomId": task.room_id,
                "RecordMode": task.record_mode,
                "StreamType": task.stream_type,
                "RecordBeginTimestamp": int(task.begin_at * 1000),
                "RecordEndTimestamp": int(task.stopped_at * 1000) if task.stopped_at is not None else 0,
                "Status": task.status(now),
            }
            if task.files:
                status = task.file_status(now)
                data["RecordFiles"] = [_file_json(f, status, self._served_url(task, f)) for f in task.files]
            return data

    def describe_tasks(
        self,
        app_id: int,
        status: int,
        start_ms: int,
        end_ms: int,
        now: float,
        *,
        room_id: str | None = None,
        page_offset: int = 1,
        page_size: int = 50,
    ) -> dict[str, Any]:
        with self._lock:
            if status not in (2, 3):
                raise SandboxError(300000004, "Status must be 2 (recording) or 3 (ended)")
            if start_ms < (now - QUERY_WINDOW_SECONDS) * 1000 - 1000:
                raise SandboxError(300000004, "StartTime must not be earlier than 3 days ago")
            if end_ms <= start_ms or end_ms - start_ms > QUERY_WINDOW_SECONDS * 1000:
                raise SandboxError(300000004, "EndTime must be after StartTime and within 3 days of it")
            page_offset = page_offset or 1
            page_size = page_size or 50
            if page_offset < 1 or not 0 < page_size <= 50:
                raise SandboxError(300000004, "PageOffset starts at 1; PageSize must be within (0, 50]")
            app = self._app(app_id)
            matched: list[dict[str, Any]] = []
            for task in app.records.values():
                self._refresh_record(task, now)
                begin_ms = int(task.begin_at * 1000)
                ended = task.ended_status is not None
                if (status == 3) != ended or not start_ms <= begin_ms <= end_ms:
                    continue
                if room_id and task.room_id != room_id:
                    continue
                matched.append(
                    {
                        "RecordBeginTimestamp": begin_ms,
                        "TaskId": task.task_id,
                        "RoomId": task.room_id,
                        "Status": task.status(now),
                    }
                )
            matched.sort(key=lambda t: t["RecordBeginTimestamp"])
            page = matched[(page_offset - 1) * page_size : page_offset * page_size]
            return {
                "PageOffset": page_offset,
                "PageSize": page_size,
                "TotalCount": len(matched),
                # "RecordTaskListData: ... TaskidList: type: array" (docs_all extended_services/
                # cloud_recording/{zh,en}/server/describe-tasks.yaml, schema and examples)
                "TaskidList": page,
            }

    def set_record_fault(
        self, app_id: int, task_id: str, *, file_status: int | None, task_status: int | None
    ) -> None:
        if file_status is not None and file_status not in FILE_FAULTS:
            raise ValueError(f"file_status must be one of {FILE_FAULTS} or null")
        if task_status is not None and task_status not in TASK_FAULTS:
            raise ValueError(f"task_status must be one of {TASK_FAULTS} or null")
        with self._lock:
            task = self._app(app_id).records.get(task_id)
            if task is None:
                raise KeyError(task_id)
            task.file_fault = file_status
            task.task_fault = task_status

    def _task(self, app_id: int, task_id: str, now: float) -> RecordTask:
        task = self._app(app_id).records.get(task_id)
        if task is None or now - task.begin_at > QUERY_WINDOW_SECONDS:
            raise SandboxError(300001000, "recording task does not exist")
        self._refresh_record(task, now)
        return task

    def _end(self, task: RecordTask, at: float, *, quit_reason: int | None) -> None:
        """Stop a task; StopRecord reports event 7 (stopped, uploading), a self-ended one event 2
        with ``quit_reason`` 3 (MaxIdleTime) or 4 (MaxRecordTime)."""
        if quit_reason is None:
            event, detail, message = 7, {}, "recording stopped, files uploading"
        else:
            event, detail, message = 2, {"quit_reason": quit_reason}, "task ended abnormally"
        self._emit(
            task.app_id,
            "recording",
            event,
            at,
            task_id=task.task_id,
            room_id=task.room_id,
            message=message,
            sequence=0,
            detail=detail,
        )
        task.stopped_at = at
        task.upload_due = at + self.upload_delay
        task.ended_status = task.task_fault or self.default_task_fault or 3
        if task.file_fault is None:
            task.file_fault = self.default_file_fault
        for f in task.files:
            f.duration_ms = max(0, int(at * 1000) - f.begin_ms)
            rate = {1: 8_000, 2: 60_000, 3: 68_000}[f.track_type]
            f.size = max(1, f.duration_ms * rate // 1000)

    def _served_url(self, task: RecordTask, f: RecordFile) -> str | None:
        """FileUrl as answered: the sandbox's own file server once it knows its URL (so downloads
        stay on loopback), else the placeholder; none where the vendor reports none."""
        if f.file_url is None or not self.media_base:
            return f.file_url
        return f"{self.media_base}/_sandbox/storage/zego/{task.task_id}/{f.file_id}"

    def storage_file(self, task_id: str, file_id: str, now: float) -> tuple[str, int] | None:
        """(format, size) of an uploaded recording file (file Status 3), for the file server."""
        with self._lock:
            for app in self._apps.values():
                task = app.records.get(task_id)
                if task is None:
                    continue
                self._refresh_record(task, now)
                f = next((f for f in task.files if f.file_id == file_id), None)
                if f is None or task.file_status(now) != 3:
                    return None
                return f.fmt, f.size
            return None

    def _refresh_record(self, task: RecordTask, now: float) -> None:
        if task.ended_status is not None:
            return
        deadlines = [task.begin_at + task.max_record]
        if task.idle_since is not None:
            deadlines.append(max(task.idle_since, task.begin_at) + task.max_idle)
        due = min(deadlines)
        if now >= due:
            self._end(task, due, quit_reason=4 if due == deadlines[0] else 3)

    def advance(self, now: float) -> None:
        """Apply recording deadlines (MaxIdleTime/MaxRecordTime) so their callbacks go out on time."""
        with self._lock:
            for app in self._apps.values():
                for task in app.records.values():
                    self._refresh_record(task, now)

    # -- introspection -------------------------------------------------------------------------

    def snapshot(self, now: float) -> dict[str, Any]:
        with self._lock:
            rooms: list[dict[str, Any]] = []
            mixes: list[dict[str, Any]] = []
            records: list[dict[str, Any]] = []
            for app_id, app in self._apps.items():
                self._refresh_mixes(app, now)
                for room in app.rooms.values():
                    rooms.append(
                        {
                            "app_id": app_id,
                            "room_id": room.room_id,
                            "users": list(room.users),
                            "created_at": room.created_at,
                            "streams": [
                                {"stream_id": s.stream_id, "user_id": s.user_id}
                                for s in room.streams.values()
                            ],
                        }
                    )
                for mix in app.mixes.values():
                    mixes.append(
                        {
                            "app_id": app_id,
                            "task_id": mix.task_id,
                            "user_id": mix.user_id,
                            "inputs": [i.get("StreamId") or i.get("StreamUrl") for i in mix.inputs],
                        }
                    )
                for task in app.records.values():
                    self._refresh_record(task, now)
                    if now - task.begin_at > QUERY_WINDOW_SECONDS:
                        continue
                    records.append(
                        {
                            "app_id": app_id,
                            "task_id": task.task_id,
                            "room_id": task.room_id,
                            "status": task.status(now),
                            "file_status": task.file_status(now) if task.files else None,
                            "files": len(task.files),
                        }
                    )
            return {
                "rooms": rooms,
                "mixes": mixes,
                "recordings": records,
                "uploads_pending": [r["task_id"] for r in records if r["file_status"] == 2],
                "counts": {
                    "rooms": len(rooms),
                    "users": sum(len(r["users"]) for r in rooms),
                    "streams": sum(len(r["streams"]) for r in rooms),
                    "mixes": len(mixes),
                    "recordings": sum(1 for r in records if r["status"] in (1, 2)),
                },
            }


def _stream_ref(item: Any, code: int) -> str:
    if not isinstance(item, dict):
        raise SandboxError(code, "each entry must be an object")
    ref = item.get("StreamId") or item.get("StreamUrl")
    if not isinstance(ref, str) or not ref:
        raise SandboxError(code, "each entry needs StreamId or StreamUrl")
    return ref


def _int_field(
    data: dict[str, Any],
    name: str,
    *,
    default: int | None = None,
    required: bool = False,
    allowed: tuple[int, ...] | None = None,
    low: int | None = None,
    high: int | None = None,
) -> int:
    value = data.get(name)
    if value is None:
        if required:
            raise SandboxError(300000004, f"{name} is required")
        assert default is not None
        return default
    if not isinstance(value, int) or isinstance(value, bool):
        raise SandboxError(300000004, f"{name} must be an integer")
    if allowed is not None and value not in allowed:
        raise SandboxError(300000004, f"{name} must be one of {list(allowed)}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise SandboxError(300000004, f"{name} must be within [{low}, {high}]")
    return value


def _validate_storage(storage: dict[str, Any]) -> int:
    vendor = _int_field(storage, "Vendor", required=True, allowed=tuple(range(1, 11)))
    if vendor in (1, 2, 3, 4, 7, 9, 10):
        needed = ["Region", "Bucket", "AccessKeyId", "AccessKeySecret"] + (
            ["EndPoint"] if vendor == 10 else []
        )
    elif vendor == 8:
        needed = ["Bucket", "AccessKeyId", "AccessKeySecret"]
    elif vendor == 5:
        needed = ["AlibabaCloudVodParams"]
    else:
        needed = ["TencentCloudVodParams"]
    missing = [n for n in needed if not storage.get(n)]
    if missing:
        raise SandboxError(300000004, f"StorageParams for Vendor {vendor} needs {', '.join(missing)}")
    return vendor


def _file_json(f: RecordFile, status: int, url: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "UserId": f.user_id,
        "UserName": f.user_name,
        "StreamId": f.stream_id,
        "FileId": f.file_id,
        "VideoId": f.video_id,
        "OutputFileFormat": f.fmt,
        "FileSize": f.size,
        "Duration": f.duration_ms,
        "ResolutionWidth": f.width,
        "ResolutionHeight": f.height,
        "MediaTrackType": f.track_type,
        "BeginTimestamp": f.begin_ms,
        "Status": status,
    }
    if url is not None:
        item["FileUrl"] = url
    return item
