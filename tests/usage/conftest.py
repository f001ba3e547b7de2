"""The usage tests run on the shared ``sandbox`` fixture (tests/support) with their own seed."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def sandbox_config() -> dict[str, Any]:
    return {"random_seed": 3}
