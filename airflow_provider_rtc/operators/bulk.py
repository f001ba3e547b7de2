"""Bulk cleanup: many targets in one task, at the API's paced rate with bounded concurrency.

One Airflow task per call costs seconds of scheduling each; firing everything at once trips the
cloud's rate limit. Here every call goes through the hook, whose shared pacer spaces calls at the
documented QPS, and a small thread pool keeps enough calls in flight to reach it. Individual
failures do not stop the batch; the task fails at the end, after reporting every target.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_rtc.exceptions import RtcError, RtcNotFoundError
from airflow_provider_rtc.operators.cleanup import RtcCleanupOperator


def as_target_list(value: Any, param: str) -> list[Any]:
    """Targets from a literal list, a JSON-array string rendered by a template, or an XCom list."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        try:
            value = json.loads(text)
        except ValueError:
            value = [part.strip() for part in text.split(",") if part.strip()]
    if isinstance(value, dict) or not isinstance(value, Sequence | set | frozenset):
        raise AirflowException(f"invalid {param}: must be a list of targets (got {type(value).__name__})")
    return list(value)


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
            if now < self._next and self.done < self.total:
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


class BulkCleanupOperator(RtcCleanupOperator):
    """Base of the bulk operators: subclasses name the targets and say how to clean one up.

    Put it first among the bases (``class X(BulkCleanupOperator, SomeProductOperator)``) so its
    ``execute`` wins and the product base supplies the connection and the hook.

    :param max_concurrency: calls in flight at once (the pacer, not this, sets the rate).
    :param progress_interval: seconds between progress lines.
    :param ignore_not_found: an already-gone target counts as done (default).
    """

    ui_color = "#d6ecfa"
    targets_param = "targets"

    def __init__(self, *, max_concurrency: int = 16, progress_interval: float = 10.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.max_concurrency = max_concurrency
        self.progress_interval = progress_interval

    # subclasses
    def targets(self) -> list[Any]:
        raise NotImplementedError

    def prepare(self, target: Any) -> tuple[dict[str, Any], Callable[[], dict[str, Any]]]:
        """Validate one target; return its JSON description and the call that cleans it up."""
        raise NotImplementedError

    def run_one(self, target: Any) -> dict[str, Any]:
        """Clean up one target; an API or validation error is reported in the result, never raised."""
        result: dict[str, Any] = {"target": target}
        try:
            described, call = self.prepare(target)
            result.update(described)
            response = call()
        except RtcNotFoundError as err:
            result.update(
                status="already_gone" if self.ignore_not_found else "failed",
                code=err.code,
                RequestId=err.request_id,
                # found gone right after an attempt whose answer was lost: that attempt did it
                after_lost_response=err.after_lost_response,
            )
        except RtcError as err:
            result.update(status="failed", kind=err.kind, code=err.code, error=str(err))
        else:
            result.update(status="done", RequestId=response.get("RequestId"))
        return result

    def execute(self, context: Any) -> dict[str, Any]:
        targets = self.targets()
        started = time.monotonic()
        self.log.info(
            "bulk %s: %d target(s), up to %d in flight", self.task_id, len(targets), self.max_concurrency
        )
        progress = _Progress(len(targets), self.log, self.progress_interval)

        def work(target: Any) -> dict[str, Any]:
            try:
                return self.run_one(target)
            finally:
                progress.tick()

        if targets:
            with ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(targets))) as pool:
                results = list(pool.map(work, targets))
        else:
            results = []
        elapsed = time.monotonic() - started
        counts: dict[str, int] = {}
        for result in results:
            counts[result["status"]] = counts.get(result["status"], 0) + 1
        summary = {
            "total": len(results),
            "counts": counts,
            "elapsed_s": round(elapsed, 3),
            "rate_per_s": round(len(results) / elapsed, 2) if elapsed > 0 and results else 0.0,
            "results": results,
        }
        self.log.info("bulk %s finished: %s in %.1fs", self.task_id, counts, elapsed)
        failed = [r for r in results if r["status"] == "failed"]
        if failed:
            for result in failed:
                self.log.error("failed: %s", result)
            ti = context.get("ti") if isinstance(context, dict) else None
            if ti is not None:
                ti.xcom_push(key="bulk_results", value=summary)
            raise AirflowException(
                f"{len(failed)} of {len(results)} target(s) failed; the others completed "
                f"(see the log or the 'bulk_results' XCom): "
                + ", ".join(f"{r.get('target', r)} [{r.get('code')}]" for r in failed[:10])
                + (" ..." if len(failed) > 10 else "")
            )
        return summary
