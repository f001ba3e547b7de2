"""Fixtures every suite gets; ``tests/conftest.py`` registers this module as a pytest plugin."""

from __future__ import annotations

import pytest

from airflow_provider_rtc import pacing


@pytest.fixture(autouse=True)
def _fresh_pacers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pacers are process-wide; each test starts with none."""
    monkeypatch.setattr(pacing, "_pacers", {})
