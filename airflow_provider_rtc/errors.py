"""One error model for every cloud, without Airflow: callers branch on the class, never on message text.

The pure floors (``validation``, ``protocol``, ``signing``, ``recordings``, the transport) and the
sandbox raise these. Tasks need more: auth and invalid-input errors must be
``AirflowFailException``s so a task does not burn its retries on a request that can never succeed.
:mod:`airflow_provider_rtc.exceptions` (imported by every hook, operator, sensor and trigger) defines
that Airflow flavour of each class - a subclass of both the class here and Airflow's - and registers
it in :data:`_FLAVOURS`; from then on ``RtcAuthError(...)``, wherever it is raised, builds the
flavoured class. So ``except errors.RtcAuthError`` and ``except exceptions.RtcAuthError`` both catch
it, Airflow sees an ``AirflowFailException``, and a process without Airflow (the sandbox) never
loads it.
"""

from __future__ import annotations

from typing import Any

#: pure class -> its Airflow flavour, filled by :mod:`airflow_provider_rtc.exceptions`
_FLAVOURS: dict[type, type] = {}


class RtcError(Exception):
    """A failed call to a cloud API, with what support needs to trace it (never a secret)."""

    kind = "error"
    #: a retry cannot help (bad credentials, bad input): the Airflow flavour fails the task at once
    fatal = False

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        # ``raise RtcValidationError(...)`` in a pure module builds the Airflow-flavoured class once
        # ``airflow_provider_rtc.exceptions`` has registered it (every task process imports it)
        return super().__new__(_FLAVOURS.get(cls, cls))

    def __init__(
        self,
        message: str,
        *,
        cloud: str | None = None,
        action: str | None = None,
        code: str | int | None = None,
        request_id: str | None = None,
        http_status: int | None = None,
        maybe_executed: bool = True,
    ) -> None:
        self.message = message
        self.cloud = cloud
        self.action = action
        self.code = code
        self.request_id = request_id
        self.http_status = http_status
        self.maybe_executed = maybe_executed
        self.attempts = 1
        #: this attempt was sent but its answer never came (dropped, or timed out after sending)
        self.response_lost = False
        #: an earlier attempt of the same call was sent and its answer was lost
        self.after_lost_response = False
        super().__init__(self._render())

    def describe(self) -> str:
        """The error without the attempt count (for per-attempt log lines)."""
        return self._render()

    def _render(self) -> str:
        where = " ".join(p for p in (self.cloud, self.action) if p)
        code = f" [{self.code}]" if self.code not in (None, "") else ""
        rid = f" (RequestId {self.request_id})" if self.request_id else ""
        head = f"{where}{code}: ".lstrip() if where or code else ""
        return f"{head}{self.message}{rid}"

    def __str__(self) -> str:
        text = self._render()
        if self.attempts > 1:
            text += f" after {self.attempts} attempts"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        state = dict(self.__dict__)
        return (_rebuild, (type(self), state))


def _rebuild(cls: type[RtcError], state: dict[str, Any]) -> RtcError:
    err = cls.__new__(cls)
    Exception.__init__(err, state.get("message", ""))
    err.__dict__.update(state)
    return err


class RtcThrottledError(RtcError):
    """The cloud's rate limit answered: the request was not executed; back off and retry."""

    kind = "throttled"


class RtcTransientError(RtcError):
    """A server or network fault that may pass. ``maybe_executed`` says whether it could have run."""

    kind = "transient"


class RtcStoppedError(RtcError):
    """The caller asked to stop (a bulk's ``on_kill`` or timeout) before this attempt was sent;
    ``maybe_executed`` says whether an earlier attempt of the same call may have run."""

    kind = "stopped"


class RtcNotFoundError(RtcError):
    """The target (room, stream, mix, recording) does not exist: for a cleanup, the goal is reached."""

    kind = "not_found"


class RtcApiError(RtcError):
    """Any other business error the cloud reported."""

    kind = "failed"


class RtcAuthError(RtcError):
    """Bad credentials, clock skew, missing permission or a suspended account: retrying cannot help."""

    kind = "auth"
    fatal = True


class RtcInvalidInputError(RtcError):
    """The cloud rejected a parameter."""

    kind = "invalid_input"
    fatal = True


class RtcValidationError(RtcInvalidInputError, ValueError):
    """Input rejected before any network call, naming the parameter and the rule."""

    kind = "validation"

    def __init__(self, param: str, rule: str, value: Any = None, *, show_value: bool = True) -> None:
        self.param = param
        self.rule = rule
        shown = f" (got {value!r})" if show_value and value is not None else ""
        super().__init__(f"invalid {param}: {rule}{shown}", maybe_executed=False)
