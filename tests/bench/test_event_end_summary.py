"""The event benchmark's bookkeeping (issue 20): which run a ratio is, and a harness whose Airflow has
answered a task-execution request before the first scenario, as a real deployment has. No deployment
is started here (that is `make bench`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.event_end import summarize
from e2e.harness import Deployment


def _res(seconds: float | None, throttled: int = 0) -> dict[str, Any]:
    return {
        "seconds": seconds,
        "lower_bound": 30.0,
        "stage_bound": 36.6,
        "throttled": throttled,
        "tis_multi_try": 0,
    }


def test_the_ratio_is_the_median_of_the_warm_runs_and_the_first_run_is_reported_as_cold() -> None:
    # a cold first run (the deployment's first event end) must not be what the target is judged on
    recommended = [_res(49.8, 2), _res(36.0), _res(33.0), _res(34.5, 1)]
    dag = [_res(40.0), _res(34.8), _res(33.9), _res(35.1)]
    out = summarize([("", recommended), ("_dag", dag)], timeout=900.0)

    assert out["event_end_ratio"] == 1.15  # median of 36.0, 33.0, 34.5 = 34.5 s / 30 s
    assert out["event_end_seconds"] == 34.5
    assert out["event_end_ratio_cold"] == 1.66  # 49.8 / 30
    assert out["event_end_seconds_cold"] == 49.8
    assert out["event_end_ratio_warm_max"] == 1.2
    assert out["event_end_ratio_dag"] == 1.16  # 34.8 / 30
    assert out["event_end_ratio_dag_first"] == 1.333
    assert "event_end_ratio_dag_cold" not in out  # only the deployment's first run is cold
    assert out["event_end_throttled"] == 3
    assert out["event_end_lower_bound_seconds"] == 30.0


def test_a_single_run_is_its_own_ratio_and_a_timed_out_run_counts_as_the_timeout() -> None:
    out = summarize([("", [_res(None)]), ("_mapped", [_res(300.0)])], timeout=600.0)

    assert out["event_end_ratio"] == 20.0  # 600 s timeout / 30 s
    assert out["event_end_ratio_mapped"] == 10.0
    assert "event_end_ratio_cold" not in out  # one run: no warm run to tell it from


def test_deployment_start_warms_the_execution_api_before_any_scenario(
    httpserver: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    # Airflow builds the task execution API's routes on its first request (13.3 s measured at load
    # 8-14): the deployment must have made it before it is handed to a scenario
    httpserver.expect_oneshot_request("/execution/health", method="GET").respond_with_json(
        {"status": "healthy"}
    )
    dep = Deployment(workdir=tmp_path, verbose=False)
    dep.api_url = httpserver.url_for("").rstrip("/")
    for step in ("_start_sandbox", "_start_receiver", "_migrate", "_start_airflow"):
        monkeypatch.setattr(dep, step, lambda: None)
    monkeypatch.setattr(dep, "airflow_env", lambda: {})

    class _Pg:
        def start(self) -> str:
            return "postgresql://"

    dep.postgres = _Pg()  # type: ignore[assignment]
    dep._start()

    httpserver.check_assertions()  # the one request was made
    assert len(httpserver.log) == 1
    assert "execution API warm-up" in dep.timings


def test_a_runs_calls_and_throttles_are_its_own_not_the_sandboxs_totals_since_reset() -> None:
    # the recommended shape's runs share one sandbox session (no reset between them): each run must
    # count only what the sandbox counted while it ran (run 3 showed all 3 runs' 1,065 calls)
    from benchmarks.event_end import _time_until_ended

    empty = {
        "trtc": {"rooms": [], "recordings": []},
        "live": {"mix_sessions": [], "streams": []},
        "zego": {"rooms": [], "mixes": [], "recordings": []},
    }
    totals = iter([{"calls": 700, "throttled": 5}, {"calls": 1055, "throttled": 8}])

    class _Api:
        def trigger(self, dag_id: str, conf: dict[str, Any]) -> str:
            return "run-1"

        def wait_run(self, dag_id: str, run_id: str, timeout: float) -> str:
            return "success"

        def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
            return [{"task_id": "end_event", "try_number": 1}]

    class _Dep:
        api = _Api()

        def sandbox_call(self, method: str, path: str, body: Any = None) -> Any:
            return {"totals": next(totals)} if path == "/stats" else empty

    res = _time_until_ended(_Dep(), "bench_end_event_inventory", {}, timeout=5.0)

    assert (res["calls"], res["throttled"]) == (355, 3)
    assert res["seconds"] is not None and res["run"] == "success"
