"""The limiters' settings and shared state at their edges (ratelimit/__init__.py and host.py).

Written for `make mutate` (issue 24 item 5): tests/unit/test_ratelimit*.py prove the spacing and
the refusals; these pin the exact rules a user reads in the error (which part of the URL is wrong),
the name shared state gets (no credential, fixed size), where the host state lives, and the host
limiter's bookkeeping (a stale slot ignored, a hold that only moves forward, the 60 s fallback).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import tempfile
import time
from pathlib import Path

import pytest

from airflow_provider_rtc import pacing, ratelimit
from airflow_provider_rtc.errors import RtcValidationError
from airflow_provider_rtc.ratelimit import (
    RateLimitSettings,
    check_redis_url,
    has_password,
    key_digest,
    limiter_for,
    limiter_key,
    with_password,
)
from airflow_provider_rtc.ratelimit import host as host_mod
from airflow_provider_rtc.ratelimit.host import FILENAME, HostLimiter, check_directory, default_directory

RULE = "must be redis://[user@]host[:port][/db], rediss://... or unix:///path/to/socket"


def refusal(url: str) -> RtcValidationError:
    with pytest.raises(RtcValidationError) as err:
        check_redis_url(url)
    assert err.value.param == "rate_limit_redis_url"
    return err.value


# -- settings ---------------------------------------------------------------------------------------


def test_the_default_settings_are_the_host_backend() -> None:
    settings = RateLimitSettings()
    assert (settings.backend, settings.directory, settings.redis_url) == ("host", None, None)
    assert ratelimit.BACKENDS == ("process", "host", "redis")


def test_an_unknown_backend_names_the_setting_and_the_choices() -> None:
    with pytest.raises(RtcValidationError) as err:
        RateLimitSettings(backend="memcached")  # type: ignore[arg-type]
    assert err.value.param == "rate_limit_backend"
    assert str(err.value) == (
        "invalid rate_limit_backend: must be one of ('process', 'host', 'redis') (got 'memcached')"
    )


def test_redis_without_a_url_says_where_to_set_it() -> None:
    with pytest.raises(RtcValidationError) as err:
        RateLimitSettings(backend="redis")
    assert str(err.value) == (
        "invalid rate_limit_redis_url: is required with rate_limit_backend = redis "
        "(connection extra or [rtc] option)"
    )
    with pytest.raises(RtcValidationError):
        RateLimitSettings(backend="redis", redis_url="")


def test_a_url_is_checked_whatever_the_backend_and_hidden_from_repr() -> None:
    with pytest.raises(RtcValidationError):
        RateLimitSettings(backend="host", redis_url="http://x/")
    settings = RateLimitSettings(backend="redis", redis_url="redis://:pw@127.0.0.1:6379/0")
    assert "pw" not in repr(settings)


# -- the Redis URL's rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "redis://localhost",
        "redis://localhost:6379",
        "redis://localhost:6379/",
        "redis://localhost:6379/15",
        "rediss://user@cache.internal:6380/2",
        "unix:///run/redis.sock",
        "unix:///run/redis.sock?db=1",
        "redis://[::1]:6379/0",
    ],
)
def test_good_urls_pass(url: str) -> None:
    check_redis_url(url)


def test_a_bad_port_says_host_and_port() -> None:
    assert str(refusal("redis://h:x/0")) == (
        f"invalid rate_limit_redis_url: {RULE} (a host, and a port number in 0-65535)"
    )
    assert refusal("redis://h:70000/0").rule == f"{RULE} (a host, and a port number in 0-65535)"
    assert refusal("redis://[::1/0").rule == f"{RULE} (a host, and a port number in 0-65535)"


def test_another_scheme_gives_the_bare_rule() -> None:
    assert refusal("http://h:6379/0").rule == RULE
    assert refusal("REDIS-X://h/0").rule == RULE


def test_a_socket_without_a_path() -> None:
    assert refusal("unix://").rule == f"{RULE} (no socket path)"


@pytest.mark.parametrize("url", ["redis://:pw@/0", "redis://h:0/0", "redis://h/zero", "redis://h/1/2"])
def test_a_missing_host_a_zero_port_or_a_bad_database(url: str) -> None:
    assert refusal(url).rule == f"{RULE} (a host, and a database number if any)"


def test_a_bad_query_option_keeps_the_clients_reason_without_the_value() -> None:
    err = refusal("redis://h:6379/0?socket_timeout=soon")
    assert err.rule.startswith(f"{RULE} (") and err.rule.endswith(")")
    assert "soon" not in str(err) and len(err.rule) > len(RULE) + 3


def test_a_unix_socket_needs_no_host() -> None:
    check_redis_url("unix:///tmp/r.sock")  # no hostname, no port: still good


def test_without_the_redis_client_only_the_url_shape_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "redis.connection", None)
    check_redis_url("redis://h:6379/0?socket_timeout=soon")  # the client would refuse it later
    with pytest.raises(RtcValidationError):
        check_redis_url("http://h/")


# -- the password extra ------------------------------------------------------------------------------


def test_has_password_reads_the_netloc_and_the_query() -> None:
    assert has_password("redis://:pw@h:6379/0")
    assert has_password("redis://user:pw@h/0")
    assert has_password("unix:///s.sock?password=pw")
    assert not has_password("redis://user@h/0")
    assert not has_password("unix:///s.sock?db=1")


def test_with_password_percent_encodes_it_beside_the_user() -> None:
    assert with_password("redis://h:6379/0", "a/b:c@d") == "redis://:a%2Fb%3Ac%40d@h:6379/0"
    assert with_password("redis://us er@h/1", "pw") == "redis://us%20er:pw@h/1"
    assert with_password("rediss://h", "p w") == "rediss://:p%20w@h"


def test_with_password_on_a_socket_is_a_query_option() -> None:
    assert with_password("unix:///s.sock", "p&w") == "unix:///s.sock?password=p%26w"
    assert with_password("unix:///s.sock?db=2", "pw") == "unix:///s.sock?db=2&password=pw"


def test_a_password_in_both_places_names_the_extra_to_keep() -> None:
    with pytest.raises(RtcValidationError) as err:
        with_password("redis://:old@h/0", "new")
    assert str(err.value) == (
        "invalid rate_limit_redis_password: is set, and rate_limit_redis_url holds a password too: "
        "keep only rate_limit_redis_password"
    )


# -- keys --------------------------------------------------------------------------------------------


def test_the_key_and_its_digest() -> None:
    key = limiter_key("trtc", "AKIDx:ap-guangzhou", "DismissRoom")
    assert key == ("trtc", "AKIDx:ap-guangzhou", "DismissRoom")
    digest = key_digest(key)
    expected = hashlib.sha256(b"trtc\x1fAKIDx:ap-guangzhou\x1fDismissRoom").hexdigest()[:40]
    assert digest == expected and len(digest) == 40
    # the separator keeps ("ab", "c") apart from ("a", "bc")
    assert key_digest(("ab", "c")) != key_digest(("a", "bc"))


def test_limiters_are_shared_per_backend_directory_key_and_rate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ratelimit, "_limiters", {})
    key = ("p", "acct", "Act")
    settings = RateLimitSettings(backend="host", directory=str(tmp_path))
    first = limiter_for(key, 5.0, settings)
    assert isinstance(first, HostLimiter) and first.qps == 5.0
    assert first.key_id == key_digest(key) and first.directory == str(tmp_path)
    assert limiter_for(key, 5.0, RateLimitSettings(backend="host", directory=str(tmp_path))) is first
    assert limiter_for(key, 6.0, settings) is not first
    assert limiter_for(("p", "acct", "Other"), 5.0, settings) is not first
    other_dir = tmp_path / "other"
    assert limiter_for(key, 5.0, RateLimitSettings(backend="host", directory=str(other_dir))) is not first


def test_the_process_backend_is_the_pacer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pacing, "_pacers", {})
    limiter = limiter_for(("p", "acct", "Act"), 4.0, RateLimitSettings(backend="process"))
    assert isinstance(limiter, pacing.Pacer) and limiter.qps == 4.0
    assert pacing._pacers[("p", "acct", "Act")] is limiter


def test_no_settings_means_the_host_backend_in_the_default_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "_limiters", {})
    limiter = limiter_for(("p", "acct", "NoSettings"), 2.0)
    assert isinstance(limiter, HostLimiter) and limiter.directory == default_directory()


def test_the_redis_backend_wraps_a_host_limiter_in_the_same_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_rtc.ratelimit.redis_backend import RedisLimiter

    monkeypatch.setattr(ratelimit, "_limiters", {})
    key = ("p", "acct", "Act")
    settings = RateLimitSettings(backend="redis", directory=str(tmp_path), redis_url="redis://127.0.0.1:1/0")
    limiter = limiter_for(key, 3.0, settings)
    assert isinstance(limiter, RedisLimiter) and limiter.qps == 3.0
    fallback = limiter._fallback
    assert isinstance(fallback, HostLimiter)
    assert (fallback.directory, fallback.key_id, fallback.qps) == (str(tmp_path), key_digest(key), 3.0)


# -- host: where the state lives, and its bookkeeping -----------------------------------------------


def test_the_default_directory_is_per_user_under_the_temp_dir() -> None:
    assert default_directory() == str(Path(tempfile.gettempdir()) / f"airflow-provider-rtc-{os.getuid()}")
    assert FILENAME == "rtc-rate-limits.sqlite3"


def test_the_state_file_is_in_wal_mode(tmp_path: Path) -> None:
    HostLimiter(str(tmp_path), "k", 5.0).reserve()
    with sqlite3.connect(tmp_path / FILENAME) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_safe_directory_passes_and_a_file_is_left_to_the_fallback(tmp_path: Path) -> None:
    check_directory(str(tmp_path))
    (tmp_path / "file").write_text("")
    check_directory(str(tmp_path / "file"))  # not a directory: the limiter falls back, no error


def test_the_directory_error_gives_the_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o775)
    with pytest.raises(RtcValidationError) as err:
        check_directory(str(shared))
    assert "(mode 775)" in err.value.rule and err.value.param == "rate_limit_dir"
    shared.chmod(0o755)  # group and others may read: fine
    check_directory(str(shared))


def test_a_tiny_rate_is_a_rate_and_zero_is_refused(tmp_path: Path) -> None:
    limiter = HostLimiter(str(tmp_path), "k", 0.001)
    assert limiter.interval == pytest.approx(1030.0)
    with pytest.raises(ValueError, match="qps must be positive"):
        HostLimiter(str(tmp_path), "k", 0)


def test_book_returns_the_wait_and_the_slot(tmp_path: Path) -> None:
    limiter = HostLimiter(str(tmp_path), "k", 1.0)
    before = time.monotonic()
    wait, slot = limiter.book()
    assert wait == 0.0 and before <= slot <= time.monotonic()
    wait2, slot2 = limiter.book()
    assert slot2 == pytest.approx(slot + 1.03)
    assert wait2 == pytest.approx(1.03, abs=0.2)


def _set_next(directory: Path, key: str, value: float) -> None:
    with sqlite3.connect(directory / FILENAME) as conn:
        conn.execute("UPDATE slots SET next = ? WHERE key = ?", (value, key))


def test_a_slot_booked_beyond_an_hour_is_stale_and_ignored(tmp_path: Path) -> None:
    limiter = HostLimiter(str(tmp_path), "k", 1.0)
    limiter.reserve()
    _set_next(tmp_path, "k", time.monotonic() + host_mod.STALE_AHEAD + 60)
    assert limiter.pending() == 0.0
    assert limiter.reserve() == 0.0  # booked now, not an hour out
    _set_next(tmp_path, "k", time.monotonic() + 30)  # a real queue, within the hour
    assert limiter.pending() == pytest.approx(30, abs=1)
    assert limiter.reserve() == pytest.approx(30, abs=1)


def test_pending_is_zero_when_free_or_unknown(tmp_path: Path) -> None:
    limiter = HostLimiter(str(tmp_path), "k", 1.0)
    assert limiter.pending() == 0.0  # no row yet
    limiter.reserve()
    assert 0.9 < limiter.pending() <= 1.03


def test_hold_until_moves_the_queue_forward_only(tmp_path: Path) -> None:
    limiter = HostLimiter(str(tmp_path), "k", 1.0)
    now = time.monotonic()
    limiter.hold_until(now + 20)
    assert limiter.pending() == pytest.approx(20, abs=1)
    limiter.hold_until(now + 5)  # earlier: the later hold stands
    assert limiter.pending() == pytest.approx(20, abs=1)
    assert limiter._local._next == pytest.approx(now + 20)
    assert limiter.reserve() == pytest.approx(20, abs=1)


def test_hold_until_replaces_a_stale_slot(tmp_path: Path) -> None:
    limiter = HostLimiter(str(tmp_path), "k", 1.0)
    limiter.reserve()
    _set_next(tmp_path, "k", time.monotonic() + host_mod.STALE_AHEAD + 60)
    limiter.hold_until(time.monotonic() + 10)
    assert limiter.pending() == pytest.approx(10, abs=1)


def test_a_broken_state_file_degrades_for_a_minute(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    limiter = HostLimiter(str(tmp_path), "k", 1.0)

    def broken(conn: sqlite3.Connection) -> tuple[float, float]:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(limiter, "_book", broken)
    start = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="airflow_provider_rtc.ratelimit.host"):
        assert limiter.reserve() == 0.0
    assert start + 59 < limiter._degraded_until <= time.monotonic() + 60
    assert caplog.records[0].getMessage() == (
        f"host rate limiter unusable in {tmp_path} (OperationalError: disk I/O error); "
        "pacing within this process for 60 s"
    )
    assert limiter._db._conn is None  # the connection is reset
    # within the minute it paces within the process, without touching the file
    wait, slot = limiter.book()
    assert wait == pytest.approx(1.03, abs=0.05) and slot == pytest.approx(time.monotonic() + 1.03, abs=0.2)
    limiter.hold_until(time.monotonic() + 50)  # recorded locally only while degraded
    assert limiter._local._next == pytest.approx(time.monotonic() + 50, abs=0.5)


def test_hold_until_survives_a_broken_state_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    limiter = HostLimiter(str(tmp_path), "k", 1.0)
    limiter.reserve()

    def broken() -> sqlite3.Connection:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(limiter._db, "connection", broken)
    limiter.hold_until(time.monotonic() + 10)  # best effort: no error
    assert limiter.pending() == 0.0  # unknown: 0
    assert limiter._degraded_until == 0.0  # a failed record does not degrade booking


def test_a_connection_is_not_shared_across_fork(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    limiter = HostLimiter(str(tmp_path), "k", 1.0)
    first = limiter._db.connection()
    assert limiter._db.connection() is first
    monkeypatch.setattr(host_mod.os, "getpid", lambda: -1)  # as in a forked child
    assert limiter._db.connection() is not first


# -- survivors of the first run ---------------------------------------------------------------------


def test_a_database_path_with_more_than_digits_is_refused() -> None:
    """The redis client reads "/1X" as no database at all (it drops what does not parse): refused here."""
    assert refusal("redis://h/1X").rule == f"{RULE} (a host, and a database number if any)"
    assert refusal("redis://h/X1").rule == f"{RULE} (a host, and a database number if any)"


def test_the_clients_reason_is_kept_whole() -> None:
    assert refusal("redis://h:6379/0?socket_timeout=soon").rule == (
        f"{RULE} (Invalid value for 'socket_timeout' in connection URL.)"
    )


def test_an_older_clients_reason_loses_the_value_it_quotes(monkeypatch: pytest.MonkeyPatch) -> None:
    """redis-py 4 said "... could not be cast to integer value as 'x'": the part from " as " on
    quotes the URL (it may be the password) and is dropped."""
    import redis.connection

    def old_parse_url(url: str) -> None:
        raise ValueError("Port could not be cast to integer value as 's3cret'")

    monkeypatch.setattr(redis.connection, "parse_url", old_parse_url)
    err = refusal("redis://h:6379/0")
    assert err.rule == f"{RULE} (Port could not be cast to integer value)"
    assert "s3cret" not in str(err)


def test_a_percent_encoded_user_name_keeps_its_meaning() -> None:
    """A URL's user name is percent-encoded ("a%2Fb" is "a/b"): adding the password must not encode
    it again ("a%252Fb" would log in as "a%2Fb")."""
    from urllib.parse import unquote, urlsplit

    combined = with_password("redis://a%2Fb%40c@h/0", "pw")
    assert combined == "redis://a%2Fb%40c:pw@h/0"
    assert unquote(urlsplit(combined).username or "") == "a/b@c"


def test_the_default_directory_without_user_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a system without os.getuid (Windows) the directory is still one per machine."""
    monkeypatch.delattr(host_mod.os, "getuid")
    assert default_directory() == str(Path(tempfile.gettempdir()) / "airflow-provider-rtc-user")


def test_reset_survives_a_connection_that_fails_to_close(tmp_path: Path) -> None:
    class Unclosable:
        def close(self) -> None:
            raise sqlite3.ProgrammingError("closed twice")

    db = host_mod._Database(tmp_path / FILENAME)
    db._conn = Unclosable()  # type: ignore[assignment]
    db.reset()
    assert db._conn is None


class FixedClock:
    """``time`` for the host module: a monotonic clock that stands still where the test puts it."""

    def __init__(self, now: float) -> None:
        self.now = now

    def monotonic(self) -> float:
        return self.now


def raw_next(directory: Path, key: str) -> float:
    with sqlite3.connect(directory / FILENAME) as conn:
        return conn.execute("SELECT next FROM slots WHERE key = ?", (key,)).fetchone()[0]


@pytest.fixture
def fixed(monkeypatch: pytest.MonkeyPatch) -> FixedClock:
    clock = FixedClock(100.0)
    monkeypatch.setattr(host_mod, "time", clock)
    return clock


def test_a_slot_booked_for_exactly_now_is_no_queue(tmp_path: Path, fixed: FixedClock) -> None:
    limiter = HostLimiter(str(tmp_path), "k", 1.0)
    limiter.hold_until(100.0)  # the queue ends now
    assert limiter.pending() == 0.0
    limiter.hold_until(99.5)  # earlier than a queue that has already ended: recorded as is
    assert raw_next(tmp_path, "k") == 99.5


def test_a_slot_exactly_an_hour_ahead_is_stale(tmp_path: Path, fixed: FixedClock) -> None:
    limiter = HostLimiter(str(tmp_path), "k", 1.0)
    limiter.hold_until(100.0 + host_mod.STALE_AHEAD)
    assert limiter.pending() == 0.0
    limiter.hold_until(150.0)  # the stale hold does not count: this one replaces it
    assert raw_next(tmp_path, "k") == 150.0
    assert limiter.pending() == 50.0


def test_hold_until_on_an_empty_state_records_any_moment(tmp_path: Path, fixed: FixedClock) -> None:
    fixed.now = 0.25  # just after boot
    limiter = HostLimiter(str(tmp_path), "k", 1.0)
    limiter.hold_until(0.5)
    assert raw_next(tmp_path, "k") == 0.5


def test_the_fallback_ends_exactly_at_its_deadline(tmp_path: Path, fixed: FixedClock) -> None:
    limiter = HostLimiter(str(tmp_path), "k", 1.0)
    limiter._degraded_until = 100.0  # the minute is over now: the file is used again
    limiter.hold_until(130.0)
    assert raw_next(tmp_path, "k") == 130.0


class FailingSelect:
    """A connection whose read fails inside the transaction (a corrupt page, say)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if sql.startswith("SELECT"):
            raise sqlite3.IntegrityError("corrupt")
        return self.conn.execute(sql, *args)


def test_a_failed_record_rolls_back_and_logs_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = HostLimiter(str(tmp_path), "k", 1.0)
    real = limiter._db.connection()
    monkeypatch.setattr(limiter._db, "connection", lambda: FailingSelect(real))
    with caplog.at_level(logging.DEBUG, logger="airflow_provider_rtc.ratelimit.host"):
        limiter.hold_until(time.monotonic() + 10)
    assert [r.getMessage() for r in caplog.records] == [
        "host rate limiter: could not record a slot (IntegrityError)"
    ]
    assert limiter._db._conn is None  # reset: the next use opens a fresh connection


def test_the_first_booking_is_now_even_just_after_boot(tmp_path: Path, fixed: FixedClock) -> None:
    fixed.now = 0.25  # no row yet: the slot is now, not at 1.0 or any other constant
    limiter = HostLimiter(str(tmp_path), "k", 1.0)
    assert limiter.book() == (0.0, 0.25)
    assert raw_next(tmp_path, "k") == 1.28


def test_a_booking_exactly_an_hour_ahead_is_stale(tmp_path: Path, fixed: FixedClock) -> None:
    limiter = HostLimiter(str(tmp_path), "k", 1.0)
    limiter.hold_until(100.0 + host_mod.STALE_AHEAD)
    assert limiter.book() == (0.0, 100.0)


def test_booking_uses_the_file_again_exactly_when_the_minute_is_over(
    tmp_path: Path, fixed: FixedClock
) -> None:
    limiter = HostLimiter(str(tmp_path), "k", 1.0)
    limiter._degraded_until = 100.0
    limiter.book()
    assert raw_next(tmp_path, "k") == 101.03  # booked in the file, not only in the process


def test_a_failed_booking_rolls_back_and_names_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = HostLimiter(str(tmp_path), "k", 1.0)
    real = limiter._db.connection()
    monkeypatch.setattr(limiter._db, "connection", lambda: FailingSelect(real))
    with caplog.at_level(logging.WARNING, logger="airflow_provider_rtc.ratelimit.host"):
        assert limiter.reserve() == 0.0  # paced within the process instead
    assert "(IntegrityError: corrupt)" in caplog.text
