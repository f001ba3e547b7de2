"""What the PostgreSQL backend adds to the store's contract: a versioned schema migrated once by
api-servers starting together, timeouts on every wait, recovery from a restarted database, a clear
error without the driver, no password anywhere, and the configuration of the plugin and the CLI."""

from __future__ import annotations

import json
import secrets
import sys
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.testclient import TestClient

from airflow_provider_rtc.callbacks import cli, store_pg
from airflow_provider_rtc.callbacks.app import create_app
from airflow_provider_rtc.callbacks.config import ReceiverConfig
from airflow_provider_rtc.callbacks.store import CallbackStore, StoreUnavailable
from airflow_provider_rtc.callbacks.store_pg import PostgresDatabase, PostgresSettings, connection_url
from airflow_provider_rtc.redaction import redact_db_url
from tests.recordings.conftest import trtc_event
from tests.support.credentials import SDK_APP_ID, TRTC_KEY
from tests.support.postgres import receiver_config
from tests.support.servers import ThreadedServer

CLOSED_PORT_URL = "postgresql://rtc:s3cret-pw-xyz@127.0.0.1:9/postgres"


def _settings(url: str, **kw: Any) -> PostgresSettings:
    return PostgresSettings(url, schema=f"t_{secrets.token_hex(6)}", **kw)


def _admin(url: str) -> Any:
    import psycopg

    return psycopg.connect(url, autocommit=True)


@pytest.fixture(autouse=True)
def _close_pools() -> Any:
    yield
    PostgresDatabase.close_shared()


def _put(store: CallbackStore, task: str) -> str:
    return store.put(
        cloud="trtc", app_id=SDK_APP_ID, task_id=task, event_type=301, file_key="", status=0, event_ms=1,
        body={},
    )  # fmt: skip


# -- schema ------------------------------------------------------------------------------------------


def test_two_servers_starting_at_once_migrate_the_schema_once(postgres_url: str) -> None:
    settings = _settings(postgres_url)
    start = threading.Barrier(6)
    opened: list[PostgresDatabase] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        start.wait()
        try:
            opened.append(PostgresDatabase(settings))
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(opened) == 6
    with _admin(postgres_url) as db:
        rows = db.execute(f"SELECT version FROM {settings.schema}.schema_version").fetchall()
        tables = {
            r[0]
            for r in db.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (settings.schema,)
            )
        }
    assert rows == [(store_pg.SCHEMA_VERSION,)]
    assert tables >= {"callback_events", "callback_nonces", "lifecycle_items", "lifecycle_corrections"}
    assert opened[0].migrate() == store_pg.SCHEMA_VERSION  # opening again changes nothing
    for db in opened:
        db.close()


def test_a_schema_migrated_by_a_newer_provider_is_refused_not_written(postgres_url: str) -> None:
    settings = _settings(postgres_url)
    PostgresDatabase(settings).close()
    with _admin(postgres_url) as db:
        db.execute(f"INSERT INTO {settings.schema}.schema_version VALUES (99, 'from the future', 0)")
    with pytest.raises(StoreUnavailable, match="version 99, newer than this provider"):
        PostgresDatabase(settings)


def test_the_metadata_database_keeps_the_tables_in_their_own_schema(postgres_url: str) -> None:
    settings = _settings(postgres_url)
    _put(CallbackStore(settings), "t")
    with _admin(postgres_url) as db:
        public = db.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()[0]
    assert public == 0


# -- timeouts and failures ---------------------------------------------------------------------------


def test_every_wait_has_a_timeout(postgres_url: str) -> None:
    db = PostgresDatabase(_settings(postgres_url, pool_size=1, timeout=1.0))
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="QueryCanceled"), db.read() as conn:
        conn.execute("SELECT pg_sleep(5)")  # statement_timeout
    assert time.monotonic() - started < 4
    holding = threading.Event()

    def hold() -> None:
        with db.read():
            holding.set()
            time.sleep(2.5)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(5)
    with pytest.raises(StoreUnavailable, match="1 connections of the callback store are busy"), db.read():
        pass  # the pool's one connection is taken: waiting for it has a timeout too
    holder.join()
    db.close()


def test_an_unreachable_database_is_a_503_the_clouds_retry_never_a_500(caplog: Any) -> None:
    config = ReceiverConfig(
        db_path="/nonexistent/x.sqlite3", store_url=CLOSED_PORT_URL, store_timeout=2, trtc_keys={"*": "k"}
    )
    with TestClient(create_app(config)) as client:
        body = json.dumps(trtc_event("t", 301)).encode()
        from airflow_provider_rtc.signing.callbacks import trtc_callback_sign

        answer = client.post(
            "/trtc/callback",
            content=body,
            headers={"SdkAppId": str(SDK_APP_ID), "Sign": trtc_callback_sign(body, "k")},
        )
    assert answer.status_code == 503
    assert "s3cret-pw-xyz" not in answer.text and "s3cret-pw-xyz" not in caplog.text


def test_a_restarted_database_costs_at_most_one_answered_503(postgres_url: str, monkeypatch: Any) -> None:
    settings = _settings(postgres_url)
    store = CallbackStore(settings)
    assert _put(store, "before") == "new"

    def cut_every_connection() -> None:
        with _admin(postgres_url) as db:
            db.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'rtc-callback-receiver' AND pid <> pg_backend_pid()"
            )

    cut_every_connection()
    monkeypatch.setattr(store_pg, "CHECK_IDLE_AFTER", 0.0)  # idle a while: checked before use
    assert _put(store, "after-quiet") == "new"
    cut_every_connection()
    monkeypatch.setattr(store_pg, "CHECK_IDLE_AFTER", 3600.0)  # under load: used as it is
    with pytest.raises(StoreUnavailable):
        _put(store, "during-load")  # answered 503: the cloud retries
    assert _put(store, "during-load") == "new"  # the retry finds a fresh connection


def test_without_psycopg_the_error_names_the_extra(monkeypatch: Any, capsys: Any) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(ImportError, match=r"pip install 'airflow-provider-rtc\[postgres\]'"):
        CallbackStore(PostgresSettings(CLOSED_PORT_URL))
    monkeypatch.setenv("RTC_TRTC_CALLBACK_KEY", TRTC_KEY)
    monkeypatch.setenv("RTC_CALLBACK_STORE_URL", CLOSED_PORT_URL)
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert "airflow-provider-rtc[postgres]" in err and "s3cret-pw-xyz" not in err


# -- secrets -----------------------------------------------------------------------------------------


def test_the_password_is_never_shown(postgres_url: str, caplog: Any) -> None:
    password = urlsplit(postgres_url).password
    assert password
    wrong = postgres_url.replace(password, "Wr0ng-" + password[:6])
    settings = _settings(wrong, timeout=3)
    with pytest.raises(StoreUnavailable) as err:
        CallbackStore(settings)
    assert "authentication failed" in str(err.value)
    config = ReceiverConfig(store_url=postgres_url, trtc_keys={"*": TRTC_KEY})
    shown = [str(err.value), repr(settings), settings.describe(), repr(config), config.describe_store()]
    shown.append(repr(PostgresDatabase.shared(config.postgres_settings() or settings)))
    shown.append(caplog.text)
    for text in shown:
        assert password not in text and "Wr0ng-" not in text
    assert "***" in config.describe_store()


# -- configuration -----------------------------------------------------------------------------------


def test_the_plugin_reads_the_store_from_an_airflow_connection(
    monkeypatch: Any, set_connection: Any, postgres_url: str
) -> None:
    from airflow_provider_rtc.plugins import callbacks as plugin

    url = urlsplit(postgres_url)
    conn = {
        "conn_type": "postgres",
        "host": url.hostname,
        "port": url.port,
        "login": url.username,
        "password": url.password,
        "schema": url.path.lstrip("/"),
        "extra": {"sslmode": "disable", "cursor": "dictcursor"},  # the hook's own extras are left out
    }
    set_connection("rtc_store", conn)
    schema = f"t_{secrets.token_hex(6)}"
    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__STORE_CONN_ID", "rtc_store")
    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__STORE_SCHEMA", schema)
    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__STORE_POOL_SIZE", "3")
    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__TRTC_CALLBACK_KEY", TRTC_KEY)
    config = plugin.receiver_config()
    assert config.store_url == f"{postgres_url}?sslmode=disable"
    assert (config.store_schema, config.store_pool_size) == (schema, 3)
    server = ThreadedServer(plugin.LazyReceiverApp().start())
    try:
        body = trtc_event("via-plugin", 301)
        from tests.recordings.conftest import post_trtc

        assert post_trtc(server.url, body).status_code == 200
    finally:
        server.stop()
    (event,) = CallbackStore(config.store_location).events("trtc", SDK_APP_ID, "via-plugin")
    assert event.event_type == 301


def test_the_plugin_refuses_a_missing_or_foreign_connection_without_its_secrets(
    monkeypatch: Any, set_connection: Any
) -> None:
    from airflow_provider_rtc.plugins import callbacks as plugin

    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__STORE_CONN_ID", "nowhere")
    with pytest.raises(ValueError, match="store_conn_id = 'nowhere': the connection could not be read"):
        plugin.receiver_config()
    set_connection("http_conn", {"conn_type": "http", "host": "h", "password": "not-for-you-123"})
    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__STORE_CONN_ID", "http_conn")
    with pytest.raises(ValueError, match="needs a postgres one") as err:
        plugin.receiver_config()
    assert "not-for-you-123" not in str(err.value)


def test_the_plugin_answers_503_while_its_database_is_down_and_recovers(
    monkeypatch: Any, set_connection: Any, postgres_url: str
) -> None:
    from airflow_provider_rtc.plugins import callbacks as plugin

    set_connection("rtc_store", {"conn_type": "postgres", "host": "127.0.0.1", "port": 9, "login": "x"})
    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__STORE_CONN_ID", "rtc_store")
    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__STORE_SCHEMA", f"t_{secrets.token_hex(6)}")
    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__STORE_TIMEOUT", "2")
    monkeypatch.setenv("AIRFLOW__RTC_CALLBACKS__TRTC_CALLBACK_KEY", TRTC_KEY)
    lazy = plugin.LazyReceiverApp()
    server = ThreadedServer(lazy)
    try:
        from tests.recordings.conftest import post_trtc

        down = post_trtc(server.url, trtc_event("t", 301))
        assert down.status_code == 503 and "callback store unavailable" in down.text
        url = urlsplit(postgres_url)
        set_connection(
            "rtc_store",
            {"conn_type": "postgres", "host": url.hostname, "port": url.port, "login": url.username}
            | {"password": url.password, "schema": url.path.lstrip("/")},
        )
        lazy._app.retry_at = 0.0  # the retry delay has passed
        assert post_trtc(server.url, trtc_event("t", 301)).status_code == 200
    finally:
        server.stop()


def test_options_are_declared_for_airflow_config() -> None:
    from airflow_provider_rtc.get_provider_info import get_provider_info

    options = get_provider_info()["config"]["rtc_callbacks"]["options"]
    assert {"store_conn_id", "store_schema", "store_pool_size", "store_timeout"} <= set(options)
    assert options["store_schema"]["default"] == "rtc_callbacks"


def test_the_cli_takes_a_store_url_but_never_a_password_on_its_command_line(
    monkeypatch: Any, capsys: Any
) -> None:
    monkeypatch.setenv("RTC_TRTC_CALLBACK_KEY", TRTC_KEY)
    assert cli.main(["--store-url", CLOSED_PORT_URL]) == 2
    err = capsys.readouterr().err
    assert "process list" in err and "s3cret-pw-xyz" not in err
    no_password = "postgresql://rtc@db.example:5432/rtc"
    args = cli.build_parser().parse_args(
        ["--store-url", no_password, "--store-schema", "cb", "--store-pool-size", "4"]
    )
    config = cli.load_config(args)
    assert (config.store_url, config.store_schema, config.store_pool_size) == (
        "postgresql://rtc@db.example:5432/rtc",
        "cb",
        4,
    )
    monkeypatch.setenv("RTC_CALLBACK_STORE_URL", CLOSED_PORT_URL)  # the environment may hold it
    assert cli.load_config(cli.build_parser().parse_args([])).store_url == CLOSED_PORT_URL
    for bad in (["--store-schema", "Robert'); DROP"], ["--store-pool-size", "0"]):
        with pytest.raises(ValueError, match=r"schema|pool size"):
            cli.load_config(cli.build_parser().parse_args(bad))


def test_connection_urls_quote_every_part() -> None:
    import psycopg

    url = connection_url(
        host="db.internal",
        port=6432,
        login="rtc user",
        password="p@ss/w:rd?#",
        database="rtc callbacks",
        extra={"sslmode": "verify-full", "iam": True},
    )
    parsed = psycopg.conninfo.conninfo_to_dict(url)
    assert parsed == {
        "host": "db.internal",
        "port": "6432",
        "user": "rtc user",
        "password": "p@ss/w:rd?#",
        "dbname": "rtc callbacks",
        "sslmode": "verify-full",
    }
    assert "p@ss" not in redact_db_url(url)


def test_a_receiver_on_postgres_serves_reads_of_what_another_host_stored(postgres_url: str) -> None:
    """Two receivers (two hosts) on one database: a callback posted to one is read from the other."""
    settings = _settings(postgres_url)
    config = receiver_config(settings, trtc_keys={"*": TRTC_KEY})
    first, second = ThreadedServer(create_app(config)), ThreadedServer(create_app(config))
    try:
        from airflow_provider_rtc.callbacks.auth import sign_read
        from tests.recordings.conftest import post_trtc

        assert post_trtc(first.url, trtc_event("shared", 301)).status_code == 200
        path = f"/trtc/{SDK_APP_ID}/tasks/shared/events"
        answer = httpx.get(second.url + path, headers=sign_read(TRTC_KEY, path), timeout=10)
        assert [e["event_type"] for e in answer.json()["events"]] == [301]
    finally:
        first.stop()
        second.stop()
