"""Notifiers that work offline (no mail server, no chat webhook): for the example DAGs and tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.providers.common.compat.sdk import BaseNotifier

#: the caps operator's ``caps_message`` when there is one, else which task notified
DEFAULT_MESSAGE = (
    "{{ caps_message if caps_message is defined else (ti.task_id if ti else 'rtc') ~ ': notification' }}"
)


class LogNotifier(BaseNotifier):
    """Log the rendered ``message`` at WARNING in the task log.

    :param message: templated against the notification's context. The caps operator puts
        ``caps_message`` (text) and ``caps_warnings`` (items) in it, e.g.
        ``"{{ caps_warnings | length }} near cap"``; the budget operator ``budget_alert``, e.g.
        ``"{{ budget_alert.label }} at {{ budget_alert.percent }}%"``. The default logs
        ``caps_message`` when there is one.
    """

    template_fields: Sequence[str] = ("message",)

    def __init__(
        self,
        message: str = DEFAULT_MESSAGE,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.message = message

    def notify(self, context: Any) -> None:
        self.log.warning("%s", self.message)
