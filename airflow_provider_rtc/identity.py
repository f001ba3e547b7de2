"""Which resource, exactly: cloud, application, kind, id and (TRTC rooms) whether the id is numeric.

Pure (no Airflow, no I/O): the selector, discovery, the receiver's inventory, the plan, the bulk engine
and verification all compare resources through :class:`ResourceRef`, never as bare strings. In TRTC a
numeric room ``1234`` and a string room ``"1234"`` are two rooms (``DismissRoom`` vs
``DismissRoomByStrRoomId``), and two SDKAppIDs (or ZEGO AppIDs, or Live push domains) can hold rooms
with the same id: two refs are equal only when every field matches.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

#: ``vod``: Tencent Cloud VOD, where TRTC stores recordings (app: the VOD SubAppId); ``lake``: the
#: object stores recordings are copied to or written in (app: the configured prefix). Only the
#: retention run deletes there; discovery, the inventory and the plan know the first three.
CLOUDS = ("trtc", "live", "zego", "vod", "lake")
#: ``tasks``: a cloud task that is neither a recording nor a mix (TRTC relay to CDN, stream ingest,
#: AI transcription), keyed by its TaskId; ``media``: a VOD media, keyed by its FileId (not a
#: recording task: its TaskId is another id space); ``objects``: a stored object, keyed by its URI
KINDS = ("rooms", "users", "streams", "mixes", "recordings", "tasks", "media", "objects")
#: ``id_type`` of a TRTC room (and of anything keyed by one): the id space it lives in
ID_INT = "int"
ID_STR = "str"
ID_TYPES = (ID_INT, ID_STR, "")


def room_id_type(room_id: Any, *, str_room: bool | None = None) -> str:
    """The id space of a TRTC room id as the cloud gave it: a JSON number is numeric, a string is not.

    ``str_room`` (when known, e.g. from ``RoomIdType`` or the ``*ByStrRoomId`` API used) wins over the
    value's Python type: ``"1234"`` read from a query string may still name the numeric room.
    """
    if str_room is not None:
        return ID_STR if str_room else ID_INT
    if isinstance(room_id, bool):
        raise TypeError("a room id is not a boolean")
    return ID_INT if isinstance(room_id, int) else ID_STR


@dataclass(frozen=True, order=True)
class ResourceRef:
    """One resource of one application of one cloud.

    ``id`` is the resource's own id as text (a user ``room/user`` pair is two refs: the room's and the
    user's ``id`` with ``room`` set). ``id_type`` is ``"int"``/``"str"`` for TRTC rooms and for items keyed
    by a TRTC room, ``""`` elsewhere.
    """

    cloud: str
    app_id: str
    kind: str
    id: str
    id_type: str = ""
    #: the room the item belongs to (users, streams, recordings, ZEGO mixes), "" for rooms
    room: str = ""

    def __post_init__(self) -> None:
        if self.cloud not in CLOUDS:
            raise ValueError(f"cloud must be one of {', '.join(CLOUDS)}, not {self.cloud!r}")
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.id_type not in ID_TYPES:
            raise ValueError(f"id_type must be one of 'int', 'str' or '', not {self.id_type!r}")
        if not str(self.app_id):
            raise ValueError("app_id must not be empty: a resource belongs to one application")

    @property
    def room_ref(self) -> ResourceRef:
        """The ref of the room this item lives in (itself for a room)."""
        if self.kind == "rooms":
            return self
        return ResourceRef(self.cloud, self.app_id, "rooms", self.room, self.id_type)

    def as_dict(self) -> dict[str, str]:
        """Every field, in declaration order (cloud, app_id, kind, id, id_type, room)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ResourceRef:
        return cls(
            str(raw["cloud"]),
            str(raw["app_id"]),
            str(raw["kind"]),
            str(raw["id"]),
            str(raw.get("id_type") or ""),
            str(raw.get("room") or ""),
        )

    def __str__(self) -> str:
        typed = f"({self.id_type})" if self.id_type else ""
        room = f" in room {self.room}" if self.room and self.kind != "rooms" else ""
        return f"{self.cloud}:{self.app_id}:{self.kind}:{self.id}{typed}{room}"
