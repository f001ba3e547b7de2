"""The ``end_of_event_cleanup`` conf reader's documented import path; it lives in
:mod:`airflow_provider_rtc.cleanup.inputs`."""

from airflow_provider_rtc.cleanup.inputs import ITEM_SCHEMAS, KICK_BATCH, KINDS, event_targets

__all__ = ["ITEM_SCHEMAS", "KICK_BATCH", "KINDS", "event_targets"]
