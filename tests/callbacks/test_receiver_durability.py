"""A callback is acknowledged only once committed; a receiver killed with SIGKILL at any moment of
a burst loses none it acknowledged, and the clouds' retries of the others collapse into one slot.
On SQLite and on PostgreSQL (``benchmarks.receiver_kill``; the benchmark runs 20 cycles)."""

from __future__ import annotations

import secrets
import sqlite3
import time
from typing import Any

import httpx
import pytest

from airflow_provider_rtc.callbacks.app import create_app
from airflow_provider_rtc.callbacks.lifecycle_store import LifecycleStore
from airflow_provider_rtc.callbacks.store import SqliteFile, StoreUnavailable
from airflow_provider_rtc.signing.callbacks import live_callback_sign
from benchmarks.receiver_kill import kill_cycles
from tests.support.postgres import receiver_config
from tests.support.servers import ThreadedServer


@pytest.mark.slow  # receiver processes killed mid-burst by the benchmark's kill cycles (3-4 s each)
@pytest.mark.parametrize("backend", ["sqlite", "sqlite-normal", "postgres"])
def test_a_receiver_killed_mid_burst_loses_no_acknowledged_callback(
    backend: str, request: pytest.FixtureRequest, tmp_path: Any
) -> None:
    url = request.getfixturevalue("postgres_url") if backend == "postgres" else None
    figures = kill_cycles(
        url,
        store_schema=f"k_{secrets.token_hex(6)}",
        cycles=3,
        burst=60,
        seed=7,
        workdir=tmp_path,
        sqlite_synchronous="NORMAL" if backend == "sqlite-normal" else "FULL",
    )
    print(f"\nkill -9 cycles: {figures}")
    assert figures["lost"] == 0, figures["lost_examples"]
    assert figures["missing"] == 0 and figures["acknowledged"] == figures["callbacks"] == 180
    assert figures["killed_mid_burst"] >= 2  # the kills came while callbacks were in flight
    # TRTC and ZEGO callbacks are slots: one row each, every later delivery collapsed into it
    assert figures["stored_slots"] == 120 and figures["duplicates_collapsed"] >= 120


def test_a_live_retry_after_a_failure_between_claim_and_record_is_applied(
    store_location: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The signature is claimed and committed, then the inventory write fails (a kill, a busy
    store: answered 503 or never). Tencent retries the same notification; it was acknowledged as a
    duplicate and never recorded, so the stream stayed unknown."""
    key = "liveKey0123"
    t = int(time.time()) + 600
    push = {
        "appid": 1250000000,
        "app": "push.example.com",
        "appname": "live",
        "stream_id": "s1",
        "event_type": 1,
        "event_time": int(time.time()),
        "t": t,
        "sign": live_callback_sign(key, t),
    }
    real_apply = LifecycleStore.apply
    failures = [1]

    def apply_failing_once(self: LifecycleStore, *args: Any, **kwargs: Any) -> Any:
        if failures:
            failures.pop()
            raise StoreUnavailable("database is locked")
        return real_apply(self, *args, **kwargs)

    monkeypatch.setattr(LifecycleStore, "apply", apply_failing_once)
    server = ThreadedServer(create_app(receiver_config(store_location, live_keys={"*": key})))
    try:
        assert httpx.post(f"{server.url}/live/callback", json=push).status_code == 503
        assert httpx.post(f"{server.url}/live/callback", json=push).status_code == 200  # the retry
    finally:
        server.stop()
    streams = LifecycleStore(store_location).items("live", 1250000000)
    assert [(i.ids["stream_name"], i.live) for i in streams] == [("s1", True)]


def test_sqlite_commits_are_synced_in_wal_mode(tmp_path: Any) -> None:
    """Guard: every connection writes the WAL and syncs it at commit (``synchronous=FULL``), so a
    commit survives the process and the machine; a build defaulting WAL files to NORMAL would not."""
    db = SqliteFile(tmp_path / "s.sqlite3", "CREATE TABLE IF NOT EXISTS t (x)")
    with db.connect() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert issubclass(StoreUnavailable, sqlite3.OperationalError)  # the receiver's 503, not a 500


def test_sqlite_synchronous_is_configured_by_env_cli_and_plugin(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_rtc.callbacks import cli
    from airflow_provider_rtc.callbacks.config import ReceiverConfig
    from airflow_provider_rtc.callbacks.store import CallbackStore, SqliteSettings
    from airflow_provider_rtc.plugins.callbacks import receiver_config as plugin_config

    path = str(tmp_path / "n.sqlite3")
    assert ReceiverConfig(db_path=path).store_location == path  # FULL: the plain file, as before
    config = ReceiverConfig(db_path=path, sqlite_synchronous="normal")
    assert config.store_location == SqliteSettings(path, "NORMAL")
    with CallbackStore(config.store_location).database.read() as db:
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    monkeypatch.setenv("RTC_CALLBACK_SQLITE_SYNCHRONOUS", "NORMAL")
    assert ReceiverConfig.from_env().sqlite_synchronous == "NORMAL"
    args = cli.build_parser().parse_args(["--sqlite-synchronous", "full"])
    assert cli.load_config(args).sqlite_synchronous == "FULL"
    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__SQLITE_SYNCHRONOUS", "full")
    assert plugin_config().sqlite_synchronous == "FULL"
    with pytest.raises(ValueError, match="sqlite_synchronous must be one of FULL, NORMAL"):
        ReceiverConfig(db_path=path, sqlite_synchronous="OFF")
