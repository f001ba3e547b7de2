"""What the provider's sensors share: one probe, three modes (poke, reschedule, deferrable).

``poke()`` runs one tick of the wait's loop (:mod:`airflow_provider_rtc.waits`) through the probe;
the trigger runs the same loop with the same check and spec.
Deferrable mode checks once first and defers only when not done, with
``defer(timeout=timedelta(seconds=self.timeout))`` and an absolute ``end_time`` for the trigger, so
``timeout`` and ``soft_fail`` mean the same in every mode. A timeout names what was still missing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import cached_property
from typing import Any

from airflow.providers.common.compat.sdk import (
    AirflowFailException,
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)

from airflow_provider_rtc.clock import current_clock
from airflow_provider_rtc.hooks.settings import check_hook_params
from airflow_provider_rtc.validation import positive_int
from airflow_provider_rtc.waits.loop import DEFAULT_MAX_CONSECUTIVE_ERRORS
from airflow_provider_rtc.waits.outcome import complete, finish
from airflow_provider_rtc.waits.probe import WaitProbe


class RtcWaitSensor(BaseSensorOperator):
    """Base of the RTC sensors; subclasses set :attr:`probe_of` (or implement :meth:`make_probe`).

    :param deferrable: wait in the triggerer (defaults to ``[operators] default_deferrable``).
    :param max_consecutive_errors: throttles or transient faults in a row (each already retried by
        the hook) tolerated before the sensor fails; any success resets the count.
    :param hook_params: extra keyword arguments for the hook (e.g. ``retry_limit``, ``timeout``).
    """

    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
        hook_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.deferrable = deferrable
        self.max_consecutive_errors = positive_int(max_consecutive_errors, "max_consecutive_errors")
        self.hook_params = check_hook_params(hook_params)

    #: the builder of this sensor's probe (:mod:`airflow_provider_rtc.triggers.probes`), as a staticmethod
    probe_of: Callable[..., WaitProbe] | None = None

    def make_probe(self) -> WaitProbe:
        """The probe from :attr:`probe_of`: every sensor's is built the same way (reschedule mode
        keeps the probe's state between pokes)."""
        if self.probe_of is None:
            raise NotImplementedError(f"{type(self).__name__} sets no probe_of")
        return self.probe_of(
            self, max_consecutive_errors=self.max_consecutive_errors, persist_state=self.reschedule
        )

    @cached_property
    def probe(self) -> WaitProbe:
        return self.make_probe()

    def poke(self, context: Any) -> PokeReturnValue:
        verdict = self.probe.check(context)  # logs the waiting message when it changes
        if verdict.final:
            return PokeReturnValue(is_done=True, xcom_value=finish(self, context, verdict))
        return PokeReturnValue(is_done=False)

    def _with_missing(self, err: Exception) -> str:
        missing = "; ".join(self.probe.last_waiting_for) or "the first successful check"
        return f"{err} Still waiting for: {missing}"

    def execute(self, context: Any) -> Any:
        if not self.deferrable:
            try:
                return super().execute(context)
            except AirflowSensorTimeout as err:
                raise AirflowSensorTimeout(self._with_missing(err)) from err
        try:  # the first check runs here, so mirror BaseSensorOperator's soft_fail/never_fail rules
            first = self.poke(context)
        except (AirflowSensorTimeout, AirflowFailException) as err:
            if self.soft_fail or self.never_fail:
                flag = "soft_fail" if self.soft_fail else "never_fail"
                raise AirflowSkipException(f"Skipping because {flag} is set: {err}") from err
            raise
        except AirflowSkipException:
            raise
        except Exception as err:
            if self.never_fail:
                raise AirflowSkipException(f"Skipping because never_fail is set: {err}") from err
            raise
        if first:
            return first.xcom_value
        self.defer(
            trigger=self.probe.trigger(
                end_time=current_clock().time() + self.timeout, poll_interval=self.poke_interval
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> Any:
        return complete(self, context, event, on_timeout=AirflowSensorTimeout)
