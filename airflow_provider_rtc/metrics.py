"""The provider's metrics, sent through Airflow's stats interface (StatsD, Datadog or OpenTelemetry,
as the deployment's ``[metrics]`` section configures; nothing when it configures none).

Every name is here, prefixed ``rtc.`` (the backend adds its own prefix, ``airflow.`` by default);
``docs/reference/metrics.md`` documents them. Tags (``cloud``, ``action``) reach backends that carry
tags (Datadog, OTel, StatsD with ``statsd_influxdb_enabled``); plain StatsD gets the bare name.

This module sits on the lowest floor: the transport and retry layers (which import no Airflow) call
it, so Airflow is imported lazily at the first emission, and when it is absent (the sandbox, a pure
client outside Airflow) every call is a no-op. A failing backend never fails the call it measures.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

__all__ = [
    "BUDGET_ALERTS",
    "CALLS",
    "CALL_MS",
    "CAP_WARNINGS",
    "COPY_BYTES",
    "DISCOVERED",
    "ENDED",
    "NAMES",
    "RETRIES",
    "SURVIVORS",
    "THROTTLES",
    "call_tags",
    "cloud_of",
    "incr",
    "tagged",
    "timing",
]

log = logging.getLogger(__name__)

#: every HTTP attempt sent to a cloud API (tags: cloud, action)
CALLS = "rtc.calls"
#: answers the cloud refused as over its rate limit (tags: cloud, action)
THROTTLES = "rtc.throttles"
#: attempts repeated after a throttle or a transient fault (tags: cloud, action)
RETRIES = "rtc.retries"
#: resources a destructive call ended: done or already gone (tags: cloud, action)
ENDED = "rtc.ended"
#: resources still live after an end-event run's verification (tags: cloud, kind as action)
SURVIVORS = "rtc.survivors"
#: live resources discovery found (tags: cloud, kind as action)
DISCOVERED = "rtc.discovered"
#: bytes copied to the lake (tags: cloud)
COPY_BYTES = "rtc.copy_bytes"
#: cap warnings sent (EnforceCapsOperator)
CAP_WARNINGS = "rtc.cap_warnings"
#: budget thresholds crossed (budget operators)
BUDGET_ALERTS = "rtc.budget_alerts"
#: milliseconds per HTTP attempt, answer read (tags: cloud, action)
CALL_MS = "rtc.call_ms"

NAMES = (CALLS, THROTTLES, RETRIES, ENDED, SURVIVORS, DISCOVERED, COPY_BYTES, CAP_WARNINGS, BUDGET_ALERTS)
TIMERS = (CALL_MS,)

_stats: Any = None
_absent = False


def _backend() -> Any:
    """Airflow's ``Stats`` (compat sdk), imported at first use; None without Airflow."""
    global _stats, _absent
    if _stats is None and not _absent:
        try:
            from airflow.providers.common.compat.sdk import Stats
        except ImportError:
            _absent = True
            return None
        _stats = Stats
    return _stats


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
#: the tags of the call being made (set by the hook around its retry loop, read by the transport)
_CALL: ContextVar[dict[str, str] | None] = ContextVar("rtc_metric_call", default=None)


def _tags(tags: dict[str, Any]) -> dict[str, str]:
    # Airflow's StatsD name check (influx tags join the name) takes [A-Za-z0-9_.-] only
    return {k: _UNSAFE.sub("_", str(v)) for k, v in tags.items() if v not in (None, "")}


def cloud_of(api_cloud: str, product: str) -> str:
    """The ``cloud`` tag of a catalog API: the Tencent product (``trtc``, ``live``, ``vod``) or ``zego``."""
    return product if api_cloud == "tencent" else "zego"


@contextmanager
def tagged(**tags: Any) -> Iterator[None]:
    """Tag the calls made inside (the hook knows the cloud code and action; the transport does not)."""
    token = _CALL.set(_tags(tags))
    try:
        yield
    finally:
        _CALL.reset(token)


def call_tags(cloud: Any = None, action: Any = None) -> dict[str, Any]:
    """The tags of the current call: :func:`tagged`'s, else the ones given."""
    return dict(_CALL.get() or {"cloud": cloud, "action": action})


def incr(name: str, count: int = 1, **tags: Any) -> None:
    """Add ``count`` to the counter ``name`` (one of :data:`NAMES`)."""
    if count <= 0:
        return
    stats = _backend()
    if stats is None:
        return
    try:
        stats.incr(name, count, tags=_tags(tags))
    except Exception:  # a metrics backend must never fail the call it measures
        log.debug("could not send metric %s", name, exc_info=True)


def timing(name: str, ms: float, **tags: Any) -> None:
    """Record ``ms`` milliseconds on the timer ``name`` (one of :data:`TIMERS`)."""
    stats = _backend()
    if stats is None:
        return
    try:
        stats.timing(name, ms, tags=_tags(tags))
    except Exception:
        log.debug("could not send metric %s", name, exc_info=True)
