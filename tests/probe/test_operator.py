"""ProbeCloudAccountOperator and the probe_cloud_account example DAG against the sandbox."""

from __future__ import annotations

import dataclasses

import pytest
from airflow.providers.common.compat.sdk import AirflowException
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc import catalog
from airflow_provider_rtc.exceptions import RtcValidationError
from airflow_provider_rtc.operators.probe import ProbeCloudAccountOperator
from tests.conftest import load_example_dag

from .conftest import LIVE_DOMAIN, TENCENT, ZEGO, live


def operator(**kw: object) -> ProbeCloudAccountOperator:
    args: dict[str, object] = {
        "task_id": "probe",
        "tencentcloud_conn_id": TENCENT,
        "zegocloud_conn_id": ZEGO,
        "live_domain": LIVE_DOMAIN,
    }
    return ProbeCloudAccountOperator(**{**args, **kw})  # type: ignore[arg-type]


def break_task_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    api = catalog.DESCRIBE_CLOUD_RECORDING
    broken = dataclasses.replace(api, gone=frozenset({"FailedOperation.NotTheRealCode"}))
    monkeypatch.setitem(catalog.CATALOG, api.key, broken)
    monkeypatch.setitem(catalog._BY_ACTION, (api.cloud, api.action), broken)


def test_returns_the_rows_all_agreeing_and_changes_nothing(sandbox: SandboxServer) -> None:
    before = live(sandbox)
    rows = operator().execute({})
    assert {r["verdict"] for r in rows} == {"agrees", "skipped"}
    assert {r["api"] for r in rows} >= {api.action for api in catalog.CATALOG.values()}
    assert set(rows[0]) == {"cloud", "api", "sent", "seen", "assumes", "verdict", "why"}
    assert live(sandbox) == before


def test_fails_when_something_differs(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    break_task_codes(monkeypatch)
    with pytest.raises(AirflowException, match="differs from the catalog for: DescribeCloudRecording"):
        operator(clouds="trtc").execute({})


def test_reports_only_when_told_not_to_fail(sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    break_task_codes(monkeypatch)
    rows = operator(clouds=["trtc"], fail_on_difference="False").execute({})
    differs = [r for r in rows if r["verdict"] == "differs"]
    assert [r["api"] for r in differs] == ["DescribeCloudRecording"]
    assert differs[0]["assumes"] == "gone: FailedOperation.NotTheRealCode"


def test_a_missing_connection_is_a_validation_error(sandbox: SandboxServer) -> None:
    with pytest.raises(RtcValidationError, match="'nope' is not defined"):
        operator(tencentcloud_conn_id="nope", zegocloud_conn_id=None).execute({})


@pytest.mark.usefixtures("airflow_db")
@pytest.mark.example_dag
@pytest.mark.slow  # dag.test() of the example DAG end to end
def test_example_dag_runs_the_probe(sandbox: SandboxServer) -> None:
    dag = load_example_dag("probe_cloud_account", "probe_cloud_account.py")
    run = dag.test(
        run_conf={"tencentcloud_conn_id": TENCENT, "zegocloud_conn_id": ZEGO, "live_domain": LIVE_DOMAIN}
    )
    assert run.state == "success"
    (ti,) = run.get_task_instances()
    assert ti.state == "success"
