"""One frozen entry per cloud API: the single place an API's facts live.

Everything else derives from these entries: the error classification (``gone`` and ``family``),
client-side pacing (``qps`` and ``per``), the hooks' calls (``hook._call(catalog.DISMISS_ROOM, ...)``)
and the sandbox's routing and limits. Adding an API means: an entry in the product's module here,
a hook method, a sandbox handler, and a test.

Import cost matters (DAG files import the provider on every parse): this package holds only
frozen dataclasses and frozensets, no I/O and no third-party imports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Cloud = Literal["tencent", "zego"]
#: what a documented rate limit is counted per, besides the API itself
RateKey = Literal["secret_id", "region", "app_id", "room"]


@dataclass(frozen=True, slots=True)
class Api:
    """The facts of one API, as documented by its vendor (sources in the product module).

    ``product`` is the service that answers it: ``trtc``/``live``/``vod``/... (Tencent service name,
    used in the host and the TC3 scope) or ``rtc``/``cloudrecord`` (ZEGO host prefix).
    ``qps`` is the documented limit (calls per second; ``0.1`` = one call per 10 s), ``None`` when none is
    documented. ``per`` lists what that limit is counted per, besides the action. ``gone`` holds the codes
    that mean "the target no longer exists" for this API (cleanup's goal reached). ``family`` is ZEGO's
    code family (``room``/``mix``/``record``/``media``): ZEGO reuses small numbers with other meanings.
    ``destructive`` marks calls that end something (counted by dry-run checks). ``regions`` is where the
    API exists, when the vendor restricts it; ``test_qps`` the limit in ZEGO's test environment.
    """

    cloud: Cloud
    product: str
    action: str
    version: str = ""
    method: Literal["GET", "POST"] = "POST"
    qps: float | None = None
    per: tuple[RateKey, ...] = ()
    idempotent: bool = True
    gone: frozenset[str] | frozenset[int] = field(default_factory=frozenset)
    family: str = ""
    destructive: bool = False
    regions: frozenset[str] | None = None
    test_qps: float | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.product, self.action)


#: every entry, by (product, action); filled by the product modules as they are imported
CATALOG: dict[tuple[str, str], Api] = {}


def register(api: Api) -> Api:
    """Add ``api`` to :data:`CATALOG` (once) and return it, so entries are module constants."""
    if api.key in CATALOG and CATALOG[api.key] != api:
        raise ValueError(f"two catalog entries for {api.key}")
    CATALOG[api.key] = api
    return api


def lookup(product: str, action: str) -> Api | None:
    return CATALOG.get((product, action))


def by_action(cloud: Cloud, action: str) -> Api | None:
    """The entry for ``action`` on ``cloud`` (actions are unique per cloud across its products)."""
    for api in CATALOG.values():
        if api.cloud == cloud and api.action == action:
            return api
    return None


# the product modules register their entries on import; keep them last
from airflow_provider_rtc.catalog.live import *  # noqa: E402,F403
from airflow_provider_rtc.catalog.trtc import *  # noqa: E402,F403
from airflow_provider_rtc.catalog.zego import *  # noqa: E402,F403
