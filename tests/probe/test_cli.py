"""``rtc-provider probe`` against the sandbox: every probed API agrees with the catalog, no call
changes anything, a wrong catalog assumption shows as "differs", and the exit codes say which."""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

import httpx
import pytest
from rtc_sandbox.server import SandboxServer

from airflow_provider_rtc import catalog
from airflow_provider_rtc.cli import main
from airflow_provider_rtc.probe import EXIT_AGREES, EXIT_DIFFERS, EXIT_ERRORS, EXIT_USAGE
from airflow_provider_rtc.probe.checks import BY_ACTION

from .conftest import LIVE_DOMAIN, TENCENT, ZEGO, calls, live

ALL = ["--conn-id", TENCENT, "--zego-conn-id", ZEGO, "--live-domain", LIVE_DOMAIN]


SECRETS: list[str] = []


def probe(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["probe", *args, "--format", "json"])
    captured = capsys.readouterr()
    for secret in SECRETS:
        assert secret not in captured.out + captured.err
    return code, json.loads(captured.out)


@pytest.fixture(autouse=True)
def _no_secret_printed(sandbox: SandboxServer) -> Any:
    """Every probe() output is checked for the connections' SecretKey and ServerSecret."""
    SECRETS[:] = [c["password"] for c in sandbox.connections.values()]
    yield
    SECRETS.clear()


def by_api(doc: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The first row of each API (an ended-task row repeats DescribeCloudRecording after it)."""
    rows: dict[str, dict[str, str]] = {}
    for row in doc["rows"]:
        rows.setdefault(row["api"], row)
    return rows


def never_called() -> set[str]:
    return {c.action for c in BY_ACTION.values() if c.kind == "never"}


def test_every_probed_api_agrees_and_nothing_changes(
    sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    before = live(sandbox)
    assert all(before.values()), before  # something of every kind is live, so a change would show

    code, doc = probe(capsys, *ALL)

    rows = by_api(doc)
    assert code == EXIT_AGREES, doc["summary"]
    assert {r["verdict"] for r in rows.values()} == {"agrees", "skipped"}
    # every catalog entry has a row, read from the catalog at run time
    assert {api.action for api in catalog.CATALOG.values()} <= set(rows)
    skipped = {(r["api"], r["why"].split(" ")[0]) for r in doc["rows"] if r["verdict"] == "skipped"}
    assert skipped == {(name, BY_ACTION[name].reason.split(" ")[0]) for name in never_called()} | {
        ("DescribeRoomInfo", "billed"),
        ("DescribeUserInfo", "billed"),
        ("DescribeCloudRecording", "needs"),  # the optional ended-task row
    }
    # each destructive API other than DismissRoom was really sent, once, and changed nothing
    destructive = {api.action for api in catalog.CATALOG.values() if api.destructive}
    sent = calls(sandbox)
    assert destructive - {"DismissRoom"} <= {a for a, n in sent.items() if n == 1}
    assert not set(sent) & never_called()
    assert live(sandbox) == before
    # what the catalog assumes is the catalog's own, e.g. the TRTC task codes
    gone = ", ".join(sorted(catalog.DELETE_CLOUD_RECORDING.gone))
    assert rows["DeleteCloudRecording"]["assumes"] == f"gone: {gone}"
    assert rows["DeleteCloudRecording"]["seen"] in catalog.DELETE_CLOUD_RECORDING.gone


def test_table_format_shows_every_column_and_the_summary(
    sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["probe", "--conn-id", TENCENT, "--clouds", "vod"])
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert code == EXIT_AGREES
    assert lines[0].startswith("cloud  API  ") and lines[0].split()[-2:] == ["verdict", "why"]
    body = [line for line in lines[2:] if line.startswith("vod")]
    assert [line.split()[1] for line in body] == ["DescribeMediaInfos", "SearchMedia", "DeleteMedia"]
    assert all(" agrees" in line for line in body)
    assert lines[-1] == "3 agrees, 0 differs, 0 skipped, 0 error (exit code 0)"


@pytest.mark.parametrize(
    ("api", "wrong", "clouds"),
    [
        (catalog.DELETE_CLOUD_RECORDING, frozenset({"FailedOperation.NotTheRealCode"}), "trtc"),
        (catalog.CLOSE_ROOM, frozenset({424242}), "zego"),
    ],
    ids=["trtc-task-code", "zego-room-code"],
)
def test_a_wrong_catalog_assumption_differs(
    sandbox: SandboxServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    api: catalog.Api,
    wrong: frozenset[Any],
    clouds: str,
) -> None:
    broken = dataclasses.replace(api, gone=wrong)
    monkeypatch.setitem(catalog.CATALOG, api.key, broken)
    monkeypatch.setitem(catalog._BY_ACTION, (api.cloud, api.action), broken)

    code, doc = probe(capsys, *ALL, "--clouds", clouds)

    rows = by_api(doc)
    assert code == EXIT_DIFFERS
    row = rows[api.action]
    assert row["verdict"] == "differs"
    assert row["assumes"] == f"gone: {next(iter(wrong))}"
    assert row["seen"] in {str(c) for c in api.gone}  # what the sandbox really answers
    assert [r["api"] for r in doc["rows"] if r["verdict"] == "differs"] == [api.action]


def test_an_ended_trtc_task_shows_the_code_an_ended_task_answers(
    sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """--ended-trtc-task: a recording the user stopped is described (read-only) and its code shown."""
    from airflow_provider_rtc.hooks.trtc import TrtcHook

    httpx.put(f"{sandbox.url}/_sandbox/timing", json={"recording_exit_seconds": 0}, timeout=5)
    task = next(r["task_id"] for r in sandbox.state()["trtc"]["recordings"] if r["status"] == "InProgress")
    TrtcHook(TENCENT).delete_cloud_recording(task)
    deadline = time.monotonic() + 10
    while task in live(sandbox)["trtc recordings"]:  # the sandbox's ticker ends it
        assert time.monotonic() < deadline, "the stopped recording did not exit"
        time.sleep(0.05)
    before = live(sandbox)

    code, doc = probe(capsys, "--conn-id", TENCENT, "--clouds", "trtc", "--ended-trtc-task", task)

    (row,) = [r for r in doc["rows"] if r["sent"].startswith("your ended")]
    assert code == EXIT_AGREES
    assert (row["api"], row["verdict"]) == ("DescribeCloudRecording", "agrees")
    assert row["seen"] in catalog.DESCRIBE_CLOUD_RECORDING.gone
    assert live(sandbox) == before


def test_billed_api_is_called_only_with_include_billed(
    sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, doc = probe(capsys, "--conn-id", TENCENT, "--clouds", "trtc", "--include-billed")
    rows = by_api(doc)
    # the paid monitoring APIs are sent only now (the sandbox serves them like the provider reads them)
    assert rows["DescribeRoomInfo"]["verdict"] == rows["DescribeUserInfo"]["verdict"] == "agrees"
    assert code == EXIT_AGREES, doc["summary"]
    assert calls(sandbox).get("DescribeRoomInfo") == calls(sandbox).get("DescribeUserInfo") == 1


def test_bad_credentials_are_errors_not_differences(
    sandbox: SandboxServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = sandbox.connections["tencentcloud_default"]
    secret = "WrongSecretKey0123456789abcdefXYZ"
    bad = {**conn, "password": secret, "extra": {**conn["extra"], "retry_limit": 1}}
    monkeypatch.setenv("AIRFLOW_CONN_PROBE_BAD", json.dumps(bad))

    code = main(["probe", "--conn-id", "probe_bad", "--clouds", "vod"])

    out = capsys.readouterr().out
    assert code == EXIT_ERRORS
    assert "3 error" in out and "AuthFailure" in out
    assert secret not in out and conn["password"] not in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "nothing to probe"),
        (["--conn-id", TENCENT, "--clouds", "trtc,agora"], "unknown cloud"),
        (["--conn-id", TENCENT, "--clouds", "zego"], "--zego-conn-id"),
        (["--conn-id", "probe_not_defined"], "'probe_not_defined' is not defined"),
    ],
)
def test_usage_errors_exit_2_before_any_call(
    sandbox: SandboxServer, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["probe", *args]) == EXIT_USAGE
    assert message in capsys.readouterr().err
    assert calls(sandbox) == {}


def test_console_script_is_declared() -> None:
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"]["rtc-provider"] == "airflow_provider_rtc.cli:main"


@pytest.mark.usefixtures("airflow_db")
def test_a_connection_stored_only_in_the_metadata_database_is_found(
    sandbox: SandboxServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Like ``airflow connections get``, the CLI reads the metadata database, not only variables."""
    import os

    from airflow.models import Connection
    from airflow.utils.session import create_session

    conn = sandbox.connections["tencentcloud_default"]
    with create_session() as session:
        session.query(Connection).filter(Connection.conn_id == "probe_in_db").delete()
        session.add(
            Connection(
                conn_id="probe_in_db",
                conn_type=conn["conn_type"],
                login=conn["login"],
                password=conn["password"],
                extra=json.dumps(conn["extra"]),
            )
        )
    try:
        code = main(["probe", "--conn-id", "probe_in_db", "--clouds", "vod"])
    finally:
        with create_session() as session:
            session.query(Connection).filter(Connection.conn_id == "probe_in_db").delete()
    assert code == EXIT_AGREES, capsys.readouterr().err
    assert "3 agrees" in capsys.readouterr().out
    assert "_AIRFLOW_PROCESS_CONTEXT" not in os.environ  # restored for the rest of the process


def test_json_on_stdout_stays_parseable_while_the_hooks_log_retries(sandbox: SandboxServer) -> None:
    """The console script in its own process: Airflow logs to stdout, the probe moves those lines
    to stderr, so ``--format json`` can be piped into a script."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    sandbox.backend.set_faults({"rules": [{"kind": "internal", "action": "SearchMedia", "count": 1}]})
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    command = [sys.executable, "-m", "airflow_provider_rtc.cli", "probe", "--conn-id", TENCENT]
    proc = subprocess.run(
        [*command, "--clouds", "vod", "--format", "json"],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == EXIT_AGREES, proc.stderr
    assert "SearchMedia [InternalError]" in proc.stderr  # the retry was logged, on stderr
    assert json.loads(proc.stdout)["summary"].startswith("3 agrees")
