"""The audit suites reuse the discovery suites' sandbox + receiver bed."""

from __future__ import annotations

from tests.discovery.conftest import bed  # noqa: F401 - the fixture, for EndEventOperator runs
