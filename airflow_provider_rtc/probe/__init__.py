"""Probe a real account with calls that cannot change anything, and compare each answer with the
catalog's assumptions (``rtc-provider probe``, ``ProbeCloudAccountOperator``).

Some vendor behaviour can only be settled on a real account (the code an unknown task answers,
whether ZEGO DescribeRoomList is enabled, which VOD SourceType TRTC recordings carry); this package
asks once per API and says where the provider's assumptions hold. Safety rules: ``checks``.
"""

from __future__ import annotations

from airflow_provider_rtc.probe.engine import (
    AGREES,
    DIFFERS,
    ERROR,
    EXIT_AGREES,
    EXIT_DIFFERS,
    EXIT_ERRORS,
    EXIT_USAGE,
    SKIPPED,
    ProbeConfigError,
    ProbeResult,
    ProbeRow,
    run_probe,
)

__all__ = [
    "AGREES",
    "DIFFERS",
    "ERROR",
    "EXIT_AGREES",
    "EXIT_DIFFERS",
    "EXIT_ERRORS",
    "EXIT_USAGE",
    "SKIPPED",
    "ProbeConfigError",
    "ProbeResult",
    "ProbeRow",
    "run_probe",
]
