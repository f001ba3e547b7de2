"""The ``notifier`` argument of the guardrail operators (caps, budgets): one notifier or a list."""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import BaseNotifier

from airflow_provider_rtc.exceptions import RtcValidationError


def notifier_list(value: Any) -> list[BaseNotifier]:
    """``value`` as a list of ``BaseNotifier`` (None: none); a wrong item is named by its index."""
    items = [] if value is None else list(value) if isinstance(value, list | tuple) else [value]
    for i, item in enumerate(items):
        if not isinstance(item, BaseNotifier):
            raise RtcValidationError(f"notifier[{i}]", "an Airflow BaseNotifier", type(item).__name__)
    return items
