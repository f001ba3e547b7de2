"""One polling loop for every wait, and the two drivers that run it (sync and async).

:func:`tick` is one check with the error budget (a throttle or transient fault, already retried by
the hook, counts as "not yet" until ``max_consecutive_errors`` in a row, then it is raised);
:func:`poll` repeats ticks until a final verdict or the deadline. Both are generators that yield
:class:`~airflow_provider_rtc.waits.steps.Call` and :class:`Sleep` requests and never do I/O
themselves: :func:`drive` performs them with blocking calls (poke, reschedule, the operators'
blocking wait), :func:`adrive` with awaits (the triggers).

A waiting message is logged at INFO when it changes and at DEBUG when it repeats, so a long wait
does not print the same line on every poll.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_rtc.clock import current_clock
from airflow_provider_rtc.errors import RtcThrottledError, RtcTransientError
from airflow_provider_rtc.recordings.manifest import WaitVerdict
from airflow_provider_rtc.waits.steps import Call, Check

DEFAULT_MAX_CONSECUTIVE_ERRORS = 5
EVENT_STATUSES = frozenset({"done", "failed", "timeout", "error"})

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sleep:
    """Wait this long before the next check (the driver sleeps its own way)."""

    seconds: float


@dataclass
class WaitMemory:
    """What one wait carries from check to check: the cloud's state plus the loop's own."""

    state: dict[str, Any] = field(default_factory=dict)
    consecutive_errors: int = 0
    waiting_for: list[str] = field(default_factory=list)
    last_message: str | None = None

    def report(self, log: Any, message: str) -> None:
        """INFO when the message changed since the last check, DEBUG when it repeats."""
        (log or _log).log(logging.DEBUG if message == self.last_message else logging.INFO, "%s", message)
        self.last_message = message


def timeout_message(what: str, waited: float, waiting_for: list[str]) -> str:
    missing = "; ".join(waiting_for) if waiting_for else "the first successful check"
    return f"{what}: timed out after {waited:.0f} s; still waiting for: {missing}"


def event(status: str, message: str, *, manifest: Any = None, waiting_for: list[str] | None = None) -> dict:
    """A trigger event payload (JSON primitives, never a secret)."""
    return {
        "status": status,
        "message": message,
        "manifest": manifest,
        "waiting_for": list(waiting_for or []),
    }


def tick(
    check: Callable[[dict[str, Any]], Check],
    memory: WaitMemory,
    *,
    what: str,
    max_consecutive_errors: int,
    log: Any = None,
) -> Generator[Call, Any, WaitVerdict]:
    """One check: the verdict, or "waiting" after a tolerated throttle/transient fault."""
    try:
        state, verdict = yield from check(memory.state)
    except (RtcThrottledError, RtcTransientError) as err:
        memory.consecutive_errors += 1
        if memory.consecutive_errors >= max_consecutive_errors:
            raise
        (log or _log).warning(
            "%s: %s (%d of %d consecutive errors allowed); will check again",
            what,
            err,
            memory.consecutive_errors,
            max_consecutive_errors,
        )
        return WaitVerdict("waiting", f"{what}: check failed ({err})", waiting_for=list(memory.waiting_for))
    memory.consecutive_errors = 0
    memory.state = state
    if not verdict.final:
        memory.waiting_for = list(verdict.waiting_for)
        memory.report(log, verdict.message)
    return verdict


def poll(
    check: Callable[[dict[str, Any]], Check],
    memory: WaitMemory,
    *,
    what: str,
    end_time: float,
    poll_interval: float,
    max_consecutive_errors: int,
    log: Any = None,
    clock: Callable[[], float] | None = None,
) -> Generator[Call | Sleep, Any, dict[str, Any]]:
    """Check until a final verdict (its event) or ``end_time`` (epoch seconds: a timeout event).

    ``clock`` defaults to the installed client clock's wall time, the clock the drivers sleep on and
    a check's ``NOW`` reads: one clock per wait."""
    clock = clock or current_clock().time
    started = clock()
    while True:
        verdict = yield from tick(
            check, memory, what=what, max_consecutive_errors=max_consecutive_errors, log=log
        )
        if verdict.final:
            return verdict.to_event()
        remaining = end_time - clock()
        if remaining <= 0:
            message = timeout_message(what, clock() - started, memory.waiting_for)
            return event("timeout", message, waiting_for=memory.waiting_for)
        yield Sleep(min(poll_interval, remaining))


class _Steps:
    """The sans-I/O side of a drive: hands the generator the last answer (or error) and keeps what
    it asks next, so each driver is only "sleep or perform, my way"."""

    def __init__(self, gen: Generator[Any, Any, Any]) -> None:
        self.gen = gen
        self.finished = False
        self.request: Any = None  # a Call, a Sleep, or once finished what the generator returned
        self.answer(None)

    def answer(self, value: Any) -> None:
        self._resume(lambda: self.gen.send(value))

    def fail(self, error: BaseException) -> None:
        self._resume(lambda: self.gen.throw(error))

    def _resume(self, step: Callable[[], Any]) -> None:
        try:
            self.request = step()
        except StopIteration as stop:
            self.finished, self.request = True, stop.value


def drive(
    gen: Generator[Any, Any, Any], perform: Callable[[Call], Any], sleep: Callable | None = None
) -> Any:
    """Run a check or loop with blocking calls; returns what the generator returns. It sleeps on
    the installed client clock (real time unless a test installed its own)."""
    steps = _Steps(gen)
    while not steps.finished:
        if isinstance(steps.request, Sleep):
            (sleep or current_clock().sleep)(steps.request.seconds)
            steps.answer(None)
            continue
        try:
            result = perform(steps.request)
        except Exception as err:
            steps.fail(err)
        else:
            steps.answer(result)
    return steps.request


async def adrive(gen: Generator[Any, Any, Any], perform: Callable[[Call], Awaitable[Any]]) -> Any:
    """The same as :func:`drive` for the triggerer: the calls are awaited, so are the sleeps (on the
    installed client clock, as :func:`drive`'s)."""
    steps = _Steps(gen)
    while not steps.finished:
        if isinstance(steps.request, Sleep):
            await current_clock().asleep(steps.request.seconds)
            steps.answer(None)
            continue
        try:
            result = await perform(steps.request)
        except Exception as err:
            steps.fail(err)
        else:
            steps.answer(result)
    return steps.request
