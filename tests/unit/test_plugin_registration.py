"""The receiver plugin is registered once: by the ``airflow.plugins`` entry point only.

Airflow (3.0-3.3 ``plugins_manager._get_plugins``) always loads entry-point plugins and, when
``[core] lazy_discover_providers`` is False, the plugins ``get_provider_info()`` lists on top: with
both, it logged "Plugin 'rtc_callbacks' already registered, skipping" and recorded an import error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from airflow_provider_rtc.get_provider_info import get_provider_info

ROOT = Path(__file__).resolve().parents[2]


def test_entry_point_is_the_one_registration() -> None:
    entry_points = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]
    assert entry_points["airflow.plugins"] == {
        "rtc_callbacks": "airflow_provider_rtc.plugins.callbacks:RtcCallbacksPlugin"
    }
    assert "plugins" not in get_provider_info()


@pytest.mark.slow  # Airflow's plugin manager in a fresh process (about 11 s of CPU)
def test_eager_provider_discovery_registers_the_plugin_once(tmp_path: Path) -> None:
    """With provider plugins loaded eagerly, Airflow reports no duplicate and mounts the plugin."""
    code = (
        "import json\n"
        "from airflow import plugins_manager as pm\n"
        "plugins, errors = pm._get_plugins()\n"
        "print(json.dumps({'names': [p.name for p in plugins], 'errors': errors}))\n"
    )
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__LAZY_DISCOVER_PROVIDERS": "False",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    env.pop("PYTHONPATH", None)
    # outside the source tree, as a deployment runs: the source tree's own ``*.egg-info`` (written by
    # the editable install) would be found on sys.path as a second copy of the distribution
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["names"].count("rtc_callbacks") == 1
    assert not [msg for msg in result["errors"].values() if "rtc_callbacks" in msg], result["errors"]
