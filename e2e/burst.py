"""The `recordings_burst_to_lake` scenario: 600 TRTC recordings complete within one minute and the
AssetWatcher in the real triggerer emits one asset event for each, then one for a later recording.

Before the watcher paged the receiver's changes by ``(changed_at, task_id)``, it re-read the minute
before its watermark with a 500-row page: 600 changes in that minute gave the same 500 on every poll
and nothing after them, ever (issue 17 item 7). The lake DAG is paused while the burst completes,
so the watcher meets all 600 at once when it is unpaused (a fresh trigger, resuming from the asset
state), which is the case that stalled; the scenario checks that the burst really was that dense.
The 600 are stopped through the API with their uploads held back (a long sandbox upload delay),
then the sandbox clock jumps past it, so the receiver gets all their upload callbacks at once.
"""

from __future__ import annotations

import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .harness import Deployment, http_json, wait_for
from .lake import LAKE_DAG, LakeRun, _check, _task_id, use_client_connections

BURST = 600
#: the watcher's re-read window and page (triggers/uploads.py WATERMARK_OVERLAP, RECEIVER_PAGE_SIZE)
WINDOW, PAGE = 60.0, 500
UPLOAD_DELAY = 1.0
#: the upload delay while the burst's recordings are stopped, then skipped by a clock jump
HOLD = 1800.0
#: recordings started at once (the seeded event holds a few: TRTC's limit is 100 concurrent)
BATCH = 80
STOPPERS = 4
DELIVERERS = 8
EVENT_TIMEOUT = 900.0
#: the fallback wait for a re-emission where the watchers' cursors cannot be read (Airflow < 3.3);
#: otherwise the scenario waits until the later recording is committed (lake.LakeRun.wait_committed)
SETTLE = 15.0
#: seconds between reads of the asset events (each read pages through 600+ events)
EVENTS_POLL = 2.0


def _burst(run: LakeRun, n: int) -> list[str]:
    """Seed ``n`` TRTC recordings on VOD and stop them: each uploads ``UPLOAD_DELAY`` s later."""
    from airflow_provider_rtc.hooks.trtc import TrtcHook

    task_ids: list[str] = []
    while len(task_ids) < n:  # TRTC (and the sandbox) allow 100 concurrent recordings per app
        size = min(BATCH, n - len(task_ids))
        spec = {"trtc": {"rooms": size, "users_per_room": 1, "recordings": size, "recording_storage": "vod"}}
        seeded = run.dep.sandbox_call("POST", "/seed", spec)
        batch = [r["task_id"] for r in seeded["trtc"]["recordings"]]
        with ThreadPoolExecutor(STOPPERS) as pool:  # each thread its own hook
            list(pool.map(lambda t: TrtcHook().delete_cloud_recording(t), batch))
        run.task_ids.update(dict.fromkeys(batch, "trtc"))
        task_ids += batch
    return task_ids


def _changed_at(dep: Deployment, run: LakeRun, task_ids: list[str]) -> dict[str, float]:
    """Each recording's last change in the receiver (signed reads of its changes API, all pages)."""
    from airflow_provider_rtc.callbacks.auth import sign_read

    app_id = dep.sandbox["connections"]["tencentcloud_default"]["extra"]["sdk_app_id"]
    found: dict[str, float] = {}
    since, after = 0.0, ""
    while True:
        query = f"since={since!r}&limit=1000"
        if after:
            query += f"&after={urllib.parse.quote(after, safe='')}"
        path = f"/trtc/{app_id}/tasks?{query}"
        signed = sign_read(dep.callback_key, path)
        page = http_json("GET", run.receiver.url + path, headers=signed, timeout=30)
        for item in page["tasks"]:
            found[str(item["task_id"])] = float(item["changed_at"])
        if len(page["tasks"]) < 1000:
            return {t: found[t] for t in task_ids if t in found}
        since, after = float(page["tasks"][-1]["changed_at"]), str(page["tasks"][-1]["task_id"])


def _deliver(dep: Deployment, run: LakeRun, task_ids: set[str]) -> float:
    """POST the sandbox's logged (undelivered) TRTC callbacks of ``task_ids`` to the receiver, as
    generated (bytes and ``Sign`` untouched): the recorder's 301/302 first, then the uploads."""
    import httpx

    log = dep.sandbox_call("GET", "/callbacks")["log"]
    held = [d for d in log if d["task_id"] in task_ids and d["cloud"] == "trtc" and not d["delivered"]]
    first = [d for d in held if int(d["event_type"]) in (301, 302)]
    uploads = [d for d in held if int(d["event_type"]) not in (301, 302)]
    _check(uploads, "the sandbox logged no upload callback for the burst")
    with httpx.Client(timeout=30, trust_env=False) as client, ThreadPoolExecutor(DELIVERERS) as pool:

        def post(delivery: dict[str, Any]) -> int:
            body = delivery["raw_body"].encode()
            resp = client.post(f"{run.receiver.url}/trtc/callback", content=body, headers=delivery["headers"])
            return resp.status_code

        statuses = list(pool.map(post, first))
        started = time.monotonic()
        statuses += list(pool.map(post, uploads))
        took = time.monotonic() - started
    bad = [s for s in statuses if s != 200]
    _check(not bad, f"the receiver refused {len(bad)} callback(s): {sorted(set(bad))}")
    return took


def _all_uploaded(dep: Deployment, task_ids: list[str]) -> bool:
    return all(dep.sandbox_call("GET", f"/storage/trtc/{t}")["upload"] == "done" for t in task_ids)


def _densest_window(times: list[float]) -> int:
    ordered = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(ordered):
        while t - ordered[lo] > WINDOW:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def recordings_burst_scenario(dep: Deployment) -> dict[str, Any]:
    from .scenarios import fresh_event, use_receiver

    started = time.monotonic()
    fresh_event(dep)
    run = LakeRun(dep)
    run.receiver.start()
    try:
        use_receiver(dep, run.receiver.url)
        dep.sandbox_call("PUT", "/timing", {"upload_delay": UPLOAD_DELAY})
        run.set_destination()
        use_client_connections(dep)
        dep.wait_dags([LAKE_DAG])
        run.pause(True)  # the burst completes while no watcher runs

        # 600 recordings are stopped through the API with their uploads held back (a long upload
        # delay), then the sandbox clock jumps past it: all 600 uploads complete at once. The
        # sandbox only logs their callbacks meanwhile (no URL), and the scenario then delivers those
        # exact signed bodies to the receiver itself, 8 at a time as TRTC does in parallel: the
        # sandbox's own 4-thread delivery (~10/s on a loaded machine) is slower than a cloud's and
        # would spread the burst over minutes
        dep.sandbox_call("PUT", "/callbacks", {"url": None})
        dep.sandbox_call("PUT", "/timing", {"upload_delay": HOLD})
        burst_started = time.monotonic()
        burst = _burst(run, BURST)
        stopped_s = time.monotonic() - burst_started
        offset = float(dep.sandbox_call("GET", "/clock")["offset_seconds"])
        dep.sandbox_call("PUT", "/clock", {"offset_seconds": offset + HOLD})
        try:
            wait_for(f"the {BURST} uploads", lambda: _all_uploaded(dep, burst), 300, 2)
        finally:  # back to real time before any signed API call
            dep.sandbox_call("PUT", "/clock", {"offset_seconds": offset})
            dep.sandbox_call("PUT", "/timing", {"upload_delay": UPLOAD_DELAY})
        delivered_s = _deliver(dep, run, set(burst))
        use_receiver(dep, run.receiver.url)  # the sandbox delivers again (the later recording)
        changed = _changed_at(dep, run, burst)
        _check(len(changed) == BURST, f"the receiver holds callbacks of {len(changed)} of {BURST} recordings")
        spread = max(changed.values()) - min(changed.values())
        densest = _densest_window(list(changed.values()))
        _check(densest > PAGE, f"only {densest} completions within {WINDOW:.0f} s: not the stalling burst")

        unpaused = time.monotonic()
        run.pause(False)  # the watchers start at the file's next parse, requested now
        run_events = wait_events(run, burst)
        emitted_s = time.monotonic() - unpaused

        later = _burst(run, 1)  # completes after the burst: the watcher moved on
        wait_events(run, later)
        # a re-emission would show up by now: the watcher commits the later recording to its cursor
        # `commit_delay` (10 s, 5 polls) after emitting it, each poll re-reading the minute before
        # its watermark, and the triggerer stores an event in about a second
        settle_s = run.wait_committed(later, SETTLE)
        events = run.events()
        per_recording: dict[str, int] = {}
        for event in events:
            per_recording[_task_id(event)] = per_recording.get(_task_id(event), 0) + 1
        twice = {k: n for k, n in per_recording.items() if n > 1}
        missing = sorted(set(run.task_ids) - set(per_recording))
        _check(not twice, f"recordings with more than one asset event: {len(twice)}, e.g. {list(twice)[:5]}")
        _check(not missing, f"recordings without an asset event: {len(missing)}, e.g. {missing[:5]}")
        return {
            "recordings": len(run.task_ids),
            "events": len(events),
            "burst_stop_seconds": round(stopped_s, 1),
            "burst_delivery_seconds": round(delivered_s, 1),
            "burst_completion_spread_seconds": round(spread, 1),
            "densest_60s_window": densest,
            "burst_events_seconds_after_unpause": round(emitted_s, 1),
            "events_when_burst_complete": len(run_events),
            "settle_s": settle_s,
            "seconds": round(time.monotonic() - started, 1),
        }
    finally:
        run.pause(True)
        use_receiver(dep, dep.receiver_url)
        run.receiver.stop()


def wait_events(run: LakeRun, task_ids: list[str]) -> list[dict[str, Any]]:
    def all_there() -> list[dict[str, Any]] | None:
        events = run.events()
        return events if set(task_ids) <= {_task_id(e) for e in events} else None

    return list(
        wait_for(f"asset events for {len(task_ids)} recording(s)", all_there, EVENT_TIMEOUT, EVENTS_POLL)
    )
