"""Importing the provider under an Airflow older than it supports fails at once, saying what to upgrade."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import airflow_provider_rtc
from airflow_provider_rtc import MIN_AIRFLOW_VERSION, check_airflow_version

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*map(str, paths), str(ROOT)])}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_the_minimum_is_the_one_pyproject_declares() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (airflow,) = [dep for dep in deps if re.match(r"apache-airflow\s*>=", dep)]
    assert airflow.split(">=")[1].strip() == MIN_AIRFLOW_VERSION


@pytest.mark.parametrize("found", ["2.10.5", "2.11.0", "1.10.15"])
def test_older_airflow_is_refused_with_what_to_upgrade(found: str) -> None:
    with pytest.raises(ImportError) as err:
        check_airflow_version(found)
    message = str(err.value)
    assert f"Apache Airflow >= {MIN_AIRFLOW_VERSION}" in message and found in message
    assert f"pip install 'apache-airflow>={MIN_AIRFLOW_VERSION}'" in message


@pytest.mark.parametrize("found", ["3.0.0", "3.0.0rc1", "3.3.1", "4.0", None])
def test_supported_or_absent_airflow_passes(found: str | None) -> None:
    check_airflow_version(found)


def test_importing_the_provider_under_airflow_2_fails(tmp_path: Path) -> None:
    """A real import, the installed distribution metadata saying 2.10.5 (found first on sys.path)."""
    dist = tmp_path / "apache_airflow-2.10.5.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: apache-airflow\nVersion: 2.10.5\n")
    done = _python("import airflow_provider_rtc", tmp_path)
    assert done.returncode != 0
    assert "needs Apache Airflow >= 3.0, but Apache Airflow 2.10.5 is installed" in done.stderr


def test_the_guard_does_not_import_airflow() -> None:
    done = _python(
        "import sys, airflow_provider_rtc.signing, airflow_provider_rtc.identity; "
        "print('airflow' in sys.modules)"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
    assert airflow_provider_rtc.__version__
