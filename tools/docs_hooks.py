"""MkDocs hooks: tables written from the code at build time, so the docs cannot drift from it.

A page asks for a table with an HTML comment on a line of its own, e.g.
``<!-- generated: exception-classes -->``; an unknown name fails the build.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from typing import Any

_MARKER = re.compile(r"^<!-- generated: ([a-z-]+) -->$", re.MULTILINE)


def _codes(values: Iterable[Any]) -> str:
    ordered = sorted(values, key=lambda c: (isinstance(c, str), c))
    return ", ".join(f"`{c}`" for c in ordered) or "-"


def _ranges(values: Iterable[int]) -> str:
    """``110200140-110200142`` for runs of three or more consecutive codes."""
    nums = sorted(values)
    parts: list[str] = []
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"`{nums[i]}`-`{nums[j]}`")
        else:
            parts.extend(f"`{n}`" for n in nums[i : j + 1])
        i = j + 1
    return ", ".join(parts) or "-"


def exception_classes() -> str:
    from airflow.providers.common.compat.sdk import AirflowFailException

    from airflow_provider_rtc import exceptions

    rows = ["| class | kind | fails the task without Airflow retries | meaning |", "|---|---|---|---|"]
    classes = [
        obj
        for _, obj in inspect.getmembers(exceptions, inspect.isclass)
        if issubclass(obj, exceptions.RtcError) and obj.__module__ == exceptions.__name__
    ]
    for cls in sorted(classes, key=lambda c: (len(c.__mro__), c.__name__)):
        doc = " ".join((inspect.getdoc(cls) or "").split()).replace("``", "`")
        fail = "yes" if issubclass(cls, AirflowFailException) else "no"
        rows.append(f"| `{cls.__name__}` | `{cls.kind}` | {fail} | {doc} |")
    return "\n".join(rows)


def tencent_rules() -> str:
    from airflow_provider_rtc.protocol import codes as c

    rows = [
        "| codes | classified as |",
        "|---|---|",
        f"| `RequestLimitExceeded*`, {_codes(c._TENCENT_THROTTLED_EXACT)} | `throttled` |",
        f"| `AuthFailure*`, `UnauthorizedOperation*`, {_codes(c._TENCENT_AUTH_EXACT)} | `auth` |",
        f"| {_codes(c._TENCENT_NOT_TRANSIENT)} | `failed` (a configuration, not a passing fault) |",
        "| `InternalError*`, `ServiceUnavailable*` (others) | `transient` |",
        f"| {', '.join(f'`{p}*`' for p in c._TENCENT_INVALID_PREFIXES)}, "
        f"{_codes(c._TENCENT_INVALID_EXACT)} | `invalid_input` |",
        "| anything else | `failed` |",
    ]
    return "\n".join(rows)


def zego_rules() -> str:
    from airflow_provider_rtc.protocol import codes as c

    rows = ["| family | classified as | codes |", "|---|---|---|"]
    rows.append(f"| every API (gateway) | `auth` | {_ranges(c._ZEGO_GATEWAY_AUTH)} |")
    rows.append("| every API (gateway) | `transient` | `100000015` |")
    rows.append(f"| every API (gateway) | `invalid_input` | {_ranges(c._ZEGO_GATEWAY_INVALID)} |")
    for family, table in c._ZEGO_FAMILY_TABLES.items():
        for kind, values in table.items():
            rows.append(f"| `{family}` | `{kind.value}` | {_ranges(values)} |")
    rows.append("| any | `failed` | anything else |")
    return "\n".join(rows)


def per_api_codes() -> str:
    from airflow_provider_rtc.catalog import CATALOG

    rows = [
        '| cloud | API | ZEGO family | "already gone" (`not_found`) | also retried (`transient`) |',
        "|---|---|---|---|---|",
    ]
    for api in sorted(CATALOG.values(), key=lambda a: (a.cloud, a.product, a.action)):
        if not api.gone and not api.transient:
            continue
        fmt = _ranges if api.cloud == "zego" else _codes
        rows.append(
            f"| {api.cloud} ({api.product}) | `{api.action}` | {api.family or '-'} | "
            f"{fmt(api.gone)} | {fmt(api.transient)} |"  # type: ignore[arg-type]
        )
    return "\n".join(rows)


def _cell(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|") if text not in (None, "") else "-"


def connection_fields() -> str:
    """The connection form of each type, as ``get_provider_info()`` declares it to Airflow."""
    from airflow_provider_rtc.get_provider_info import get_provider_info

    out: list[str] = []
    for conn in get_provider_info()["connection-types"]:
        behaviour = conn.get("ui-field-behaviour", {})
        relabel = behaviour.get("relabeling", {})
        out.append(f"**`{conn['connection-type']}`** ({conn['hook-name']}, `{conn['hook-class-name']}`)\n")
        out.append("| field | label in the form | type | meaning |")
        out.append("|---|---|---|---|")
        for name in ("login", "password"):
            out.append(f"| `{name}` | {relabel.get(name, name)} | string | the credential |")
        for name, spec in conn.get("conn-fields", {}).items():
            types = spec.get("schema", {}).get("type", [])
            kind = "/".join(t for t in (types if isinstance(types, list) else [types]) if t != "null")
            secret = " (masked)" if spec.get("schema", {}).get("format") == "password" else ""
            out.append(
                f"| extra `{name}` | {spec['label']} | {kind}{secret} | {_cell(spec.get('description'))} |"
            )
        hidden = ", ".join(f"`{h}`" for h in behaviour.get("hidden-fields", []))
        out.append(f"\nHidden in the form: {hidden or 'none'}.\n")
    return "\n".join(out)


def config_options() -> str:
    """Every ``airflow.cfg`` option the provider declares (``airflow config list`` shows them)."""
    from airflow_provider_rtc.get_provider_info import get_provider_info

    out: list[str] = []
    for section, spec in get_provider_info()["config"].items():
        out.append(f"**`[{section}]`**: {_cell(spec.get('description'))}\n")
        out.append("| option | default | sensitive | meaning |")
        out.append("|---|---|---|---|")
        for name, opt in spec["options"].items():
            default = f"`{opt['default']}`" if opt.get("default") not in (None, "") else "-"
            sensitive = "yes" if opt.get("sensitive") else "no"
            out.append(f"| `{name}` | {default} | {sensitive} | {_cell(opt.get('description'))} |")
        out.append("")
    return "\n".join(out)


GENERATORS: dict[str, Callable[[], str]] = {
    "connection-fields": connection_fields,
    "config-options": config_options,
    "exception-classes": exception_classes,
    "tencent-rules": tencent_rules,
    "zego-rules": zego_rules,
    "per-api-codes": per_api_codes,
}


def render(markdown: str) -> str:
    def _one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in GENERATORS:
            raise ValueError(f"unknown generated table {name!r}; known: {sorted(GENERATORS)}")
        return GENERATORS[name]()

    return _MARKER.sub(_one, markdown)


def on_page_markdown(markdown: str, **_: Any) -> str:
    return render(markdown)
