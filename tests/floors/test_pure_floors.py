"""The pure floors and the sandbox load no Airflow, and tasks still see Airflow's error classes.

The import contracts (``lint-imports``, pyproject ``[tool.importlinter]``) forbid the imports; this
measures what a fresh interpreter actually loads, lazy imports included.
"""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from airflow_provider_rtc import errors, exceptions
from airflow_provider_rtc.protocol.codes import Kind
from airflow_provider_rtc.protocol.http import api_error
from airflow_provider_rtc.validation import integer

PURE = (
    "rtc_sandbox.app",
    "airflow_provider_rtc.signing.callbacks",
    "airflow_provider_rtc.signing.tc3",
    "airflow_provider_rtc.signing.zego",
    "airflow_provider_rtc.protocol.tencent",
    "airflow_provider_rtc.protocol.zego",
    "airflow_provider_rtc.identity",
    "airflow_provider_rtc.validation",
    "airflow_provider_rtc.catalog",
    "airflow_provider_rtc.errors",
    "airflow_provider_rtc.recordings.trtc",
    "airflow_provider_rtc.recordings.zego",
    "airflow_provider_rtc.recordings.playlists",
    "airflow_provider_rtc.transport",
    "airflow_provider_rtc.redaction",
    "airflow_provider_rtc.ratelimit.host",
    "airflow_provider_rtc.waits.steps",
)


def _airflow_modules_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint('\\n'.join(m for m in sys.modules if m.split('.')[0] == 'airflow'))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return out.stdout.split()


def test_the_pure_floors_and_the_sandbox_load_no_airflow() -> None:
    loaded = _airflow_modules_after("\n".join(f"import {m}" for m in PURE))
    assert loaded == [], f"{len(loaded)} airflow modules loaded, e.g. {loaded[:5]}"


def test_a_running_sandbox_answers_without_airflow() -> None:
    """Serving a request (wire, backends, signing checks, the catalog's limits) loads none either."""
    loaded = _airflow_modules_after(
        "import httpx\n"
        "from rtc_sandbox import SandboxServer\n"
        "with SandboxServer() as sb:\n"
        "    sb.seed_event()\n"
        "    assert httpx.post(sb.url + '/', json={}, timeout=10).status_code < 500"
    )
    assert loaded == []


@pytest.mark.parametrize(
    "module",
    [
        "airflow_provider_rtc.operators.trtc",
        # a fresh interpreter each (about 11 s of CPU): one stays in the fast set, CI runs all three
        pytest.param("airflow_provider_rtc.sensors.zego", marks=pytest.mark.slow),
        pytest.param("airflow_provider_rtc.triggers.trtc", marks=pytest.mark.slow),
    ],
)
def test_every_task_entry_point_gives_validation_errors_airflows_fail_class(module: str) -> None:
    """A pure module's ``RtcValidationError`` must still fail a task without a retry."""
    code = (
        f"import {module}\n"
        "from airflow.providers.common.compat.sdk import AirflowFailException\n"
        "from airflow_provider_rtc.validation import integer\n"
        "try:\n    integer('x', 'n')\nexcept Exception as err:\n"
        "    assert isinstance(err, AirflowFailException), type(err).__mro__\n"
        "    print(type(err).__module__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "airflow_provider_rtc.exceptions"


def test_fatal_errors_are_airflow_fail_exceptions_the_rest_airflow_exceptions() -> None:
    with pytest.raises(exceptions.RtcValidationError) as caught:
        integer("x", "n")
    err = caught.value
    assert isinstance(err, AirflowFailException) and isinstance(err, ValueError)
    assert isinstance(err, errors.RtcValidationError) and err.param == "n"
    auth = api_error(
        Kind.AUTH,
        "bad key",
        cloud="trtc",
        action="DismissRoom",
        code="AuthFailure",
        request_id=None,
        status=200,
    )
    assert isinstance(auth, exceptions.RtcAuthError) and isinstance(auth, AirflowFailException)
    throttled = errors.RtcThrottledError("slow down", cloud="zego")
    assert isinstance(throttled, exceptions.RtcThrottledError) and isinstance(throttled, AirflowException)
    assert not isinstance(throttled, AirflowFailException)  # Airflow retries it


def test_the_airflow_flavour_pickles_and_names_itself_as_before() -> None:
    err = errors.RtcAuthError("expired", cloud="trtc", action="DismissRoom", code="AuthFailure")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is exceptions.RtcAuthError
    assert str(back) == str(err) and back.code == "AuthFailure"
    assert err.serialize()[0] == "airflow_provider_rtc.exceptions.RtcAuthError"  # what Airflow logs
