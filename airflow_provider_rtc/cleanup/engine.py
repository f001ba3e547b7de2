"""Bulk cleanup: many targets in one task, at the API's paced rate with bounded concurrency.

One Airflow task per call costs seconds of scheduling each; firing everything at once trips the
cloud's rate limit. Here every call goes through the hook, whose shared pacer spaces calls at the
documented QPS, and a small thread pool keeps enough calls in flight to reach it.

The engine is :func:`run_bulk` (plain function, reusable by any operator):

* every target is validated before the first call (:class:`BulkPlan`), duplicates dropped and
  reported;
* individual failures do not stop the batch;
* a stop (``on_kill`` on SIGTERM, ``execution_timeout``) issues no new call - calls waiting for a
  pacing slot or a retry are abandoned, calls on the wire finish (bounded by their timeout) - and
  every target still gets a result in the one shape (:mod:`.result`): ``done``, ``already_gone``,
  ``failed`` (with ``maybe_executed``: whether the last attempt may have run) or ``not_started``.

:class:`BulkRun` is what a bulk operator holds: the options, the stop switch, and the step that
turns the results into the task's summary: logged, returned when the task succeeds, and pushed to
the ``bulk_results`` XCom before it fails or is stopped.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from typing import Any

from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_rtc import audit, metrics
from airflow_provider_rtc import validation as v
from airflow_provider_rtc.cleanup.result import STATUSES, outcome, run_call
from airflow_provider_rtc.transport import stop_scope

__all__ = [
    "STATUSES",
    "BulkPlan",
    "BulkRun",
    "BulkStop",
    "BulkTarget",
    "not_started",
    "observe",
    "plan_targets",
    "run_bulk",
]
MAX_CONCURRENCY = 256


@dataclass(frozen=True)
class BulkTarget:
    """One validated target: what the result says about it, and the call that cleans it up."""

    target: Any
    described: dict[str, Any]
    call: Callable[[], dict[str, Any]]
    #: the ender row's identity fields, when the target was checked before its call was built
    ids: dict[str, Any] | None = None


@dataclass
class BulkPlan:
    """Every target of a bulk, validated before the first call; ``duplicates`` were dropped."""

    targets: list[BulkTarget]
    duplicates: list[Any] = field(default_factory=list)


def plan_targets(
    value: Any, param: str, prepare: Callable[[Any, str], BulkTarget], *, max_items: int = v.MAX_LIST_ITEMS
) -> BulkPlan:
    """Parse ``value`` with the package's one list parser and validate every item with ``prepare``
    (which must raise :class:`RtcValidationError` naming the parameter it was given)."""
    parsed = v.id_list(
        value, param, item=prepare, max_items=max_items, min_items=0, key=lambda t: t.described
    )
    return BulkPlan(parsed.items, [t.target for t in parsed.duplicates])


class _Progress:
    """Logs done / remaining / rate / ETA at a steady cadence, from whichever worker passes the mark."""

    def __init__(self, total: int, log: Any, every: float) -> None:
        self.total = total
        self.log = log
        self.every = every
        self.done = 0
        self.started = time.monotonic()
        self._next = self.started + every
        self._lock = threading.Lock()

    def tick(self) -> None:
        with self._lock:
            self.done += 1
            now = time.monotonic()
            if self.log is None or (now < self._next and self.done < self.total):
                return
            self._next = now + self.every
            elapsed = max(now - self.started, 1e-9)
            rate = self.done / elapsed
            remaining = self.total - self.done
            eta = remaining / rate if rate else float("inf")
            self.log.info(
                "progress: %d/%d done, %d remaining, %.1f calls/s, ETA %.0fs",
                self.done,
                self.total,
                remaining,
                rate,
                eta,
            )


def _run_one(
    item: BulkTarget,
    stop: threading.Event,
    ignore_not_found: bool,
    trail: audit.AuditLog | None = None,
    origin: str = "bulk",
) -> dict[str, Any]:
    """One target's call and result; the one place every engine call is audited and counted
    (``trail``: the caller's, captured in its thread, as worker threads do not inherit it)."""
    if stop.is_set():
        return not_started(item)
    with stop_scope(stop):
        answer = run_call(item.call, ignore_not_found=ignore_not_found)
    result = {"target": item.target, **item.described, **answer}
    observe(result, origin=origin, trail=trail)
    return result


def observe(result: dict[str, Any], *, origin: str, trail: audit.AuditLog | None = None) -> None:
    """A destructive call's result: its audit line, and ``rtc.ended`` when it ended something."""
    audit.record([result], origin=origin, trail=trail)
    if result.get("status") in ("done", "already_gone"):
        metrics.incr(metrics.ENDED, cloud=result.get("cloud"), action=result.get("action"))


def run_bulk(
    targets: Sequence[BulkTarget],
    *,
    max_concurrency: int,
    stop: threading.Event | None = None,
    ignore_not_found: bool = True,
    log: Any = None,
    progress_interval: float = 10.0,
) -> list[dict[str, Any]]:
    """Clean up every target, at most ``max_concurrency`` calls in flight; one result per target,
    in order. Once ``stop`` is set no new call is issued; the function returns when the calls
    already on the wire have finished. A ``BaseException`` in the calling thread (the
    ``execution_timeout`` alarm, Ctrl-C) sets ``stop``, waits for those calls and propagates;
    the results are then on ``stop.results`` if ``stop`` is a :class:`BulkStop`."""
    stop = stop if stop is not None else threading.Event()
    progress = _Progress(len(targets), log, progress_interval)
    trail = audit.active()

    def work(item: BulkTarget) -> dict[str, Any]:
        try:
            return _run_one(item, stop, ignore_not_found, trail, "bulk")
        finally:
            progress.tick()

    if not targets:
        return []
    pool = ThreadPoolExecutor(max_workers=min(max_concurrency, len(targets)), thread_name_prefix="rtc-bulk")
    futures = [pool.submit(work, item) for item in targets]
    try:
        wait_futures(futures)
    except BaseException:
        stop.set()
        _drain(futures)
        if isinstance(stop, BulkStop):
            stop.results = _collect(targets, futures)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        audit.flush(trail)  # object stores: what this batch did is written, however it ended
    return _collect(targets, futures)


def _drain(futures: list[Any]) -> None:
    """Wait for the calls on the wire, even if another alarm or signal interrupts the wait."""
    while True:
        try:
            wait_futures(futures)
            return
        except BaseException:  # noqa: S112 - keep waiting: the summary must still be written
            continue


def _collect(targets: Sequence[BulkTarget], futures: list[Any]) -> list[dict[str, Any]]:
    results = []
    for item, future in zip(targets, futures, strict=True):
        if future.done() and not future.cancelled():
            results.append(future.result())
        else:
            results.append(not_started(item))
    return results


def not_started(item: BulkTarget) -> dict[str, Any]:
    """The result of a target no call was issued for."""
    return {"target": item.target, **item.described, **outcome("not_started")}


class BulkStop(threading.Event):
    """The stop switch: set by ``on_kill`` or the timeout; keeps why, and the results if interrupted."""

    def __init__(self) -> None:
        super().__init__()
        self.reason = ""
        self.results: list[dict[str, Any]] | None = None


class BulkRun:
    """What a bulk operator holds: options, the stop switch and the summary step.

    :param max_concurrency: calls in flight at once (the pacer, not this, sets the rate); an int
        or a numeric string from a template, 1-256.
    :param progress_interval: seconds between progress lines.
    """

    def __init__(self, max_concurrency: Any = 16, progress_interval: Any = 10.0) -> None:
        concurrency = v.integer(max_concurrency, "max_concurrency", minimum=1, maximum=MAX_CONCURRENCY)
        interval = v.number(progress_interval, "progress_interval", minimum=0.0)
        assert concurrency is not None and interval is not None
        self.max_concurrency = concurrency
        self.progress_interval = interval
        self._stop = BulkStop()

    def __deepcopy__(self, memo: dict[int, Any]) -> BulkRun:
        """The same options with a fresh stop switch: Airflow 3.0 and 3.1 deep-copy every operator
        when a run is cleared or tested (``dag.test()``), and a ``threading.Event`` cannot be copied."""
        clone = copy.copy(self)
        clone._stop = BulkStop()
        return clone

    def stop(self, reason: str) -> None:
        """Issue no new call (safe from a signal handler: it only sets a flag)."""
        if not self._stop.is_set():
            self._stop.reason = reason
            self._stop.set()

    def wait(self, seconds: float) -> bool:
        """Sleep ``seconds``; True at once if the run is or gets stopped."""
        return self._stop.wait(seconds)

    @property
    def stopped(self) -> str:
        """Why the run was stopped (``on_kill``, the timeout's exception name), or ``""``."""
        return self._stop.reason if self._stop.is_set() else ""

    def run(
        self, targets: Sequence[BulkTarget], *, ignore_not_found: bool = True, log: Any = None
    ) -> tuple[list[dict[str, Any]], BaseException | None]:
        """:func:`run_bulk` with this run's options and stop switch, through :meth:`guarded`."""
        return self.guarded(run_bulk, targets, targets, ignore_not_found=ignore_not_found, log=log)

    def guarded(
        self,
        executor: Callable[..., list[dict[str, Any]]],
        work: Sequence[Any],
        targets: Sequence[BulkTarget],
        **kwargs: Any,
    ) -> tuple[list[dict[str, Any]], BaseException | None]:
        """``executor(work, ...)`` (:func:`run_bulk`, or the schedule's ``run_schedule``) with this
        run's options and stop switch, plus ``kwargs``. An interruption (the ``execution_timeout``
        alarm) is returned with the results up to it (``not_started`` for the ``targets`` the
        executor left none for), not raised, so the caller reports before re-raising it."""
        self._stop.results = None
        try:
            results = executor(
                work,
                max_concurrency=self.max_concurrency,
                stop=self._stop,
                progress_interval=self.progress_interval,
                **kwargs,
            )
        except BaseException as exc:
            self._stop.reason = self._stop.reason or type(exc).__name__
            self._stop.set()
            return self._stop.results or [not_started(t) for t in targets], exc
        return results, None

    def execute(self, op: Any, context: Any, plan: BulkPlan) -> dict[str, Any]:
        log = op.log
        targets = plan.targets
        if plan.duplicates:
            log.warning(
                "bulk %s: dropped %d duplicate target(s): %s",
                op.task_id,
                len(plan.duplicates),
                plan.duplicates[:20],
            )
        log.info("bulk %s: %d target(s), up to %d in flight", op.task_id, len(targets), self.max_concurrency)
        started = time.monotonic()
        results, interrupted = self.run(targets, ignore_not_found=op.ignore_not_found, log=log)
        summary = _summary(results, plan.duplicates, time.monotonic() - started, self._stop.reason)
        failed = [r for r in results if r["status"] == "failed"]
        # a task that ends well returns the summary (its return_value XCom); one that fails or is
        # stopped pushes it under 'bulk_results' first, since it returns nothing
        _report(op, context, summary, push=bool(interrupted or failed or self._stop.is_set()))
        if interrupted is not None:
            raise interrupted
        if self._stop.is_set():
            raise AirflowException(
                f"bulk stopped ({self._stop.reason}): {summary['counts']}; "
                "see the 'bulk_results' XCom or the log for each target"
            )
        if failed:
            raise AirflowException(
                f"{len(failed)} of {len(results)} target(s) failed; the others completed "
                f"(see the log or the 'bulk_results' XCom): "
                + ", ".join(f"{r.get('target', r)} [{r.get('code')}]" for r in failed[:10])
                + (" ..." if len(failed) > 10 else "")
            )
        return summary


def _summary(
    results: list[dict[str, Any]], duplicates: list[Any], elapsed: float, stopped: str
) -> dict[str, Any]:
    counts = {status: 0 for status in STATUSES}
    for result in results:
        counts[result["status"]] += 1
    summary: dict[str, Any] = {
        "total": len(results),
        "counts": {k: n for k, n in counts.items() if n},
        "elapsed_s": round(elapsed, 3),
        "rate_per_s": round(len(results) / elapsed, 2) if elapsed > 0 and results else 0.0,
        "duplicates_removed": duplicates,
        "results": results,
    }
    if stopped:
        summary["stopped"] = stopped
    return summary


def _report(op: Any, context: Any, summary: dict[str, Any], *, push: bool) -> None:
    """Log and push the summary; done before the task fails or is stopped, so a re-run knows where
    it stood. A failing push must not hide the log lines."""
    log = op.log
    log.info("bulk %s finished: %s in %.1fs", op.task_id, summary["counts"], summary["elapsed_s"])
    for result in summary["results"]:
        if result["status"] == "failed":
            log.error("failed: %s", result)
    unstarted = [r["target"] for r in summary["results"] if r["status"] == "not_started"]
    if unstarted:
        log.warning("not started (%d): %s", len(unstarted), unstarted[:50])
    ti = context.get("ti") if isinstance(context, dict) else None
    if push and ti is not None:
        try:
            ti.xcom_push(key="bulk_results", value=summary)
        except Exception:
            log.exception("could not push the 'bulk_results' XCom; the summary is in this log")
