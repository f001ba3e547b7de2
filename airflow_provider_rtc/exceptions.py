"""The error model as tasks see it: each class of :mod:`airflow_provider_rtc.errors` with Airflow's
base added, so Airflow fails auth and invalid-input errors without a retry.

Every class here subclasses its pure twin (``exceptions.RtcValidationError`` is an
``errors.RtcValidationError``) and Airflow's ``AirflowFailException`` (fatal: auth, invalid input,
validation) or ``AirflowException`` (the rest). Importing this module registers the flavours, so a
pure module's ``raise RtcValidationError(...)`` builds this class in any process that loaded it;
every hook, operator, sensor and trigger imports it, so a task never sees the pure class. Public
names and pickling (``__module__``/``__name__`` of this module) are unchanged.
"""

from __future__ import annotations

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_rtc import errors


class RtcError(errors.RtcError, AirflowException): ...


class RtcThrottledError(errors.RtcThrottledError, RtcError): ...


class RtcTransientError(errors.RtcTransientError, RtcError): ...


class RtcStoppedError(errors.RtcStoppedError, RtcError): ...


class RtcNotFoundError(errors.RtcNotFoundError, RtcError): ...


class RtcApiError(errors.RtcApiError, RtcError): ...


class RtcAuthError(errors.RtcAuthError, RtcError, AirflowFailException): ...


class RtcInvalidInputError(errors.RtcInvalidInputError, RtcError, AirflowFailException): ...


class RtcValidationError(errors.RtcValidationError, RtcInvalidInputError): ...


def _register() -> None:
    for flavour in (
        RtcError,
        RtcThrottledError,
        RtcTransientError,
        RtcStoppedError,
        RtcNotFoundError,
        RtcApiError,
        RtcAuthError,
        RtcInvalidInputError,
        RtcValidationError,
    ):
        pure = flavour.__mro__[1]
        assert pure.__module__ == errors.__name__ and pure.__name__ == flavour.__name__
        assert issubclass(flavour, AirflowFailException) == pure.fatal  # type: ignore[attr-defined]
        flavour.__doc__ = pure.__doc__
        errors._FLAVOURS[pure] = flavour


_register()
