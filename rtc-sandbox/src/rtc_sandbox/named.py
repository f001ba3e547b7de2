"""Named resources of a scenario (the list form of the seed): rooms with the ids, users, streams, mixes,
recordings and start times the user chose. Each is created through the same backend calls as the
counting seed, at ``now - started_ago``, so state, list APIs and callbacks show the past start."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .scenario import started_before
from .seed import LIVE_APP, LIVE_DOMAIN, live_mix, trtc_recording, zego_mix, zego_recording, zego_room

if TYPE_CHECKING:
    from .core import Sandbox

TRTC_ROOM_KEYS = {
    "name",
    "room_id",
    "users",
    "publishing",
    "started_ago",
    "recording",
    "cdn_tasks",
    "ingest_tasks",
    "sdk_app_id",
}
ZEGO_ROOM_KEYS = {"name", "room_id", "users", "streams", "mix", "recording", "started_ago", "app_id"}
LIVE_STREAM_KEYS = {"name", "stream_name", "domain_name", "app_name", "started_ago"}
LIVE_MIX_KEYS = {"name", "session_id", "inputs", "started_ago"}


def _entry(raw: Any, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: each entry is a table/object")
    unknown = set(raw) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)} (known: {sorted(allowed)})")
    return dict(raw)


def _users(value: Any, prefix: str, where: str, minimum: int = 0) -> list[str]:
    if isinstance(value, bool):
        raise ValueError(f"{where}.users: a number of users or a list of user ids")
    if value is None:
        value = minimum
    if isinstance(value, int):
        return [f"user_{prefix}_{i}" for i in range(1, max(value, minimum) + 1)]
    if isinstance(value, list) and all(isinstance(u, str | int) and not isinstance(u, bool) for u in value):
        users = [str(u) for u in value]
        if len(set(users)) != len(users):
            raise ValueError(f"{where}.users: a user id appears twice")
        return users
    raise ValueError(f"{where}.users: a number of users or a list of user ids")


class _Names:
    def __init__(self) -> None:
        self.by_name: dict[str, dict[str, Any]] = {}

    def add(self, entry: dict[str, Any], where: str, **ref: Any) -> None:
        name = entry.get("name")
        if name is None:
            return
        if not isinstance(name, str) or not name:
            raise ValueError(f"{where}.name: a non-empty string")
        if name in self.by_name:
            raise ValueError(f"{where}.name: {name!r} names two resources")
        self.by_name[name] = ref


def seed_named(
    sandbox: Sandbox, named: dict[str, list[Any]], spec: dict[str, Any], result: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Create the named resources, add their ids to ``result`` and return each name's reference."""
    names = _Names()
    now = sandbox.now()
    makers = (
        ("trtc.rooms", TRTC_ROOM_KEYS, _trtc_room),
        ("zego.rooms", ZEGO_ROOM_KEYS, _zego_room),
        ("live.streams", LIVE_STREAM_KEYS, _live_stream),
        ("live.mix_sessions", LIVE_MIX_KEYS, _live_mix),
    )
    for key, allowed, make in makers:
        for i, raw in enumerate(named.get(key, [])):
            where = f"{key}[{i}]"
            make(sandbox, _entry(raw, allowed, where), where, now, result, names)
    return names.by_name


def _trtc_room(
    sandbox: Sandbox, e: dict[str, Any], where: str, now: float, result: dict[str, Any], names: _Names
) -> None:
    out = result["trtc"]
    app = int(e.get("sdk_app_id", sandbox.config.sdk_app_id))
    room_id = e.get("room_id")
    if room_id is None:
        sandbox.seed_counters.trtc_room += 1
        room_id = sandbox.seed_counters.trtc_room
    # TRTC has numeric rooms (RoomId, uint32) and string rooms (StrRoomId): the TOML/JSON type decides
    if isinstance(room_id, bool) or not isinstance(room_id, int | str) or room_id == "":
        raise ValueError(f"{where}.room_id: a number (numeric room) or a non-empty string (string room)")
    if isinstance(room_id, int) and not 1 <= room_id <= 4294967295:
        raise ValueError(f"{where}.room_id: a numeric TRTC room id is 1..4294967295")
    at = started_before(now, e, where)
    users = _users(e.get("users"), str(room_id), where)
    sandbox.trtc.add_users(app, room_id, users, at, publish=bool(e.get("publishing", True)))
    (out["str_rooms"] if isinstance(room_id, str) else out["rooms"]).append(room_id)
    out["users"][str(room_id)] = users
    recording = e.get("recording", False)
    if recording:
        storage = recording.get("storage", "cos") if isinstance(recording, dict) else "cos"
        if storage not in ("cos", "vod"):
            raise ValueError(f"{where}.recording.storage: 'cos' or 'vod'")
        out["recordings"].append(trtc_recording(sandbox, app, room_id, at, storage))
    for kind in ("cdn", "ingest"):
        for _ in range(int(e.get(f"{kind}_tasks", 0))):
            out[f"{kind}_tasks"].append(sandbox.trtc.start_relay(app, kind, room_id, at))
    names.add(e, where, cloud="trtc", room_id=room_id, sdk_app_id=app)


def _zego_room(
    sandbox: Sandbox, e: dict[str, Any], where: str, now: float, result: dict[str, Any], names: _Names
) -> None:
    out = result["zego"]
    app = int(e.get("app_id", sandbox.config.zego_app.app_id))
    room_id = e.get("room_id")
    if room_id is None:
        sandbox.seed_counters.zego_room += 1
        room_id = f"room_{sandbox.seed_counters.zego_room}"
    if not isinstance(room_id, str) or not room_id:
        raise ValueError(f"{where}.room_id: a ZEGO room id is a non-empty string")
    at = started_before(now, e, where)
    raw_streams = e.get("streams", 0)
    if isinstance(raw_streams, bool) or not isinstance(raw_streams, int | list):
        raise ValueError(f"{where}.streams: a number of streams or a list of stream ids")
    count = raw_streams if isinstance(raw_streams, int) else len(raw_streams)
    # a ZEGO room exists only while someone is in it: at least one user, one per stream
    users = _users(e.get("users"), room_id, where, minimum=max(count, 1))
    if len(users) < count:
        raise ValueError(f"{where}: {count} streams need at least {count} users (one publisher each)")
    if isinstance(raw_streams, list):
        ids = [str(sid) for sid in raw_streams]
    else:
        ids = [f"stream_{room_id}_{i}" for i in range(1, count + 1)]
    out["streams"] += zego_room(sandbox, app, room_id, users, ids, at)
    out["rooms"].append(room_id)
    out["users"][room_id] = users
    mix = e.get("mix", False)
    if mix:
        sandbox.seed_counters.zego_mix += 1
        n = sandbox.seed_counters.zego_mix
        mix = mix if isinstance(mix, dict) else {}
        unknown = set(mix) - {"task_id", "user_id"}
        if unknown:
            raise ValueError(f"{where}.mix: true or a table with task_id and user_id, not {sorted(unknown)}")
        task_id, user_id = str(mix.get("task_id", f"mix_task_{n}")), str(mix.get("user_id", f"mixer_{n}"))
        out["mixes"].append(zego_mix(sandbox, app, n, room_id, out["streams"], at, task_id, user_id))
    if e.get("recording"):
        out["recordings"].append(zego_recording(sandbox, app, room_id, now, now - at))
    names.add(e, where, cloud="zego", room_id=room_id, app_id=app)


def _live_stream(
    sandbox: Sandbox, e: dict[str, Any], where: str, now: float, result: dict[str, Any], names: _Names
) -> None:
    name = e.get("stream_name")
    if name is None:
        sandbox.seed_counters.live_stream += 1
        name = f"sandbox_stream_{sandbox.seed_counters.live_stream}"
    domain, app = str(e.get("domain_name", LIVE_DOMAIN)), str(e.get("app_name", LIVE_APP))
    sandbox.live.push_stream(domain, app, str(name), started_before(now, e, where))
    result["live"]["streams"].append({"stream_name": str(name), "domain_name": domain, "app_name": app})
    names.add(e, where, cloud="live", stream_id=str(name), domain_name=domain, app_name=app)


def _live_mix(
    sandbox: Sandbox, e: dict[str, Any], where: str, now: float, result: dict[str, Any], names: _Names
) -> None:
    sandbox.seed_counters.live_session += 1
    n = sandbox.seed_counters.live_session
    session_id = str(e.get("session_id") or f"sandbox_mix_{n}")
    inputs = [str(x) for x in e.get("inputs") or []] or [f"sandbox_input_{n}_1", f"sandbox_input_{n}_2"]
    live_mix(sandbox, session_id, inputs, f"{session_id}_out", started_before(now, e, where))
    result["live"]["mix_sessions"].append(session_id)
    names.add(e, where, cloud="live", session_id=session_id)
