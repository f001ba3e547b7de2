"""Run the plan against one account and compare each answer with what the catalog assumes.

Every row is one API: what was sent, what came back (an error code or the answer's shape), what the
catalog (read now, never copied) assumes, and a verdict: ``agrees``, ``differs``, ``skipped`` (with
why) or ``error`` (the probe could not tell: auth, throttle, network, missing connection extra).
Secrets never reach a row: errors are shown by code, class and the cloud's message (which the
hooks already keep secret-free), answers by field names and counts only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

from airflow_provider_rtc import catalog
from airflow_provider_rtc.catalog import Api
from airflow_provider_rtc.exceptions import (
    RtcAuthError,
    RtcError,
    RtcStoppedError,
    RtcThrottledError,
    RtcTransientError,
    RtcValidationError,
)
from airflow_provider_rtc.probe.checks import BY_ACTION, ENDED_TASKS, PLAN, Check, Group, fresh_ids

GROUPS: tuple[Group, ...] = ("trtc", "live", "vod", "zego")
TENCENT_GROUPS = frozenset({"trtc", "live", "vod"})

AGREES, DIFFERS, SKIPPED, ERROR = "agrees", "differs", "skipped", "error"
#: exit codes of ``rtc-provider probe`` (2 is a bad command line or connection, as argparse uses)
EXIT_AGREES, EXIT_DIFFERS, EXIT_USAGE, EXIT_ERRORS = 0, 1, 2, 3
_WHY_MAX = 160


class ProbeConfigError(ValueError):
    """The probe cannot start: no connection for a requested cloud, an unknown cloud name..."""


@dataclass(frozen=True)
class ProbeRow:
    cloud: str
    api: str
    sent: str
    seen: str
    assumes: str
    verdict: str
    why: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class ProbeResult:
    rows: list[ProbeRow] = field(default_factory=list)

    def count(self, verdict: str) -> int:
        return sum(1 for r in self.rows if r.verdict == verdict)

    @property
    def exit_code(self) -> int:
        """1 when anything differs (a finding outranks an incomplete run), else 3 on errors, else 0."""
        if self.count(DIFFERS):
            return EXIT_DIFFERS
        return EXIT_ERRORS if self.count(ERROR) else EXIT_AGREES

    def summary(self) -> str:
        parts = [f"{self.count(v)} {v}" for v in (AGREES, DIFFERS, SKIPPED, ERROR)]
        return ", ".join(parts) + f" (exit code {self.exit_code})"


class ProbeContext:
    """The hooks (built lazily from the connections), the run's random ids and clock."""

    def __init__(
        self,
        *,
        tencentcloud_conn_id: str | None,
        zegocloud_conn_id: str | None,
        live_domain: str | None = None,
        ended_trtc_task: str | None = None,
        now: dt.datetime | None = None,
        hook_params: Mapping[str, Any] | None = None,
    ) -> None:
        self.tencentcloud_conn_id = tencentcloud_conn_id
        self.zegocloud_conn_id = zegocloud_conn_id
        self.live_domain: str | None = live_domain or None
        self.ended_trtc_task: str | None = ended_trtc_task or None
        self.now: dt.datetime = now or dt.datetime.now(dt.UTC)
        self.ids: dict[str, Any] = fresh_ids()
        self.hook_params = dict(hook_params or {})

    def _tencent(self, cls: type) -> Any:
        return cls(self.tencentcloud_conn_id, **self.hook_params)

    @cached_property
    def trtc(self) -> Any:
        from airflow_provider_rtc.hooks.trtc import TrtcHook

        return self._tencent(TrtcHook)

    @cached_property
    def live(self) -> Any:
        from airflow_provider_rtc.hooks.live import LiveHook

        return self._tencent(LiveHook)

    @cached_property
    def vod(self) -> Any:
        from airflow_provider_rtc.hooks.vod import VodHook

        return self._tencent(VodHook)

    @cached_property
    def zego_rtc(self) -> Any:
        from airflow_provider_rtc.hooks.zego import ZegoRtcHook

        return ZegoRtcHook(self.zegocloud_conn_id or ZegoRtcHook.default_conn_name, **self.hook_params)

    @cached_property
    def zego_record(self) -> Any:
        from airflow_provider_rtc.hooks.zego import ZegoCloudRecordHook

        return ZegoCloudRecordHook(
            self.zegocloud_conn_id or ZegoCloudRecordHook.default_conn_name, **self.hook_params
        )

    def trtc_region(self, action: str) -> str | None:
        """The connection's region, or the first the catalog allows for an API restricted elsewhere
        (the ids are random, so any allowed region answers the same "not found")."""
        region = self.trtc.settings.region
        api = catalog.by_action("tencent", action)
        if api is not None and api.regions and region not in api.regions:
            return sorted(api.regions)[0]
        return region

    def close(self) -> None:
        for name in ("trtc", "live", "vod", "zego_rtc", "zego_record"):
            if name in self.__dict__:
                self.__dict__[name].close()


def group_of(api: Api) -> str:
    return "zego" if api.cloud == "zego" else api.product


def assumes(check: Check | None, api: Api | None) -> str:
    """What the catalog (read now) and the provider's reading code assume of the answer."""
    if check is not None and check.assumes:
        return check.assumes
    if check is None or check.kind == "never":
        return "-"
    if check.kind == "gone":
        codes = sorted(str(c) for c in (api.gone if api is not None else ()))
        return f"gone: {', '.join(codes)}" if codes else "success (no gone code)"
    text = "has " + ", ".join(s.replace("|", " or ") for s in check.shape)
    if check.expect:
        text += f"; {check.expect}"
    if check.error_ok:
        text += f"; or an error = {check.error_ok.split(':')[0]}"
    return text


def _find(answer: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    node: Any = answer
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _shape(check: Check, answer: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The shape seen (field names, list lengths) and the expected fields that are missing."""
    seen, missing = [], []
    for alternatives in check.shape:
        for path in alternatives.split("|"):
            found, value = _find(answer, path)
            if found:
                size = f"[{len(value)}]" if isinstance(value, list) else ""
                seen.append(f"{path}{size}")
                break
        else:
            missing.append(alternatives.replace("|", " or "))
    return ", ".join(seen) or "no expected field", missing


def _error_text(err: RtcError) -> str:
    code = err.code if err.code not in (None, "") else err.kind
    return str(code)


def _why(err: RtcError) -> str:
    text = f"{type(err).__name__}: {err.message}"
    return text if len(text) <= _WHY_MAX else text[: _WHY_MAX - 3] + "..."


def _passing(err: RtcError) -> bool:
    """A throttle, a passing fault, our own input or a stop: says nothing of the account."""
    return isinstance(err, RtcValidationError | RtcThrottledError | RtcStoppedError | RtcTransientError)


def _cannot_tell(err: RtcError) -> bool:
    """Errors that say nothing of the catalog: the account, the limit, the network, our own input."""
    if isinstance(err, RtcValidationError | RtcAuthError | RtcThrottledError | RtcStoppedError):
        return True
    return isinstance(err, RtcTransientError) or err.code in (None, "")


def probe_one(ctx: ProbeContext, check: Check, api: Api | None) -> tuple[str, str, str]:
    """Call ``check`` once: (seen, verdict, why)."""
    assert check.call is not None
    try:
        answer = check.call(ctx)
    except RtcError as err:
        seen = _error_text(err)
        if (
            check.error_ok
            and not _passing(err)
            and (not check.error_ok_codes or str(err.code) in check.error_ok_codes)
        ):
            # the provider reads any such error as the documented case (e.g. ZEGO's "not enabled",
            # which may come as an auth-family code such as 9: vendor review 2 §5.2)
            return seen, AGREES, check.error_ok
        if _cannot_tell(err):
            return seen, ERROR, _why(err)
        if check.kind == "gone":
            gone = api.gone if api is not None else frozenset()
            if err.code in gone:
                return seen, AGREES, ""
            return seen, DIFFERS, _why(err)
        return seen, DIFFERS, _why(err)
    if check.kind == "gone":
        if api is not None and api.gone:
            why = "answered success, not a gone code (harmless for cleanups: success counts as done)"
            return "success", DIFFERS, why
        return "success", AGREES, ""
    seen, missing = _shape(check, answer)
    extra = check.observe(answer) if check.observe else ""
    if extra:
        seen += f"; {extra}"
    if missing:
        return seen, DIFFERS, "missing " + ", ".join(missing)
    problem = check.inspect(answer, ctx) if check.inspect else None
    if problem:
        return seen, DIFFERS, problem
    return seen, AGREES, ""


def _skip_reason(ctx: ProbeContext, check: Check | None, include_billed: bool) -> str:
    if check is None:
        return "no probe for this catalog entry yet"
    if check.kind == "never":
        return check.reason
    if check.billed and not include_billed:
        return f"billed ({check.billed}); pass --include-billed"
    if check.needs and not getattr(ctx, check.needs):
        return f"needs --{check.needs.replace('_', '-')}"
    return ""


def planned(groups: Iterable[str]) -> list[tuple[str, str, Check | None, Api | None]]:
    """(group, action, check, catalog entry) for every catalog entry of ``groups``, in catalog order,
    then the plan's actions the catalog lacks (the billed monitoring API)."""
    wanted = set(groups)
    out: list[tuple[str, str, Check | None, Api | None]] = []
    seen: set[tuple[str, str]] = set()
    for group in GROUPS:
        if group not in wanted:
            continue
        for api in catalog.CATALOG.values():
            if group_of(api) == group:
                out.append((group, api.action, BY_ACTION.get(api.action), api))
                seen.add((group, api.action))
        cloud: catalog.Cloud = "zego" if group == "zego" else "tencent"
        for check in PLAN:
            if check.group == group and (group, check.action) not in seen:
                out.append((group, check.action, check, catalog.by_action(cloud, check.action)))
        for check in ENDED_TASKS:
            if check.group == group:
                out.append((group, check.action, check, catalog.by_action(cloud, check.action)))
    return out


def resolve_groups(
    clouds: Sequence[str] | str | None, *, tencentcloud_conn_id: str | None, zegocloud_conn_id: str | None
) -> list[str]:
    """The clouds to probe: the ones asked for (each needs its connection), else every cloud whose
    connection was given."""
    if isinstance(clouds, str):
        clouds = [c for c in clouds.replace(" ", "").split(",") if c]
    if not clouds:
        chosen: list[str] = [
            g for g in GROUPS if (tencentcloud_conn_id if g in TENCENT_GROUPS else zegocloud_conn_id)
        ]
    else:
        unknown = sorted(set(clouds) - set(GROUPS))
        if unknown:
            raise ProbeConfigError(f"unknown cloud(s) {unknown}: choose from {', '.join(GROUPS)}")
        chosen = [g for g in GROUPS if g in clouds]
    for group in chosen:
        if group in TENCENT_GROUPS and not tencentcloud_conn_id:
            raise ProbeConfigError(f"probing {group} needs a tencentcloud connection (--conn-id)")
        if group == "zego" and not zegocloud_conn_id:
            raise ProbeConfigError("probing zego needs a zegocloud connection (--zego-conn-id)")
    if not chosen:
        raise ProbeConfigError("nothing to probe: give --conn-id and/or --zego-conn-id")
    return chosen


def _check_connections(ctx: ProbeContext, groups: Sequence[str]) -> None:
    """Read each connection once before any call, so a missing or malformed one stops the run."""
    from airflow.providers.common.compat.sdk import AirflowNotFoundException

    hooks = []
    if TENCENT_GROUPS & set(groups):
        hooks.append(ctx.trtc)
    if "zego" in groups:
        hooks.append(ctx.zego_rtc)
    for hook in hooks:
        try:
            hook.settings  # noqa: B018 (reads and validates the connection)
        except AirflowNotFoundException:
            raise ProbeConfigError(f"connection {hook.conn_id!r} is not defined") from None
        except RtcValidationError as err:
            raise ProbeConfigError(f"connection {hook.conn_id!r}: {err}") from None


def run_probe(
    *,
    tencentcloud_conn_id: str | None = None,
    zegocloud_conn_id: str | None = None,
    clouds: Sequence[str] | str | None = None,
    include_billed: bool = False,
    live_domain: str | None = None,
    ended_trtc_task: str | None = None,
    now: dt.datetime | None = None,
    hook_params: Mapping[str, Any] | None = None,
) -> ProbeResult:
    """Probe the account once; see the module docstring. Raises :class:`ProbeConfigError` before any
    call when the clouds and connections do not fit."""
    groups = resolve_groups(
        clouds, tencentcloud_conn_id=tencentcloud_conn_id, zegocloud_conn_id=zegocloud_conn_id
    )
    ctx = ProbeContext(
        tencentcloud_conn_id=tencentcloud_conn_id,
        zegocloud_conn_id=zegocloud_conn_id,
        live_domain=live_domain,
        ended_trtc_task=ended_trtc_task,
        now=now,
        hook_params=hook_params,
    )
    result = ProbeResult()
    try:
        _check_connections(ctx, groups)
        for group, action, check, api in planned(groups):
            sent = check.sent if check is not None else "-"
            expected = assumes(check, api)
            reason = _skip_reason(ctx, check, include_billed)
            if reason:
                result.rows.append(ProbeRow(group, action, sent, "-", expected, SKIPPED, reason))
                continue
            assert check is not None
            seen, verdict, why = probe_one(ctx, check, api)
            result.rows.append(ProbeRow(group, action, sent, seen, expected, verdict, why))
    finally:
        ctx.close()
    return result
