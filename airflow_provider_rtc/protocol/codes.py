"""Error-code classification per cloud, keyed off codes only (messages change without notice).

Tencent has no documented retryability; ZEGO's comes from each code's suggested action. Per-API codes
come from the catalog (``Api.gone``, ``Api.transient``, ``Api.family``); the cloud-wide tables here are
the provider's decisions and are pinned by tests.
"""

from __future__ import annotations

from enum import StrEnum

from airflow_provider_rtc import catalog
from airflow_provider_rtc.catalog import Api


class Kind(StrEnum):
    THROTTLED = "throttled"
    TRANSIENT = "transient"
    NOT_FOUND = "not_found"
    AUTH = "auth"
    INVALID_INPUT = "invalid_input"
    FAILED = "failed"


# --- Tencent Cloud API 3.0 -------------------------------------------------------------------
# Per-API codes ("already gone", per-API transient ones) live in each API's catalog entry; the
# rules below are cloud-wide and apply to every action, in the catalog or not.

#: ``ResourceNotFound.*`` sub-codes that mean the *account* is blocked, not that a target is gone.
TENCENT_ACCOUNT_BLOCKED = frozenset(
    {
        "ResourceNotFound.ForbidService",
        "ResourceNotFound.FreezeService",
        "ResourceNotFound.StopService",
        "ResourceNotFound.UserDisableService",
    }
)

_TENCENT_AUTH_EXACT = (
    frozenset(
        {
            "IpInBlacklist",
            "IpNotInWhitelist",
            # Live: the account is not registered for Live (an account problem, not a missing target)
            "ResourceNotFound.UserNotExist",
            # Live: "no permission to operate", although filed under InternalError
            "InternalError.NotPermmitOperat",
        }
    )
    | TENCENT_ACCOUNT_BLOCKED
)
#: Throttles outside ``RequestLimitExceeded*`` in the official error-code files (TRTC, Live).
_TENCENT_THROTTLED_EXACT = frozenset(
    {
        "FailedOperation.RestrictedFrequency",
        "OperationDenied.FreqOverLimit",
        "LimitExceeded.RateLimitExceeded",
    }
)
#: ``InternalError.*`` codes that describe a configuration, not a passing fault: retrying cannot help.
_TENCENT_NOT_TRANSIENT = frozenset({"InternalError.ConfigNotExist", "InternalError.GetBizidError"})
_TENCENT_AUTH_PREFIXES = ("AuthFailure", "UnauthorizedOperation")
_TENCENT_INVALID_PREFIXES = (
    "InvalidParameter",
    "InvalidParameterValue",
    "MissingParameter",
    "UnknownParameter",
)
_TENCENT_INVALID_EXACT = frozenset(
    {
        "InvalidAction",
        "NoSuchVersion",
        "NoSuchProduct",
        "ActionOffline",
        "UnsupportedRegion",
        "UnsupportedProtocol",
        "InvalidRequest",
        "RequestSizeLimitExceeded",
        "UnsupportedOperation",
    }
)


def _entry_kind(api: Api | None, code: str | int) -> Kind | None:
    """What the API's own catalog entry says of ``code`` ("already gone", retry-worthy), if anything."""
    if api is not None and code in api.gone:
        return Kind.NOT_FOUND
    if api is not None and code in api.transient:
        return Kind.TRANSIENT
    return None


def _matches(code: str, prefixes: tuple[str, ...]) -> bool:
    return any(code == p or code.startswith(p + ".") for p in prefixes)


def classify_tencent(action: str, code: str, api: Api | None = None) -> Kind:
    """``api`` is the catalog entry called (looked up by ``action`` when not given)."""
    api = api or catalog.by_action("tencent", action)
    per_api = _entry_kind(api, code)
    if per_api is not None:
        return per_api
    if code in _TENCENT_THROTTLED_EXACT or _matches(code, ("RequestLimitExceeded",)):
        return Kind.THROTTLED
    if code in _TENCENT_AUTH_EXACT or _matches(code, _TENCENT_AUTH_PREFIXES):
        return Kind.AUTH
    if code in _TENCENT_NOT_TRANSIENT:
        return Kind.FAILED
    if _matches(code, ("InternalError", "ServiceUnavailable")):
        return Kind.TRANSIENT
    if code in _TENCENT_INVALID_EXACT or _matches(code, _TENCENT_INVALID_PREFIXES):
        return Kind.INVALID_INPUT
    return Kind.FAILED


# --- ZEGOCLOUD -------------------------------------------------------------------------------

# Each action's code family and "already gone" codes are in its catalog entry.

_ZEGO_GATEWAY_AUTH = frozenset({100000004, 100000005, 100000010, 100000011, 100000016, 100000017})
_ZEGO_GATEWAY_INVALID = frozenset(range(100000000, 100000015)) - _ZEGO_GATEWAY_AUTH

_ZEGO_FAMILY_TABLES: dict[str, dict[Kind, frozenset[int]]] = {
    "room": {
        # 7 is not a throttle in the current tables (in the media-file table it means auth failed)
        Kind.THROTTLED: frozenset({206, 207}),
        Kind.TRANSIENT: frozenset({1, 122, 123, 124, 151, 154, 5018, 5201, 5202, 50009, 50013}),
        Kind.AUTH: frozenset({9}),
        Kind.INVALID_INPUT: frozenset({2, 3, 8, 1008, 50011, 50012}),
    },
    "mix": {
        Kind.THROTTLED: frozenset({110200005, 110200006, 110200190, 110200191, 110200194}),
        Kind.TRANSIENT: frozenset(
            {110200001, 110200007, 110200012, 110200013, 110200015, 110200151, 110200159}
        ),
        Kind.AUTH: frozenset({110200003, 110200157, 110240002}),
        Kind.INVALID_INPUT: frozenset(
            {
                110200002,
                110200004,
                110200160,
                110200161,
                *range(110200140, 110200143),
                *range(110200153, 110200157),
            }
        ),
    },
    "record": {
        Kind.THROTTLED: frozenset({300000003}),
        Kind.TRANSIENT: frozenset({300010000}),
        Kind.AUTH: frozenset({300000002, 300000005}),
        Kind.INVALID_INPUT: frozenset({300000004}),
    },
    "media": {
        Kind.THROTTLED: frozenset({1010, 5007, 30002}),
        Kind.TRANSIENT: frozenset(
            {1, 3001, 5000, 5001, 5002, 5006, 30003, *range(41001, 41004), *range(42001, 42005), 43001}
        ),
        Kind.AUTH: frozenset({3, 5003, 40005, 3000, 3003}),
        Kind.INVALID_INPUT: frozenset({2, 3002, 5004, 5005, 30001, *range(30004, 30012)}),
    },
}


def _zego_family(api: Api | None) -> str:
    """The entry's family; an action outside the catalog is read with its product's usual table."""
    if api is not None and api.family:
        return api.family
    return "record" if api is not None and api.product == "cloudrecord" else "room"


def classify_zego(action: str, code: int, api: Api | None = None) -> Kind:
    """``api`` is the catalog entry called (looked up by ``action`` when not given)."""
    api = api or catalog.by_action("zego", action)
    per_api = _entry_kind(api, code)
    if per_api is not None:
        return per_api
    if code in _ZEGO_GATEWAY_AUTH:
        return Kind.AUTH
    if code == 100000015:
        return Kind.TRANSIENT
    if code in _ZEGO_GATEWAY_INVALID:
        return Kind.INVALID_INPUT
    table = _ZEGO_FAMILY_TABLES.get(_zego_family(api), {})
    for kind, codes in table.items():
        if code in codes:
            return kind
    return Kind.FAILED
