"""The discovery tests' sandbox + receiver bed (Airflow connections pointing at both)."""

from tests.discovery.conftest import bed, destructive_calls, live_in_sandbox

__all__ = ["bed", "destructive_calls", "live_in_sandbox"]
