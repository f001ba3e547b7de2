"""The dependency-aware executor: every API at its own limit, each target as soon as it may run.

The stage-by-stage engine ended everything of one stage before starting the next, so the event
took the sum of each stage's slowest API. Here each target is released when the targets it depends
on (:mod:`~airflow_provider_rtc.cleanup.deps`: per room, per application) have ended, and independent
work overlaps: a ZEGO room is closed as soon as its own streams and users are gone, while TRTC rooms
are dismissed next to it. The event then takes about the time of its slowest API.

Pacing stays where it was: every call goes through its hook, whose shared pacer spaces calls at
the catalog's documented rate. What this module adds is *lanes*: one queue per API, with a small
concurrency of its own (enough calls in flight to reach its rate), so a slow API (ZEGO CloseRoom,
1 call/s) never holds the workers a fast one needs: with one pool, workers would sit waiting for
CloseRoom's pacing slots while DismissRoom's queue starves (head-of-line blocking). The total in
flight is still bounded (``max_concurrency``). Lanes on the longest remaining chain are served first.

A target whose dependency *failed* still runs, marked ``after_failed`` with the labels of what did
not end first: ending the event comes first (as the example DAG's ``all_done`` stages and the
stage-by-stage engine always did); a live room left open because a recording refused to stop costs
more than a recording finalised by its room closing. Its status is what its own call answered, so
nothing is reported done while live.

Stop semantics are the engine's (:func:`airflow_provider_rtc.cleanup.engine.run_bulk`): once ``stop``
is set no new call is issued, calls on the wire finish (bounded by their timeout), every target gets a
result (``not_started`` included); a ``BaseException`` in the calling thread (the
``execution_timeout`` alarm) sets ``stop``, waits for those calls and propagates, the results then on
``stop.results`` when ``stop`` is a :class:`BulkStop`.
"""

from __future__ import annotations

import heapq
import math
import queue
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from airflow_provider_rtc import audit
from airflow_provider_rtc.cleanup.engine import (
    BulkRun,
    BulkStop,
    BulkTarget,
    _Progress,
    _run_one,
    not_started,
    observe,
)
from airflow_provider_rtc.cleanup.result import outcome

#: seconds a call is assumed to be on the wire when sizing a lane: ``rate x this`` calls in flight
#: keep the lane at its rate (one more covers the call waiting for its pacing slot)
CALL_SECONDS = 0.5
_FAILED = ("failed",)


@dataclass(frozen=True)
class Job:
    """One target in the schedule: the engine's target, its API's lane and rate, and what must end
    first (indices into the job list)."""

    item: BulkTarget
    lane: str
    qps: float
    after: tuple[int, ...] = ()


def lane_concurrency(qps: float, total: int) -> int:
    """Calls in flight a lane needs to reach ``qps``: 2 at 1/s (one on the wire, one waiting for its
    slot), 11 at 20/s; never more than ``total``."""
    return max(1, min(total, math.ceil(qps * CALL_SECONDS) + 1))


def _check_acyclic(jobs: Sequence[Timed]) -> None:
    state = [0] * len(jobs)  # 0 new, 1 on the path, 2 done
    for start in range(len(jobs)):
        stack = [(start, iter(jobs[start].after))]
        if state[start]:
            continue
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif not 0 <= child < len(jobs):
                raise ValueError(f"job {node} depends on {child}, which is not a job")
            elif state[child] == 1:
                raise ValueError(f"dependency cycle through job {child}")
            elif state[child] == 0:
                state[child] = 1
                stack.append((child, iter(jobs[child].after)))


def lane_priority(jobs: Sequence[Job]) -> dict[str, float]:
    """Each lane's own time (targets / rate) plus the longest chain of lanes waiting on it: the
    lanes whose delay delays the end most are served first."""
    own: dict[str, float] = {}
    feeds: dict[str, set[str]] = {}
    for job in jobs:
        own[job.lane] = own.get(job.lane, 0.0) + 1.0 / max(job.qps, 1e-9)
        for dep in job.after:
            if jobs[dep].lane != job.lane:
                feeds.setdefault(jobs[dep].lane, set()).add(job.lane)
    memo: dict[str, float] = {}

    def tail(lane: str, seen: frozenset[str]) -> float:
        if lane not in memo:
            nxt = [tail(n, seen | {lane}) for n in feeds.get(lane, ()) if n not in seen]
            memo[lane] = own[lane] + max(nxt, default=0.0)
        return memo[lane]

    return {lane: tail(lane, frozenset()) for lane in own}


def run_schedule(
    jobs: Sequence[Job],
    *,
    max_concurrency: int,
    stop: threading.Event | None = None,
    ignore_not_found: bool = True,
    log: Any = None,
    progress_interval: float = 10.0,
) -> list[dict[str, Any]]:
    """End every job, each once its ``after`` jobs have ended; at most ``max_concurrency`` calls in
    flight, each lane at most :func:`lane_concurrency` of its rate. One result per job, in order."""
    _check_acyclic(jobs)
    if not jobs:
        return []
    stop = stop if stop is not None else threading.Event()
    total = max(1, int(max_concurrency))
    progress = _Progress(len(jobs), log, progress_interval)
    priority = lane_priority(jobs)
    lanes_in_order = sorted(priority, key=lambda lane: (-priority[lane], lane))
    caps = {lane: lane_concurrency(min(j.qps for j in jobs if j.lane == lane), total) for lane in priority}
    ready: dict[str, deque[int]] = {lane: deque() for lane in priority}
    in_flight = dict.fromkeys(priority, 0)
    waiting = [len(set(job.after)) for job in jobs]
    children: list[list[int]] = [[] for _ in jobs]
    for i, job in enumerate(jobs):
        for dep in set(job.after):
            children[dep].append(i)
        if not waiting[i]:
            ready[job.lane].append(i)
    results: list[dict[str, Any] | None] = [None] * len(jobs)
    finished: queue.Queue[tuple[int, dict[str, Any]]] = queue.Queue()
    running = 0
    trail = audit.active()  # captured here: the worker threads do not inherit it

    def work(i: int) -> None:
        item = jobs[i].item
        # whatever goes wrong here, a result is put on ``finished``: the loop waits for one per job
        # submitted, so a raise before it (a target whose description cannot be read) hung the run
        result: dict[str, Any] = {"target": getattr(item, "target", None), **outcome("not_started")}
        called = False
        try:
            result = not_started(item)
            called = True
            result = _run_one(item, stop, ignore_not_found, trail, "end_event")
        except BaseException as err:  # _run_one catches Exception; anything else still reports
            result = {**result, "status": "failed", "kind": "error", "error": type(err).__name__}
            result["maybe_executed"] = called  # no call was made when the target could not be read
            observe(result, origin="end_event", trail=trail)
        finally:
            progress.tick()
            finished.put((i, result))

    def dispatch(pool: ThreadPoolExecutor) -> None:
        nonlocal running
        moved = True
        while moved and running < total:
            moved = False
            for lane in lanes_in_order:  # one per lane per round: a busy lane cannot take every worker
                if running >= total:
                    break
                if ready[lane] and in_flight[lane] < caps[lane]:
                    i = ready[lane].popleft()
                    in_flight[lane] += 1
                    running += 1
                    pool.submit(work, i)
                    moved = True

    def settle(i: int, result: dict[str, Any]) -> None:
        nonlocal running
        running -= 1
        in_flight[jobs[i].lane] -= 1
        failed = [
            jobs[d].item.target
            for d in sorted(set(jobs[i].after))
            if (done := results[d]) is not None and done["status"] in _FAILED
        ]
        if failed:
            result = {**result, "after_failed": failed}
        results[i] = result
        for child in children[i]:
            waiting[child] -= 1
            if not waiting[child]:
                ready[jobs[child].lane].append(child)

    def drain() -> None:
        while running:
            try:
                settle(*finished.get())
            except BaseException:  # noqa: S112 - keep waiting: every call on the wire must report
                continue

    pool = ThreadPoolExecutor(max_workers=min(total, len(jobs)), thread_name_prefix="rtc-cleanup")
    try:
        while True:
            if not stop.is_set():
                dispatch(pool)
            if not running:
                break
            try:
                settle(*finished.get(timeout=1.0))
            except queue.Empty:
                continue
    except BaseException:
        stop.set()
        drain()
        out = _collect(jobs, results)
        if isinstance(stop, BulkStop):
            stop.results = out
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        audit.flush(trail)  # object stores: what was ended is written, however the run ended
    return _collect(jobs, results)


def _collect(jobs: Sequence[Job], results: list[dict[str, Any] | None]) -> list[dict[str, Any]]:
    return [r if r is not None else not_started(job.item) for job, r in zip(jobs, results, strict=True)]


class Timed(Protocol):
    """What the estimate reads of a job (a :class:`Job`, or a plan target's lane without a call)."""

    @property
    def lane(self) -> str: ...
    @property
    def qps(self) -> float: ...
    @property
    def after(self) -> tuple[int, ...]: ...


def estimate(jobs: Sequence[Timed]) -> float:
    """Seconds the documented limits allow at best, dependencies included: each lane ends one target
    every ``1 / rate`` seconds, a target no earlier than the ends of what it depends on, lanes side by
    side (calls taking no time). Without dependencies it is the slowest API's targets / rate."""
    _check_acyclic(jobs)
    end = [0.0] * len(jobs)
    free: dict[str, float] = {}
    waiting = [len(set(j.after)) for j in jobs]
    children: list[list[int]] = [[] for _ in jobs]
    for i, job in enumerate(jobs):
        for dep in set(job.after):
            children[dep].append(i)
    # lanes serve targets in the order they are released, as the executor does
    ready = [(0.0, i) for i, w in enumerate(waiting) if not w]
    heapq.heapify(ready)
    while ready:
        released, i = heapq.heappop(ready)
        job = jobs[i]
        start = max(released, free.get(job.lane, 0.0))
        end[i] = free[job.lane] = start + 1.0 / max(job.qps, 1e-9)
        for child in children[i]:
            waiting[child] -= 1
            if not waiting[child]:
                heapq.heappush(ready, (max(end[d] for d in jobs[child].after), child))
    return max(end, default=0.0)


def run_jobs(
    run: BulkRun, jobs: Sequence[Job], *, log: Any = None
) -> tuple[list[dict[str, Any]], BaseException | None]:
    """:func:`run_schedule` with a :class:`~airflow_provider_rtc.cleanup.engine.BulkRun`'s options and
    stop switch (on_kill sets it, the plan's verify waits on it), guarded as ``BulkRun.run`` is
    (:meth:`~airflow_provider_rtc.cleanup.engine.BulkRun.guarded`): an interruption is returned with
    the results up to it, not raised."""
    return run.guarded(run_schedule, jobs, [job.item for job in jobs], log=log)
