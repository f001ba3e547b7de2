"""Apache Airflow provider for Tencent Cloud TRTC, Tencent Cloud Live and ZEGOCLOUD."""

from __future__ import annotations

import re
import sys

__version__ = "0.1.0"

#: the oldest Airflow this provider runs on; pyproject's ``apache-airflow>=`` must say the same
#: (tests/release/test_version_guard.py checks they agree)
MIN_AIRFLOW_VERSION = "3.0"

__all__ = ["MIN_AIRFLOW_VERSION", "__version__"]


def _release(version: str) -> tuple[int, ...]:
    """The release numbers of a version (``3.0.0rc1`` -> ``(3, 0, 0)``), padded to three."""
    match = re.match(r"\s*v?(\d+(?:\.\d+)*)", version)
    numbers = tuple(int(part) for part in match.group(1).split(".")) if match else (0,)
    return (*numbers, 0, 0, 0)[:3]


def _installed_airflow() -> str | None:
    """The installed Airflow version without importing Airflow (the sandbox and the pure floors must
    not load it). Already imported (a DAG parse, a worker): its ``__version__`` is free; otherwise the
    distribution metadata. ``None``: no Airflow at all (the sandbox alone), nothing to refuse."""
    loaded = sys.modules.get("airflow")
    version = getattr(loaded, "__version__", None)
    if isinstance(version, str):
        return version
    from importlib import metadata

    for dist in ("apache-airflow", "apache-airflow-core"):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


def check_airflow_version(found: str | None) -> None:
    """Refuse an Airflow older than :data:`MIN_AIRFLOW_VERSION`, saying what to upgrade."""
    if found is None or _release(found) >= _release(MIN_AIRFLOW_VERSION):
        return
    raise ImportError(
        f"airflow-provider-rtc {__version__} needs Apache Airflow >= {MIN_AIRFLOW_VERSION}, but Apache "
        f"Airflow {found} is installed: upgrade it (pip install 'apache-airflow>={MIN_AIRFLOW_VERSION}'), "
        "or uninstall airflow-provider-rtc"
    )


check_airflow_version(_installed_airflow())
