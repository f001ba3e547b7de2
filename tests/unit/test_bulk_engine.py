"""``run_bulk``, the engine other operators build on: one result per target, in order; a stop
issues no new call."""

from __future__ import annotations

import threading
from typing import Any

from airflow_provider_rtc.cleanup.engine import BulkTarget, run_bulk
from airflow_provider_rtc.exceptions import RtcNotFoundError, RtcThrottledError, RtcTransientError


def _target(name: str, outcome: Any, calls: list[str]) -> BulkTarget:
    def call() -> dict[str, Any]:
        calls.append(name)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return BulkTarget(name, {"name": name}, call)


def test_one_result_per_target_in_order() -> None:
    calls: list[str] = []
    targets = [
        _target("a", {"RequestId": "r-a"}, calls),
        _target("b", RtcNotFoundError("gone", code="NotFound"), calls),
        _target("c", RtcTransientError("dropped", maybe_executed=True), calls),
        _target("d", RtcThrottledError("slow down", maybe_executed=False), calls),
        _target("e", KeyError("bug"), calls),
    ]
    results = run_bulk(targets, max_concurrency=3)
    assert [r["name"] for r in results] == ["a", "b", "c", "d", "e"]
    assert [r["status"] for r in results] == ["done", "already_gone", "failed", "failed", "failed"]
    assert results[0]["RequestId"] == "r-a"
    assert results[2]["maybe_executed"] is True and results[3]["maybe_executed"] is False
    assert results[4]["error"] == "KeyError"  # a bug costs that target only, and leaks no text
    assert sorted(calls) == ["a", "b", "c", "d", "e"]


def test_not_found_is_failed_when_not_ignored() -> None:
    results = run_bulk(
        [_target("a", RtcNotFoundError("gone"), [])], max_concurrency=1, ignore_not_found=False
    )
    assert results[0]["status"] == "failed" and results[0]["maybe_executed"] is False


def test_a_stop_before_the_start_calls_nothing() -> None:
    calls: list[str] = []
    stop = threading.Event()
    stop.set()
    results = run_bulk([_target(n, {}, calls) for n in "abc"], max_concurrency=2, stop=stop)
    assert [r["status"] for r in results] == ["not_started"] * 3
    assert calls == []


def test_a_stop_during_the_run_calls_nothing_new() -> None:
    calls: list[str] = []
    stop = threading.Event()

    def first() -> dict[str, Any]:
        calls.append("first")
        stop.set()  # e.g. on_kill while this call is on the wire: it still completes
        return {"RequestId": "r-1"}

    targets = [BulkTarget("first", {}, first), *(_target(n, {}, calls) for n in "bcd")]
    results = run_bulk(targets, max_concurrency=1, stop=stop)
    assert [r["status"] for r in results] == ["done", "not_started", "not_started", "not_started"]
    assert calls == ["first"]
