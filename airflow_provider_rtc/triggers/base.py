"""What every RTC trigger shares: the async driver of the one polling loop, one event at the end.

A trigger runs :func:`airflow_provider_rtc.waits.loop.poll` - the loop ``poke()`` and the operators'
blocking wait run too - with the same check and spec; its calls go through the hooks' async methods
(same signing, retries and error classification as the sync path) over one shared
``httpx.AsyncClient``. It yields exactly one event:

* ``{"status": "done", "manifest": ...}`` or ``{"status": "failed", "message": ...}`` - the verdict;
* ``{"status": "timeout", "waiting_for": [...]}`` - ``end_time`` (an absolute epoch float) passed;
* ``{"status": "error", "message": ...}`` - a non-retryable error, or ``max_consecutive_errors``
  throttles/transient faults in a row (each one already retried by the hook's transport).

Events and kwargs hold JSON primitives only and never a secret.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_rtc.exceptions import RtcError, RtcThrottledError, RtcTransientError
from airflow_provider_rtc.waits.loop import DEFAULT_MAX_CONSECUTIVE_ERRORS, WaitMemory, adrive, event, poll

if TYPE_CHECKING:
    from airflow_provider_rtc.waits.steps import Check

_JSON_SCALARS = (str, int, float, bool, type(None))


def json_safe(value: Any) -> bool:
    if isinstance(value, _JSON_SCALARS):
        return True
    if isinstance(value, list | tuple):
        return all(json_safe(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and json_safe(v) for k, v in value.items())
    return False


def serializable_hook_params(hook_params: dict[str, Any] | None) -> dict[str, Any]:
    """Only JSON-safe hook arguments travel to the triggerer (serde rejects the rest)."""
    return {
        k: (list(v) if isinstance(v, tuple) else v) for k, v in (hook_params or {}).items() if json_safe(v)
    }


class PollingTrigger(BaseTrigger):
    """Base of the provider's triggers; subclasses provide :attr:`calls`, :meth:`check` and
    :meth:`serialize` (through :meth:`serialized`, with their ``state``).

    Every trigger takes the loop's settings as keywords and hands them here unchanged (``**loop``):
    ``end_time`` (epoch seconds), ``poll_interval``, ``max_consecutive_errors`` and ``hook_params``.
    """

    what = "task"

    def __init__(
        self,
        *,
        end_time: float,
        poll_interval: float,
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
        hook_params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.end_time = float(end_time)
        self.poll_interval = float(poll_interval)
        self.max_consecutive_errors = int(max_consecutive_errors)
        self.hook_params = serializable_hook_params(hook_params)
        self.memory = WaitMemory()

    @property
    def state(self) -> dict[str, Any]:
        """The cloud's wait state, live while :meth:`poll` runs: :meth:`serialize` mid-wait carries
        what the checks so far remembered (e.g. when a grace window started)."""
        return self.memory.state

    @state.setter
    def state(self, value: dict[str, Any]) -> None:
        self.memory.state = value

    def common_kwargs(self) -> dict[str, Any]:
        return {
            "end_time": self.end_time,
            "poll_interval": self.poll_interval,
            "max_consecutive_errors": self.max_consecutive_errors,
            "hook_params": dict(self.hook_params),
        }

    def serialized(self, **kwargs: Any) -> tuple[str, dict[str, Any]]:
        """What :meth:`serialize` returns: this class's path and its own ``kwargs`` plus
        :meth:`common_kwargs`, so every subclass writes the loop's settings the same way."""
        return f"{type(self).__module__}.{type(self).__qualname__}", {**kwargs, **self.common_kwargs()}

    @property
    def calls(self) -> Any:
        """The :mod:`~airflow_provider_rtc.waits.calls` object answering this trigger's checks."""
        raise NotImplementedError

    def check(self, state: dict[str, Any]) -> Check:
        raise NotImplementedError

    async def run(self) -> AsyncIterator[TriggerEvent]:
        yield TriggerEvent(await self.poll())

    async def poll(self) -> dict[str, Any]:
        from airflow_provider_rtc.transport import shared_async_client

        try:
            timeouts = await self.calls.atimeouts()
        except RtcError as err:
            return event("error", str(err))
        except Exception as err:  # e.g. the connection does not exist
            return event(
                "error", f"{self.what}: cannot start polling: {type(err).__name__}: {str(err)[:300]}"
            )
        memory = self.memory = WaitMemory(state=dict(self.state))
        loop = poll(
            self.check,
            memory,
            what=self.what,
            end_time=self.end_time,
            poll_interval=self.poll_interval,
            max_consecutive_errors=self.max_consecutive_errors,
            log=self.log,
        )
        try:
            async with shared_async_client(timeouts) as client:
                return await adrive(loop, partial(self.calls.aperform, client=client))
        except (RtcThrottledError, RtcTransientError) as err:
            message = (
                f"{self.what}: {memory.consecutive_errors} consecutive errors while polling; last: {err}"
            )
            return event("error", message, waiting_for=memory.waiting_for)
        except RtcError as err:
            return event("error", str(err), waiting_for=memory.waiting_for)
        except Exception as err:  # a bug must end the wait with a reason, not hang the task
            self.log.exception("%s: unexpected error while polling", self.what)
            message = f"{self.what}: unexpected {type(err).__name__} while polling: {str(err)[:300]}"
            return event("error", message, waiting_for=memory.waiting_for)
