"""Populate the backends with an "event": rooms full of users, streams, mixes and recordings.

Ids are sequential per kind (``1001``, ``room_1``...) and continue across seeds until a reset, so
seeding twice never collides and a reset plus the same seed reproduces the same ids; recording
TaskIds come from the seeded id RNG. Spec (every key optional, 0 by default)::

    {"trtc": {"rooms", "users_per_room", "str_rooms", "recordings", "recording_storage": "cos"|"vod",
              "cdn_tasks", "ingest_tasks", "ai_tasks", "sdk_app_id"},
     "live": {"mix_sessions", "streams"},
     "zego": {"rooms", "users_per_room", "streams_per_room", "mixes", "recordings",
              "started_ago_seconds", "app_id"}}

Named form (scenario.py, docs/sandbox.md): ``trtc.rooms``/``zego.rooms``, ``live.streams`` and
``live.mix_sessions`` may instead be lists of tables, one per named resource (its id, users,
streams, mix, recording, ``started_ago``); the result then also has ``names``: each name with its
cloud and id, for callback rules and for the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core import Sandbox

#: ``--seed-event``: 12 TRTC rooms x 3 users with 4 COS recordings, 3 Live mixes,
#: 6 ZEGO rooms x 3 users x 2 streams with 2 mixes and 2 recordings.
STANDARD_EVENT: dict[str, dict[str, Any]] = {
    "trtc": {"rooms": 12, "users_per_room": 3, "str_rooms": 0, "recordings": 4, "recording_storage": "cos"},
    "live": {"mix_sessions": 3, "streams": 3},
    "zego": {"rooms": 6, "users_per_room": 3, "streams_per_room": 2, "mixes": 2, "recordings": 2},
}

LIVE_DOMAIN = "push.sandbox.example.com"
LIVE_APP = "live"


@dataclass
class SeedCounters:
    trtc_room: int = 1000
    trtc_str_room: int = 0
    live_session: int = 0
    live_stream: int = 0
    zego_room: int = 0
    zego_mix: int = 0


# -- one resource each: the counting seed and the named form (named.py) both create through these --
def trtc_recording(sandbox: Sandbox, app: int, room_id: int | str, at: float, storage: str) -> dict[str, Any]:
    """A mixed-stream cloud recording of ``room_id`` (numeric or string room), started at ``at``."""
    task_id = sandbox.trtc.create_recording(
        app,
        str(room_id),
        0 if isinstance(room_id, str) else 1,
        f"recorder_{room_id}",
        at,
        record_mode=2,
        storage=storage,
        output_format=1,
        prefix=["sandbox"],
    )
    return {"task_id": task_id, "room_id": room_id}


def zego_room(
    sandbox: Sandbox, app: int, room_id: str, users: list[str], stream_ids: list[str], at: float
) -> list[dict[str, str]]:
    """Log ``users`` in (a ZEGO room exists only while someone is in it); the first ones publish
    ``stream_ids``, one each. Returns the streams."""
    for uid in users:
        sandbox.zego.login(app, room_id, uid, at)
    streams = []
    for uid, sid in zip(users, stream_ids, strict=False):
        sandbox.zego.publish(app, room_id, uid, sid, at)
        streams.append({"room_id": room_id, "user_id": uid, "stream_id": sid})
    return streams


def zego_mix(
    sandbox: Sandbox,
    app: int,
    n: int,
    room_id: str,
    streams: list[dict[str, str]],
    at: float,
    task_id: str | None = None,
    user_id: str | None = None,
) -> dict[str, str]:
    """Mix task ``n`` of ``room_id``'s streams (a pulled URL when it has none); the UserId that starts
    a mix is the one allowed to stop it (when mix ownership is on)."""
    inputs: list[dict[str, Any]] = [
        {"StreamId": s["stream_id"], "RectInfo": {"Top": 0, "Left": 0, "Bottom": 360, "Right": 640}}
        for s in streams
        if s["room_id"] == room_id
    ] or [{"StreamUrl": f"rtmp://pull.sandbox.example/live/mix_input_{n}"}]
    task_id, user_id = task_id or f"mix_task_{n}", user_id or f"mixer_{n}"
    sandbox.zego.start_mix(
        app,
        task_id,
        user_id,
        inputs,
        [{"StreamId": f"mix_out_{n}", "VideoBitrate": 1200000, "Fps": 15, "Width": 640, "Height": 360}],
        at,
        room_id=room_id,
    )
    return {"task_id": task_id, "user_id": user_id}


def zego_recording(
    sandbox: Sandbox, app: int, room_id: str, now: float, started_ago: float
) -> dict[str, str]:
    """A cloud recording of ``room_id`` into a sandbox bucket, started ``started_ago`` s before ``now``."""
    task_id = sandbox.zego.start_record(
        app,
        room_id,
        {"RecordMode": 1, "StreamType": 3},
        {"OutputFileFormat": "mp4", "OutputFolder": "sandbox"},
        {
            "Vendor": 3,
            "Region": "ap-guangzhou",
            "Bucket": "sandbox-1250000000",
            "AccessKeyId": "sandbox-ak",
            "AccessKeySecret": "sandbox-sk",
        },
        now,
        started_ago_seconds=started_ago,
    )
    return {"task_id": task_id, "room_id": room_id}


def live_mix(sandbox: Sandbox, session_id: str, inputs: list[str], output: str, at: float) -> str:
    """A Live mix session of ``inputs`` (layered in order) into ``output``."""
    sandbox.live.create_mix(
        session_id,
        [{"InputStreamName": nm, "LayoutParams": {"ImageLayer": i + 1}} for i, nm in enumerate(inputs)],
        {"OutputStreamName": output, "OutputStreamType": 1},
        at,
    )
    return session_id


def _section(spec: dict[str, Any], name: str, allowed: set[str]) -> dict[str, Any]:
    section = dict(spec.get(name) or {})
    unknown = set(section) - allowed
    if unknown:
        raise ValueError(f"unknown seed keys in {name!r}: {sorted(unknown)}")
    return section


def apply_seed(sandbox: Sandbox, spec: dict[str, Any]) -> dict[str, Any]:
    """Create everything ``spec`` asks for and return every id created."""
    unknown = set(spec) - {"trtc", "live", "zego"}
    if unknown:
        raise ValueError(f"unknown seed sections: {sorted(unknown)}")
    spec = {name: dict(section or {}) for name, section in spec.items()}
    named: dict[str, list[Any]] = {}
    for cloud, key in (("trtc", "rooms"), ("zego", "rooms"), ("live", "streams"), ("live", "mix_sessions")):
        if isinstance(spec.get(cloud, {}).get(key), list):
            named[f"{cloud}.{key}"] = spec[cloud].pop(key)
    result = _apply_counts(sandbox, spec)
    if named:
        from .named import seed_named

        result["names"] = seed_named(sandbox, named, spec, result)
    return result


def _apply_counts(sandbox: Sandbox, spec: dict[str, Any]) -> dict[str, Any]:
    trtc = _section(
        spec,
        "trtc",
        {
            "rooms",
            "users_per_room",
            "str_rooms",
            "recordings",
            "recording_storage",
            "cdn_tasks",
            "ingest_tasks",
            "ai_tasks",
            "sdk_app_id",
        },
    )
    live = _section(spec, "live", {"mix_sessions", "streams"})
    zego = _section(
        spec,
        "zego",
        {
            "rooms",
            "users_per_room",
            "streams_per_room",
            "mixes",
            "recordings",
            "started_ago_seconds",
            "app_id",
        },
    )
    storage = trtc.get("recording_storage", "cos")
    if storage not in ("cos", "vod"):
        raise ValueError("trtc.recording_storage must be 'cos' or 'vod'")
    return {
        "trtc": _seed_trtc(sandbox, trtc, storage),
        "live": _seed_live(sandbox, live),
        "zego": _seed_zego(sandbox, zego),
    }


def _seed_trtc(sandbox: Sandbox, spec: dict[str, Any], storage: str) -> dict[str, Any]:
    counters = sandbox.seed_counters
    now = sandbox.now()
    app = int(spec.get("sdk_app_id", sandbox.config.sdk_app_id))
    per_room = int(spec.get("users_per_room", 0))
    rooms: list[int] = []
    str_rooms: list[str] = []
    users: dict[str, list[str]] = {}
    for _ in range(int(spec.get("rooms", 0))):
        counters.trtc_room += 1
        rid = counters.trtc_room
        members = [f"user_{rid}_{i}" for i in range(1, per_room + 1)]
        sandbox.trtc.add_users(app, rid, members, now, publish=True)
        rooms.append(rid)
        users[str(rid)] = members
    for _ in range(int(spec.get("str_rooms", 0))):
        counters.trtc_str_room += 1
        srid = f"str_room_{counters.trtc_str_room}"
        members = [f"user_{srid}_{i}" for i in range(1, per_room + 1)]
        sandbox.trtc.add_users(app, srid, members, now, publish=True)
        str_rooms.append(srid)
        users[srid] = members
    targets: list[int | str] = [*rooms, *str_rooms]
    wanted = int(spec.get("recordings", 0))
    recordings = [trtc_recording(sandbox, app, target, now, storage) for target in targets[:wanted]]
    relays = {
        kind: [
            sandbox.trtc.start_relay(app, kind, targets[i % len(targets)] if targets else 0, now)
            for i in range(int(spec.get(f"{kind}_tasks", 0)))
        ]
        for kind in ("cdn", "ingest", "ai")
    }
    return {
        "sdk_app_id": app,
        "rooms": rooms,
        "str_rooms": str_rooms,
        "users": users,
        "recordings": recordings,
        "cdn_tasks": relays["cdn"],
        "ingest_tasks": relays["ingest"],
        "ai_tasks": relays["ai"],
    }


def _seed_live(sandbox: Sandbox, spec: dict[str, Any]) -> dict[str, Any]:
    counters = sandbox.seed_counters
    now = sandbox.now()
    streams = []
    for _ in range(int(spec.get("streams", 0))):
        counters.live_stream += 1
        name = f"sandbox_stream_{counters.live_stream}"
        sandbox.live.push_stream(LIVE_DOMAIN, LIVE_APP, name, now)
        streams.append({"stream_name": name, "domain_name": LIVE_DOMAIN, "app_name": LIVE_APP})
    sessions = []
    for _ in range(int(spec.get("mix_sessions", 0))):
        counters.live_session += 1
        n = counters.live_session
        names = [s["stream_name"] for s in streams[:2]] or [f"sandbox_input_{n}_1", f"sandbox_input_{n}_2"]
        if len(names) == 1:
            names.append(f"sandbox_input_{n}_2")
        sessions.append(live_mix(sandbox, f"sandbox_mix_{n}", names, f"sandbox_mix_out_{n}", now))
    return {"mix_sessions": sessions, "streams": streams}


def _seed_zego(sandbox: Sandbox, spec: dict[str, Any]) -> dict[str, Any]:
    counters = sandbox.seed_counters
    now = sandbox.now()
    app = int(spec.get("app_id", sandbox.config.zego_app.app_id))
    per_room = int(spec.get("users_per_room", 0))
    streams_per_room = int(spec.get("streams_per_room", 0))
    rooms: list[str] = []
    users: dict[str, list[str]] = {}
    streams: list[dict[str, str]] = []
    for _ in range(int(spec.get("rooms", 0))):
        counters.zego_room += 1
        rid = f"room_{counters.zego_room}"
        # a ZEGO room only exists while someone is in it: at least one user, one per stream
        members = [f"user_{counters.zego_room}_{i}" for i in range(1, max(per_room, streams_per_room, 1) + 1)]
        stream_ids = [f"stream_{counters.zego_room}_{i}" for i in range(1, streams_per_room + 1)]
        streams += zego_room(sandbox, app, rid, members, stream_ids, now)
        rooms.append(rid)
        users[rid] = members
    mixes = []
    for i in range(int(spec.get("mixes", 0))):
        counters.zego_mix += 1
        room = rooms[i % len(rooms)] if rooms else ""
        mixes.append(zego_mix(sandbox, app, counters.zego_mix, room, streams, now))
    started_ago = float(spec.get("started_ago_seconds", 0))
    recordings = [
        zego_recording(sandbox, app, rid, now, started_ago) for rid in rooms[: int(spec.get("recordings", 0))]
    ]
    return {
        "app_id": app,
        "rooms": rooms,
        "streams": streams,
        "users": users,
        "mixes": mixes,
        "recordings": recordings,
    }
