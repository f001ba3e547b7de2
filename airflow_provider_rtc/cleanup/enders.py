"""The ender table: one row per destructive API, the one place that says how a resource is ended.

A row joins what the rest of the package needs to end one kind of target:

* ``api``: the catalog entry (the vendor's facts stay there: rate, gone codes, ``batch``);
* ``cloud``/``kind``/``id_type``: the typed identity (:class:`~airflow_provider_rtc.identity.ResourceRef`)
  of what it ends; ``fields`` the ids a target carries, in the hook method's argument order, and
  ``options`` the optional ones passed as keywords;
* ``batch_field``: the list field chunked into calls of ``api.batch`` (RemoveUser: 10 users);
* ``stage``: the plan's stage (the stage-by-stage order, kept for the plan table and the example DAG);
* ``after``: the kinds that must have ended first **in the same room** (for targets without a room,
  the same application): a room after its users, streams, mixes, recordings and tasks; streams and
  users after the mixes that read them. The dependency-aware executor releases a target once every
  target of those kinds in its scope has an answer;
* ``covers``: kinds a call ends as a side effect (DismissRoom removes the room's users), so the plan
  spends no call on them;
* ``hook``/``method``: which hook of a connection (``access.hooks[hook]``) and which method to call;
* ``conf``/``step``: the ``end_of_event_cleanup`` conf kind and task id, when the example DAG ends it.

Every row's result is read the same way (:mod:`.result`): an answer is ``done`` with its
``RequestId``, a code in ``api.gone`` is ``already_gone``, anything else ``failed``.

Adding a destructive API: its catalog entry, its hook method, one row here, a sandbox handler and
a test (``docs/cleanup-engine.md`` walks through StopAITranscription).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from airflow_provider_rtc import catalog
from airflow_provider_rtc.identity import ID_INT, ID_STR, ResourceRef

#: the plan's stages, in order (see :mod:`.plan`)
STAGES = ("mixes", "recordings", "streams and users", "rooms")
#: what results call each cloud (``product``)
PRODUCTS = {"trtc": "Tencent Cloud TRTC", "live": "Tencent Cloud Live", "zego": "ZEGOCLOUD"}
_ROOM_CONTENTS = ("mixes", "recordings", "tasks", "streams", "users")


@dataclass(frozen=True)
class Ender:
    """One destructive API (see the module docstring for each field)."""

    api: catalog.Api
    cloud: str
    kind: str
    stage: str
    hook: str
    method: str
    fields: tuple[str, ...]
    options: tuple[str, ...] = ()
    id_type: str = ""
    batch_field: str | None = None
    after: tuple[str, ...] = ()
    covers: tuple[str, ...] = ()
    conf: str | None = None
    step: str | None = None

    @property
    def action(self) -> str:
        return self.api.action

    @property
    def product(self) -> str:
        return PRODUCTS[self.cloud]

    @property
    def batch(self) -> int | None:
        """Targets per call (the catalog's fact), for ``batch_field``; None: one target per call."""
        return self.api.batch if self.batch_field else None

    @property
    def qps(self) -> float:
        """The documented rate (10/s when the catalog documents none)."""
        return float(self.api.qps) if self.api.qps else 10.0

    def call(
        self, hooks: dict[str, Any], ids: dict[str, Any], **options: Any
    ) -> Callable[[], dict[str, Any]]:
        """The call ending ``ids`` with a connection's ``hooks``; None ``options`` are left out."""
        method = getattr(hooks[self.hook], self.method)
        args = [ids[f] for f in self.fields]
        kwargs = {k: options[k] for k in self.options if options.get(k) is not None}
        if self.action == "CloseRoom" and "room_close_callback" not in kwargs:
            kwargs["room_close_callback"] = True  # the receiver learns the room closed
        return lambda: method(*args, **kwargs)

    def refs(self, app_id: Any, ids: dict[str, Any]) -> list[ResourceRef]:
        """The typed identities one call ends (a RemoveUser chunk: one ref per user)."""
        app = str(app_id or "-")
        room = ids.get("room_id")
        room_text = "" if room is None or self.kind == "rooms" or self.cloud == "live" else str(room)
        id_type = self.id_type if room is not None else ""
        if self.batch_field:
            users = ids[self.batch_field]
            return [ResourceRef(self.cloud, app, self.kind, str(u), id_type, room_text) for u in users]
        return [ResourceRef(self.cloud, app, self.kind, _ident(self, ids), id_type, room_text)]


def _ident(ender: Ender, ids: dict[str, Any]) -> str:
    if ender.cloud == "live" and ender.kind == "streams":
        path = [str(ids.get(k) or "") for k in ("domain_name", "app_name", "stream_name")]
        return "/".join(path)
    return str(ids[ender.fields[-1] if ender.kind != "users" else "user_id"])


def _row(api: catalog.Api, cloud: str, kind: str, stage: str, hook: str, method: str, **kw: Any) -> Ender:
    if kind == "rooms":
        kw.setdefault("after", _ROOM_CONTENTS)
    elif kind in ("streams", "users"):
        kw.setdefault("after", ("mixes",))
    return Ender(api, cloud, kind, stage, hook, method, **kw)


_ROOM, _USERS = ("room_id",), ("room_id", "user_ids")
_TASK = ("task_id",)
ROWS: tuple[Ender, ...] = (
    # -- mixes: they read streams, so they end before them
    _row(catalog.CANCEL_COMMON_MIX_STREAM, "live", "mixes", "mixes", "live", "cancel_common_mix_stream",
         fields=("session_id",), conf="live_mix_sessions", step="cancel_live_mix"),
    _row(catalog.STOP_MIX, "zego", "mixes", "mixes", "rtc", "stop_mix", fields=_TASK,
         options=("user_id", "sequence"), conf="zego_mixes", step="stop_zego_mix"),
    _row(catalog.STOP_PUBLISH_CDN_STREAM, "trtc", "tasks", "mixes", "trtc", "stop_publish_cdn_stream",
         fields=_TASK),
    # -- recordings and AI robots: stopped while their room exists, so their output is finalised
    _row(catalog.DELETE_CLOUD_RECORDING, "trtc", "recordings", "recordings", "trtc",
         "delete_cloud_recording", fields=_TASK, conf="trtc_recordings", step="stop_trtc_recording"),
    _row(catalog.STOP_RECORD, "zego", "recordings", "recordings", "record", "stop_record", fields=_TASK,
         conf="zego_recordings", step="stop_zego_recording"),
    _row(catalog.STOP_AI_TRANSCRIPTION, "trtc", "tasks", "recordings", "trtc", "stop_ai_transcription",
         fields=_TASK, conf="trtc_ai_transcriptions", step="stop_trtc_ai_transcription"),
    # -- streams and users
    _row(catalog.DROP_LIVE_STREAM, "live", "streams", "streams and users", "live", "drop_live_stream",
         fields=("stream_name", "domain_name", "app_name"), conf="live_streams", step="drop_live_stream"),
    _row(catalog.STOP_STREAM_INGEST, "trtc", "tasks", "streams and users", "trtc", "stop_stream_ingest",
         fields=_TASK),
    _row(catalog.DELETE_STREAM, "zego", "streams", "streams and users", "rtc", "delete_stream",
         fields=("room_id", "user_id", "stream_id"), options=("user_name",), conf="zego_streams",
         step="delete_zego_stream"),
    _row(catalog.KICKOUT_USER, "zego", "users", "streams and users", "rtc", "kickout_user", fields=_USERS,
         options=("custom_reason",), batch_field="user_ids", conf="zego_kicks", step="kick_zego_users"),
    _row(catalog.REMOVE_USER, "trtc", "users", "streams and users", "trtc", "remove_user", fields=_USERS,
         id_type=ID_INT, batch_field="user_ids"),
    _row(catalog.REMOVE_USER_BY_STR_ROOM_ID, "trtc", "users", "streams and users", "trtc",
         "remove_user_by_str_room_id", fields=_USERS, id_type=ID_STR, batch_field="user_ids"),
    # -- rooms: last; ending one ends everyone (and, on ZEGO, every stream) in it
    _row(catalog.DISMISS_ROOM, "trtc", "rooms", "rooms", "trtc", "dismiss_room", fields=_ROOM,
         id_type=ID_INT, covers=("users", "streams"), conf="trtc_rooms", step="dismiss_trtc_room"),
    _row(catalog.DISMISS_ROOM_BY_STR_ROOM_ID, "trtc", "rooms", "rooms", "trtc",
         "dismiss_room_by_str_room_id", fields=_ROOM, id_type=ID_STR, covers=("users", "streams")),
    _row(catalog.CLOSE_ROOM, "zego", "rooms", "rooms", "rtc", "close_room", fields=_ROOM,
         options=("custom_reason", "room_close_callback"), covers=("users", "streams"), conf="zego_rooms",
         step="close_zego_room"),
)  # fmt: skip

#: the rows by action (actions are unique across the three clouds' destructive APIs)
ENDERS: dict[str, Ender] = {row.action: row for row in ROWS}
#: the rows the example DAG's conf names, by conf kind, in stage order
BY_CONF: dict[str, Ender] = {
    row.conf: row for stage in STAGES for row in ROWS if row.stage == stage and row.conf is not None
}


def ender(action: str) -> Ender:
    """The row of ``action``; ValueError names the known ones."""
    try:
        return ENDERS[action]
    except KeyError:
        raise ValueError(f"no destructive API {action!r}; known: {', '.join(sorted(ENDERS))}") from None


def ender_for(cloud: str, kind: str, id_type: str = "") -> Ender:
    """The row that ends a ``kind`` on ``cloud``; for TRTC rooms and users the room's id type picks
    the API (``DismissRoom`` or ``DismissRoomByStrRoomId``): the one place that choice is made."""
    rows = [r for r in ROWS if r.cloud == cloud and r.kind == kind]
    if any(r.id_type for r in rows):
        rows = [r for r in rows if r.id_type == (id_type or ID_INT)]
    if len(rows) != 1:
        raise ValueError(f"no single API ends {kind} on {cloud} (id type {id_type or '-'})")
    return rows[0]


def chunks(values: list[Any], size: int | None) -> list[list[Any]]:
    """``values`` in calls of at most ``size`` (the row's ``batch``)."""
    step = size or max(len(values), 1)
    return [values[i : i + step] for i in range(0, len(values), step)]
