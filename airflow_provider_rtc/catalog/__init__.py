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
class Quota:
    """A further documented limit the same call spends, counted per fewer keys than the API's own:
    ZEGO's DescribeUserList is 1/s per room *and* 200/s for all rooms of an AppId. ``per`` must be
    a prefix of the API's ``per`` (the sandbox derives its key from the API's)."""

    qps: float
    per: tuple[RateKey, ...]


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
    ``transient`` holds this API's codes that are worth retrying although the cloud-wide rules say
    otherwise (e.g. CancelCommonMixStream's ``FailedOperation.CallOtherSvrError``); ``throttle_code``
    is the code this API answers over its limit when it is not its family's usual one (ZEGO mixing).
    ``quotas`` are further limits the call spends besides ``qps`` (see :class:`Quota`).
    ``batch`` is the most targets one call takes (RemoveUser's ``UserIds``: 10), ``None`` for one
    target per call: the ender table (:mod:`airflow_provider_rtc.cleanup.enders`), the hooks'
    validation and the conf reader all read it here, the one place it is written.
    ``max_range_days`` is the longest query window a range API accepts (in days of its reporting time
    zone; ``1`` = one day), ``history_days`` how far back it keeps data; ``None`` when not applicable.
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
    transient: frozenset[str] | frozenset[int] = field(default_factory=frozenset)
    throttle_code: int | None = None
    max_range_days: int | None = None
    history_days: int | None = None
    quotas: tuple[Quota, ...] = ()
    batch: int | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.product, self.action)

    def rate(self, *, test: bool = False) -> float | None:
        """The documented limit; in ZEGO's test environment (``IsTest``) its own, when documented."""
        if test and self.test_qps is not None:
            return self.test_qps
        return self.qps

    def rate_key(self, **scope: object) -> str:
        """What one quota is counted per, as a string: the ``per`` values of ``scope`` in order.

        The client pacer and the sandbox's limiter both key on ``(product, action, rate_key)``, e.g.
        ``"AKID...|ap-guangzhou"`` for TRTC, ``"AKID..."`` for Live, ``"123|room-1"`` for ZEGO's
        per-room DescribeSimpleStreamList. A missing value counts as ``""`` (one shared quota).
        """
        return "|".join(str(scope.get(name) or "") for name in self.per)

    def quota_keys(self, **scope: object) -> list[tuple[str, float, str]]:
        """Each further quota as (name, rate, key): name ``"<action>/<per...>"`` tells the quotas apart."""
        return [
            (f"{self.action}/{'+'.join(q.per)}", q.qps, "|".join(str(scope.get(n) or "") for n in q.per))
            for q in self.quotas
        ]


#: every entry, by (product, action); filled by the product modules as they are imported
CATALOG: dict[tuple[str, str], Api] = {}
_BY_ACTION: dict[tuple[str, str], Api] = {}

#: what an action outside the catalog is counted per (generic ``hook.call``): the cloud's usual key
DEFAULT_PER: dict[str, tuple[RateKey, ...]] = {"tencent": ("secret_id", "region"), "zego": ("app_id",)}


def register(api: Api) -> Api:
    """Add ``api`` to :data:`CATALOG` (once) and return it, so entries are module constants."""
    for quota in api.quotas:
        if api.per[: len(quota.per)] != quota.per:
            raise ValueError(f"{api.action}: a quota's per {quota.per} must be a prefix of {api.per}")
    if api.key in CATALOG and CATALOG[api.key] != api:
        raise ValueError(f"two catalog entries for {api.key}")
    other = _BY_ACTION.get((api.cloud, api.action))
    if other is not None and other.key != api.key:
        raise ValueError(f"{api.action} is in two {api.cloud} products: {other.product}, {api.product}")
    CATALOG[api.key] = _BY_ACTION[(api.cloud, api.action)] = api
    return api


def tencent_api(
    product: str, version: str, action: str, qps: float, per: tuple[RateKey, ...], **kw: object
) -> Api:
    """Register a Tencent Cloud API 3.0 entry: every Tencent product is POSTed, signed the same way
    and counted ``per`` its own key (the product modules' docstrings cite each limit)."""
    return register(
        Api(
            cloud="tencent",
            product=product,
            action=action,
            version=version,
            method="POST",
            qps=qps,
            per=per,
            **kw,  # type: ignore[arg-type]
        )
    )


def lookup(product: str, action: str) -> Api | None:
    return CATALOG.get((product, action))


def by_action(cloud: Cloud, action: str) -> Api | None:
    """The entry for ``action`` on ``cloud`` (actions are unique per cloud across its products)."""
    return _BY_ACTION.get((cloud, action))


def adhoc(cloud: Cloud, action: str, product: str | None, default_product: str, **kw: object) -> Api:
    """The catalog's entry for ``action`` (in ``product``, when given), or an unregistered one for an
    API the catalog lacks (``hook.call`` of any action): no documented limit, so no pacing unless
    configured, and only the cloud-wide code rules. ``kw`` (method, version, idempotent...) that are
    not None override either."""
    from dataclasses import replace

    kw = {k: v for k, v in kw.items() if v is not None}
    known = lookup(product, action) if product else by_action(cloud, action)
    if known is not None:
        return replace(known, **kw) if kw else known  # type: ignore[arg-type]
    kw.setdefault("per", DEFAULT_PER[cloud])
    return Api(cloud=cloud, product=product or default_product, action=action, **kw)  # type: ignore[arg-type]


# the product modules register their entries on import; keep them last. They define no ``__all__``
# (a computed one hides their constants from mypy): helpers there start with an underscore.
from airflow_provider_rtc.catalog.live import *  # noqa: E402,F403
from airflow_provider_rtc.catalog.trtc import *  # noqa: E402,F403
from airflow_provider_rtc.catalog.vod import *  # noqa: E402,F403
from airflow_provider_rtc.catalog.zego import *  # noqa: E402,F403
