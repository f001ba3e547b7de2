"""The sandbox's table of the clouds' APIs is the provider's catalog, as data.

The sandbox is its own distribution and imports nothing from the provider, so it ships the facts in
``rtc_sandbox/data/catalog.json``, written by ``tools/gen_sandbox_catalog.py`` from
``airflow_provider_rtc.catalog``. Were the file stale, the sandbox would throttle (or route)
differently from what the client paces for, and tests against it would prove the wrong thing.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import tomllib

import pytest
from rtc_sandbox import catalog as sandbox_catalog

from airflow_provider_rtc import catalog as provider_catalog
from tools import gen_sandbox_catalog as gen


def test_the_committed_file_is_the_generators_output() -> None:
    committed = gen.OUT.read_text(encoding="utf-8")
    wanted = gen.render()
    problems = gen.stale(json.loads(committed), json.loads(wanted))
    assert not problems, f"{gen.OUT.name} is stale; run `{gen.COMMAND}`:\n" + "\n".join(problems)
    assert committed == wanted, f"{gen.OUT.name} is not formatted as generated; run `{gen.COMMAND}`"


def test_a_drifted_fact_is_named_with_the_command() -> None:
    """The check bites and says what to do: one changed limit, one lost API, one changed constant."""
    wanted = gen.build()
    drifted = copy.deepcopy(wanted)
    row = next(a for a in drifted["apis"] if a["action"] == "DismissRoom")
    row["qps"] = 21.0
    drifted["apis"] = [a for a in drifted["apis"] if a["action"] != "CloseRoom"]
    drifted["constants"]["trtc"]["ROOM_INFO_MAX_S"] = 1
    assert gen.stale(drifted, wanted) == [
        "rtc/CloseRoom: missing from the file",
        "trtc/DismissRoom.qps: file 21.0, catalog 20.0",
        "trtc.ROOM_INFO_MAX_S: file 1, catalog 86400",
    ]
    assert gen.stale(wanted, wanted) == []


def test_check_mode_fails_on_a_stale_file(tmp_path, monkeypatch, capsys) -> None:
    stale = tmp_path / "catalog.json"
    data = gen.build()
    data["apis"][0]["batch"] = 99
    stale.write_text(gen.render(data), encoding="utf-8")
    monkeypatch.setattr(gen, "OUT", stale)
    monkeypatch.setattr(gen, "ROOT", tmp_path)
    assert gen.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert ".batch: file 99, catalog None" in err and gen.COMMAND in err
    assert gen.main([]) == 0 and gen.main(["--check"]) == 0


@pytest.mark.parametrize("key", sorted(provider_catalog.CATALOG), ids="/".join)
def test_the_sandbox_loads_every_fact_of_an_api(key: tuple[str, str]) -> None:
    """What the sandbox reads back from the file equals the provider's entry, field by field."""
    ours = sandbox_catalog.CATALOG.get(key)
    assert ours is not None, f"{key} is missing from rtc_sandbox/data/catalog.json"
    theirs = provider_catalog.CATALOG[key]
    for field in dataclasses.fields(theirs):
        mine, want = getattr(ours, field.name), getattr(theirs, field.name)
        if field.name == "quotas":
            mine, want = [(q.qps, q.per) for q in mine], [(q.qps, q.per) for q in want]
        assert mine == want, f"{'/'.join(key)}.{field.name}"
    assert ours.rate_key(secret_id="AKID", region="ap-guangzhou", app_id=1, room="r") == theirs.rate_key(
        secret_id="AKID", region="ap-guangzhou", app_id=1, room="r"
    )
    assert ours.rate(test=True) == theirs.rate(test=True)


def test_the_monitor_windows_are_the_providers() -> None:
    from airflow_provider_rtc.catalog import trtc

    ours = sandbox_catalog
    assert (ours.MONITOR_HISTORY_S, ours.ROOM_INFO_MAX_S, ours.USER_INFO_MAX_S) == (
        trtc.MONITOR_HISTORY_S,
        trtc.ROOM_INFO_MAX_S,
        trtc.USER_INFO_MAX_S,
    )


def test_the_wheel_ships_the_data_file() -> None:
    """importlib.resources reads it from the installed package: it must be declared package data."""
    pyproject = tomllib.loads((gen.ROOT / "rtc-sandbox" / "pyproject.toml").read_text(encoding="utf-8"))
    declared = pyproject["tool"]["setuptools"]["package-data"]["rtc_sandbox"]
    assert any(gen.OUT.match(f"rtc_sandbox/{pattern}") for pattern in declared), declared


def test_an_unknown_handler_entry_fails_naming_it() -> None:
    from rtc_sandbox.routes import handles

    with pytest.raises(KeyError, match=r"trtc/NoSuchAction is not in rtc_sandbox/data/catalog\.json"):
        handles("trtc", "NoSuchAction")
