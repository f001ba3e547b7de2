"""Populate the backends with an "event": rooms full of users, streams, mixes and recordings.

Ids are sequential per kind (``1001``, ``room_1``...) and continue across seeds until a reset, so
seeding twice never collides and a reset plus the same seed reproduces the same ids; recording
TaskIds come from the seeded id RNG. Spec (every key optional, 0 by default)::

    {"trtc": {"rooms", "users_per_room", "str_rooms", "recordings", "recording_storage": "cos"|"vod",
              "cdn_tasks", "ingest_tasks", "sdk_app_id"},
     "live": {"mix_sessions", "streams"},
     "zego": {"rooms", "users_per_room", "streams_per_room", "mixes", "recordings",
              "started_ago_seconds", "app_id"}}
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
    recordings = []
    targets: list[int | str] = [*rooms, *str_rooms]
    for target in targets[: int(spec.get("recordings", 0))]:
        task_id = sandbox.trtc.create_recording(
            app,
            str(target),
            0 if isinstance(target, str) else 1,
            f"recorder_{target}",
            now,
            record_mode=2,
            storage=storage,
            output_format=1,
            prefix=["sandbox"],
        )
        recordings.append({"task_id": task_id, "room_id": target})
    relays = {
        kind: [
            sandbox.trtc.start_relay(app, kind, targets[i % len(targets)] if targets else 0, now)
            for i in range(int(spec.get(f"{kind}_tasks", 0)))
        ]
        for kind in ("cdn", "ingest")
    }
    return {
        "sdk_app_id": app,
        "rooms": rooms,
        "str_rooms": str_rooms,
        "users": users,
        "recordings": recordings,
        "cdn_tasks": relays["cdn"],
        "ingest_tasks": relays["ingest"],
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
        session_id = f"sandbox_mix_{n}"
        sandbox.live.create_mix(
            session_id,
            [{"InputStreamName": nm, "LayoutParams": {"ImageLayer": i + 1}} for i, nm in enumerate(names)],
            {"OutputStreamName": f"sandbox_mix_out_{n}", "OutputStreamType": 1},
            now,
        )
        sessions.append(session_id)
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
        for uid in members:
            sandbox.zego.login(app, rid, uid, now)
        for i, uid in enumerate(members[:streams_per_room], start=1):
            sid = f"stream_{counters.zego_room}_{i}"
            sandbox.zego.publish(app, rid, uid, sid, now)
            streams.append({"room_id": rid, "user_id": uid, "stream_id": sid})
        rooms.append(rid)
        users[rid] = members
    mixes = []
    for i in range(int(spec.get("mixes", 0))):
        counters.zego_mix += 1
        n = counters.zego_mix
        room = rooms[i % len(rooms)] if rooms else ""
        inputs: list[dict[str, Any]] = [
            {"StreamId": s["stream_id"], "RectInfo": {"Top": 0, "Left": 0, "Bottom": 360, "Right": 640}}
            for s in streams
            if s["room_id"] == room
        ] or [{"StreamUrl": f"rtmp://pull.sandbox.example/live/mix_input_{n}"}]
        task_id, user_id = f"mix_task_{n}", f"mixer_{n}"
        sandbox.zego.start_mix(
            app,
            task_id,
            user_id,
            inputs,
            [{"StreamId": f"mix_out_{n}", "VideoBitrate": 1200000, "Fps": 15, "Width": 640, "Height": 360}],
            now,
            room_id=room,
        )
        mixes.append({"task_id": task_id, "user_id": user_id})
    recordings = []
    started_ago = float(spec.get("started_ago_seconds", 0))
    for rid in rooms[: int(spec.get("recordings", 0))]:
        task_id = sandbox.zego.start_record(
            app,
            rid,
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
        recordings.append({"task_id": task_id, "room_id": rid})
    return {
        "app_id": app,
        "rooms": rooms,
        "streams": streams,
        "users": users,
        "mixes": mixes,
        "recordings": recordings,
    }
