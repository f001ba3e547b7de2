"""The :class:`~airflow_provider_rtc.identity.ResourceRef` of an inventory item, a plan target or a
result: discovery, the plan, re-confirmation and verification all key resources by it.

A TRTC room's id type comes from ``ids["str_room"]`` when the item carries it, else from the JSON
type of ``room_id`` (a number is the numeric room, a string the string room), never from its text.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_rtc.identity import ResourceRef, room_id_type

#: the id field of each kind (Live streams: the stream name; see :func:`ref_of`)
_ID_FIELD = {
    "rooms": "room_id",
    "users": "user_id",
    "streams": "stream_id",
    "mixes": "task_id",
    "recordings": "task_id",
    "tasks": "task_id",
}


def id_type_of(cloud: str, ids: dict[str, Any]) -> str:
    """``"int"``/``"str"`` for anything keyed by a TRTC room, ``""`` elsewhere."""
    if cloud != "trtc" or ids.get("room_id") is None:
        return ""
    flag = ids.get("str_room")
    return room_id_type(ids["room_id"], str_room=flag if isinstance(flag, bool) else None)


def ref_of(cloud: str, app_id: Any, kind: str, ids: dict[str, Any]) -> ResourceRef:
    """The ref of one item (``ids`` as the inventory holds them).

    TRTC streams are keyed by their user (one stream per user and room in the callbacks); a Live
    stream by ``domain/app/stream`` (two push paths may share a stream name); a Live mix by its
    session id.
    """
    room = "" if ids.get("room_id") is None or kind == "rooms" else str(ids["room_id"])
    if cloud == "live" and kind == "streams":
        path = [str(ids.get(k) or "") for k in ("domain_name", "app_name", "stream_name")]
        ident = "/".join(path) if any(path[:2]) else path[2]
    elif cloud == "live" and kind == "mixes":
        ident = str(ids.get("session_id") or ids.get("task_id") or "")
    elif cloud == "trtc" and kind == "streams":
        ident = str(ids.get("user_id") or "")
    else:
        ident = str(ids.get(_ID_FIELD[kind]) or "")
    return ResourceRef(cloud, str(app_id), kind, ident, id_type_of(cloud, ids), room)


def room_ref_of(cloud: str, app_id: Any, ids: dict[str, Any]) -> ResourceRef | None:
    """The room an item lives in, or None (Live streams, mixes)."""
    if ids.get("room_id") is None or cloud == "live":
        return None
    return ResourceRef(cloud, str(app_id), "rooms", str(ids["room_id"]), id_type_of(cloud, ids))


SINGULAR = {
    "rooms": "room",
    "users": "user",
    "streams": "stream",
    "mixes": "mix",
    "recordings": "recording",
    "tasks": "task",
    "media": "media",
    "objects": "object",
}


def label(ref: ResourceRef) -> str:
    """How the plan and the results show a ref: ``trtc:1400000001 room 1234 (int)`` vs ``"1234" (str)``."""

    def typed(value: str, id_type: str) -> str:
        if id_type == "int":
            return f"{value} (int)"
        if id_type == "str":
            return f'"{value}" (str)'
        return value

    if ref.kind == "rooms":
        return f"{ref.cloud}:{ref.app_id} room {typed(ref.id, ref.id_type)}"
    where = f" in room {typed(ref.room, ref.id_type)}" if ref.room else ""
    return f"{ref.cloud}:{ref.app_id} {SINGULAR[ref.kind]} {ref.id}{where}"
