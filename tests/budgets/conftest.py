"""Budget tests: a sandbox whose usage is only its live minutes (no synthetic baseline), on a
manual clock, so a test sets usage exactly by who is in a room and for how long."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def sandbox_config() -> dict[str, Any]:
    return {"random_seed": 11, "usage_baseline": False, "clock_mode": "manual"}
