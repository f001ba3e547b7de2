"""import_ms: what importing the provider adds to a DAG parse, after ``import airflow.sdk``,
measured in fresh interpreters; the HTTP provider's operator module is the yardstick."""

from __future__ import annotations

import os
import subprocess
import sys
from statistics import median

OUR_MODULES = [
    "airflow_provider_rtc.hooks.trtc",
    "airflow_provider_rtc.hooks.live",
    "airflow_provider_rtc.hooks.zego",
    "airflow_provider_rtc.operators.trtc",
    "airflow_provider_rtc.operators.live",
    "airflow_provider_rtc.operators.zego",
    "airflow_provider_rtc.sensors.trtc",
    "airflow_provider_rtc.sensors.zego",
]
HTTP_MODULES = ["airflow.providers.http.operators.http"]

_PROBE = """
import importlib, importlib.util, sys, time
import airflow.sdk
mods = [m for m in sys.argv[1:] if importlib.util.find_spec(m.rsplit('.', 1)[0]) is not None]
t = time.perf_counter()
for m in mods:
    try:
        importlib.import_module(m)
    except ModuleNotFoundError as err:
        if err.name != m:
            raise
print((time.perf_counter() - t) * 1000)
"""


def _once(modules: list[str]) -> float:
    env = dict(os.environ)
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, *modules], capture_output=True, text=True, check=True, env=env
    ).stdout
    return float(out.strip().splitlines()[-1])


def run(repeats: int = 7) -> dict[str, float]:
    ours, http = [], []
    for _ in range(repeats):  # interleaved fresh interpreters
        ours.append(_once(OUR_MODULES))
        http.append(_once(HTTP_MODULES))
    return {
        "import_ms": median(ours),
        "import_ms_http": median(http),
        "import_ratio_vs_http": median(ours) / median(http),
    }
