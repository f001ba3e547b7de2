"""Notifiers that work offline (no mail server, no chat webhook): for the example DAGs and tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.providers.common.compat.sdk import BaseNotifier


class LogNotifier(BaseNotifier):
    """Log the rendered ``message`` at WARNING in the task log.

    :param message: templated; the caps operator puts ``caps_message`` (text) and ``caps_warnings``
        (items) in the context, e.g. ``"{{ caps_warnings | length }} near cap"``.
    """

    template_fields: Sequence[str] = ("message",)

    def __init__(self, message: str = "{{ caps_message }}", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.message = message

    def notify(self, context: Any) -> None:
        self.log.warning("%s", self.message)
