"""arrival_busiest_second: pacing as the cloud sees it. The most calls a server on 127.0.0.1 received
in any one-second window, for a fresh worker at 5/s whose connections take 0.1 s to open (within the
40-140 ms seen against the real APIs), with the shipped 3% headroom; and the steady rate at the
server. "before" takes the slot before connecting (the old order), "after" once the connection is
open (``airflow_provider_rtc.departure``). Run alone: ``python benchmarks/arrivals.py``."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LIMIT = 5
SETUP_DELAY = 0.1
PATHS = ("sync", "async", "bulk")
BACKEND = "AIRFLOW__RTC__RATE_LIMIT_BACKEND"


def _paths(hook: Any, calls: int) -> dict[str, Any]:
    from airflow_provider_rtc.cleanup.engine import BulkTarget, run_bulk
    from airflow_provider_rtc.transport import new_async_client

    def sync() -> None:
        for room in range(1, calls + 1):
            hook.dismiss_room(room)

    def asynchronous() -> None:
        async def run() -> None:
            async with new_async_client((5.0, 5.0)) as client:
                for n in range(calls):
                    await hook.adescribe_cloud_recording(f"task-{n}", client=client)

        asyncio.run(run())

    def bulk() -> None:
        targets = [BulkTarget(str(r), {}, lambda r=r: hook.dismiss_room(r)) for r in range(1, calls + 1)]
        run_bulk(targets, max_concurrency=4)

    return {"sync": sync, "async": asynchronous, "bulk": bulk}


@contextmanager
def _isolated(at_departure: bool) -> Iterator[None]:
    """The order under test and a fresh worker; everything restored after (``make bench`` runs every
    benchmark in one process)."""
    from airflow_provider_rtc import pacing, ratelimit
    from airflow_provider_rtc.hooks import base
    from airflow_provider_rtc.transport import arun_with_retry, run_with_retry

    names = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "AIRFLOW_CONN_TENCENTCLOUD_DEFAULT", BACKEND)
    saved_env = {name: os.environ.get(name) for name in names}
    saved = (base.run_with_retry, base.arun_with_retry, dict(pacing._pacers), dict(ratelimit._limiters))
    pacing._pacers.clear()
    ratelimit._limiters.clear()
    os.environ[BACKEND] = "process"
    base.run_with_retry = lambda *a, **kw: run_with_retry(*a, **{**kw, "at_departure": at_departure})  # type: ignore[assignment]
    base.arun_with_retry = lambda *a, **kw: arun_with_retry(*a, **{**kw, "at_departure": at_departure})  # type: ignore[assignment]
    try:
        yield
    finally:
        base.run_with_retry, base.arun_with_retry = saved[0], saved[1]  # type: ignore[assignment]
        pacing._pacers.clear()
        pacing._pacers.update(saved[2])
        ratelimit._limiters.clear()
        ratelimit._limiters.update(saved[3])
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _measure(path: str, calls: int, at_departure: bool) -> tuple[int, float]:
    from airflow_provider_rtc.hooks.trtc import TrtcHook
    from tests.support.arrivals import arrival_server, busiest_second
    from tests.support.wire import tc_ok, tencent_conn_json

    answer = lambda n: tc_ok(f"rid-{n}", Status="Idle", TaskId="t")  # noqa: E731
    with _isolated(at_departure), arrival_server(SETUP_DELAY, answer) as srv:
        os.environ["REQUESTS_CA_BUNDLE"] = os.environ["SSL_CERT_FILE"] = srv.ca_file
        qps = {"DismissRoom": LIMIT, "DescribeCloudRecording": LIMIT}
        conn = tencent_conn_json(srv.url, pacing=True, qps=qps)
        os.environ["AIRFLOW_CONN_TENCENTCLOUD_DEFAULT"] = json.dumps(conn)
        _paths(TrtcHook(), calls)[path]()
        times = sorted(srv.arrivals)
    steady = (len(times) - 2) / (times[-1] - times[1])  # calls/s at the server after the first
    return busiest_second(times), steady


def run(calls: int = 16) -> dict[str, float]:
    out: dict[str, float] = {}
    for path in PATHS:
        for label, at_departure in (("before", False), ("after", True)):
            busiest, steady = _measure(path, calls, at_departure)
            out[f"arrival_busiest_second_{path}_{label}"] = busiest
            out[f"arrival_steady_qps_{path}_{label}"] = round(steady, 3)
    out["arrival_busiest_second"] = max(out[f"arrival_busiest_second_{p}_after"] for p in PATHS)
    return out


if __name__ == "__main__":
    os.environ.setdefault("AIRFLOW_HOME", str(Path(__file__).resolve().parent.parent / ".bench" / "airflow"))
    for key, value in run().items():
        print(f"{key:<40} {value:g}")
