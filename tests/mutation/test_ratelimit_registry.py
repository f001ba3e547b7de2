"""The limiter registry's double check (ratelimit.limiter_for), written for `make mutate`.

Two threads that both miss the unlocked look-up must still end with one shared limiter: the second
one to take the lock finds the first one's limiter there and must not build (and register) another,
or the two would pace the same quota independently.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_provider_rtc import ratelimit
from airflow_provider_rtc.ratelimit import RateLimitSettings, limiter_for


class _RacedRegistry(dict[Any, Any]):
    """Misses the first (unlocked) look-up, as if another thread registered the key just after it."""

    def __init__(self) -> None:
        super().__init__()
        self.missed = False

    def get(self, key: Any, default: Any = None) -> Any:
        if not self.missed:
            self.missed = True
            return default
        return super().get(key, default)


def test_a_limiter_registered_while_waiting_for_the_lock_is_the_one_returned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = ("p", "acct", "Raced")
    settings = RateLimitSettings(backend="host", directory=str(tmp_path))
    registry = _RacedRegistry()
    monkeypatch.setattr(ratelimit, "_limiters", registry)
    first = limiter_for(key, 5.0, settings)  # registers it (the look-up under the lock misses too)
    registry.missed = False
    assert limiter_for(key, 5.0, settings) is first
    assert list(registry.values()) == [first]


def test_the_state_file_recreates_a_directory_removed_under_it(tmp_path: Path) -> None:
    """A temp cleaner may remove the state directory after the limiter was built: the connection
    makes it again, parents included."""
    from airflow_provider_rtc.ratelimit import host

    path = tmp_path / "gone" / "deeper" / host.FILENAME
    db = host._Database(path)
    db.connection().execute("SELECT 1")
    assert path.exists()
    db.reset()


def test_the_state_directory_is_made_private_with_its_parents(tmp_path: Path) -> None:
    import os
    import stat

    from airflow_provider_rtc.ratelimit import host

    path = tmp_path / "p1" / "p2" / host.FILENAME
    host._Database(path).connection()
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    nested = tmp_path / "n1" / "n2"
    host.check_directory(str(nested))
    assert stat.S_IMODE(os.stat(nested).st_mode) == 0o700


def test_one_state_database_per_directory(tmp_path: Path) -> None:
    from airflow_provider_rtc.ratelimit import host

    assert host._database(str(tmp_path)) is host._database(str(tmp_path))


def test_a_zero_rate_says_so() -> None:
    from airflow_provider_rtc.ratelimit.host import HostLimiter

    with pytest.raises(ValueError, match=r"^qps must be positive$"):
        HostLimiter("/nonexistent-unused", "k", 0)


def test_the_directory_errors_name_the_owner_or_mode_and_the_path(tmp_path: Path) -> None:
    import os

    from airflow_provider_rtc.errors import RtcValidationError
    from airflow_provider_rtc.ratelimit import host

    shared = tmp_path / "shared"
    shared.mkdir(mode=0o700)
    shared.chmod(0o770)
    with pytest.raises(RtcValidationError) as err:
        host.check_directory(str(shared))
    assert err.value.param == "rate_limit_dir"
    assert str(err.value) == (
        "invalid rate_limit_dir: must not be writable by group or others (mode 770): anyone who can "
        "write there can stall or lift the rate limit; chmod 700 it or choose another"
        f" (got {str(shared)!r})"
    )
    if os.getuid() != 0:
        return  # only root can give a directory to another user
    foreign = tmp_path / "foreign"
    foreign.mkdir(mode=0o700)
    os.chown(foreign, 4242, -1)
    with pytest.raises(RtcValidationError) as err:
        host.check_directory(str(foreign))
    assert str(err.value) == (
        f"invalid rate_limit_dir: must be owned by the user Airflow runs as (uid {os.getuid()}), not uid "
        f"4242: its owner can stall or lift the rate limit (got {str(foreign)!r})"
    )
