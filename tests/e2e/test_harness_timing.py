"""The e2e harness's time savers (issue 24): a scheduled DAG's manual run does not wait behind the run
its unpause creates, and the teardown signals every component before waiting on any of them."""

from __future__ import annotations

import signal
from typing import Any

import pytest

from e2e import harness
from e2e.harness import Api, Processes, StageError


class FakeAirflow(Api):
    """The REST calls ``trigger_alone`` makes, answered in memory: a scheduled run (created by the
    unpause) is queued ahead of ours, and ours starts only once no other run is active
    (``max_active_runs=1``), one scheduler loop per read of our run."""

    def __init__(self, scheduled: list[str]) -> None:
        super().__init__("http://127.0.0.1:1")
        self.runs: dict[str, dict[str, Any]] = {
            run_id: {"dag_run_id": run_id, "run_type": "scheduled", "state": "queued"} for run_id in scheduled
        }
        self.patched: list[tuple[str, str]] = []

    def call(self, method: str, path: str, body: Any = None, timeout: float = 60) -> Any:
        if method == "POST" and path.endswith("/dagRuns"):
            run = {"dag_run_id": "manual__1", "run_type": "manual", "state": "queued"}
            self.runs[run["dag_run_id"]] = run
            return run
        if method == "PATCH":
            run_id = path.rsplit("/", 1)[1]
            self.runs[run_id]["state"] = body["state"]
            self.patched.append((run_id, body["state"]))
            return self.runs[run_id]
        if "/dagRuns?" in path:
            return {"dag_runs": list(self.runs.values())}
        run = self.runs[path.rsplit("/", 1)[1]]
        self._scheduler_loop()
        return run

    def _scheduler_loop(self) -> None:
        if any(r["state"] == "running" for r in self.runs.values()):
            return
        queued = [r for r in self.runs.values() if r["state"] == "queued"]
        if queued:
            queued[0]["state"] = "running"  # the oldest queued run goes first


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness.time, "sleep", lambda seconds: None)


def test_the_manual_run_of_a_scheduled_dag_starts_first() -> None:
    api = FakeAirflow(scheduled=["scheduled__0"])
    run_id = api.trigger_alone("sweep_idle_rooms", {"idle_minutes": 0})
    assert api.runs[run_id]["state"] == "running"
    assert api.runs["scheduled__0"]["state"] == "failed"
    assert api.patched == [("scheduled__0", "failed")]


def test_without_a_scheduled_run_nothing_is_patched() -> None:
    api = FakeAirflow(scheduled=[])
    assert api.runs[api.trigger_alone("sweep_idle_rooms")]["state"] == "running"
    assert api.patched == []


def test_a_run_that_never_leaves_the_queue_is_a_stage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    api = FakeAirflow(scheduled=[])
    monkeypatch.setattr(api, "_scheduler_loop", lambda: None)  # the scheduler is stuck
    ticks = iter(range(0, 10_000, 10))
    monkeypatch.setattr(harness.time, "monotonic", lambda: float(next(ticks)))
    with pytest.raises(StageError, match="still queued after 120s"):
        api.trigger_alone("sweep_idle_rooms")


class FakePopen:
    def __init__(self, pid: int, events: list[tuple[str, int]]) -> None:
        self.pid, self.events, self.returncode = pid, events, None

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        self.events.append(("wait", self.pid))
        self.returncode = 0
        return 0


def test_teardown_signals_every_component_before_waiting_on_any(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """Old: SIGTERM one, wait up to 15 s for it, then the next (~25 s of every e2e run)."""
    events: list[tuple[str, int]] = []
    monkeypatch.setattr(
        harness, "_signal_group", lambda pid, sig: events.append((signal.Signals(sig).name, pid))
    )
    procs = Processes(tmp_path)
    for pid in (101, 102, 103):
        procs.procs.append(harness.Proc(f"p{pid}", FakePopen(pid, events), tmp_path / "log"))  # type: ignore[arg-type]
    procs.stop_all()
    first_wait = next(i for i, (what, _) in enumerate(events) if what == "wait")
    assert sorted(pid for what, pid in events[:first_wait] if what == "SIGTERM") == [101, 102, 103]
    assert {pid for what, pid in events if what == "SIGKILL"} == {101, 102, 103}  # leftovers' children
