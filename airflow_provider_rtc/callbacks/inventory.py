"""The lifecycle inventory: what is live per cloud and application, kept from lifecycle callbacks.

Every callback becomes :class:`Update` objects on *items* (``rooms``, ``users``, ``streams``,
``mixes``, ``recordings``), keyed per cloud and application. An item stores whether it is live, when
it started, when anything last happened to it (``last_activity``) and the time of the event that set
its state. Events are applied by their own timestamps, not by arrival: a late "user entered" older
than the "room dismissed" already applied cannot revive the room, and a re-delivery changes nothing.
A user or stream event also says its room is live (a lost "room created" does not hide the room);
a room that ends takes its users and streams with it.

Reconciliation (:mod:`airflow_provider_rtc.discovery.reconcile`, on a worker) confirms or corrects
items with the clouds' list APIs and posts its corrections back here (:meth:`LifecycleStore.correct`),
so a lost "room dismissed" does not keep a room alive in the store, and every correction is kept in
``lifecycle_corrections`` with its reason.

Event mapping (trtc.io/document/39558, ZEGO callback pages, CSS 267/38081):

* TRTC 101/102 room created/dismissed, 103/104 user entered/left, 201/202 video stream started/
  stopped (a publisher is in the room, so 201 also says the user is; 203-206 audio/aux: activity),
  301 recording started, 302 recording stopped (its
  later upload events are activity only).
* ZEGO ``room_create``/``room_close``, ``room_login``/``room_logout``, ``stream_create``/
  ``stream_close``, ``mix_start``/``mix_stop`` (``task_id`` is ``"appid:taskid"``), and cloud-recording
  ``event_type`` 2/5/7 (ended); ZEGO sends no "recording started" callback (DescribeTasks finds them).
* Live ``event_type`` 1 push / 0 stop-push, one stream per domain/app/stream name.

Times you can trust:

* Every ``started_ms`` says where it came from (``started_source``): ``"cloud"`` when a creation
  callback or a list API's create time gave it (TRTC 101/103/201/301, ZEGO ``room_create``/
  ``room_login``/``stream_create``/``mix_start``, Live push, DescribeSimpleStreamList ``CreateTime``,
  DescribeTasks ``RecordBeginTimestamp``, Live ``PublishTime``), ``"first_seen"`` when the item was
  only noticed then (a user event saying its room is live, a list API without a create time): the
  real start is at or before it, so it is an upper bound only. A later creation callback upgrades it.
* No stored time is later than the moment the store received it: an event dated after its receipt
  is applied at the receipt time (:data:`.lifecycle_store.FUTURE_SKEW_MS`, 5 minutes, only decides
  whether a clamped start may still be called "cloud" and whether to warn). Clamping, not refusing,
  because the event itself is authentic for TRTC/ZEGO (a refused callback is retried 5 times, then
  lost) and it cannot have happened after we received it; so a callback dated ten years ahead can
  never again outrank a later callback or an observation made by a list API now.
* A Live stop-push proves nothing about its body (the signature is MD5(key + t)): a stream it ends
  is kept ``end_unconfirmed`` until reconciliation asks DescribeLiveStreamState; reads return it
  (``live`` false) so reconciliation can confirm it or bring the stream back.

Keys are typed (:func:`item_key`): TRTC numeric room 1234 and string room "1234" are two rooms.
The SQLite store is :class:`~airflow_provider_rtc.callbacks.lifecycle_store.LifecycleStore`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_rtc.identity import room_id_type
from airflow_provider_rtc.validation import lenient_int

#: ``started_source`` values: a creation time the cloud gave, or only when the item was first noticed
CLOUD = "cloud"
FIRST_SEEN = "first_seen"

KINDS = ("rooms", "users", "streams", "mixes", "recordings")


@dataclass(frozen=True)
class Update:
    """One fact about one item: live (True), ended (False) or just activity (None), as of ``at_ms``."""

    kind: str
    ids: dict[str, Any]
    live: bool | None
    at_ms: int
    reason: str = ""
    source: str = "callback"
    #: when the item really started, if the source says (a list API's create time); else ``at_ms``
    started_ms: int | None = None
    #: ``"cloud"`` when this update's start time is the item's creation time, else ``"first_seen"``
    started_source: str = FIRST_SEEN

    @property
    def room_id(self) -> str:
        return room_column(self.ids)

    @property
    def key(self) -> str:
        return item_key(self.kind, self.ids)


def _typed_room(ids: dict[str, Any]) -> tuple[str, str] | None:
    room = ids.get("room_id")
    if room is None:
        return None
    str_room = ids.get("str_room")
    return str(room), room_id_type(room, str_room=None if str_room is None else bool(str_room))


def room_column(ids: dict[str, Any]) -> str:
    """The typed room an item belongs to (``int:1234`` / ``str:1234``), "" for none: the room
    cascade and late-event checks compare it, so a numeric and a string room never touch."""
    typed = _typed_room(ids)
    return "" if typed is None or typed[0] == "" else f"{typed[1]}:{typed[0]}"


def item_key(kind: str, ids: dict[str, Any]) -> str:
    """A stable, typed key from the ids that identify an item of ``kind``.

    The room id is stored as text with its id type (:func:`~airflow_provider_rtc.identity.room_id_type`,
    ``str_room`` winning over the value's type), so TRTC numeric room 1234 and string room "1234" are
    two items, and ``{"room_id": "1234", "str_room": false}`` is the numeric room. A mix is keyed by
    its task only: ``mix_stop`` need not repeat the ``channel_id`` that named its room.
    """
    key = {k: v for k, v in ids.items() if k != "str_room"}
    if kind == "mixes":
        key = {"task_id": key.get("task_id")}
    elif "room_id" in key:
        typed = _typed_room(ids)
        assert typed is not None
        key["room_id"], key["room_id_type"] = typed
    return json.dumps(key, separators=(",", ":"), sort_keys=True)


@dataclass
class Item:
    cloud: str
    app_id: str
    kind: str
    ids: dict[str, Any]
    live: bool
    started_ms: int | None
    last_activity_ms: int
    state_ms: int
    sources: list[str] = field(default_factory=list)
    ended_reason: str | None = None
    started_source: str = FIRST_SEEN
    end_unconfirmed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "cloud": self.cloud,
            "app_id": self.app_id,
            "kind": self.kind,
            "ids": self.ids,
            "live": self.live,
            "started_ms": self.started_ms,
            "started_source": self.started_source,
            "last_activity_ms": self.last_activity_ms,
            "state_ms": self.state_ms,
            "sources": self.sources,
            "ended_reason": self.ended_reason,
            "end_unconfirmed": self.end_unconfirmed,
        }


# -- callbacks -> updates ----------------------------------------------------------------------------


def _int(value: Any) -> int | None:
    return lenient_int(value.strip() if isinstance(value, str) else value)


def trtc_updates(event: dict[str, Any]) -> list[Update]:
    """Updates from one TRTC callback body (groups 1, 2 and 3)."""
    info = event.get("EventInfo") if isinstance(event.get("EventInfo"), dict) else {}
    assert isinstance(info, dict)
    etype = _int(event.get("EventType"))
    room = info.get("RoomId")
    if etype is None or room in (None, ""):
        return []
    at = (
        _int(info.get("EventMsTs"))
        or (_int(info.get("EventTs")) or 0) * 1000
        or _int(event.get("CallbackTs"))
        or 0
    )
    room_ids = {"room_id": room, "str_room": isinstance(room, str)}
    user = str(info.get("UserId") or "")
    user_ids = {"room_id": room, "user_id": user}
    # a room said live by a user/stream/recording event was only first seen then
    room_live = Update("rooms", room_ids, True, at)
    task = str(info.get("TaskId") or "")
    table: dict[int, list[Update]] = {
        101: [Update("rooms", room_ids, True, at, started_source=CLOUD)],
        102: [Update("rooms", room_ids, False, at, "room dismissed (102)")],
        103: [room_live, Update("users", user_ids, True, at, started_source=CLOUD)],
        # "104 includes 202 and 204" (trtc.io/39558): leaving ends the user's stream too
        104: [
            Update("users", user_ids, False, at, "user left (104)"),
            Update("streams", user_ids, False, at, "user left (104)"),
            Update("rooms", room_ids, None, at),
        ],
        201: [
            room_live,
            Update("users", user_ids, True, at),
            Update("streams", user_ids, True, at, started_source=CLOUD),
        ],
        202: [
            Update("streams", user_ids, False, at, "video stopped (202)"),
            Update("rooms", room_ids, None, at),
        ],
    }
    if etype in table:
        if not user and etype in (103, 104, 201, 202):  # no user to attach it to: room activity only
            return [Update("rooms", room_ids, None, at)]
        return table[etype]
    if etype in (203, 204, 205, 206):
        return [Update("rooms", room_ids, None, at), Update("users", user_ids, None, at)]
    if task and 300 < etype < 400:
        rec = {"room_id": room, "task_id": task}
        if etype == 301:
            return [room_live, Update("recordings", rec, True, at, started_source=CLOUD)]
        if etype == 302:
            return [Update("recordings", rec, False, at, "recording stopped (302)")]
        return [Update("recordings", rec, None, at)]
    return []


def _zego_ms(event: dict[str, Any], *names: str) -> int:
    for name in names:
        value = _int(event.get(name))
        if value:
            return value
    return (_int(event.get("timestamp")) or int(time.time())) * 1000


#: ZEGO ``UserRole``/``user_role`` 4 (administrator: "mainly in cloud recording and stream
#: moderation; the client SDK's user APIs filter this type out"; docs_all core_products/
#: real-time-voice-video/zh/server/callback/room/logged-in.mdx, api-reference/room/
#: describe-user-list.yaml): robots, not users to count or kick
ZEGO_ADMIN_ROLE = 4


def zego_admin(role: Any) -> bool:
    return _int(role) == ZEGO_ADMIN_ROLE


def zego_updates(event: dict[str, Any], app_id: str) -> list[Update]:
    """Updates from one ZEGO callback (RTC events by ``event``, recording status by ``event_type``).

    Each event's own time field is read first: ``stream_close`` also carries ``create_time_ms`` and
    ``room_logout`` also ``login_time`` (docs_all core_products/real-time-voice-video/zh/server/
    callback/stream/destroyed.mdx, callback/room/logged-out.mdx), which are the stream's and the
    login's start, not the moment of the close or logout.
    """
    name = str(event.get("event") or "")
    room = str(event.get("room_id") or "")
    room_ids = {"room_id": room}
    if name == "room_create":
        at = _zego_ms(event, "room_create_time")
        return [Update("rooms", room_ids, True, at, started_source=CLOUD)]
    if name == "room_close":
        return [Update("rooms", room_ids, False, _zego_ms(event, "room_close_time"), "room closed")]
    if name in ("room_login", "room_logout"):
        login = name == "room_login"
        at = _zego_ms(event, "login_time") if login else _zego_ms(event, "logout_time")
        user = {"room_id": room, "user_id": str(event.get("user_account") or event.get("user_id") or "")}
        if zego_admin(event.get("user_role")):  # a recording/moderation robot: the room, no user
            return [Update("rooms", room_ids, True if login else None, at)]
        if login:
            return [
                Update("rooms", room_ids, True, at),
                Update("users", user, True, at, started_source=CLOUD),
            ]
        return [Update("users", user, False, at, "user logged out"), Update("rooms", room_ids, None, at)]
    if name in ("stream_create", "stream_close"):
        create = name == "stream_create"
        at = _zego_ms(event, "create_time_ms") if create else _zego_ms(event, "destroy_timemillis")
        stream = {
            "room_id": room,
            "user_id": str(event.get("user_id") or ""),
            "stream_id": str(event.get("stream_id")),
        }
        if create:
            return [
                Update("rooms", room_ids, True, at),
                Update("streams", stream, True, at, started_source=CLOUD),
            ]
        reason = f"stream closed (type {event.get('type')})"
        return [Update("streams", stream, False, at, reason), Update("rooms", room_ids, None, at)]
    if name in ("mix_start", "mix_stop"):
        task = str(event.get("task_id") or "")
        if ":" in task and task.split(":", 1)[0] == app_id:
            task = task.split(":", 1)[1]
        # "channel_id: channel ID = the client's RoomID" (docs_all .../callback/stream-mixing/started.mdx,
        # stopped.mdx): the mix's room; not part of its key (item_key), so a stop without it matches
        mix: dict[str, Any] = {"task_id": task}
        if event.get("channel_id") not in (None, ""):
            mix["room_id"] = str(event["channel_id"])
        start = name == "mix_start"
        at = _zego_ms(event)
        reason = "" if start else "mix stopped"
        return [Update("mixes", mix, start, at, reason, started_source=CLOUD if start else FIRST_SEEN)]
    etype = _int(event.get("event_type"))
    task = str(event.get("task_id") or "")
    if task and etype is not None and not name:
        rec = {"room_id": room, "task_id": task}
        at = _zego_ms(event)
        if etype in (2, 5, 7):
            return [Update("recordings", rec, False, at, f"recording ended (event {etype})")]
        return [Update("recordings", rec, None, at)]
    return []


def live_updates(event: dict[str, Any]) -> list[Update]:
    """Updates from one Live push (``event_type`` 1) or stop-push (0) callback."""
    etype = _int(event.get("event_type"))
    name = str(event.get("stream_id") or event.get("channel_id") or "")
    if etype not in (0, 1) or not name:
        return []
    ids = {
        "stream_name": name,
        "domain_name": str(event.get("app") or ""),
        "app_name": str(event.get("appname") or "live"),
    }
    at = (_int(event.get("event_time")) or int(time.time())) * 1000
    push = etype == 1
    reason = "" if push else "push stopped"
    return [Update("streams", ids, push, at, reason, started_source=CLOUD if push else FIRST_SEEN)]
