"""The sandbox's own table of the clouds' APIs (rtc_sandbox.catalog) says what the provider's catalog says.

The sandbox is its own distribution and imports nothing from the provider, so it carries a copy of
the facts: versions, methods, regions, documented limits and what they are counted per. Were the two
to drift, the sandbox would throttle (or route) differently from what the client paces for, and
tests against it would prove the wrong thing. This test makes the drift loud.
"""

from __future__ import annotations

import dataclasses

import pytest
from rtc_sandbox import catalog as sandbox_catalog

from airflow_provider_rtc import catalog as provider_catalog


def _facts(api: object) -> dict[str, object]:
    return {f.name: getattr(api, f.name) for f in dataclasses.fields(api)}  # type: ignore[arg-type]


def test_both_tables_hold_the_same_apis() -> None:
    assert set(sandbox_catalog.CATALOG) == set(provider_catalog.CATALOG)


@pytest.mark.parametrize("key", sorted(provider_catalog.CATALOG), ids="/".join)
def test_every_fact_of_an_api_agrees(key: tuple[str, str]) -> None:
    ours = sandbox_catalog.CATALOG.get(key)
    assert ours is not None, f"{key} is missing from rtc_sandbox.catalog"
    theirs = provider_catalog.CATALOG[key]
    ours_facts = dict(_facts(ours))
    ours_facts["quotas"] = [_facts(q) for q in ours.quotas]
    theirs_facts = dict(_facts(theirs))
    theirs_facts["quotas"] = [_facts(q) for q in theirs.quotas]
    assert ours_facts == theirs_facts


@pytest.mark.parametrize("product", ["trtc", "live", "vod", "zego"])
def test_module_constants_agree(product: str) -> None:
    """Region sets, query windows and history caps (``MONITOR_HISTORY_S``...) beside the entries."""
    import importlib

    ours = importlib.import_module(f"rtc_sandbox.catalog.{product}")
    theirs = importlib.import_module(f"airflow_provider_rtc.catalog.{product}")

    def constants(module: object) -> dict[str, object]:
        return {
            name: value
            for name, value in vars(module).items()
            if name.isupper() and not isinstance(value, sandbox_catalog.Api | provider_catalog.Api)
        }

    assert constants(ours) == constants(theirs)
    api_names = {n for n, v in vars(theirs).items() if isinstance(v, provider_catalog.Api)}
    assert api_names == {n for n, v in vars(ours).items() if isinstance(v, sandbox_catalog.Api)}


def test_a_drifted_limit_is_caught() -> None:
    """The comparison bites: one changed QPS makes the facts differ."""
    theirs = provider_catalog.DISMISS_ROOM
    drifted = dataclasses.replace(sandbox_catalog.DISMISS_ROOM, qps=(theirs.qps or 1) + 1)
    assert _facts(drifted) != _facts(theirs)
