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
