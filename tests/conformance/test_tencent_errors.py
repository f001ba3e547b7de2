"""Every Tencent error code the provider relies on is in the vendor's documented list for that action.

The lists come from the official Go SDK (``tencentcloud/<product>/<version>/client.go``: the codes each
method "may return"), generated into ``data/tencent_errors.json`` by ``tools/gen_tencent_errors.py``
with the source commit. Common codes (``data/tencent_codes.json``) apply to every action. A code in
neither must be in the explicit UNCONFIRMED table, with why, so a guess is never silently taken for fact.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import rtc_sandbox

from airflow_provider_rtc import catalog
from airflow_provider_rtc.protocol import codes

from .conftest import load

ERRORS = load("tencent_errors.json")
TABLE = load("tencent_codes.json")
COMMON = frozenset(TABLE["common"]["codes"])
UNCONFIRMED: dict[str, dict[str, str]] = TABLE["unconfirmed"]
TENCENT = sorted((a for a in catalog.CATALOG.values() if a.cloud == "tencent"), key=lambda a: a.action)
PRODUCT_CODES = {p: frozenset(c) for p, c in ERRORS["product_codes"].items()}


def _relied_on(api: catalog.Api) -> list[tuple[str, str]]:
    """(role, code) the catalog entry relies on: 'gone' and 'transient' codes."""
    return [(role, str(c)) for role in ("gone", "transient") for c in sorted(getattr(api, role))]


def _documented(api: catalog.Api) -> frozenset[str]:
    return frozenset(ERRORS["actions"][api.action]["codes"]) | COMMON


CASES = [(api.action, role, code) for api in TENCENT for role, code in _relied_on(api)]


def test_data_covers_every_tencent_catalog_action() -> None:
    assert sorted(ERRORS["actions"]) == sorted(a.action for a in TENCENT)
    assert re.fullmatch(r"[0-9a-f]{40} \(.+\)", ERRORS["commit"])
    for api in TENCENT:
        entry = ERRORS["actions"][api.action]
        assert entry["product"] == api.product
        assert entry["version"] == "v" + api.version.replace("-", "")
        assert entry["codes"], f"{api.action}: the Go SDK lists no codes (generator broken?)"


@pytest.mark.parametrize(("action", "role", "code"), CASES, ids=[f"{a}-{r}-{c}" for a, r, c in CASES])
def test_catalog_code_is_documented_for_its_action(action: str, role: str, code: str) -> None:
    api = catalog.by_action("tencent", action)
    assert api is not None
    if code in _documented(api):
        assert code not in UNCONFIRMED.get(action, {}), f"{action} {code} is documented: drop the row"
        return
    assert code in UNCONFIRMED.get(action, {}), (
        f"{action} relies on {code!r} ({role}), the Go SDK lists {sorted(_documented(api) - COMMON)}: "
        "fix the entry or add the code to UNCONFIRMED in data/tencent_codes.json with why"
    )


def test_unconfirmed_table_has_no_stale_rows() -> None:
    """Each UNCONFIRMED row names an action and a code the catalog still relies on, with a reason."""
    for action, rows in UNCONFIRMED.items():
        api = catalog.by_action("tencent", action)
        assert api is not None, action
        relied = {code for _, code in _relied_on(api)}
        for code, why in rows.items():
            assert code in relied, f"{action} no longer relies on {code}: drop the row"
            assert why.strip(), f"{action} {code}: say why"


@pytest.mark.parametrize(
    "action",
    [a.action for a in TENCENT if a.gone],
)
def test_every_gone_action_knows_a_documented_gone_code(action: str) -> None:
    """Tolerated guesses are fine only next to at least one code the vendor documents for the action
    (StopPublishCdnStream documents none: its guesses are all it can have)."""
    api = catalog.by_action("tencent", action)
    assert api is not None
    documented = {str(c) for c in api.gone} & set(ERRORS["actions"][action]["codes"])
    if action == "StopPublishCdnStream":  # its Go list has no not-found/ended code at all
        not_found = [c for c in ERRORS["actions"][action]["codes"] if "NotExist" in c or "Finished" in c]
        assert not not_found, f"the Go SDK now documents {not_found} for StopPublishCdnStream: use it"
        return
    assert documented, f"{action}: none of {sorted(map(str, api.gone))} is in its documented list"


CLOUD_WIDE = sorted(
    codes.TENCENT_ACCOUNT_BLOCKED
    | codes._TENCENT_AUTH_EXACT
    | codes._TENCENT_THROTTLED_EXACT
    | codes._TENCENT_NOT_TRANSIENT
    | codes._TENCENT_INVALID_EXACT
)


@pytest.mark.parametrize("code", CLOUD_WIDE)
def test_cloud_wide_code_exists_in_a_vendor_list(code: str) -> None:
    """The cloud-wide tables (protocol/codes.py) name real codes: common, or in TRTC/Live/VOD errors.go."""
    assert code in COMMON or any(code in c for c in PRODUCT_CODES.values()), code


_SANDBOX = Path(rtc_sandbox.__file__).parent
_CODE = re.compile(
    r'"((?:AuthFailure|FailedOperation|InternalError|InvalidParameter|InvalidParameterValue|LimitExceeded|'
    r"MissingParameter|OperationDenied|RequestLimitExceeded|ResourceNotFound|ResourceUnavailable|"
    r'UnauthorizedOperation|UnsupportedOperation)(?:\.[A-Za-z]+)?)"'
)


def _sandbox_codes() -> list[tuple[str, str]]:
    """(product, code) for each Tencent code literal in the sandbox, by the module that answers it."""
    product_of = {"vod.py": "vod", "live.py": "live", "trtc.py": "trtc", "tencent_usage.py": "trtc"}
    found: set[tuple[str, str]] = set()
    for path in sorted(_SANDBOX.rglob("*.py")):
        if "catalog" in path.relative_to(_SANDBOX).parts:
            continue  # the sandbox's copy of the catalog: the client's codes, not answers
        for code in _CODE.findall(path.read_text(encoding="utf-8")):
            found.add((product_of.get(path.name, "any"), code))
    return sorted(found)


@pytest.mark.parametrize(("product", "code"), _sandbox_codes(), ids=lambda x: x)
def test_sandbox_answers_only_documented_codes(product: str, code: str) -> None:
    """The sandbox invents no codes: each is common, or in its product's errors.go (any product for the
    shared wire modules), or explicitly UNCONFIRMED."""
    pool = PRODUCT_CODES.get(product) or frozenset().union(*PRODUCT_CODES.values())
    if code in COMMON or code in TABLE["sandbox_unconfirmed"]:
        return
    assert code in pool, f"the sandbox answers {code!r}, which {product} does not document"


MONITOR_WINDOW = [
    (action, params)
    for action in ("DescribeRoomInfo", "DescribeUserInfo")
    for params in (
        {"EndTime": 2},
        {"StartTime": 1},
        {"StartTime": "x", "EndTime": 2},
        {"StartTime": 1, "EndTime": -1},
        {"StartTime": 5, "EndTime": 2},
    )
]


@pytest.mark.parametrize(("action", "params"), MONITOR_WINDOW)
def test_sandbox_monitoring_window_errors_are_the_actions_documented_codes(
    action: str, params: dict[str, object]
) -> None:
    """The sandbox builds these codes from the parameter name, which the literal scan above cannot see:
    the Go SDK documents ``...StartTs``/``...EndTs`` for StartTime/EndTime, not ``...StartTime``."""
    from types import SimpleNamespace

    from rtc_sandbox.errors import SandboxError
    from rtc_sandbox.wire import trtc_monitor
    from rtc_sandbox.wire.tencent_params import TencentParams

    handler = (
        trtc_monitor.describe_room_info if action == "DescribeRoomInfo" else trtc_monitor.describe_user_info
    )
    call = SimpleNamespace(params=TencentParams({"SdkAppId": 1400000000, "CommId": "c", **params}, False))
    with pytest.raises(SandboxError) as err:
        handler(None, call)  # type: ignore[arg-type]
    assert str(err.value.code) in _documented(catalog.by_action("tencent", action)), err.value.code  # type: ignore[arg-type]
