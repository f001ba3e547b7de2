"""The clouds' APIs as the sandbox routes, checks and throttles them: read from ``data/catalog.json``.

The facts (versions, methods, regions, documented limits and what they are counted per, codes,
batch sizes) are written once, with their vendor sources, in the provider's ``airflow_provider_rtc.catalog``;
``tools/gen_sandbox_catalog.py`` writes them into the data file this distribution ships, so the
sandbox imports neither Airflow nor the provider (``pip install rtc-sandbox`` works alone) and has
no code copy to drift. ``tests/sandbox/test_catalog_agrees.py`` fails when the file is stale.
Loaded once, at import, with importlib.resources (the file is package data of the wheel).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

Cloud = Literal["tencent", "zego"]


@dataclass(frozen=True, slots=True)
class Quota:
    """A further limit the call spends, keyed by a prefix of the entry's ``per`` (ZEGO's app-wide 200/s)."""

    qps: float
    per: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Api:
    """One entry, every field the provider's ``Api`` has (its docstring says what each means)."""

    cloud: Cloud
    product: str
    action: str
    version: str
    method: Literal["GET", "POST"]
    qps: float | None
    per: tuple[str, ...]
    idempotent: bool
    gone: frozenset[str] | frozenset[int]
    family: str
    destructive: bool
    regions: frozenset[str] | None
    test_qps: float | None
    transient: frozenset[str] | frozenset[int]
    throttle_code: int | None
    max_range_days: int | None
    history_days: int | None
    quotas: tuple[Quota, ...]
    batch: int | None

    @classmethod
    def from_data(cls, row: dict[str, Any]) -> Api:
        """An entry from its JSON row; a missing or unknown field fails (a hand-edited file)."""
        fields: dict[str, Any] = dict(row)
        fields["per"] = tuple(row["per"])
        fields["gone"] = frozenset(row["gone"])
        fields["transient"] = frozenset(row["transient"])
        fields["regions"] = None if row["regions"] is None else frozenset(row["regions"])
        fields["quotas"] = tuple(Quota(q["qps"], tuple(q["per"])) for q in row["quotas"])
        return cls(**fields)

    @property
    def key(self) -> tuple[str, str]:
        return (self.product, self.action)

    def rate(self, *, test: bool = False) -> float | None:
        """The documented limit; in ZEGO's test environment (``IsTest``) its own, when documented."""
        return self.test_qps if test and self.test_qps is not None else self.qps

    def rate_key(self, **scope: object) -> str:
        """What the limit is counted per, as the provider's pacer keys it: ``"AKID...|ap-guangzhou"``."""
        return "|".join(str(scope.get(name) or "") for name in self.per)


def _load() -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath("data/catalog.json").read_text("utf-8"))  # type: ignore[no-any-return]


_DATA = _load()
#: every entry, by (product, action)
CATALOG: dict[tuple[str, str], Api] = {api.key: api for api in (Api.from_data(row) for row in _DATA["apis"])}
_BY_ACTION: dict[tuple[str, str], Api] = {(api.cloud, api.action): api for api in CATALOG.values()}
#: each product module's constants (``VERSION``, region sets...), as the provider's modules hold them
CONSTANTS: dict[str, dict[str, Any]] = _DATA["constants"]
#: TRTC's monitoring (DescribeRoomInfo/DescribeUserInfo): how far back, and the longest query windows
MONITOR_HISTORY_S: int = CONSTANTS["trtc"]["MONITOR_HISTORY_S"]
ROOM_INFO_MAX_S: int = CONSTANTS["trtc"]["ROOM_INFO_MAX_S"]
USER_INFO_MAX_S: int = CONSTANTS["trtc"]["USER_INFO_MAX_S"]


def lookup(product: str, action: str) -> Api | None:
    return CATALOG.get((product, action))


def by_action(cloud: Cloud, action: str) -> Api | None:
    """The entry for ``action`` on ``cloud`` (actions are unique per cloud across its products)."""
    return _BY_ACTION.get((cloud, action))


def entry(product: str, action: str) -> Api:
    """The entry the sandbox implements for ``(product, action)``; a KeyError names a missing one."""
    api = lookup(product, action)
    if api is None:
        raise KeyError(f"{product}/{action} is not in rtc_sandbox/data/catalog.json")
    return api
