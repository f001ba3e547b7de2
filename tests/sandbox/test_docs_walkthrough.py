"""docs/sandbox.md runs as written: its scenario (named rooms, lost and late callbacks) and the
``EndEventOperator`` walkthrough against it, and every other Python example of the page."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "sandbox.md"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


def _blocks(language: str) -> list[str]:
    return [code for lang, code in BLOCK.findall(PAGE.read_text(encoding="utf-8")) if lang == language]


def _run(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=240
    )


def test_the_page_has_the_walkthrough_scenario_and_code() -> None:
    (scenario,) = [b for b in _blocks("toml") if b.startswith("# event.toml")]
    assert "[[trtc.rooms]]" in scenario and "lost = [" in scenario
    assert any("EndEventOperator" in b for b in _blocks("python"))


def test_walkthrough_ends_the_event_despite_the_lost_callbacks(tmp_path: Path) -> None:
    (scenario,) = [b for b in _blocks("toml") if b.startswith("# event.toml")]
    (tmp_path / "event.toml").write_text(scenario)
    (code,) = [b for b in _blocks("python") if "EndEventOperator" in b]
    done = _run(code, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout.splitlines()  # the operator's log lines are there too
    (lost,) = [int(line.split()[0]) for line in out if line.endswith(" callbacks lost")]
    assert lost > 0  # the scenario's rules really lost callbacks
    labels = [line for line in out if line.startswith("done ")]
    assert any("room 2001 (int)" in line for line in labels)
    assert any('room "backstage-a" (str)' in line for line in labels)
    assert any("room green" in line and "zego" in line for line in labels)
    assert any("mix green-mix" in line for line in labels)
    (corrections,) = [int(line.split(":")[1]) for line in out if line.startswith("corrections:")]
    assert corrections > 0  # reconciliation corrected what the lost callbacks hid


@pytest.mark.parametrize("index", range(len([b for b in _blocks("python") if "EndEventOperator" not in b])))
def test_every_other_python_example_runs(index: int, tmp_path: Path) -> None:
    code = [b for b in _blocks("python") if "EndEventOperator" not in b][index]
    done = _run(code, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
