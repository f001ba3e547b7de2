"""`make demo`, discovery section: end an event nobody listed, with a fifth of its callbacks lost.

Self-contained (in-process, threads on 127.0.0.1): a sandbox seeded with an event whose room, user
and stream callbacks are 20% lost (seeded, so every run loses the same ones), the provider's
callback receiver subscribed to all three clouds, then the operators: discover (reconciled with the
list APIs), a dry run of the plan, the end at the documented rate limits, and verification. The
report shows what the callbacks alone would have missed, what reconciliation corrected, the plan,
the results and what is left in the sandbox.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from typing import Any

EVENT: dict[str, Any] = {
    "trtc": {"rooms": 6, "users_per_room": 3, "str_rooms": 1, "recordings": 2},
    "live": {"streams": 2},
    "zego": {"rooms": 4, "users_per_room": 3, "streams_per_room": 2, "mixes": 1, "recordings": 2},
}
CONFIG: dict[str, Any] = {
    "random_seed": 12,
    "zego": {"mix_ownership": False, "room_list_enabled": True},
    "faults": {"lifecycle": {"lost": 0.2, "late": 0.05, "late_seconds": 1.0}},
    "callbacks": {"timeout": 2.0, "retry_interval": 0.5, "max_age": 5.0},
}


@contextlib.contextmanager
def _output_to(path: str) -> Any:
    """Send everything written to fds 1 and 2 (task and receiver logs) to ``path``: the report is
    the section's output."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "w") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def _count(resources: dict[str, set[Any]]) -> int:
    return sum(len(v) for v in resources.values())


def run(log_path: str | None = None) -> tuple[bool, str]:
    """Run the section; returns (everything ended and verified, the report)."""
    from rtc_sandbox.inventory import discovered_resources, live_resources
    from rtc_sandbox.receiver import ReceiverBed
    from rtc_sandbox.server import SandboxServer

    from airflow_provider_rtc.catalog import CATALOG
    from airflow_provider_rtc.discovery.plan import render_table
    from airflow_provider_rtc.operators.event import DiscoverLiveResourcesOperator, EndEventOperator

    destructive = {api.action for api in CATALOG.values() if api.destructive}

    def destructive_calls(server: SandboxServer) -> int:
        actions = server.backend.stats.snapshot()["actions"]
        return sum(s["calls"] for a, s in actions.items() if a in destructive)

    saved = {k: v for k, v in os.environ.items() if k.startswith("AIRFLOW_CONN_")}
    with (
        _output_to(log_path or os.devnull),
        tempfile.TemporaryDirectory() as tmp,
        SandboxServer(config=CONFIG) as server,
        ReceiverBed(server, tmp) as bed,
    ):
        try:
            for conn_id, conn in bed.connections.items():
                extra = {**conn["extra"], "retry_delay": 0.05, "retry_max_delay": 0.5}
                os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps({**conn, "extra": extra})
            ids = server.seed(EVENT)
            # later in the event, people leave: room 4 empties (ZEGO closes it), one user leaves room 3
            zego_rooms, now = ids["zego"]["rooms"], server.backend.now()
            server.backend.zego.logout(
                ids["zego"]["app_id"], zego_rooms[3], ids["zego"]["users"][zego_rooms[3]], now
            )
            server.backend.zego.logout(
                ids["zego"]["app_id"], zego_rooms[2], ids["zego"]["users"][zego_rooms[2]][:1], now
            )
            bed.settle()
            log = server.backend.callbacks.log()
            lifecycle = [e for e in log if e["kind"] in ("room", "user", "stream", "push")]
            lost = sum(1 for e in lifecycle if e["fate"] == "lost")
            late = sum(1 for e in lifecycle if e["fate"] == "late")
            truth = live_resources(server.state())
            everything = {"allow_all": True}
            raw = DiscoverLiveResourcesOperator(task_id="raw", selector=everything, reconcile=False).execute(
                {}
            )
            started = time.monotonic()
            found = DiscoverLiveResourcesOperator(task_id="discover", selector=everything).execute({})
            discover_s = time.monotonic() - started
            dry = EndEventOperator(task_id="dry_run", inventory=found, dry_run=True).execute({})
            dry_calls = destructive_calls(server)
            report = EndEventOperator(task_id="end", inventory=found, verify_interval=1).execute({})
            left = live_resources(server.state())
        finally:
            for key in [k for k in os.environ if k.startswith("AIRFLOW_CONN_")]:
                del os.environ[key]
            os.environ.update(saved)

    raw_found, rec_found = discovered_resources(raw), discovered_resources(found)
    lines = ["Discovery: end an event nobody listed", "=" * 38]
    lines.append(
        f"  {_count(truth)} live resources; lifecycle callbacks: {len(lifecycle)} generated, "
        f"{lost} lost ({lost / max(len(lifecycle), 1):.0%}), {late} late"
    )
    lines.append(f"  {'kind':<16} {'live':>5} {'callbacks only':>15} {'reconciled':>11}")
    for key in truth:
        lines.append(
            f"  {key:<16} {len(truth[key]):>5} {len(raw_found.get(key, set()) & truth[key]):>15} "
            f"{len(rec_found.get(key, set()) & truth[key]):>11}"
        )
    changes = found["corrections"]
    by = {c: sum(1 for x in changes if x["change"] == c) for c in ("found", "ended")}
    lines.append(
        f"  reconciliation corrected {len(changes)} item(s) in {discover_s:.1f}s: "
        f"{by['found']} found that callbacks hid, {by['ended']} ended"
    )
    for c in changes[:8]:
        lines.append(f"    {c['change']:<5} {c['cloud']} {c['kind']} {json.dumps(c['ids'])}: {c['reason']}")
    if len(changes) > 8:
        lines.append(f"    ... and {len(changes) - 8} more")
    if len(rec_found.get("trtc users", set())) < len(truth["trtc users"]):
        lines.append(
            "  note: trtc: no TRTC API lists a room's users fit for business logic; users whose every "
            "callback was lost are ended by DismissRoom with their room"
        )
    for note in found["notes"]:
        lines.append(f"  note: {note}")
    lines.append(f"  dry-run plan ({dry_calls} destructive calls made):")
    lines += ["    " + line for line in render_table(dry["plan"]).splitlines()]
    counts: dict[str, int] = {}
    for r in report["results"]:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    t = report["timings"]
    lines.append(
        f"  end: {counts} in {t['end']:.1f}s; verify: {t['verify_passes']} pass(es), {t['verify']:.1f}s, "
        f"survivors: {len(report['survivors'])}"
    )
    lines.append(
        "  left: "
        + (
            "nothing"
            if not any(left.values())
            else json.dumps({k: sorted(map(str, v)) for k, v in left.items() if v})
        )
    )
    ok = dry_calls == 0 and not report["survivors"] and not any(left.values())
    return ok, "\n".join(lines)


if __name__ == "__main__":
    success, text = run()
    print(text)
    raise SystemExit(0 if success else 1)
