"""The e2e stage's waits on a condition instead of a fixed time (issue 24): each returns as soon as
what the fixed wait stood for is true, and never earlier than that."""

from __future__ import annotations

import urllib.error
from pathlib import Path
from typing import Any

import pytest

from e2e import harness, hitl, lake
from e2e.harness import Deployment
from e2e.scenarios import uploads_not_done

RUN = "manual__2026-12-07T09:54:23.478212+00:00"
PARKED = (
    "2026-12-07T09:55:01.1Z [info     ] TaskInstance Finished: dag_id=end_event_by_discovery, "
    f"task_id=approve_plan, run_id={RUN}, map_index=-1, ti_id=01a2, state=awaiting_input, "
    "executor=LocalExecutor(parallelism=8), executor_state=success, try_number=1\n"
)


class Clock:
    """``time.monotonic``/``time.sleep`` of a module, advanced by the sleeps only."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, *modules: Any) -> None:
        self.now = 0.0
        self.on_sleep: list[Any] = []
        for module in modules:
            monkeypatch.setattr(module.time, "monotonic", lambda: self.now)
            monkeypatch.setattr(module.time, "sleep", self.sleep)

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        for hook in self.on_sleep:
            hook(self.now)


# -- e2e/hitl.py: answer once the scheduler handled the park, not a fixed 15 s after it -------------
def test_the_answer_goes_once_the_scheduler_logged_the_parking_event(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clock = Clock(monkeypatch, hitl)
    log = tmp_path / "scheduler.log"
    log.write_text("2026-12-07T09:55:00Z [info] DAG end_event_by_discovery has 0/16 running\n")
    clock.on_sleep.append(lambda now: now >= 4.0 and log.open("a").write(PARKED))
    hitl._settle(hitl.SETTLE, log, "end_event_by_discovery", RUN, "approve_plan", -1)
    assert clock.now == 4.0 + hitl.HANDLED_MARGIN  # not SETTLE (15 s)


def test_another_run_or_task_of_the_log_does_not_end_the_settle(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clock = Clock(monkeypatch, hitl)
    log = tmp_path / "scheduler.log"
    other_run = PARKED.replace(RUN, "manual__2026-12-07T09:00:00+00:00")
    other_task = PARKED.replace("task_id=approve_plan,", "task_id=approve_plan_2,")
    not_finished = PARKED.replace("TaskInstance Finished:", "Received executor event for")
    log.write_text(other_run + other_task + not_finished)
    hitl._settle(hitl.SETTLE, log, "end_event_by_discovery", RUN, "approve_plan", -1)
    assert clock.now == hitl.SETTLE


def test_without_a_log_the_settle_is_the_fixed_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clock = Clock(monkeypatch, hitl)
    hitl._settle(hitl.SETTLE, None, "d", RUN, "t", -1)
    assert clock.now == hitl.SETTLE
    clock.now = 0.0
    hitl._settle(hitl.SETTLE, tmp_path / "missing.log", "d", RUN, "t", -1)
    assert clock.now == hitl.SETTLE


def test_a_mapped_task_matches_its_own_index_only(tmp_path: Path) -> None:
    log = tmp_path / "scheduler.log"
    log.write_text(PARKED.replace("map_index=-1,", "map_index=1,"))
    assert hitl.parked_event_handled(log, "end_event_by_discovery", RUN, "approve_plan", 1)
    assert not hitl.parked_event_handled(log, "end_event_by_discovery", RUN, "approve_plan", 11)
    assert not hitl.parked_event_handled(log, "end_event_by_discovery", RUN, "approve_plan", -1)


# -- e2e/lake.py: kill the triggerer once the cursor holds the recordings, not 25 s after them --------
class FakeApi:
    """The asset list and the assets' state-store entries, as /api/v2 answers them."""

    def __init__(self, cursors: dict[int, dict[str, Any]] | None) -> None:
        self.cursors = cursors
        self.reads = 0

    def get(self, path: str) -> Any:
        if path.startswith("/api/v2/assets?"):
            return {"assets": [{"id": i + 1, "name": name} for i, name in enumerate(lake.ASSET_NAMES)]}
        if self.cursors is None:  # Airflow before 3.3: no state-store endpoint
            raise urllib.error.HTTPError(path, 404, "Not Found", {}, None)  # type: ignore[arg-type]
        self.reads += 1
        asset_id = int(path.split("/")[4])
        value = self.cursors.get(asset_id)
        return {"asset_state_store": [] if value is None else [{"key": "cursor", "value": value}]}


def _run(api: FakeApi) -> lake.LakeRun:
    run = lake.LakeRun.__new__(lake.LakeRun)
    run.dep = Deployment.__new__(Deployment)
    run.dep.api = api  # type: ignore[assignment]
    return run


def test_the_kill_waits_until_every_recording_is_in_a_committed_cursor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock(monkeypatch, lake, harness)
    api = FakeApi({})

    def commit(now: float) -> None:
        if now >= 6:  # the TRTC watcher commits first, ZEGO's four seconds later
            api.cursors[1] = {"version": 1, "watermark": 1.0, "emitted": {"trtc/1400000001/t1": 1.0}}  # type: ignore[index]
        if now >= 10:
            api.cursors[2] = {"version": 1, "watermark": 1.0, "emitted": {"zego/123/z1": 1.0}}  # type: ignore[index]

    clock.on_sleep.append(commit)
    waited = _run(api).wait_committed(["t1", "z1"], fallback=lake.COMMIT_WAIT)
    assert waited == 10.0
    assert _run(api).committed() == {"t1", "z1"}


def test_a_recording_handed_over_but_not_committed_keeps_the_wait_going(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    Clock(monkeypatch, lake, harness)
    api = FakeApi({1: {"version": 1, "watermark": 0.0, "emitted": {"trtc/1400000001/t1": 1.0}}})
    with pytest.raises(harness.StageError, match="2 recording"):
        _run(api).wait_committed(["t1", "t2"], fallback=lake.COMMIT_WAIT)


def test_without_the_state_store_endpoint_the_fixed_wait_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock(monkeypatch, lake, harness)
    assert _run(FakeApi(None)).wait_committed(["t1"], fallback=lake.COMMIT_WAIT) == lake.COMMIT_WAIT
    assert clock.now == lake.COMMIT_WAIT


# -- e2e/scenarios.py: which recordings' uploads are still pending at the triggerer's restart -------
def test_uploads_not_done_reads_both_clouds_states() -> None:
    state = {
        "trtc": {
            "recordings": [
                {"task_id": "t-rec", "upload": "recording"},
                {"task_id": "t-pend", "upload": "pending"},
                {"task_id": "t-done", "upload": "done"},
            ],
            "uploads_pending": [{"task_id": "t-gone-pending", "due_in": 3.0}],
        },
        "zego": {
            "recordings": [
                {"task_id": "z-nofile", "file_status": None},
                {"task_id": "z-rec", "file_status": 1},
                {"task_id": "z-up", "file_status": 2},
                {"task_id": "z-done", "file_status": 3},
            ]
        },
    }
    assert uploads_not_done(state) == {"t-rec", "t-pend", "t-gone-pending", "z-nofile", "z-rec", "z-up"}


def test_a_killed_triggerers_triggers_move_within_ten_seconds(tmp_path: Path) -> None:
    dep = Deployment(workdir=tmp_path)
    dep.home, dep._tmp, dep.sql_url = tmp_path / "airflow", tmp_path, "postgresql://"
    env = dep.airflow_env()
    assert int(env["AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD"]) <= 10
    beat = float(env["AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC"])
    threshold = int(env["AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD"])
    assert threshold >= 4 * beat  # a few late beats are tolerated


# -- e2e/lake.py, e2e/burst.py: a pause or unpause of the lake DAG reaches its watchers at once ------
class RecordingApi:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []

    def get(self, path: str) -> Any:
        self.calls.append(("GET", path, None))
        return {"dag_id": lake.LAKE_DAG, "file_token": "tok.en-1"}

    def call(self, method: str, path: str, body: Any = None) -> Any:
        self.calls.append((method, path, body))
        return None


@pytest.mark.parametrize("paused", [True, False])
def test_pausing_the_lake_dag_asks_for_its_file_to_be_parsed(paused: bool) -> None:
    """Its watchers' triggers are added or removed only by a parse of the file (up to 30 s later)."""
    api = RecordingApi()
    run = _run(api)  # type: ignore[arg-type]
    run.pause(paused)
    assert api.calls == [
        ("PATCH", f"/api/v2/dags/{lake.LAKE_DAG}", {"is_paused": paused}),
        ("GET", f"/api/v2/dags/{lake.LAKE_DAG}", None),
        ("PUT", "/api/v2/parseDagFile/tok.en-1", None),
    ]


# -- e2e/discovery.py: settle runs a sandbox tick instead of sleeping a second for one -----------------
class FakeSandboxDep:
    """``sandbox_call`` of a sandbox whose seeded callbacks reach the log only when a tick runs."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.ticked = False
        self.delivered = False

    def sandbox_call(self, method: str, path: str, body: Any = None) -> Any:
        self.calls.append((method, path))
        if path == "/clock/advance":
            assert body == {"seconds": 0}
            self.ticked = True
            return {"now": 1.0}
        log = (
            [{"url": "http://r/trtc/callback", "fate": "sent", "delivered": self.delivered}]
            if self.ticked
            else []
        )
        self.delivered = self.ticked  # delivered by the next read
        return {"log": log}


def test_settle_ticks_the_sandbox_then_waits_for_delivery(monkeypatch: pytest.MonkeyPatch) -> None:
    from e2e import discovery

    clock = Clock(monkeypatch, discovery, harness)
    dep = FakeSandboxDep()
    discovery.settle(dep)  # type: ignore[arg-type]
    assert dep.calls[0] == ("POST", "/clock/advance")  # the seed's callbacks are in the log first
    assert dep.calls[1:] == [("GET", "/callbacks")] * 2  # in flight, then delivered
    assert clock.now < 1.0  # was a fixed 1 s before the first look
