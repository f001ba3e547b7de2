"""Development dependencies are PEP 735 dependency groups, not extras users could install."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_dev_and_e2e_are_dependency_groups_not_published_extras() -> None:
    data = _pyproject()
    extras = data["project"]["optional-dependencies"]
    assert set(extras) == {"parquet", "redis", "s3", "openlineage", "postgres"}
    groups = data["dependency-groups"]
    assert {"dev", "e2e"} <= set(groups)
    names = {req.split(">")[0].split("[")[0].split("<")[0].strip() for req in groups["dev"]}
    # the parallel test-only additions and the release check's tools
    assert {"tccli", "tencentcloud-sdk-python-vod", "import-linter", "build", "twine", "pytest"} <= names
    assert any(req.startswith("psycopg2-binary") for req in groups["e2e"])


def _dry_run(target: str, venv: Path) -> list[str]:
    out = subprocess.run(
        ["make", "-n", target, f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return out.splitlines()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("target", ["bench", "e2e", "e2e-celery"])
def test_targets_needing_the_e2e_packages_install_the_e2e_group_first(target: str, tmp_path: Path) -> None:
    lines = _dry_run(target, tmp_path / "fresh-venv")
    installs = [i for i, line in enumerate(lines) if "pip install" in line]
    assert any("--group dev" in lines[i] and "-e ." in lines[i] for i in installs)
    e2e = [i for i in installs if "--group e2e" in lines[i]]
    run = next(i for i, line in enumerate(lines) if "benchmarks/run.py" in line or "-m e2e" in line)
    assert e2e and e2e[0] < run
    assert not any(".[dev" in line for line in lines)  # no published extra of that name any more


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_install_tries_uv_then_pip_upgraded_to_a_version_with_group_support(tmp_path: Path) -> None:
    recipe = " ".join(_dry_run("install", tmp_path / "fresh-venv"))  # continued lines joined
    uv, _, fallback = recipe.partition("uv failed: installing with pip")
    # uv (bootstrapped with pip into the venv) installs the group first ...
    assert '"uv>=0.8"' in uv and "uv pip install" in uv and "--group dev" in uv
    # ... and if it cannot, pip does, upgraded first: `pip install --group` needs pip >= 25.1
    upgrade = fallback.index('--upgrade "pip>=25.1"')
    assert fallback.index("--group dev") > upgrade
