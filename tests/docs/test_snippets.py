"""Every code block of README.md and docs/ runs as written (see snippets.py for the rules).

Blocks that call a cloud run against the embedded sandbox with the provider's callback receiver next
to it: the fixture seeds the standard event (TRTC rooms 1001-1012, ZEGO rooms ``room_1``-``room_6``,
mixes ``mix_task_1``/``mix_task_2`` started by ``mixer_1``/``mixer_2``, Live mix sessions...) and
sets ``AIRFLOW_CONN_TENCENTCLOUD_DEFAULT`` and ``AIRFLOW_CONN_ZEGOCLOUD_DEFAULT`` to reach them.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.docs.snippets import LANGUAGES, ROOT, Block, all_blocks, blocks, pages

BIN = Path(sys.executable).parent
#: a block that builds a DAG (``with DAG(``, ``DAG(...)`` or ``@dag``) is a DAG file
_DEFINES_DAG = re.compile(r"(^|[^\w.])DAG\(|^@dag\b", re.MULTILINE)
#: DAG runs made (a test asserts the DAG blocks really ran)
RUNS: list[str] = []
#: the sandbox's recordings exit and upload, and its late callbacks arrive, in fractions of a second
#: (the defaults: 1 s, 2 s and 10 s), so each page's setup (which settles the seeded event's callbacks)
#: and its DAG runs wait less; what the pages show does not depend on those durations
FAST_TIMING = {
    "upload_delay": 0.3,
    "recording_exit_seconds": 0.3,
    "zego_record_init_seconds": 0.15,
    "callback_late_seconds": 0.6,
}

#: and run at lifted rate limits, the sandbox's and the client's alike (ZEGO's CloseRoom is 1/s and the
#: verify pass's DescribeSimpleStreamList 1 per 10 s per room): a page proves its code runs as written;
#: the pacing is proven by the pacing and bulk tests
FAST_QPS = {
    "CloseRoom": 50.0,
    "DescribeSimpleStreamList": 50.0,
    "DescribeUserList": 50.0,
    "DeleteStream": 50.0,
}


@pytest.fixture
def cloud(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Sandbox + receiver, seeded with the standard event, connections in the environment."""
    from rtc_sandbox.receiver import ReceiverBed
    from rtc_sandbox.server import SandboxServer, seed_event

    from airflow_provider_rtc import pacing

    monkeypatch.setattr(pacing, "_pacers", {})
    config = {"random_seed": 5, "timing": {"tick_seconds": 0.02, **FAST_TIMING}, "limits": {"qps": FAST_QPS}}
    with SandboxServer(config=config) as server, ReceiverBed(server, tmp_path) as bed:
        for conn_id, conn in bed.connections.items():
            extra = {**conn["extra"], "retry_delay": 0.05, "retry_max_delay": 0.3, "qps": FAST_QPS}
            monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({**conn, "extra": extra}))
        seeded = seed_event(server)
        # a loaded machine slows the receiver (on a thread here) past the sandbox's 5 s delivery
        # timeout, and a timed-out callback is retried 10 s later: settle waits on the condition,
        # with room for retries (30 s, the default, failed 5 of 18 pages at load 20)
        bed.settle(timeout=120)
        bed.values = {  # what a run's conf may name as "$name" (the ids a user would type)
            "zego_recordings": [r["task_id"] for r in seeded["zego"]["recordings"]],
            "tmp": str(tmp_path),
        }
        yield bed


def _fill(value: Any, values: dict[str, Any]) -> Any:
    """A directive's conf with ``$name`` (a seeded id list) and ``$tmp/...`` (a scratch path) filled."""
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    if isinstance(value, str) and value[1:] in values and value.startswith("$"):
        return values[value[1:]]  # "$zego_recordings": the seeded ids
    if isinstance(value, str):
        return value.replace("$tmp", values["tmp"])  # "file://$tmp/lake": a scratch folder
    return value


def _page_id(path: Path) -> str:
    return str(path.relative_to(ROOT))


RUNNABLE = [p for p in pages() if any(b.lang != "text" for b in blocks(p))]


def test_every_block_has_a_language_the_runner_knows() -> None:
    unknown = [f"{b.where} ({b.lang or 'no language'})" for b in all_blocks() if b.lang not in LANGUAGES]
    assert not unknown, f"fence these as one of {sorted(LANGUAGES)}: {unknown}"


def test_the_runner_sees_the_blocks() -> None:
    """A parser that found nothing would make every page test pass vacuously."""
    found = all_blocks()
    assert sum(b.lang == "python" for b in found) >= 5 and sum(b.lang == "bash" for b in found) >= 3
    assert any(p.name == "README.md" for p in RUNNABLE)


@pytest.mark.usefixtures("airflow_db")
@pytest.mark.parametrize("page", RUNNABLE, ids=_page_id)
def test_page_snippets_run(page: Path, cloud: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    namespace: dict[str, Any] = {"__name__": "__snippet__"}
    runs_before = len(RUNS)
    # a page's blocks run in one scratch folder, where a file the page says to save is saved
    monkeypatch.chdir(tmp_path)
    dag_blocks = [
        b
        for b in blocks(page)
        if b.lang == "python" and _DEFINES_DAG.search(b.code) and not b.directives.get("parse-only")
    ]
    for n, block in enumerate(blocks(page)):
        if block.lang == "python":
            _run_python(block, namespace, tmp_path / f"dags_{n}", monkeypatch, cloud.values)
        elif block.lang == "bash":
            _run_bash(block, tmp_path / f"cwd_{n}")
        elif block.lang == "json":
            json.loads(block.code)
        elif block.lang == "ini":
            configparser.ConfigParser().read_string(block.code)
        elif block.lang == "toml":
            tomllib.loads(block.code)
            saved = re.match(r"# (\S+\.toml)\b", block.code)  # "# event.toml: ..." - the page saves it
            if saved:
                (tmp_path / saved.group(1)).write_text(block.code)
    # every DAG block ran (at least once per conf): a detection miss would pass silently
    assert len(RUNS) - runs_before >= len(dag_blocks), RUNS[runs_before:]


def _run_python(
    block: Block,
    namespace: dict[str, Any],
    dags: Path,
    monkeypatch: pytest.MonkeyPatch,
    values: dict[str, Any],
) -> None:
    exec(compile(block.code, block.where, "exec"), namespace)  # the docs' own code
    if not _DEFINES_DAG.search(block.code):
        return
    # A DAG block is a DAG file: parse it alone from a dags folder, as the dag processor would.
    dags.mkdir()
    (dags / "snippet.py").write_text(block.code)
    # dag.test() re-parses its bundle, the dags folder: Airflow reads it from settings.DAGS_FOLDER
    from airflow import settings

    monkeypatch.setattr(settings, "DAGS_FOLDER", str(dags))
    monkeypatch.setenv("AIRFLOW__CORE__DAGS_FOLDER", str(dags))
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(dags / "snippet.py"))
    assert not bag.import_errors, f"{block.where}: {bag.import_errors}"
    built = list(bag.dags.values())
    assert built, f"{block.where}: builds a DAG, but the DagBag found none"
    if block.directives.get("parse-only"):
        return
    confs = block.directives.get("conf")
    for conf in confs if isinstance(confs, list) else [confs]:  # a list: one run per conf, in order
        for dag in built:
            run = dag.test(run_conf=_fill(conf, values))
            RUNS.append(f"{block.where} {dag.dag_id}")
            states = {t.task_id: str(t.state) for t in run.get_task_instances()}
            failed = [task for task, state in states.items() if state not in ("success", "skipped")]
            assert str(run.state).endswith("success"), f"{block.where}: {dag.dag_id} failed tasks {failed}"


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        # the console scripts import this checkout, not whichever copy the venv installed
        "PYTHONPATH": str(ROOT),
    }


def _run_bash(block: Block, cwd: Path) -> None:
    cwd.mkdir()
    argv = ["bash", "-euo", "pipefail", "-c", block.code]
    if block.directives.get("background"):
        _run_server(block, argv, cwd)
        return
    done = subprocess.run(argv, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (
        f"{block.where}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )


def _run_server(block: Block, argv: list[str], cwd: Path) -> None:
    """A server's first stdout line is its JSON banner; then it is stopped."""
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(proc.stdout.readline() if proc.stdout else ""))
    reader.start()
    reader.join(timeout=60)
    try:
        assert line and line[0].strip(), f"{block.where}: no banner within 60 s"
        banner = json.loads(line[0])
        assert banner["url"].startswith("http://127.0.0.1:"), banner
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=30)
