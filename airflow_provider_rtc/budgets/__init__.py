"""Usage budgets: which metrics can be budgeted, month-to-date usage, and "fired once" markers.

Metrics come from the usage APIs the reports already call (``reports/specs.py``), summed over the
cloud's month to date (Tencent's day and month boundaries are Beijing time, UTC+8:
``reports/cloudtime.py``). No near-real-time *minutes* API exists: TRTC's
DescribeTRTCRealTimeScaleData returns user/room *counts*, is paid, and is documented as "only for
historical statistics or reconciliation" (cloud.tencent.com/document/api/647/97310; vendor review 2,
section 3), so budgets read the daily usage APIs and every report states their data delay.
ZEGO has no billed-usage API (its Analytics ``GetBizUsage``/``GetRealtimeUsage`` give concurrency
statistics, not billed minutes: docs_all ``extended_services/analytics_dashboard``), so a ZEGO budget
is refused.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from airflow_provider_rtc.errors import RtcValidationError
from airflow_provider_rtc.reports import cloudtime


@dataclass(frozen=True)
class Metric:
    """One budgetable quantity: the report that fetches it and the cells it sums."""

    cloud: str
    name: str
    report: str
    unit: str
    #: only cells of this usage key (dimension); None = all of them
    dimension: str | None = None
    #: only cells of this report metric (``duration``, ``flux``)
    measure: str = "duration"


_TRTC_KEYS = ("Audio", "SD", "HD", "FullHD", "2K", "4K")
METRICS: dict[tuple[str, str], Metric] = {
    (m.cloud, m.name): m
    for m in (
        # DescribeTrtcUsage: minutes per UsageKey ("单位:分钟", Py SDK trtc models)
        *(Metric("trtc", key, "trtc_usage", "minutes", key) for key in _TRTC_KEYS),
        Metric("trtc", "all", "trtc_usage", "minutes"),
        Metric("trtc", "recording", "trtc_recording", "minutes"),
        Metric("trtc", "mix_transcoding", "trtc_mix_transcoding", "minutes"),
        Metric("trtc", "relay", "trtc_relay", "minutes"),
        # DescribeBillBandwidthAndFluxList: Flux in MB; DescribeLiveTranscodeTotalInfo: minutes
        Metric("live", "flux", "live_bandwidth", "MB", measure="flux"),
        Metric("live", "transcode", "live_transcode", "minutes"),
    )
}
#: spellings accepted for each unit
UNITS = {"minutes": {"minutes", "minute", "min"}, "MB": {"MB", "mb"}}
DEFAULT_THRESHOLDS = (0.8, 1.0)


@dataclass(frozen=True)
class Budget:
    metric: Metric
    budget: float
    label: str

    @property
    def key(self) -> str:
        return f"{self.metric.cloud}/{self.metric.name}"


def _known(cloud: str) -> list[str]:
    return sorted(name for c, name in METRICS if c == cloud)


def parse_budgets(raw: Any) -> list[Budget]:
    """Validate ``budgets`` (a list of dicts, or one dict) before any call; errors name the key."""
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list | tuple) or not raw:
        raise RtcValidationError("budgets", "a non-empty list of {cloud, metric, budget, unit}", raw)
    out: list[Budget] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        where = f"budgets[{i}]"
        if not isinstance(item, dict):
            raise RtcValidationError(where, "a dict with cloud, metric, budget and unit", item)
        unknown = set(item) - {"cloud", "metric", "budget", "unit", "label"}
        if unknown:
            raise RtcValidationError(f"{where}.{sorted(unknown)[0]}", "not a budget key", sorted(unknown))
        cloud = item.get("cloud")
        if cloud == "zego":
            raise RtcValidationError(
                f"{where}.cloud",
                "ZEGO has no billed-usage API (its Analytics statistics are not billed minutes); "
                "budget trtc or live",
                cloud,
            )
        if cloud not in ("trtc", "live"):
            raise RtcValidationError(f"{where}.cloud", "trtc or live", cloud)
        name = item.get("metric")
        if not name:
            raise RtcValidationError(f"{where}.metric", f"required: one of {_known(cloud)}", name)
        metric = METRICS.get((cloud, str(name)))
        if metric is None:
            raise RtcValidationError(f"{where}.metric", f"for {cloud} one of {_known(cloud)}", name)
        unit = item.get("unit")
        if unit is None or str(unit) not in UNITS[metric.unit]:
            raise RtcValidationError(
                f"{where}.unit", f"{metric.unit}: {cloud} {name} is reported in {metric.unit}", unit
            )
        amount = item.get("budget")
        if (
            isinstance(amount, bool)
            or not isinstance(amount, int | float)
            or not math.isfinite(amount)
            or amount <= 0
        ):
            raise RtcValidationError(f"{where}.budget", "a number > 0", amount)
        label = str(item.get("label") or f"{cloud} {name}")
        budget = Budget(metric, float(amount), label)
        if budget.key in seen:
            raise RtcValidationError(f"{where}.metric", "one budget per cloud and metric", budget.key)
        seen.add(budget.key)
        out.append(budget)
    return out


def parse_thresholds(raw: Any) -> tuple[float, ...]:
    """Fractions of the budget, each in (0, 10], returned sorted without duplicates."""
    if not isinstance(raw, list | tuple) or not raw:
        raise RtcValidationError("thresholds", "a non-empty list of fractions, e.g. [0.8, 1.0]", raw)
    for value in raw:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or not 0 < value <= 10
        ):
            raise RtcValidationError("thresholds", "fractions of the budget in (0, 10], e.g. 0.8", value)
    return tuple(sorted({float(v) for v in raw}))


def month_to_date(now: dt.datetime) -> tuple[dt.date, dt.date]:
    """First and last Beijing date of the month to date at ``now`` (Tencent's billing month)."""
    today = cloudtime.beijing_date(now, "now")
    return today.replace(day=1), today


def usage_of(metric: Metric, cells: dict[dt.date, dict[tuple[str, str, str, str], float]]) -> float:
    """Sum of the report cells that make up ``metric``."""
    total = 0.0
    for values in cells.values():
        for (measure, _unit, _scope, dimension), value in values.items():
            if measure == metric.measure and (metric.dimension is None or dimension == metric.dimension):
                total += value
    return round(total, 6)


def marker_name(conn_id: str, metric: Metric, app: Any, month: str, threshold: float) -> str:
    """The relative path of the "fired" marker of one threshold of one budget in one month."""
    scope = app if app not in (None, "") else "account"
    safe_conn = "".join(c if c.isascii() and (c.isalnum() or c in "-_") else "_" for c in conn_id)
    return f"{safe_conn}/{metric.cloud}/{scope}/{metric.name}/{month}/{threshold:g}.json"
