"""`make demo`, cost caps section: a warning near a cap, a room ended past it, and the audit lines.

Seeds three TRTC rooms on the demo's sandbox with starts in the past (3 h, 1 h 55 min and 30 min
ago; their callbacks carry the cloud's start times to the demo's receiver), then runs the example
DAG ``enforce_caps`` (``airflow dags test``) with a 2-hour room cap and a 10-minute warning: the
plan warns about the room 5 minutes from its cap (through the example's log notifier), the approval
gate lets a plan this small through, the enforce task ends the room past its cap and verifies it is
gone, and the room under its cap stays live. The report shows the warning, what was ended and the
audit lines the run wrote (``[rtc] audit_path``, here the demo's AIRFLOW_HOME).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

DAG_ID = "enforce_caps"
ROOMS = [
    {"room_id": 88001, "users": 2, "started_ago": "3h"},  # past its 2 h cap: ended
    {"room_id": 88002, "users": 1, "started_ago": "115m"},  # 5 min from its cap: warned
    {"room_id": 88003, "users": 1, "started_ago": "30m"},  # well under: untouched
]
CONF = {
    "policy": {"rooms": {"max_duration": "2h"}},
    "warn_before": "10m",
    "clouds": ["trtc"],
    "dry_run": False,
}


def _send(method: str, url: str, body: Any) -> Any:
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"}, method=method)  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310 (loopback sandbox)
        return json.loads(resp.read())


def _live_rooms(state: dict[str, Any]) -> set[str]:
    return {str(r["room_id"]) for r in state["trtc"]["rooms"]}


def run(
    sandbox_url: str,
    env: dict[str, str],
    home: Path,
    logs: Path,
    run_dag: Callable[[str, dict[str, Any], dict[str, str]], tuple[bool, float]],
    get: Callable[[str], Any],
) -> tuple[bool, str]:
    """Run the section; returns (it behaved as described, the report)."""
    import time

    from airflow_provider_rtc.audit import read_lines

    # the rooms' lifecycle callbacks (created, entered: with the cloud's times) go to the receiver the
    # DAG discovers from; the demo's sandbox was started sending it only recording callbacks
    extra = json.loads(env["AIRFLOW_CONN_TENCENTCLOUD_DEFAULT"])["extra"]
    room_url = f"{extra['callback_receiver_url']}/trtc/callback"
    _send("PUT", f"{sandbox_url}/_sandbox/callbacks", {"room_url": room_url})
    _send("POST", f"{sandbox_url}/_sandbox/seed", {"trtc": {"rooms": ROOMS}})
    time.sleep(2)  # the rooms' enter callbacks reach the receiver
    started = time.time()
    ok, elapsed = run_dag(DAG_ID, CONF, env)
    live = _live_rooms(get(f"{sandbox_url}/_sandbox/state"))
    log_text = (logs / f"{DAG_ID}.log").read_text()
    warnings = _notified(log_text.splitlines())
    audit = [
        line
        for line in read_lines(f"file://{home}/rtc/audit", dag_id=DAG_ID, limit=50)
        if _after(line.get("ts"), started)
    ]
    ended = sorted({a["ref"]["id"] for a in audit if a.get("status") in ("done", "already_gone")})
    lines = ["Cost caps (enforce_caps: rooms capped at 2 h, warned 10 min before)", "=" * 66]
    lines.append("  seeded TRTC rooms: 88001 (3 h old), 88002 (1 h 55 min), 88003 (30 min)")
    lines.append("  cap warning (log notifier):")
    lines += [f"    {w[:110]}" for w in warnings[:4]] or ["    NONE"]
    lines.append(f"  ended past their cap: {', '.join(ended) or 'nothing'}")
    kept = sorted(live & {"88001", "88002", "88003"})
    lines.append(f"  still live (under their cap): {', '.join(kept) or 'nothing'}")
    lines.append(f"  audit lines of the run ({len(audit)}; file://{home.name}/rtc/audit/{DAG_ID}/...):")
    for a in audit[:6]:
        lines.append(
            f"    {a['ts'][11:19]} {a['task_id']:<13} {a['action']:<12} {a['ref']['id']:<6} "
            f"{a['status']:<8} dry_run={str(a['dry_run']).lower():<5} origin={a['origin']} "
            f"request_id={a['request_id'] or '-'}"
        )
    behaved = ok and ended == ["88001"] and kept == ["88002", "88003"] and bool(warnings)
    lines.append(f"  DAG wall time {elapsed:.1f}s; {'as described' if behaved else 'FAILED: see the log'}")
    return behaved, "\n".join(lines)


def _notified(log: list[str]) -> list[str]:
    """What the log notifier wrote: its message (``caps_message``) and the items under it (the
    operator logs the same text itself; the notifier's block is the one its logger name closes)."""
    for i, line in enumerate(log):
        if "RTC caps:" not in line:
            continue
        block = ["RTC caps:" + line.split("RTC caps:", 1)[1]]
        for item in log[i + 1 : i + 11]:
            if not item.startswith("- "):
                break
            block.append(item)
        if "LogNotifier" in block[-1]:
            return [b.split(" [airflow", 1)[0] for b in block]
    return []


def _after(ts: Any, started: float) -> bool:
    """Lines of this run only (the demo's AIRFLOW_HOME keeps earlier runs' files)."""
    import datetime as dt

    try:
        return dt.datetime.fromisoformat(str(ts)).timestamp() >= started - 1
    except ValueError:
        return False
