"""The inputs of a cleanup, read into targets through the ender table, validated in one pass.

Three entrances, one reader: the run conf of ``end_of_event_cleanup`` (:func:`event_targets`, one
conf kind per ender row with a ``conf`` name), operator arguments (:func:`row_targets`: the items of
``BulkEndOperator``), and discovery's inventory (:func:`~airflow_provider_rtc.cleanup.plan.build_plan`).

Ending an event touches three clouds in order; a typo found halfway would leave the event half
ended. So every item is checked before the first call, and the error names the item
(``zego_streams[1]: missing 'stream_id'``), not just the rule. Each kind is shaped for its mapped
operator (``zego_kicks`` split into calls of at most the catalog's ``batch``, 5 users).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from airflow_provider_rtc import validation as v
from airflow_provider_rtc.cleanup.enders import BY_CONF, Ender, chunks, ender
from airflow_provider_rtc.exceptions import RtcValidationError

#: users per KickoutUser call: the catalog's ``batch``, read through the row
KICK_BATCH = ender("KickoutUser").batch or 1

#: JSON schemas of the object items, for the trigger form (``Param(items=...)``) and the docs
ITEM_SCHEMAS: dict[str, dict[str, Any]] = {
    "live_streams": {
        "type": "object",
        "properties": {
            "stream_name": {"type": "string"},
            "domain_name": {"type": "string"},
            "app_name": {"type": "string", "default": "live"},
        },
    },
    "zego_mixes": {
        "type": "object",
        "properties": {"mix_task_id": {"type": "string"}, "user_id": {"type": ["string", "null"]}},
    },
    "zego_streams": {
        "type": "object",
        "properties": {
            "room_id": {"type": "string"},
            "user_id": {"type": "string"},
            "stream_id": {"type": "string"},
        },
    },
    "zego_kicks": {
        "type": "object",
        "properties": {
            "room_id": {"type": "string"},
            "user_ids": {"type": "array", "items": {"type": "string"}},
        },
    },
}


def _fields(item: Any, name: str, required: tuple[str, ...]) -> Mapping[str, Any]:
    """An object item (a JSON-object string from a list-of-lines form field is parsed)."""
    if isinstance(item, str) and item.strip().startswith("{"):
        try:
            item = json.loads(item)
        except ValueError:
            raise RtcValidationError(name, "is not valid JSON", item) from None
    if not isinstance(item, Mapping):
        raise RtcValidationError(name, f"must be an object with {', '.join(required)}", item)
    for key in required:
        if item.get(key) in (None, ""):
            raise RtcValidationError(
                name, f"missing {key!r} (each item needs {', '.join(required)})", dict(item)
            )
    return item


def _ids(check: Callable[[Any, str], Any]) -> Callable[[Any, str], list[Any]]:
    def one(item: Any, name: str) -> list[Any]:
        return [check(item, name)]

    return one


def _live_stream(item: Any, name: str) -> list[dict[str, Any]]:
    f = _fields(item, name, ("stream_name", "domain_name"))
    return [
        {
            "stream_name": v.zego_id(f["stream_name"], f"{name}.stream_name"),
            "domain_name": v.zego_id(f["domain_name"], f"{name}.domain_name"),
            "app_name": v.zego_id(f.get("app_name") or "live", f"{name}.app_name"),
        }
    ]


def _zego_mix(item: Any, name: str) -> list[dict[str, Any]]:
    f = _fields(item, name, ("mix_task_id",))
    user = f.get("user_id")
    return [
        {
            "mix_task_id": v.zego_id(f["mix_task_id"], f"{name}.mix_task_id"),
            "user_id": None if user in (None, "") else v.zego_id(user, f"{name}.user_id"),
        }
    ]


def _zego_stream(item: Any, name: str) -> list[dict[str, Any]]:
    f = _fields(item, name, ("room_id", "user_id", "stream_id"))
    return [
        {
            "room_id": v.zego_id(f["room_id"], f"{name}.room_id"),
            "user_id": v.zego_id(f["user_id"], f"{name}.user_id"),
            "stream_id": v.zego_stream_id(f["stream_id"], f"{name}.stream_id"),
        }
    ]


def _zego_kick(item: Any, name: str) -> list[dict[str, Any]]:
    f = _fields(item, name, ("room_id", "user_ids"))
    room = v.zego_id(f["room_id"], f"{name}.room_id")
    users = f["user_ids"]
    if isinstance(users, str) or not isinstance(users, list | tuple):
        raise RtcValidationError(f"{name}.user_ids", "must be a list of user ids", users)
    users = [v.zego_id(u, f"{name}.user_ids[{i}]") for i, u in enumerate(users)]
    return [{"room_id": room, "user_ids": chunk} for chunk in chunks(users, KICK_BATCH)]


#: the conf kinds whose items keep their historical shape (the mapped operators' arguments)
_CONF_CHECKS: dict[str, Callable[[Any, str], list[Any]]] = {
    "live_mix_sessions": _ids(v.mix_stream_session_id),
    "zego_mixes": _zego_mix,
    "trtc_recordings": _ids(v.token),
    "zego_recordings": _ids(v.token),
    "live_streams": _live_stream,
    "zego_streams": _zego_stream,
    "zego_kicks": _zego_kick,
    "trtc_rooms": _ids(lambda value, name: v.trtc_room_id(value, str_room_id=False, param=name)),
    "zego_rooms": _ids(lambda value, name: v.zego_id(value, name)),
}


#: how each identity field of an ender row is checked (param: where the value came from)
FIELD_CHECKS: dict[str, Callable[[Any, str], Any]] = {
    "task_id": v.token,
    "session_id": v.mix_stream_session_id,
    "stream_name": lambda value, name: v.token(value, name, max_bytes=256),
    "domain_name": lambda value, name: v.token(value, name, max_bytes=256),
    "app_name": v.token,
    "user_id": v.zego_user_id,
    "stream_id": v.zego_stream_id,
    "user_name": lambda value, name: v.optional_text(value, name, max_bytes=256),
    "custom_reason": lambda value, name: v.optional_text(value, name, max_bytes=256),
    "sequence": v.non_negative_int,
}
_DEFAULTS = {"app_name": "live"}
#: an operator argument or conf key that names a row's identity field otherwise
ID_ALIASES = {
    "recording_task_id": "task_id",
    "mix_task_id": "task_id",
    "relay_task_id": "task_id",
    "ingest_task_id": "task_id",
    "ai_task_id": "task_id",
    "mix_stream_session_id": "session_id",
}


def row_targets(row: Ender, raw: Any, param: str) -> list[dict[str, Any]]:
    """One item of a bulk's ``targets`` as the ids (and options) of one or more calls of ``row``.

    An item is a dict of the row's fields (and options), or the bare id when the row has one field
    (a room id, a TaskId). The row's ``batch_field`` (``user_ids``) may hold any number of ids: it
    is split into calls of at most the catalog's ``batch``. RtcValidationError names the item.
    """
    if isinstance(raw, dict):
        raw = {ID_ALIASES.get(k, k): value for k, value in raw.items()}
    else:
        if len(row.fields) != 1:
            raise RtcValidationError(param, f"each item must be {{{', '.join(row.fields)}}}", raw)
        raw = {row.fields[0]: raw}
    unknown = set(raw) - set(row.fields) - set(row.options)
    if unknown:
        raise RtcValidationError(param, f"unknown key(s) {sorted(unknown)} for {row.action}")
    ids: dict[str, Any] = {}
    for field in (*row.fields, *row.options):
        value = raw.get(field, _DEFAULTS.get(field))
        name = f"{param}.{field}" if len(row.fields) > 1 or field in raw else param
        if field in row.options:
            if value not in (None, ""):
                ids[field] = FIELD_CHECKS[field](value, name) if field in FIELD_CHECKS else value
            continue
        if value in (None, ""):
            raise RtcValidationError(param, f"missing {field!r} (each item needs {', '.join(row.fields)})")
        if field == "room_id":
            ids[field] = (
                v.trtc_room_id(value, str_room_id=row.id_type == "str", param=name)
                if row.cloud == "trtc"
                else v.zego_id(value, name)
            )
        elif field == row.batch_field:
            check = v.trtc_user_id if row.cloud == "trtc" else v.zego_user_id
            ids[field] = v.string_list(value, name, max_items=v.MAX_LIST_ITEMS, item=check)
        else:
            ids[field] = FIELD_CHECKS[field](value, name)
    if not row.batch_field:
        return [ids]
    return [{**ids, row.batch_field: chunk} for chunk in chunks(ids[row.batch_field], row.batch)]


def _by_row(row: Ender) -> Callable[[Any, str], list[Any]]:
    return lambda item, name: row_targets(row, item, name)


#: every conf kind, in the order the cleanup ends them (the ender table's stages), with its item
#: check: a row with a ``conf`` name and no historical check gets the generic one
KINDS: dict[str, Callable[[Any, str], list[Any]]] = {
    conf: _CONF_CHECKS.get(conf) or _by_row(row) for conf, row in BY_CONF.items()
}


def event_targets(conf: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Every kind's targets, checked and shaped; RtcValidationError names the first bad item."""
    targets: dict[str, list[Any]] = {}
    for kind, check in KINDS.items():
        items = conf.get(kind) or []
        if isinstance(items, str | bytes) or not isinstance(items, list | tuple):
            raise RtcValidationError(kind, "must be a list", items)
        targets[kind] = [shaped for i, item in enumerate(items) for shaped in check(item, f"{kind}[{i}]")]
    return targets
