"""The polling loop every RTC trigger shares: one event, a wall-clock deadline, bounded errors.

A trigger polls the cloud through the hooks' async methods (same signing, retries and error
classification as the sync path) with one shared ``httpx.AsyncClient``, hands each answer to the
same pure evaluation ``poke()`` uses, and yields exactly one event:

* ``{"status": "done", "manifest": ...}`` or ``{"status": "failed", "message": ...}`` - the verdict;
* ``{"status": "timeout", "waiting_for": [...]}`` - ``end_time`` (an absolute epoch float) passed;
* ``{"status": "error", "message": ...}`` - a non-retryable error, or ``max_consecutive_errors``
  throttles/transient faults in a row (each one already retried by the hook's transport).

Events and kwargs hold JSON primitives only and never a secret.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_rtc.exceptions import RtcError, RtcThrottledError, RtcTransientError
from airflow_provider_rtc.recordings.tasks import DEFAULT_MAX_CONSECUTIVE_ERRORS, timeout_message

if TYPE_CHECKING:
    import httpx

    from airflow_provider_rtc.recordings.manifest import Verdict

log = logging.getLogger(__name__)

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
    """Base of the provider's triggers; subclasses implement :meth:`open` and :meth:`probe`."""

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

    def common_kwargs(self) -> dict[str, Any]:
        return {
            "end_time": self.end_time,
            "poll_interval": self.poll_interval,
            "max_consecutive_errors": self.max_consecutive_errors,
            "hook_params": dict(self.hook_params),
        }

    @property
    def hook(self) -> Any:
        """The product hook whose async methods ``probe`` calls; subclasses provide it."""
        raise NotImplementedError

    async def timeouts(self) -> tuple[float, float]:
        """(connect, read) seconds for the shared client, from the hook's connection."""
        return (await self.hook.asettings()).timeout

    async def probe(self, client: httpx.AsyncClient) -> Verdict:
        raise NotImplementedError

    async def run(self) -> AsyncIterator[TriggerEvent]:
        yield TriggerEvent(await self.poll())

    async def poll(self) -> dict[str, Any]:
        from airflow_provider_rtc.transport import shared_async_client

        try:
            timeouts = await self.timeouts()
        except RtcError as err:
            return {"status": "error", "message": str(err), "manifest": None, "waiting_for": []}
        except Exception as err:  # e.g. the connection does not exist
            return {
                "status": "error",
                "message": f"{self.what}: cannot start polling: {type(err).__name__}: {str(err)[:300]}",
                "manifest": None,
                "waiting_for": [],
            }
        async with shared_async_client(timeouts) as client:
            return await self._poll_with(client)

    async def _poll_with(self, client: httpx.AsyncClient) -> dict[str, Any]:
        started = time.time()
        errors = 0
        waiting_for: list[str] = []
        try:
            while True:
                try:
                    verdict = await self.probe(client)
                except (RtcThrottledError, RtcTransientError) as err:
                    errors += 1
                    if errors >= self.max_consecutive_errors:
                        return {
                            "status": "error",
                            "message": f"{self.what}: {errors} consecutive errors while polling; last: {err}",
                            "manifest": None,
                            "waiting_for": waiting_for,
                        }
                    log.warning(
                        "%s: %s (%d of %d consecutive errors allowed); polling on",
                        self.what,
                        err,
                        errors,
                        self.max_consecutive_errors,
                    )
                except RtcError as err:
                    return {
                        "status": "error",
                        "message": str(err),
                        "manifest": None,
                        "waiting_for": waiting_for,
                    }
                else:
                    errors = 0
                    if verdict.final:
                        return verdict.to_event()
                    waiting_for = list(verdict.waiting_for)
                    log.info("%s", verdict.message)
                remaining = self.end_time - time.time()
                if remaining <= 0:
                    return {
                        "status": "timeout",
                        "message": timeout_message(self.what, time.time() - started, waiting_for),
                        "manifest": None,
                        "waiting_for": waiting_for,
                    }
                await asyncio.sleep(min(self.poll_interval, remaining))
        except Exception as err:  # a bug must end the wait with a reason, not hang the task
            log.exception("%s: unexpected error while polling", self.what)
            return {
                "status": "error",
                "message": f"{self.what}: unexpected {type(err).__name__} while polling: {str(err)[:300]}",
                "manifest": None,
                "waiting_for": waiting_for,
            }
