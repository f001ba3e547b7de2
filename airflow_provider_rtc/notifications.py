"""A notifier that works offline: it logs the rendered message (examples, tests, local runs)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from airflow.providers.common.compat.sdk import BaseNotifier

log = logging.getLogger(__name__)


class LogNotifier(BaseNotifier):
    """Log ``message`` (templated against the notification's context) at WARNING.

    :param message: the text; a Jinja template (e.g. ``"{{ budget_alert.label }} at
        {{ budget_alert.percent }}%"``).
    """

    template_fields: Sequence[str] = ("message",)

    def __init__(self, message: str = "{{ ti.task_id if ti else 'rtc' }}: notification") -> None:
        super().__init__()
        self.message = message

    def notify(self, context: Any) -> None:
        log.warning("%s", self.message)
