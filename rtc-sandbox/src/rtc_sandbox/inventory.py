"""What is live in a sandbox, shaped as the run conf of ``example_dags/end_of_event_cleanup.py``.

Shared by ``make demo`` and the end-to-end tests, so both end exactly what the sandbox says is
live and both check the same definition of "nothing left".
"""

from __future__ import annotations

from typing import Any


def cleanup_conf(state: dict[str, Any]) -> dict[str, Any]:
    """The run conf of end_of_event_cleanup, from what the sandbox says is live."""
    trtc, live, zego = state["trtc"], state["live"], state["zego"]
    return {
        "trtc_rooms": [r["room_id"] for r in trtc["rooms"] if not r["str_room"]],
        "trtc_recordings": [
            r["task_id"] for r in trtc["recordings"] if r["status"] in ("Idle", "InProgress")
        ],
        "live_mix_sessions": [m["session_id"] for m in live["mix_sessions"]],
        "live_streams": [
            {"stream_name": s["stream_name"], "domain_name": s["domain_name"], "app_name": s["app_name"]}
            for s in live["streams"]
            if s["state"] == "active"
        ],
        "zego_mixes": [{"mix_task_id": m["task_id"], "user_id": m["user_id"]} for m in zego["mixes"]],
        "zego_recordings": [r["task_id"] for r in zego["recordings"] if r["status"] in (1, 2, 5)],
        "zego_streams": [
            {"room_id": r["room_id"], "user_id": s["user_id"], "stream_id": s["stream_id"]}
            for r in zego["rooms"]
            for s in r["streams"]
        ],
        # kick each room's first user explicitly (e.g. a host who must leave first); CloseRoom takes the rest
        "zego_kicks": [
            {"room_id": r["room_id"], "user_ids": r["users"][:1]} for r in zego["rooms"] if r["users"]
        ],
        "zego_rooms": [r["room_id"] for r in zego["rooms"]],
    }


def leftovers(state: dict[str, Any]) -> dict[str, int]:
    """What is still live: anything here after the cleanup is a step that was lost."""
    conf = cleanup_conf(state)
    return {
        "trtc rooms": len(state["trtc"]["rooms"]),
        "trtc recordings running": len(conf["trtc_recordings"]),
        "live mix sessions": len(conf["live_mix_sessions"]),
        "live streams pushing": len(conf["live_streams"]),
        "zego rooms": len(conf["zego_rooms"]),
        "zego streams": len(conf["zego_streams"]),
        "zego mixes": len(conf["zego_mixes"]),
        "zego recordings running": len(conf["zego_recordings"]),
    }


def live_resources(state: dict[str, Any]) -> dict[str, set[Any]]:
    """Every live resource in a sandbox state, as comparable keys: the ground truth that discovery
    is checked against (by the tests and ``make demo``)."""
    trtc, live, zego = state["trtc"], state["live"], state["zego"]
    return {
        "trtc rooms": {str(r["room_id"]) for r in trtc["rooms"]},
        "trtc users": {(str(r["room_id"]), u) for r in trtc["rooms"] for u in r["users"]},
        "trtc streams": {(str(r["room_id"]), u) for r in trtc["rooms"] for u in r["publishing"]},
        "trtc recordings": {
            r["task_id"] for r in trtc["recordings"] if r["status"] in ("Idle", "InProgress")
        },
        "live streams": {s["stream_name"] for s in live["streams"] if s["state"] == "active"},
        "zego rooms": {r["room_id"] for r in zego["rooms"]},
        "zego users": {(r["room_id"], u) for r in zego["rooms"] for u in r["users"]},
        "zego streams": {s["stream_id"] for r in zego["rooms"] for s in r["streams"]},
        "zego mixes": {m["task_id"] for m in zego["mixes"]},
        "zego recordings": {r["task_id"] for r in zego["recordings"] if r["status"] in (1, 2)},
    }


def discovered_resources(inventory: dict[str, Any]) -> dict[str, set[Any]]:
    """The same keys from a discovery result (``DiscoverLiveResourcesOperator``'s XCom)."""
    c = inventory["clouds"]
    out: dict[str, set[Any]] = {}
    if "trtc" in c:
        t = c["trtc"]
        out["trtc rooms"] = {str(i["ids"]["room_id"]) for i in t["rooms"]}
        out["trtc users"] = {(str(i["ids"]["room_id"]), i["ids"]["user_id"]) for i in t["users"]}
        out["trtc streams"] = {(str(i["ids"]["room_id"]), i["ids"]["user_id"]) for i in t["streams"]}
        out["trtc recordings"] = {i["ids"]["task_id"] for i in t["recordings"]}
    if "live" in c:
        out["live streams"] = {i["ids"]["stream_name"] for i in c["live"]["streams"]}
    if "zego" in c:
        z = c["zego"]
        out["zego rooms"] = {i["ids"]["room_id"] for i in z["rooms"]}
        out["zego users"] = {(i["ids"]["room_id"], i["ids"]["user_id"]) for i in z["users"]}
        out["zego streams"] = {i["ids"]["stream_id"] for i in z["streams"]}
        out["zego mixes"] = {i["ids"]["task_id"] for i in z["mixes"]}
        out["zego recordings"] = {i["ids"]["task_id"] for i in z["recordings"]}
    return out
