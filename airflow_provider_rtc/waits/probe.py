"""The sync side of a wait, held by sensors and stop-and-wait operators.

A :class:`WaitProbe` couples a check (:mod:`~airflow_provider_rtc.waits.steps`), the calls that
answer it (:mod:`~airflow_provider_rtc.waits.calls`) and the wait's memory. ``check()`` is one tick
(``poke()``; in reschedule mode the cloud's state survives in ``context["task_state_store"]``),
``wait()`` the blocking loop, ``trigger()`` the trigger that continues the same wait in the
triggerer, handed the same spec and state.

The probes of each wait (which check, which calls, which trigger) are built beside their triggers,
in :mod:`airflow_provider_rtc.triggers.probes`: this floor knows no trigger class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airflow_provider_rtc.clock import current_clock
from airflow_provider_rtc.waits import steps
from airflow_provider_rtc.waits.loop import DEFAULT_MAX_CONSECUTIVE_ERRORS, WaitMemory, drive, poll, tick

if TYPE_CHECKING:
    from airflow.triggers.base import BaseTrigger

    from airflow_provider_rtc.recordings.manifest import WaitVerdict

_LAST_MESSAGE = "last_message"
_ERRORS = "consecutive_errors"  # kept across reschedules, so a dead receiver still ends the wait


class WaitProbe:
    """One wait's sync checks; ``make_trigger(state, end_time, poll_interval)`` continues it async."""

    def __init__(
        self,
        *,
        what: str,
        check: Callable[[dict[str, Any]], steps.Check],
        calls: Any,
        make_trigger: Callable[..., BaseTrigger],
        state_key: str = "",
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
        log: Any = None,
        persist_state: bool = False,
    ) -> None:
        if max_consecutive_errors < 1:
            raise ValueError("max_consecutive_errors must be at least 1")
        self.what = what
        self.check_fn = check
        self.calls = calls
        self.make_trigger = make_trigger
        self.state_key = state_key
        self.max_consecutive_errors = max_consecutive_errors
        self.log = log
        self.persist_state = persist_state
        self.memory = WaitMemory()
        self._restored = False

    @property
    def last_waiting_for(self) -> list[str]:
        return self.memory.waiting_for

    # -- reschedule mode: the cloud state survives between worker processes ----------------------
    def _store(self, context: Any) -> Any:
        if not self.persist_state or not self.state_key or not context:
            return None
        try:
            return context.get("task_state_store")
        except Exception:
            return None

    def _load(self, context: Any) -> None:
        if self._restored:
            return
        self._restored = True
        store = self._store(context)
        if store is None:
            return
        try:
            saved = store.get(self.state_key)
        except Exception as err:  # the state store is an optimisation, never a reason to fail
            self._debug("task state store unavailable: %s", type(err).__name__)
            return
        if isinstance(saved, dict):
            self.memory.last_message = saved.get(_LAST_MESSAGE)
            self.memory.consecutive_errors = int(saved.get(_ERRORS) or 0)
            self.memory.state = {k: v for k, v in saved.items() if k not in (_LAST_MESSAGE, _ERRORS)}

    def _persisted(self) -> dict[str, Any]:
        memory = self.memory
        return {**memory.state, _LAST_MESSAGE: memory.last_message, _ERRORS: memory.consecutive_errors}

    def _save(self, context: Any, before: dict[str, Any]) -> None:
        store = self._store(context)
        after = self._persisted()
        if store is None or after == before:
            return
        try:
            store.set(self.state_key, after)
        except Exception as err:
            self._debug("task state store unavailable: %s", type(err).__name__)

    def _debug(self, message: str, *args: Any) -> None:
        if self.log is not None:
            self.log.debug(message, *args)

    # -- the three ways to wait -----------------------------------------------------------------
    def check(self, context: Any = None) -> WaitVerdict:
        """One check with the error budget (poke and reschedule)."""
        self._load(context)
        before = self._persisted()
        try:
            verdict = self._tick()
        except Exception:
            self.memory.consecutive_errors = 0  # the wait ends here; a retry of the task starts afresh
            self._save(context, before)
            raise
        if not verdict.final:
            self._save(context, before)
        return verdict

    def _tick(self) -> WaitVerdict:
        return drive(
            tick(
                self.check_fn,
                self.memory,
                what=self.what,
                max_consecutive_errors=self.max_consecutive_errors,
                log=self.log,
            ),
            self.calls.perform,
        )

    def wait(self, *, timeout: float, poll_interval: float) -> dict[str, Any]:
        """Check until final or ``timeout`` seconds passed; returns the event a trigger would yield."""
        return drive(
            poll(
                self.check_fn,
                self.memory,
                what=self.what,
                end_time=current_clock().time() + timeout,
                poll_interval=poll_interval,
                max_consecutive_errors=self.max_consecutive_errors,
                log=self.log,
            ),
            self.calls.perform,
        )

    def trigger(self, *, end_time: float, poll_interval: float) -> BaseTrigger:
        return self.make_trigger(
            state=dict(self.memory.state),
            end_time=end_time,
            poll_interval=poll_interval,
            max_consecutive_errors=self.max_consecutive_errors,
        )
